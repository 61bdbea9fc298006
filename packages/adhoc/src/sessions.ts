import type { DataForm } from '@satellite/forms'
import type { CommandDefinition, Session } from './definition.js'

/**
 * Sizes of a registry's tables (see {@link CommandRegistry.stats}), e.g. for metrics.
 *
 * @example
 * ```ts
 * const { sessions, privileged, requesters, expired } = registry.stats
 * ```
 */
export interface CommandStats {
  /** Live sessions. */
  sessions: number
  /** Live sessions of privileged requesters. */
  privileged: number
  /** Requesters (bare JIDs) holding at least one live session. */
  requesters: number
  /** Expired session ids remembered to answer `session-expired`. */
  expired: number
}

/** One session: the requester's, from `execute` until it completes, is canceled or expires. */
export interface Live {
  session: Session<unknown> & { stage: number }
  def: CommandDefinition<unknown>
  bare: string
  /** Opened by a privileged requester (counted against the whole of `maxSessions`). */
  privileged: boolean
  timer: NodeJS.Timeout | null
  /** The form definition shown at the current stage (submissions are validated against it). */
  shown: DataForm | undefined
  /** Requests of one session are handled one after the other. */
  queue: Promise<unknown>
  done: boolean
}

/** The bounds of a {@link SessionTable}. */
export interface SessionLimits {
  sessionTimeout: number
  maxSessionsPerRequester: number
  maxSessions: number
  rememberExpired: number
  reservedSessions: number
}

/**
 * The live sessions and what they count: per requester, privileged ones, and the ids of the
 * expired ones (to answer `session-expired`). Every table is bounded.
 */
export class SessionTable {
  readonly #live = new Map<string, Live>()
  readonly #expired = new Set<string>()
  readonly #perRequester = new Map<string, number>()
  /** Live sessions of privileged requesters. */
  #privileged = 0
  readonly #limits: SessionLimits

  constructor(limits: SessionLimits) {
    this.#limits = limits
  }

  get size(): number {
    return this.#live.size
  }

  get stats(): CommandStats {
    return {
      sessions: this.#live.size,
      privileged: this.#privileged,
      requesters: this.#perRequester.size,
      expired: this.#expired.size,
    }
  }

  get(id: string): Live | undefined {
    return this.#live.get(id)
  }

  isExpired(id: string): boolean {
    return this.#expired.has(id)
  }

  /**
   * True if `bare` may not open another session: the table is full, or the part open to
   * everybody (all but the last `reservedSessions`) is and `bare` is not privileged, or `bare`
   * holds `maxSessionsPerRequester` already.
   */
  full(bare: string, privileged: boolean): boolean {
    const { maxSessions, reservedSessions, maxSessionsPerRequester } = this.#limits
    const ordinary = this.#live.size - this.#privileged
    const full = this.#live.size >= maxSessions || (!privileged && ordinary >= maxSessions - reservedSessions)
    return full || (this.#perRequester.get(bare) ?? 0) >= maxSessionsPerRequester
  }

  /** Counts a session in (checked by {@link full} just before, with no await in between). */
  add(live: Live): void {
    this.#live.set(live.session.id, live)
    if (live.privileged) this.#privileged++
    this.#perRequester.set(live.bare, (this.#perRequester.get(live.bare) ?? 0) + 1)
  }

  /** (Re)starts the idle timer of a live session: it expires `sessionTimeout` ms from now. */
  touch(live: Live): void {
    if (live.done) return
    if (live.timer !== null) clearTimeout(live.timer)
    live.timer = setTimeout(() => this.end(live, true), this.#limits.sessionTimeout)
    live.timer.unref()
  }

  /** Forgets a session; `expired` remembers its id to answer `session-expired`. */
  end(live: Live, expired: boolean): void {
    if (live.done) return
    live.done = true
    if (live.timer !== null) clearTimeout(live.timer)
    live.timer = null
    const id = live.session.id
    if (!this.#live.delete(id)) return // a command without stages: never counted
    if (live.privileged) this.#privileged--
    const n = (this.#perRequester.get(live.bare) ?? 1) - 1
    if (n <= 0) this.#perRequester.delete(live.bare)
    else this.#perRequester.set(live.bare, n)
    const remember = this.#limits.rememberExpired
    if (expired && remember > 0) {
      this.#expired.add(id)
      if (this.#expired.size > remember) {
        this.#expired.delete(this.#expired.values().next().value as string)
      }
    }
  }

  /** Ends the sessions of command `node`, or every session (timers included). */
  endAll(node: string | undefined, expired: boolean): void {
    for (const live of [...this.#live.values()]) {
      if (node === undefined || live.session.node === node) this.end(live, expired)
    }
  }
}
