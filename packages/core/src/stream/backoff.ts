/** Why the connection went down, as far as the reconnect policy cares. */
export type DisconnectClass = 'fatal' | 'conflict' | 'retry'

/** Stream error conditions after which retrying cannot help: the configuration is wrong. */
export const FATAL_STREAM_CONDITIONS: ReadonlySet<string> = new Set([
  'not-authorized',
  'host-unknown',
  'invalid-namespace',
  'improper-addressing',
  'invalid-from',
  'bad-format',
])

/**
 * Classifies a stream error condition (and its text) for the reconnect policy. A
 * `conflict` is fatal when it says the domain is one of the server's own hosts
 * (ejabberd: "Unable to register route on existing local domain"): that never clears.
 */
export function classifyCondition(condition: string, text?: string): DisconnectClass {
  if (FATAL_STREAM_CONDITIONS.has(condition)) return 'fatal'
  if (condition === 'conflict') return text && /local domain/i.test(text) ? 'fatal' : 'conflict'
  return 'retry'
}

/** Options of {@link Backoff}, in ms (the component's `reconnect` options are one). */
export interface BackoffOptions {
  /** First ceiling. */
  base: number
  /** Largest ceiling. */
  cap: number
  /** Failed attempts in a row after which {@link Backoff.exhausted} is true (`Infinity`: never). */
  maxAttempts: number
  /** Least delay after a `conflict`. */
  conflictFloor: number
}

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in
 * [0, min(cap, base * 2^n)]; after a conflict at least `conflictFloor`. The component's
 * reconnects use it; so can a plugin's own retries (the bridge's legacy re-logins do).
 *
 * @example
 * ```ts
 * const backoff = new Backoff({ base: 1000, cap: 60_000, maxAttempts: Infinity, conflictFloor: 0 })
 * setTimeout(retry, backoff.next('retry'))
 * ```
 */
export class Backoff {
  readonly #opts: BackoffOptions
  readonly #random: () => number
  /** Failed attempts in a row. */
  attempts = 0

  constructor(opts: BackoffOptions, random: () => number = Math.random) {
    this.#opts = opts
    this.#random = random
  }

  /** True when `maxAttempts` failed attempts in a row were made. */
  get exhausted(): boolean {
    return this.attempts >= this.#opts.maxAttempts
  }

  /** The delay before the next attempt; counts one more failed attempt. */
  next(kind: DisconnectClass): number {
    const ceiling = Math.min(this.#opts.cap, this.#opts.base * 2 ** Math.min(this.attempts, 30))
    this.attempts++
    const delay = Math.floor(this.#random() * ceiling)
    return kind === 'conflict' ? Math.max(this.#opts.conflictFloor, delay) : delay
  }

  /** Back to the first step (after a stable online period). */
  reset(): void {
    this.attempts = 0
  }
}
