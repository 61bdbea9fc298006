import { createRequire } from 'node:module'
import type { Element as LtxElement } from '@xmpp/xml'

const require = createRequire(import.meta.url)
const xmlModule = require('@xmpp/xml') as typeof import('@xmpp/xml')

/**
 * An ltx element, as produced by `xml()` from `@xmpp/xml` and by the server's parser.
 * @example
 * const stanza: Element = xml('message', { to: 'echo.localhost' }, xml('body', {}, 'hi'))
 */
export type Element = LtxElement

/** The ltx `Element` class (one shared copy of ltx). @internal */
export const ElementClass: new (name: string, attrs?: Record<string, unknown>) => Element = xmlModule.Element
/**
 * The `xml(name, attrs, ...children)` element builder of `@xmpp/xml` (same ltx copy as the
 * server), re-exported for convenience.
 * @example
 * alice.send(xml('message', { to: 'echo.localhost', type: 'chat' }, xml('body', {}, 'hi')))
 */
export const xml = xmlModule as unknown as typeof import('@xmpp/xml').default
/** Escapes `& < > " '` for attribute values. @internal */
export const escapeXML: (s: string) => string = xmlModule.escapeXML
/** Escapes `& < >` for text. @internal */
export const escapeXMLText: (s: string) => string = xmlModule.escapeXMLText
/** Namespaces used on the wire. @internal */
export const NS = {
  component: 'jabber:component:accept',
  client: 'jabber:client',
  stream: 'http://etherx.jabber.org/streams',
  streams: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  ping: 'urn:xmpp:ping',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  prosodyComponent: 'xmpp:prosody.im/protocol/component',
} as const

/** True when `value` is an ltx element. @internal */
export function isElement(value: unknown): value is Element {
  return value instanceof ElementClass
}

/** Shortens a string for error messages. @internal */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} chars)`
}

/** Deep copy of an element (attributes copied, parent not kept). @internal */
export function cloneElement(el: Element): Element {
  const copy = new ElementClass(el.name, { ...el.attrs })
  for (const child of el.children) copy.append(typeof child === 'string' ? child : cloneElement(child))
  return copy
}
