/** Refused retries in a row that wait `base` before the interval starts to grow. */
export const REFUSED_FLAT = 30
/** Each later refused retry waits this fraction of `base` longer than the one before. */
export const REFUSED_GROWTH = 0.1
/** The interval grows up to this many times `base` (and never beyond `cap`). */
export const REFUSED_CAP_FACTOR = 5

/**
 * The retry schedule of refused connections (ECONNREFUSED: nothing listens on the port, which
 * costs the server nothing). Not the exponential backoff: a refusal says the listener is gone,
 * and it is back when it is back, so the port is tried at a steady pace and the component is
 * online soon after the listener returns.
 *
 * The k-th refused retry in a row (k = 1, 2...) waits `base` for k ≤ 30, then 10 % of `base`
 * more at each retry, up to `min(cap, 5 × base)`. The first retry of a series also waits a random
 * part of `base` (0 to 100 %): components refused together (a cluster booted before its server)
 * spread over a whole interval instead of knocking at once, and each keeps its own phase.
 * With the defaults (`base` 1 s, `cap` 60 s): one attempt a second for the first ~30 s, then
 * slower, one every 5 s after about 2.5 minutes; never more than one a second on average.
 *
 * @example
 * ```ts
 * const refused = new RefusedSchedule({ base: 1000, cap: 60_000 })
 * setTimeout(retry, refused.next())
 * ```
 */
export class RefusedSchedule {
  readonly #base: number
  readonly #cap: number
  readonly #random: () => number
  /** Refused retries scheduled in a row. */
  #streak = 0

  constructor(opts: { base: number; cap: number }, random: () => number = Math.random) {
    this.#base = Math.min(opts.base, opts.cap)
    this.#cap = Math.max(this.#base, Math.min(opts.cap, REFUSED_CAP_FACTOR * opts.base))
    this.#random = random
  }

  /** Refused retries scheduled in a row so far. */
  get streak(): number {
    return this.#streak
  }

  /** The delay before the next attempt after a refused one, in ms. */
  next(): number {
    const k = ++this.#streak
    const grown = k <= REFUSED_FLAT ? 0 : (k - REFUSED_FLAT) * REFUSED_GROWTH * this.#base
    const step = Math.min(this.#cap, this.#base + grown)
    return Math.round(k === 1 ? step + this.#random() * this.#base : step)
  }

  /** A connection got through (or `start()` began afresh): the next refusal starts a new series. */
  reset(): void {
    this.#streak = 0
  }
}
