// The options of bridge() (checked before anything is registered) and its handle.
import { optionError } from '@satellite/core'
import { LEGACY_FIELDS, type LegacyField } from '@satellite/register'
import type { NetworkAdapter } from './adapter.js'
import type { GroupSizes } from './groups.js'
import {
  type BridgeLimits,
  type LoginLimits,
  type ResolvedLimits,
  type ResolvedLoginLimits,
  resolveLimits,
  resolveLoginLimits,
} from './limits.js'
import type { BridgeStore } from './store.js'

/** Options of {@link bridge}. */
export interface BridgeOptions<S> {
  adapter: NetworkAdapter<S>
  store: BridgeStore
  /** Log every registered user in when the component comes online (default false: on their presence). */
  loginAtStart?: boolean
  /**
   * Legacy re-logins after a disconnect or a failed login: exponential backoff with full jitter
   * (core's `Backoff`), in ms: re-login n (from 0) waits a random time in
   * [0, min(cap, base * 2^n)] (default base 1000, cap 60000), and at most `maxAttempts` attempts
   * are made in a row (default: no limit). After the last one fails, the user is told by a
   * message from the gateway and the session stays logged out until the user's next available
   * presence (or {@link Bridge.login}). `random` is the jitter's source, a number in [0, 1)
   * (default `Math.random`; tests give their own).
   */
  retry?: { base?: number; cap?: number; maxAttempts?: number; random?: () => number }
  /**
   * Manage contacts with XEP-0356 roster pushes when the user's server granted the
   * gateway roster `set` (default `true`): contacts are added, renamed and removed in the
   * user's roster directly (group: the network name), with no subscription requests. When
   * not granted, or when the server answers a roster set with an error, presence
   * subscriptions are used as before.
   */
  privilegedRoster?: boolean
  /**
   * Group messages kept in memory per user and group while the legacy session is up, and sent
   * as the discussion history (with XEP-0203 delays) when the user joins the room; the join's
   * `<history/>` limits apply. Default 20; 0 sends no history.
   */
  groupHistory?: number
  /**
   * Domains whose users may register and log in; others get `not-allowed`. Default: the
   * parent domain of the component's domain (`localhost` for `bridge.localhost`); `['*']`:
   * anybody. A user registered before keeps `get` and `<remove/>`.
   */
  allowedDomains?: readonly string[]
  /** Bounds of the bridge's memory and of what it takes from the adapter ({@link BridgeLimits}). */
  limits?: BridgeLimits
  /** Limits on legacy logins: per user, backoff after refused credentials, global ({@link LoginLimits}). */
  loginLimits?: LoginLimits
}

/** State of one user's legacy session. */
export type SessionState = 'offline' | 'connecting' | 'online' | 'retrying'

/** How much the bridge holds in memory: totals, and the largest per user (see {@link BridgeLimits}). */
export interface BridgeSizes {
  /** Users with a session entry. */
  sessions: number
  /** Most resources followed for one user. */
  resources: number
  /** Most contacts' presences kept for one user. */
  presence: number
  /** Contact pictures kept (all users) and their bytes. */
  avatars: number
  avatarBytes: number
  /** Users with roster changes waiting for a XEP-0356 grant, and the most changes for one user. */
  roster: number
  rosterContacts: number
  /** Users whose login attempts are remembered. */
  logins: number
  /** Legacy accounts whose refused logins are remembered (as salted hashes). */
  accounts: number
  /** Requests waiting for a legacy login (registrations under way or waiting too), all users. */
  loginWaiters: number
  /** Users with a registration under way. */
  registrations: number
  /** The group-chat part (undefined without the `groups` capability). */
  groups: GroupSizes | undefined
}

/** Handle returned by {@link bridge}. */
export interface Bridge {
  /** The state of `user`'s legacy session (bare JID). */
  state(user: string): SessionState
  /** Logs `user` in now (no-op when online). */
  login(user: string): Promise<void>
  /** Logs `user` out and marks the contacts unavailable. */
  logout(user: string): Promise<void>
  /** The JID standing for a legacy id. */
  contactJid(legacyId: string): string
  /** How much the bridge holds in memory (for monitoring; every figure is bounded by `limits`). */
  sizes(): BridgeSizes
  /**
   * Removes everything the bridge installed on the component (its routes, disco identity and
   * features, its `online` listener, the roster's grant listener) and logs every session out.
   * Idempotent; await it before closing the store.
   */
  close(): Promise<void>
}

/** `retry` with its defaults. */
export interface ResolvedRetry {
  base: number
  cap: number
  maxAttempts: number
  random: () => number
}

/**
 * The options with their defaults, checked: a bad value throws a fatal `SAT_ERR_CONFIG`
 * ({@link optionError}: `bridge.<option>: problem`) before anything is registered.
 */
export function resolveOptions<S>(
  options: BridgeOptions<S>,
  concurrency?: number,
): {
  groupHistory: number
  limits: ResolvedLimits
  loginLimits: ResolvedLoginLimits
  retry: ResolvedRetry
  fields: readonly LegacyField[]
} {
  const groupHistory = options.groupHistory ?? 20
  if (!Number.isInteger(groupHistory) || groupHistory < 0) {
    throw optionError(
      'bridge',
      'groupHistory',
      `must be an integer >= 0, got ${String(options.groupHistory)}`,
    )
  }
  const base = options.retry?.base ?? 1000
  const cap = options.retry?.cap ?? 60_000
  const maxAttempts = options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY
  if (!(maxAttempts >= 0)) {
    throw optionError('bridge', 'retry.maxAttempts', `must be a number >= 0, got ${String(maxAttempts)}`)
  }
  for (const [name, v] of [
    ['retry.base', base],
    ['retry.cap', cap],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0)
      throw optionError('bridge', name, `must be a number of ms > 0, got ${v}`)
  }
  const random = options.retry?.random ?? Math.random
  if (typeof random !== 'function') throw optionError('bridge', 'retry.random', 'must be a function')
  const fields: readonly LegacyField[] = options.adapter.registration?.fields ?? ['username', 'password']
  const unknownField = (f: unknown) => !(LEGACY_FIELDS as readonly string[]).includes(f as string)
  if (!Array.isArray(fields) || fields.some(unknownField)) {
    const got = Array.isArray(fields) ? `'${String(fields.find(unknownField))}'` : typeof fields
    throw optionError(
      'bridge',
      'adapter.registration.fields',
      `must be among ${LEGACY_FIELDS.join(', ')}, got ${got}`,
    )
  }
  const allowedDomains = options.allowedDomains
  if (
    allowedDomains !== undefined &&
    (!Array.isArray(allowedDomains) || allowedDomains.some((d) => typeof d !== 'string' || d === ''))
  ) {
    throw optionError('bridge', 'allowedDomains', 'must be a list of domains (or ["*"])')
  }
  return {
    groupHistory,
    limits: resolveLimits(options.limits, concurrency),
    loginLimits: resolveLoginLimits(options.loginLimits),
    retry: { base, cap, maxAttempts, random },
    fields,
  }
}
