/**
 * Runs operations one after another per key, in the order they are called, and operations of
 * different keys concurrently. The stores use one per table group: the engines do not wait for one
 * write before calling the next, and a connection pool would otherwise run them on several
 * connections in any order (messages archived out of order, an older setting saved last, a read
 * seeing a write called after it).
 *
 * Only keys with operations in flight are kept, so the map is bounded by the concurrency of the
 * callers, not by the number of keys ever seen.
 *
 * @example
 * ```ts
 * const queue = new KeyedQueue()
 * void queue.run('room@chat.example', () => sql`INSERT …`)
 * const rows = await queue.run('room@chat.example', () => sql`SELECT …`) // sees the insert
 * await queue.idle() // on shutdown, before closing the pool
 * ```
 */
export class KeyedQueue {
  /** The last pending operation of each key (settled, never rejects). */
  readonly #tails = new Map<string, Promise<void>>()

  /** Keys with operations in flight. */
  get size(): number {
    return this.#tails.size
  }

  /**
   * Runs `op` once every operation of `key` called before it has settled (fulfilled or rejected),
   * and returns its result. A failed operation does not stop the ones after it.
   */
  run<T>(key: string, op: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(key)
    const result = prev === undefined ? start(op) : prev.then(op)
    const tail = result.then(
      () => {},
      () => {},
    )
    this.#tails.set(key, tail)
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key)
    })
    return result
  }

  /** Resolves once every operation called so far has settled. */
  async idle(): Promise<void> {
    // Each key's tail follows every operation of that key called before it.
    await Promise.allSettled([...this.#tails.values()])
  }
}

/** Calls `op` now; an exception it throws becomes the returned promise's rejection. */
function start<T>(op: () => Promise<T>): Promise<T> {
  try {
    return op()
  } catch (error) {
    return Promise.reject(error)
  }
}
