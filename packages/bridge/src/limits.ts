// The bounds of the bridge: every map keyed by something a remote party chooses (users, their
// resources, legacy contact and group ids, nicks) and every string or list an adapter hands
// over has one, with a default and an option. Also the small tools they need.
import { optionError } from '@satellite/core'
import { QueueFullError } from './errors.js'

/** Bounds of the `limits` option of `bridge()`; each has a default. */
export interface BridgeLimits {
  /** Users with a legacy session in memory (online, logging in, retrying); more are refused `resource-constraint`. Default 10,000. */
  sessions?: number
  /** Resources of one user followed (available presences); more are ignored. Default 20. */
  resources?: number
  /** Contacts of one user (contact list, presences, pictures, contacts added by their messages); the rest is dropped. Default 5,000. */
  contacts?: number
  /** Groups of one user (`listGroups` is cut there). Default 500. */
  groups?: number
  /** Members of one group (member lists are cut there). Default 5,000. */
  members?: number
  /** Joins and leaves of rooms waiting to run, all users together; more are refused `resource-constraint`. Default 1,000. */
  pendingJoins?: number
  /**
   * Registrations (or removals) of one user waiting behind the one under way; more are refused
   * `resource-constraint` at once. One with the same values as the last one under way or
   * waiting gets its answer (no other login). Default 4.
   */
  pendingRegistrations?: number
  /**
   * Requests waiting for a legacy login, all users together: registrations and removals under
   * way or waiting, and messages, room joins and room disco waiting for the user's login under
   * way (one user: a quarter of this). Each holds one of the component's handler slots
   * (its `limits.concurrency`) until answered; more are refused (`resource-constraint`, wait)
   * at once, so a slow or hanging legacy network cannot stop the component from answering
   * anything else. Default: a quarter of the component's `limits.concurrency` (64).
   */
  loginWaiters?: number
  /** Longest message text from the adapter, in UTF-16 units; longer messages are dropped (and logged). Default 65,536. */
  textLength?: number
  /** Longest name, nick, status text, subject, message id or reason from the adapter; longer ones are cut. Default 1,024. */
  fieldLength?: number
  /** Emojis in one reaction; more are dropped. Default 64. */
  reactions?: number
  /** Largest contact picture in bytes; a larger one counts as none. Default 65,536. */
  avatarBytes?: number
  /** Bytes of contact pictures kept in memory, all users together (least recently used dropped first, asked again when needed). Default 32 MiB. */
  avatarCacheBytes?: number
  /** Characters of group discussion history kept per user, all groups together (oldest dropped first). Default 262,144. */
  historyChars?: number
  /** How long an adapter call may take before it is given up (`remote-server-timeout`), in ms. Default 30,000. */
  adapterTimeout?: number
  /** Reports (adapter failures, dropped input, bounds hit) on the component's `error` event per minute; the rest is counted and summed up. Default 60. */
  reportsPerMinute?: number
}

/** Limits on legacy logins (the `loginLimits` option of `bridge()`). */
export interface LoginLimits {
  /**
   * Logins a user asks for (registrations, and logins on their presence or message): a token
   * bucket per bare JID. Default burst 5, refilled at 5 per minute.
   */
  perUser?: { burst?: number; perMinute?: number }
  /**
   * After the legacy network refused a user's credentials n > `after` times in a row, the
   * user's next login waits `min(cap, base * 2^(n-after-1))` ms. Default after 2 (two typos are
   * free), base 2,000, cap 600,000.
   */
  backoff?: { after?: number; base?: number; cap?: number }
  /**
   * After the legacy network refused registrations naming one legacy account (its username,
   * whatever JIDs tried it) n > `after` times in a row, the next registration for that account
   * waits `min(cap, base * 2^(n-after-1))` ms: N JIDs get no more guesses at one account than
   * one. Re-logins with stored credentials are not held back by it (an attacker cannot lock the
   * account's owner out), and a successful login starts it again. Accounts are kept as salted
   * hashes. Default after 3, base 2,000, cap 600,000.
   */
  account?: { after?: number; base?: number; cap?: number }
  /**
   * Logins started, all users and causes together (re-logins too): a token bucket. `reserved`
   * tokens of it are kept for re-logins with stored credentials (logins on presence, at start,
   * after a disconnect): registrations wait while no more are left, so a flood of registrations
   * does not delay the users already registered. Default burst 50, 20 per second, reserved
   * half the burst (25); `reserved` must be below `burst`.
   */
  global?: { burst?: number; perSecond?: number; reserved?: number }
  /** Users, and legacy accounts, whose attempts are remembered (least recently seen forgotten first), each. Default 10,000. */
  tracked?: number
}

export type ResolvedLimits = Required<BridgeLimits>

export interface ResolvedLoginLimits {
  userBurst: number
  userPerMinute: number
  backoffAfter: number
  backoffBase: number
  backoffCap: number
  accountAfter: number
  accountBase: number
  accountCap: number
  globalBurst: number
  globalPerSecond: number
  globalReserved: number
  tracked: number
}

export const DEFAULT_LIMITS: ResolvedLimits = {
  sessions: 10_000,
  resources: 20,
  contacts: 5_000,
  groups: 500,
  members: 5_000,
  pendingJoins: 1_000,
  pendingRegistrations: 4,
  loginWaiters: 64,
  textLength: 65_536,
  fieldLength: 1_024,
  reactions: 64,
  avatarBytes: 65_536,
  avatarCacheBytes: 32 * 1024 * 1024,
  historyChars: 262_144,
  adapterTimeout: 30_000,
  reportsPerMinute: 60,
}

/**
 * A number > 0 (an integer unless `integer` is false; `Infinity` lifts the bound), or
 * `fallback` when undefined; else `bridge.<name>: …` ({@link optionError}).
 */
function positive(name: string, value: number | undefined, fallback: number, integer = true): number {
  const v = value ?? fallback
  if (
    typeof v !== 'number' ||
    Number.isNaN(v) ||
    v <= 0 ||
    (integer && Number.isFinite(v) && !Number.isInteger(v))
  ) {
    throw optionError(
      'bridge',
      name,
      `must be ${integer ? 'an integer' : 'a number'} > 0 (or Infinity), got ${String(value)}`,
    )
  }
  return v
}

function atLeastZero(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < 0)
    throw optionError('bridge', name, `must be an integer >= 0, got ${String(value)}`)
  return v
}

/**
 * The limits with their defaults (`loginWaiters`: a quarter of the component's `concurrency`);
 * a value that is not > 0 is a fatal `SAT_ERR_CONFIG` naming it (`Infinity` lifts a bound).
 */
export function resolveLimits(options: BridgeLimits = {}, concurrency = 256): ResolvedLimits {
  const out = {} as Record<string, number>
  const defaults = { ...DEFAULT_LIMITS, loginWaiters: Math.max(1, Math.floor(concurrency / 4)) }
  for (const [name, fallback] of Object.entries(defaults)) {
    out[name] = positive(`limits.${name}`, (options as Record<string, number | undefined>)[name], fallback)
  }
  return out as ResolvedLimits
}

export function resolveLoginLimits(options: LoginLimits = {}): ResolvedLoginLimits {
  const globalBurst = positive('loginLimits.global.burst', options.global?.burst, 50)
  const globalReserved =
    options.global?.reserved === undefined && !Number.isFinite(globalBurst)
      ? 0
      : atLeastZero('loginLimits.global.reserved', options.global?.reserved, Math.floor(globalBurst / 2))
  if (globalReserved >= globalBurst) {
    throw optionError(
      'bridge',
      'loginLimits.global.reserved',
      `must be below global.burst (${globalBurst}), got ${globalReserved}`,
    )
  }
  return {
    userBurst: positive('loginLimits.perUser.burst', options.perUser?.burst, 5),
    userPerMinute: positive('loginLimits.perUser.perMinute', options.perUser?.perMinute, 5, false),
    backoffAfter: atLeastZero('loginLimits.backoff.after', options.backoff?.after, 2),
    backoffBase: positive('loginLimits.backoff.base', options.backoff?.base, 2_000, false),
    backoffCap: positive('loginLimits.backoff.cap', options.backoff?.cap, 600_000, false),
    accountAfter: atLeastZero('loginLimits.account.after', options.account?.after, 3),
    accountBase: positive('loginLimits.account.base', options.account?.base, 2_000, false),
    accountCap: positive('loginLimits.account.cap', options.account?.cap, 600_000, false),
    globalBurst,
    globalPerSecond: positive('loginLimits.global.perSecond', options.global?.perSecond, 20, false),
    globalReserved,
    tracked: positive('loginLimits.tracked', options.tracked, 10_000),
  }
}

/** A token bucket: `burst` tokens, refilled at `perMs` tokens per ms. */
export class TokenBucket {
  #tokens: number
  #at: number
  constructor(
    readonly burst: number,
    readonly perMs: number,
    readonly now: () => number = Date.now,
  ) {
    this.#tokens = burst
    this.#at = now()
  }
  #refill(): void {
    if (!Number.isFinite(this.perMs)) {
      this.#tokens = this.burst // no limit
      return
    }
    const t = this.now()
    this.#tokens = Math.min(this.burst, this.#tokens + (t - this.#at) * this.perMs)
    this.#at = t
  }
  /** Ms until a token is there beyond `reserved` ones (0: one is there now). */
  wait(reserved = 0): number {
    this.#refill()
    const need = reserved + 1
    return this.#tokens >= need ? 0 : Math.ceil((need - this.#tokens) / this.perMs)
  }
  take(): void {
    this.#refill()
    this.#tokens -= 1
  }
  /** Full again: nothing to remember. */
  get full(): boolean {
    this.#refill()
    return this.#tokens >= this.burst
  }
}

/** Runs the tasks of one key one after the other; at most `maxWaiting` wait behind the running one. */
export class KeyedQueue {
  readonly #tails = new Map<string, { tail: Promise<void>; count: number }>()
  constructor(readonly maxWaiting: number) {}

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const entry = this.#tails.get(key) ?? { tail: Promise.resolve(), count: 0 }
    if (entry.count > this.maxWaiting)
      return Promise.reject(new QueueFullError(`${entry.count} tasks of this key are under way`))
    entry.count++
    const result = entry.tail.then(task)
    entry.tail = result.then(
      () => {},
      () => {},
    )
    this.#tails.set(key, entry)
    const tail = entry.tail
    void tail.then(() => {
      entry.count--
      if (entry.count === 0 && this.#tails.get(key)?.tail === tail) this.#tails.delete(key)
    })
    return result
  }

  /** Tasks of `key` under way or waiting. */
  pending(key: string): number {
    return this.#tails.get(key)?.count ?? 0
  }

  /** Keys with tasks under way or waiting. */
  get size(): number {
    return this.#tails.size
  }
}

/** Adds `key → value` to an insertion-ordered map, dropping the oldest entries beyond `max`; returns how many were dropped. */
export function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): number {
  map.delete(key)
  map.set(key, value)
  let dropped = 0
  for (const k of map.keys()) {
    if (map.size <= max) break
    map.delete(k)
    dropped++
  }
  return dropped
}
