// A manual clock for the scheduler and the gate (Timers of scheduler.ts).
import type { Timers } from '../src/scheduler.js'

export class FakeTimers implements Timers {
  #now = 0
  #next = 1
  readonly #pending = new Map<number, { at: number; fn: () => void }>()

  now(): number {
    return this.#now
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++
    this.#pending.set(id, { at: this.#now + ms, fn })
    return id
  }

  clearTimeout(handle: unknown): void {
    this.#pending.delete(handle as number)
  }

  get pending(): number {
    return this.#pending.size
  }

  /** Moves the clock forward by `ms`, running each timer due on the way at its time. */
  advance(ms: number): void {
    const end = this.#now + ms
    for (;;) {
      let due: [number, { at: number; fn: () => void }] | undefined
      for (const entry of this.#pending)
        if (entry[1].at <= end && (due === undefined || entry[1].at < due[1].at)) due = entry
      if (due === undefined) break
      this.#pending.delete(due[0])
      this.#now = Math.max(this.#now, due[1].at)
      due[1].fn()
    }
    this.#now = end
  }
}
