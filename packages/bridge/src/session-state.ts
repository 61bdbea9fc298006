// The state of one user's legacy session: ONE value of the union below, changed only through
// `transition`, which refuses the moves the lifecycle (docs/bridge.md, "Sessions") does not allow:
//
//   offline    → connecting (a login starts), online (a registration's login becomes the session)
//   connecting → online (that login succeeded), retrying (failed, attempts left),
//                gaveUp (failed, none left), offline (refused, no usable registration)
//   online     → online (its first contact sync done), retrying or gaveUp (lost)
//   retrying   → connecting (the timer fired, or a login asked)
//   gaveUp     → connecting (available presence, login(), loginAtStart)
//   offline, retrying, gaveUp → retrying (loginLimits defer the login)
//   any but offline → offline (logout, last resource gone, new registration, component reconnect)
import type { Backoff } from '@satellite/core'
import { BridgeError, BridgeErrorCodes } from './errors.js'
import type { SessionState } from './options.js'

/** What started a login: the user (presence, message, join), start-up, a re-login, a component reconnect. */
export type ConnectReason = 'presence' | 'start' | 'retry' | 'reconnect'

/**
 * A user's legacy session. `gen` identifies a login: events and results of any other login are
 * ignored. `backoff` is the series of re-logins under way (its `attempts` so far), null when
 * the login is no re-login after a failure.
 */
export type LegacySession<S> =
  /** Logged out, nothing under way. */
  | { readonly kind: 'offline' }
  /** A login under way; `login` settles when it is done (online with its first contact sync, or failed). */
  | {
      readonly kind: 'connecting'
      readonly gen: number
      readonly reason: ConnectReason
      readonly backoff: Backoff | null
      readonly login: Promise<void>
    }
  /** Logged in; `login` is the login that did it while its first contact sync is under way (null once done, and for a registration's). */
  | {
      readonly kind: 'online'
      readonly gen: number
      readonly handle: S
      readonly login: Promise<void> | null
    }
  /** A login in a moment (`timer`): after a failure (`backoff`), or deferred by `loginLimits`. */
  | {
      readonly kind: 'retrying'
      readonly reason: ConnectReason
      readonly backoff: Backoff | null
      readonly timer: NodeJS.Timeout
    }
  /** Re-logins ran out of attempts (`retry.maxAttempts`): only the user's available presence (or login()) logs in again. */
  | { readonly kind: 'gaveUp' }

export type SessionKind = LegacySession<unknown>['kind']

export const OFFLINE: LegacySession<never> = Object.freeze({ kind: 'offline' })
export const GAVE_UP: LegacySession<never> = Object.freeze({ kind: 'gaveUp' })

/** The moves the lifecycle allows, by kind (see the diagram above); further conditions in {@link transition}. */
export const TRANSITIONS: Readonly<Record<SessionKind, readonly SessionKind[]>> = {
  offline: ['connecting', 'retrying', 'online'],
  connecting: ['online', 'retrying', 'gaveUp', 'offline'],
  online: ['online', 'retrying', 'gaveUp', 'offline'],
  retrying: ['connecting', 'retrying', 'offline'],
  gaveUp: ['connecting', 'retrying', 'offline'],
}

/**
 * The session after moving from `from` to `to`: `to`, when the lifecycle allows the move. A
 * login under way can only end in its own success (`connecting → online` keeps `gen`), and
 * `online → online` only marks the first contact sync of the same login as done. Anything else
 * throws a {@link BridgeError} `SAT_ERR_BRIDGE_STATE` (a bug in the bridge).
 */
export function transition<S>(from: LegacySession<S>, to: LegacySession<S>): LegacySession<S> {
  let ok = TRANSITIONS[from.kind].includes(to.kind)
  if (ok && from.kind === 'connecting' && to.kind === 'online') ok = to.gen === from.gen
  if (ok && from.kind === 'online' && to.kind === 'online') {
    ok = to.gen === from.gen && to.handle === from.handle && from.login !== null && to.login === null
  }
  if (!ok) {
    throw new BridgeError(
      BridgeErrorCodes.STATE,
      `bridge: a legacy session cannot go from ${describe(from)} to ${describe(to)}`,
    )
  }
  return to
}

function describe(s: LegacySession<unknown>): string {
  return s.kind === 'connecting' || s.kind === 'online' ? `${s.kind} (login ${s.gen})` : s.kind
}

/** The login that is current: its events and results count (null: none). */
export function currentLogin(s: LegacySession<unknown>): number | null {
  return s.kind === 'connecting' || s.kind === 'online' ? s.gen : null
}

/** The series of re-logins a session is in (null: none). */
export function backoffOf(s: LegacySession<unknown>): Backoff | null {
  return s.kind === 'connecting' || s.kind === 'retrying' ? s.backoff : null
}

/** What {@link Bridge.state} says: `gaveUp` reads as `offline` (nothing logs in by itself). */
export function publicState(s: LegacySession<unknown>): SessionState {
  return s.kind === 'gaveUp' ? 'offline' : s.kind
}
