import { SatelliteError, StanzaError } from '@satellite/core'

/**
 * A permission of XEP-0356: `roster`, `message`, `presence` or `iq`.
 *
 * @example
 * ```ts
 * const p: Permission = 'roster'
 * ```
 */
export type Permission = 'roster' | 'message' | 'presence' | 'iq'

/**
 * Why a {@link PrivilegeError} was thrown: the server announced no (or a smaller) grant,
 * the server itself answered `forbidden`, or no announcement came in time.
 *
 * @example
 * ```ts
 * if (err instanceof PrivilegeError && err.reason === 'not-granted') console.error(err.message)
 * ```
 */
export type PrivilegeErrorReason = 'not-granted' | 'refused' | 'timeout'

/** The configuration lines that grant `permission` = `needed` to `component` on each server. */
export function configHint(component: string, permission: Permission, needed: string): string {
  const prosodyValue = permission === 'iq' ? '{ ["<namespace>"] = "both" }' : `"${needed}"`
  return (
    `Prosody (VirtualHost, with modules_enabled += "privilege"): ` +
    `privileged_entities = { ["${component}"] = { ${permission} = ${prosodyValue} } }; ` +
    `ejabberd (modules): mod_privilege: { ${permission}: { ${needed}: <access rule matching server ${component}> } }`
  )
}

/**
 * A privileged operation the server did not (or no longer) allow. It is a `forbidden`
 * `StanzaError`; `permission` and `needed` say what is missing, `server` which server
 * should grant it, and the message carries the configuration line to add.
 *
 * @example
 * ```ts
 * try {
 *   await priv.rosterSet('alice@example.org', [{ jid: 'bob@irc.example.org' }])
 * } catch (err) {
 *   if (err instanceof PrivilegeError) fallBackToSubscriptions()
 * }
 * ```
 */
export class PrivilegeError extends StanzaError {
  readonly reason: PrivilegeErrorReason
  readonly permission: Permission
  /** The type that was needed, e.g. `set` for a roster set, `outgoing` for a message. */
  readonly needed: string
  /** The server (domain) whose grant was missing. */
  readonly server: string
  constructor(
    reason: PrivilegeErrorReason,
    details: { permission: Permission; needed: string; server: string; component: string; text?: string },
  ) {
    const what = `${details.permission}=${details.needed}`
    const why =
      reason === 'timeout'
        ? `no XEP-0356 announcement from ${details.server} in time`
        : reason === 'refused'
          ? `${details.server} refused the privileged ${details.permission} request${details.text ? ` (${details.text})` : ''}`
          : (details.text ?? `${details.server} did not grant ${what} to ${details.component}`)
    super('forbidden', {
      type: 'auth',
      text: `${why}. Needed: ${what}. ${configHint(details.component, details.permission, details.needed)}`,
    })
    this.name = 'PrivilegeError'
    this.reason = reason
    this.permission = details.permission
    this.needed = details.needed
    this.server = details.server
  }
}

/**
 * The codes of {@link PrivilegeInputError}, listed in docs/errors.md. ({@link PrivilegeError} is a
 * `StanzaError`: its code is `SAT_ERR_STANZA`, its `reason` says why.)
 *
 * @example
 * ```ts
 * if (isSatelliteError(err, PrivilegeErrorCodes.INPUT)) console.error('a bug in the caller', err.message)
 * ```
 */
export const PrivilegeErrorCodes = {
  /**
   * Bad input to a privileged operation (not a bare JID, a bad roster item, too many items, a
   * non-message to `sendAs`, a bad `waitForGrant` timeout): nothing was sent.
   */
  INPUT: 'SAT_ERR_PRIVILEGE_INPUT',
  /**
   * An announcement (`<privilege/>`) that cannot be read: thrown by `parseGrant`; the handle
   * reports it on `invalid` and drops that server's previous grant.
   */
  ANNOUNCEMENT: 'SAT_ERR_PRIVILEGE_ANNOUNCEMENT',
} as const

/** A code of {@link PrivilegeErrorCodes}. */
export type PrivilegeErrorCode = (typeof PrivilegeErrorCodes)[keyof typeof PrivilegeErrorCodes]

/**
 * Bad input: to a privileged operation (not a bare JID, a roster item without `jid`, a message
 * without `to`...; nothing was sent; `code` is `SAT_ERR_PRIVILEGE_INPUT`), or to `parseGrant`
 * (a malformed announcement; `code` is `SAT_ERR_PRIVILEGE_ANNOUNCEMENT`). A {@link SatelliteError},
 * never fatal. (A bad option of `privileges()` is a `SAT_ERR_CONFIG` error instead.)
 *
 * @example
 * ```ts
 * await priv.rosterGet('alice@example.org/phone') // throws PrivilegeInputError: a bare JID is needed
 * ```
 */
export class PrivilegeInputError extends SatelliteError<PrivilegeErrorCode> {
  constructor(message: string, code: PrivilegeErrorCode = PrivilegeErrorCodes.INPUT) {
    super(code, message)
    this.name = 'PrivilegeInputError'
  }
}
