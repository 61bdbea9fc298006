// Rate limits of the directory: a token bucket per requester (bare JID), in a bounded map.
import { optionError, StanzaError } from '@satellite/core'

/** A rate limit: `burst` tokens per requester, refilled at `perMinute`; `maxRequesters` buckets kept. */
export interface RateLimit {
  /** Size of each requester's bucket. */
  burst?: number
  /** Tokens refilled per minute. */
  perMinute?: number
  /**
   * Buckets kept (default 10,000): beyond, the least recently used is forgotten (a forgotten
   * bucket restarts full, which only a requester idle for longer than the most recent
   * `maxRequesters` others can benefit from).
   */
  maxRequesters?: number
}

/** `value`, or a fatal `SAT_ERR_CONFIG` naming the directory's option when it is not > 0. */
function positive(option: string, value: number, integer: boolean): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isSafeInteger(value))
  ) {
    throw optionError(
      'directory',
      option,
      `must be a positive ${integer ? 'integer' : 'number'}, got ${typeof value === 'number' ? value : typeof value}`,
    )
  }
  return value
}

/**
 * A token bucket per key: `burst` tokens, refilled at `perMinute` per minute, `maxKeys` keys at
 * most. A bad limit is the fatal `SAT_ERR_CONFIG` of the directory's option `option` (its
 * `rateLimit` or `writeLimit`): `directory.rateLimit.burst: must be a positive number, got 0`.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>()
  readonly #burst: number
  readonly #perMs: number
  readonly #now: () => number
  readonly #maxKeys: number

  constructor(
    burst: number,
    perMinute: number,
    now: () => number = Date.now,
    maxKeys = 10_000,
    option: 'rateLimit' | 'writeLimit' = 'rateLimit',
  ) {
    this.#burst = positive(`${option}.burst`, burst, false)
    this.#perMs = positive(`${option}.perMinute`, perMinute, false) / 60_000
    this.#now = now
    this.#maxKeys = positive(`${option}.maxRequesters`, maxKeys, true)
  }

  /** The bucket of `key`, refilled up to now (a new one is full). */
  #refill(key: string, now: number): { tokens: number; at: number } {
    const b = this.#buckets.get(key) ?? { tokens: this.#burst, at: now }
    b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs)
    b.at = now
    return b
  }

  /** Takes a token for `key`; returns false (and takes nothing) when the bucket is empty. */
  take(key: string): boolean {
    const b = this.#refill(key, this.#now())
    this.#buckets.delete(key) // re-inserted last: the map stays ordered by last use
    this.#buckets.set(key, b)
    if (this.#buckets.size > this.#maxKeys) {
      this.#buckets.delete(this.#buckets.keys().next().value as string) // the least recently used
    }
    if (b.tokens < 1) return false
    b.tokens -= 1
    return true
  }

  /** Milliseconds until `key` has a token again (0 when it has one now). */
  retryIn(key: string): number {
    if (!this.#buckets.has(key)) return 0
    const b = this.#refill(key, this.#now())
    return b.tokens >= 1 ? 0 : Math.ceil((1 - b.tokens) / this.#perMs)
  }

  /** Buckets kept (at most `maxKeys`). */
  get size(): number {
    return this.#buckets.size
  }
}

/**
 * Takes a token of `key` from `limiter`, or throws `resource-constraint` (type `wait`: the
 * requester did nothing wrong and may retry) whose text says when to retry.
 */
export function takeOrRefuse(limiter: RateLimiter, key: string, what: string): void {
  if (limiter.take(key)) return
  const seconds = Math.max(1, Math.ceil(limiter.retryIn(key) / 1000))
  throw new StanzaError('resource-constraint', {
    type: 'wait',
    text: `too many ${what}; try again in ${seconds} s`,
  })
}
