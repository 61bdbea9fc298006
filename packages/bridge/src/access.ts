// Who may use the gateway (the allow-list of user domains), reading a user's stored
// registration without letting an unreadable row lock the user out, and whose addresses
// stanzas carry (the sending user, the contact addressed).
import { bareOf, domainOf, type Stanza, StanzaError } from '@satellite/core'
import { fromJid } from '@satellite/escaping'
import type { Credentials } from './adapter.js'
import { BridgeError, BridgeErrorCodes, BridgeKeyError } from './errors.js'
import { setBounded } from './limits.js'
import type { BridgeStore } from './store.js'
import { isLegacyId } from './validate.js'

/** A user's stored registration: none, readable, or there but unreadable (altered row, other key). */
export type StoredRegistration =
  | { kind: 'none' }
  | { kind: 'ok'; credentials: Credentials }
  | { kind: 'unreadable' }

/** The parent domain of a component domain (`localhost` for `bridge.localhost`). */
export function parentDomain(domain: string): string {
  const dot = domain.indexOf('.')
  return dot < 0 ? domain : domain.slice(dot + 1)
}

/**
 * The bare JID of a stanza's sender, lower-cased: the user's key in the bridge and its store;
 * `bad-request` without a valid `from` (parsed, cached on the stanza).
 */
export function userOf(stanza: Stanza): string {
  if (stanza.fromJid === null) throw new StanzaError('bad-request', { text: 'the stanza has no valid from' })
  return bareOf(stanza.attrs.from).toLowerCase()
}

/** The domain of a user's bare JID, lower-cased (the `@` is the first one, as parseJid reads it). */
export const userDomain = (user: string): string => domainOf(user).toLowerCase()

/**
 * The legacy id a contact address stands for: null when the address is not a contact's
 * (another domain, no local part); `jid-malformed` when its local part unescapes to no usable
 * id (a lone surrogate such as `\u{d800}`, or too long).
 */
export function contactIdOf(address: string, domain: string): string | null {
  const id = fromJid(address, domain)
  if (id !== null && !isLegacyId(id)) {
    throw new StanzaError('jid-malformed', { text: 'not the address of a contact' })
  }
  return id
}

export interface Access {
  /** Whether users of `user`'s domain may register and log in. */
  allowed(user: string): boolean
  /** For the registrar: allowed, or registered already (so that they can always unregister); else `not-allowed`. */
  mayRegister(user: string): Promise<boolean>
  /** The user's registration; an unreadable one is reported to the operator once per user. */
  read(user: string): Promise<StoredRegistration>
  /** `user` registered again or unregistered: a later unreadable row is reported again. */
  reset(user: string): void
}

export function access(options: {
  store: BridgeStore
  domain: string
  allowedDomains: readonly string[] | undefined
  report(err: Error): void
  /** Users remembered as reported (the oldest forgotten first). */
  maxTracked: number
}): Access {
  // Checked by resolveOptions.
  const list = options.allowedDomains ?? [parentDomain(options.domain)]
  const domains = new Set(list.map((d) => d.toLowerCase()))
  const reported = new Map<string, true>()
  const allowed = (user: string) => domains.has('*') || domains.has(userDomain(user))

  async function read(user: string): Promise<StoredRegistration> {
    try {
      const credentials = await options.store.getRegistration(user)
      return credentials === null ? { kind: 'none' } : { kind: 'ok', credentials }
    } catch (err) {
      if (!(err instanceof BridgeKeyError)) throw err
      if (!reported.has(user)) {
        setBounded(reported, user, true, options.maxTracked)
        options.report(
          new BridgeError(
            BridgeErrorCodes.CREDENTIALS,
            `bridge: the stored credentials of ${user} cannot be read (${err.message}); the user can unregister or register again`,
            { cause: err },
          ),
        )
      }
      return { kind: 'unreadable' }
    }
  }

  return {
    allowed,
    read,
    reset: (user) => void reported.delete(user),
    async mayRegister(user) {
      if (allowed(user) || (await read(user)).kind !== 'none') return true
      throw new StanzaError('not-allowed', {
        text: `this gateway does not serve users of ${userDomain(user)}`,
      })
    },
  }
}
