/**
 * A set of timers that can all be cancelled at once, so that closing an object leaves no
 * pending handles. Pending `sleep()` promises resolve early on `clearAll()`.
 * @internal
 */
export class Timers {
  readonly #pending = new Map<NodeJS.Timeout, (() => void) | undefined>()

  set(fn: () => void, ms: number): NodeJS.Timeout {
    const handle = setTimeout(() => {
      this.#pending.delete(handle)
      fn()
    }, ms)
    this.#pending.set(handle, undefined)
    return handle
  }

  clear(handle: NodeJS.Timeout | undefined): void {
    if (handle === undefined) return
    clearTimeout(handle)
    const wake = this.#pending.get(handle)
    this.#pending.delete(handle)
    wake?.()
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const handle = this.set(resolve, ms)
      this.#pending.set(handle, resolve)
    })
  }

  clearAll(): void {
    for (const handle of [...this.#pending.keys()]) this.clear(handle)
  }

  get size(): number {
    return this.#pending.size
  }
}
