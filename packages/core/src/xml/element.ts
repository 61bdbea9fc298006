import { createRequire } from 'node:module'
import type xmlFn from '@xmpp/xml'
import type { Element as LtxElement } from '@xmpp/xml'

// @xmpp/xml 0.13 is CommonJS; load it once through require so that every package of the
// workspace (and @xmpp/component) shares one copy of ltx and `instanceof Element` holds.
const require = createRequire(import.meta.url)
const mod = require('@xmpp/xml') as typeof xmlFn & {
  Element: typeof LtxElement
  escapeXML(s: string): string
  escapeXMLText(s: string): string
}

/**
 * An XML element (ltx `Element` from `@xmpp/xml`): `name`, `attrs`, `children`, and helpers
 * such as `getChild(name, xmlns)`, `getChildText(name)`, `is(name, xmlns)`, `toString()`.
 */
export type Element = LtxElement

/** The `Element` class from `@xmpp/xml`. */
export const Element: typeof LtxElement = mod.Element

/**
 * Builds an element, exactly as `@xmpp/xml`'s `xml()` (and `@xmpp/component`'s) does.
 *
 * @example
 * ```ts
 * const msg = xml('message', { to: 'alice@example.org', type: 'chat' }, xml('body', {}, 'hi'))
 * ```
 */
export const xml: typeof xmlFn = mod

/** Escapes `&<>"'` for use in an attribute value. */
export const escapeXML: (s: string) => string = mod.escapeXML
/** Escapes `&<>` for use in text content. */
export const escapeXMLText: (s: string) => string = mod.escapeXMLText
