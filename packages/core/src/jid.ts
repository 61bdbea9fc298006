import { requireDep as require } from './builtins.js'

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

/**
 * The `jid` function of `@xmpp/jid` with its `JID` class and `equal()`. XEP-0106 escaping is
 * `@satellite/escaping`'s (`escapeLocal`, `unescapeLocal`); the parts of a JID string, `localOf()`,
 * `domainOf()`, `bareOf()` and `resourceOf()`.
 */
export interface JidModule {
  (address: string): JID
  (local: string | undefined, domain: string, resource?: string): JID
  JID: new (local: string | undefined, domain: string, resource?: string) => JID
  equal(a: JID, b: JID): boolean
}

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
    },
  ),
  // A getter, not copied by Object.assign (which would call it and load @xmpp/jid at import time).
  'JID',
  { get: () => mod().JID, enumerable: true },
)

/**
 * Parses a JID string; throws on an invalid one. Unlike `@xmpp/jid`'s parser, the local
 * part is taken as it is on the wire: an address is already in escaped form (XEP-0106),
 * so a local part such as `c\3a\net` (a backslash that starts no escape sequence) is kept,
 * not escaped a second time into `c\5c3a\5cnet`.
 *
 * @example
 * ```ts
 * parseJid('c\\3a\\net@example.org').local // 'c\\3a\\net'
 * ```
 */
export function parseJid(address: string): JID {
  if (!address.includes('@') && !address.includes('/')) return domainJid(address)
  const slash = address.indexOf('/')
  const bare = slash < 0 ? address : address.slice(0, slash)
  const at = bare.indexOf('@')
  if (at <= 0 || !bare.slice(0, at).includes('\\')) return mod()(address)
  const Wire = wireJidClass()
  return new Wire(bare.slice(0, at), bare.slice(at + 1), slash < 0 ? undefined : address.slice(slash + 1))
}

let jidClass: JidCtor | undefined

/**
 * The JID of a bare domain. Loads only `@xmpp/jid`'s JID class (two small files), not the whole
 * package: a component needs its own address when it comes online, and every module resolved
 * before the first stanza costs idle memory (docs/performance.md, "Idle memory").
 */
export function domainJid(domain: string): JID {
  jidClass ??= (loaded?.JID as JidCtor | undefined) ?? (require('@xmpp/jid/lib/JID.js') as JidCtor)
  return new jidClass(undefined, domain)
}

type JidCtor = new (local: string | undefined, domain: string, resource?: string) => JID
let wireClass: JidCtor | undefined

/**
 * `@xmpp/jid`'s JID for an address read from the wire: its local part is already escaped,
 * so it is stored as is (lowercased) instead of being escaped again. Still an instance of
 * `@xmpp/jid`'s JID; `bare()` keeps the behaviour.
 */
function wireJidClass(): JidCtor {
  if (wireClass) return wireClass
  const Base = mod().JID as unknown as new (
    local: string | undefined,
    domain: string,
    resource?: string,
  ) => JID & { _local: string; _domain: string; _resource: string }
  class WireJid extends Base {
    setLocal(local: string, escapeIt?: boolean): this {
      if (escapeIt) {
        const base = Base.prototype as unknown as { setLocal(this: WireJid, l: string, e: boolean): unknown }
        base.setLocal.call(this, local, true)
        return this
      }
      this._local = local ? local.toLowerCase() : local
      return this
    }
    override bare(): JID {
      return this._resource ? new WireJid(this._local, this._domain) : this
    }
  }
  wireClass = WireJid
  return WireJid
}
