import type xmlFn from '@xmpp/xml'
import type { Element as LtxElement } from '@xmpp/xml'
import { requireDep as require } from '../builtins.js'
import { checkElementName } from './names.js'

// @xmpp/xml 0.13 is CommonJS, a thin layer over ltx: its `xml()` is ltx's createElement, its
// Element and escaping are ltx's. We load those three ltx files directly (same package, same
// copy: ltx is pinned to the version @xmpp/xml resolves, and a test asserts the identity), not
// @xmpp/xml's index, which also loads its stream parser, its XMLError and ltx's parser that
// Satellite never uses: fewer modules resolved before the first stanza is less idle memory.
const createElement = require('ltx/lib/createElement.js') as typeof xmlFn
const escaping = require('ltx/lib/escape.js') as {
  escapeXML(s: string): string
  escapeXMLText(s: string): string
}
const mod = Object.assign(
  (...args: Parameters<typeof xmlFn>) => {
    checkElementName(args[0])
    return createElement(...args)
  },
  {
    Element: require('ltx/lib/Element.js') as typeof LtxElement,
    escapeXML: escaping.escapeXML,
    escapeXMLText: escaping.escapeXMLText,
  },
) as typeof xmlFn & {
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
 * Builds an element, exactly as `@xmpp/xml`'s `xml()` (and `@xmpp/component`'s) does, except that
 * an element name that is not a valid XML name throws a `SatelliteError` with code
 * `SAT_ERR_XML_NAME` (a name built from a string from outside could otherwise inject markup).
 * Names are ASCII letters, digits, `_`, `-`, `.` and at most one `:`. Attribute names, and
 * prefixes against their `xmlns:` declarations, are checked when the stanza is sent: `send()`
 * refuses a bad one with the same code before anything is written.
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
