import { createRequire } from 'node:module'

/** The subset of `@xmpp/jid`'s JID used here (the package ships no types). @internal */
interface JidObject {
  readonly local: string
  readonly domain: string
  readonly resource: string
  toString(): string
}

const require = createRequire(import.meta.url)
const jidModule = require('@xmpp/jid') as { parse(s: string): JidObject }

/**
 * A parsed JID: lower-cased local part and domain, resource kept as is.
 * @example
 * const j: Jid | undefined = tryParseJid('alice@localhost/phone') // { local: 'alice', domain: 'localhost', resource: 'phone', bare: 'alice@localhost', full: 'alice@localhost/phone' }
 */
export interface Jid {
  readonly local: string
  readonly domain: string
  readonly resource: string
  /** `local@domain` or `domain`. */
  readonly bare: string
  /** The whole JID. */
  readonly full: string
}

/**
 * Parses a JID into a plain {@link Jid}, or returns `undefined` when it is empty or invalid.
 * (`@satellite/core`'s `parseJid` returns a `JID` and throws on an invalid one.)
 * @example
 * tryParseJid('Alice@localhost/phone')?.bare // 'alice@localhost'
 */
export function tryParseJid(value: string | undefined | null): Jid | undefined {
  if (!value) return undefined
  try {
    const j = jidModule.parse(value)
    const local = j.local ?? ''
    const domain = j.domain
    const resource = j.resource ?? ''
    if (!domain) return undefined
    const bare = local ? `${local}@${domain}` : domain
    return { local, domain, resource, bare, full: resource ? `${bare}/${resource}` : bare }
  } catch {
    return undefined
  }
}
