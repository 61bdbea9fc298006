import { createRequire } from 'node:module'

/** A parsed JID (`@xmpp/jid`): `local`, `domain`, `resource`, `bare()`, `equals()`, `toString()`. */
export interface JID {
  local: string
  domain: string
  resource: string
  bare(): JID
  equals(other: JID): boolean
  toString(unescaped?: boolean): string
  getLocal(unescaped?: boolean): string
  getDomain(): string
  getResource(): string
}

interface JidModule {
  (address: string): JID
  (local: string | undefined, domain: string, resource?: string): JID
  JID: new (local: string | undefined, domain: string, resource?: string) => JID
  equal(a: JID, b: JID): boolean
  detectEscape(local: string): boolean
  escapeLocal(local: string): string
  unescapeLocal(local: string): string
}

const require = createRequire(import.meta.url)
let loaded: JidModule | undefined
// Loaded on first use: routing never needs it, and an idle component stays smaller.
function mod(): JidModule {
  loaded ??= require('@xmpp/jid') as JidModule
  return loaded
}

/**
 * Parses a JID string (or builds one from parts), exactly as `@xmpp/jid`'s `jid()`.
 * Throws a `TypeError` for an invalid JID.
 *
 * @example
 * ```ts
 * const j = jid('alice@example.org/phone'); j.bare().toString() // 'alice@example.org'
 * ```
 */
export const jid: JidModule = Object.defineProperty(
  Object.assign(
    ((...args: [string] | [string | undefined, string, string?]) =>
      (mod() as (...a: unknown[]) => JID)(...args)) as JidModule,
    {
      equal: (a: JID, b: JID) => mod().equal(a, b),
      detectEscape: (local: string) => mod().detectEscape(local),
      escapeLocal: (local: string) => mod().escapeLocal(local),
      unescapeLocal: (local: string) => mod().unescapeLocal(local),
    },
  ),
  // A getter, not copied by Object.assign (which would call it and load @xmpp/jid at import time).
  'JID',
  { get: () => mod().JID, enumerable: true },
)

/** Parses a JID string; throws on an invalid one. */
export function parseJid(address: string): JID {
  return mod()(address)
}
