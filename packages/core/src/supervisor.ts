import type { ResolvedOptions } from './config.js'
import { ErrorCodes, SatelliteError } from './errors.js'
import type { EventSink, ReconnectInfo } from './events.js'
import type { JID } from './jid.js'
import { type Attempt, allowed, IllegalTransition, type State } from './lifecycle.js'
import { logger } from './log.js'
import { Backoff } from './stream/backoff.js'
import { quietReject } from './stream/outbound.js'
import { RefusedSchedule } from './stream/refused.js'
import type { SessionEnd } from './stream/session.js'

const logConn = logger('connection')

/** What an attempt reports to the supervisor (a subset of a session's handlers). */
export interface AttemptEvents {
  connected(): void
  online(): void
  closed(end: SessionEnd): void
}

/** The component, as its supervisor sees it: events, and the work done at each step. */
export interface SupervisorHost<A extends Attempt> extends EventSink {
  /** Opens a connection attempt that reports to `events`. */
  open(events: AttemptEvents): A
  /** `attempt` is online: the outbound path writes to it. Returns the component's address. */
  online(attempt: A): JID
  /** An attempt ended, whatever its phase: nothing is written to it any more. */
  ended(): void
  /** A stop is about to close an online stream: write the current batch first. */
  flush(): void
  /** A stop is complete: reject what still waits (iq requests, queued stanzas) with `err`. */
  stopped(err: SatelliteError): void
  /** A reconnect was scheduled for `reason` (statistics). */
  reconnect(reason: string): void
}

/** Options of a {@link Supervisor}. */
export interface SupervisorOptions extends Pick<ResolvedOptions, 'reconnect' | 'stopTimeout' | 'signal'> {
  /** Randomness of the backoff and of the refused schedule (tests pass their own). */
  random?: () => number
  /**
   * What a transition the lifecycle does not allow does: `true` throws {@link IllegalTransition},
   * `false` logs it (satellite:core:connection) and keeps the current state. Default: `true`
   * under NODE_ENV=test, `false` otherwise (`undefined` is the default).
   */
  strict?: boolean | undefined
}

/**
 * The reconnect supervisor of a component: the lifecycle of docs/connection.md as ONE
 * {@link State} value changed only by a checked transition, the start waiters, the reconnect
 * policy (backoff, conflict floor, refused schedule, stable-connection reset, maxAttempts),
 * stopping and the AbortSignal. One attempt at most is alive at any time.
 */
export class Supervisor<A extends Attempt = Attempt> {
  readonly #host: SupervisorHost<A>
  readonly #backoff: Backoff | null
  readonly #refused: RefusedSchedule
  readonly #stableAfter: number
  readonly #stopTimeout: number
  readonly #signal: AbortSignal | undefined
  readonly #strict: boolean
  readonly #onAbort: (() => void) | null = null
  #state: State<A> = { status: 'idle' }
  #waiters: Array<{ resolve: (jid: JID) => void; reject: (err: Error) => void }> = []

  constructor(host: SupervisorHost<A>, options: SupervisorOptions) {
    this.#host = host
    const r = options.reconnect
    const random = options.random ?? Math.random
    this.#backoff = r === false ? null : new Backoff(r, random)
    this.#refused = new RefusedSchedule(r === false ? { base: 1000, cap: 60_000 } : r, random)
    this.#stableAfter = r === false ? 0 : r.stableAfter
    this.#stopTimeout = options.stopTimeout
    this.#signal = options.signal
    this.#strict = options.strict ?? process.env.NODE_ENV === 'test'
    if (options.signal) {
      const onAbort = () => void this.stop()
      this.#onAbort = onAbort
      if (options.signal.aborted) queueMicrotask(onAbort)
    }
  }

  /** The current state (read-only: change it through the transitions). */
  get state(): State<A> {
    return this.#state
  }

  /** The live attempt (connecting, authenticating, online, or being closed by a stop), if any. */
  get attempt(): A | null {
    const s = this.#state
    switch (s.status) {
      case 'connecting':
      case 'authenticating':
      case 'online':
      case 'stopping':
        return s.attempt
      default:
        return null
    }
  }

  /** True from a stop (or a fatal error) until the next `start()`: nothing may be sent. */
  get halted(): boolean {
    const s = this.#state
    return (
      s.status === 'stopping' || s.status === 'stopped' || (s.status === 'offline' && s.stopping !== null)
    )
  }

  /** See `Component.start()`. */
  start(): Promise<JID> {
    const s = this.#state
    if (s.status === 'online') return Promise.resolve(s.address)
    if (this.halted && s.status !== 'stopped') {
      return quietReject(new SatelliteError(ErrorCodes.STOPPED, 'start() called while stopping'))
    }
    const p = new Promise<JID>((resolve, reject) => this.#waiters.push({ resolve, reject }))
    if (s.status === 'idle' || s.status === 'stopped') {
      if (this.#signal?.aborted) {
        this.#rejectStart(new SatelliteError(ErrorCodes.STOPPED, 'the AbortSignal was already aborted'))
        return p
      }
      if (this.#onAbort) this.#signal?.addEventListener('abort', this.#onAbort, { once: true })
      this.#backoff?.reset()
      this.#refused.reset()
      this.#connect()
    }
    return p
  }

  /** See `Component.stop()`. */
  stop(): Promise<void> {
    const s = this.#state
    switch (s.status) {
      case 'stopping':
        return s.done
      case 'stopped':
        return Promise.resolve()
      case 'offline':
        return s.stopping ?? this.#stop(undefined, false)
      default:
        return this.#stop(undefined, true)
    }
  }

  // ---------------------------------------------------------------- transitions

  /** The one way the state changes: checked against the lifecycle, then announced. */
  #to(next: State<A>): boolean {
    const from = this.#state
    if (!allowed(from, next.status)) {
      const err = new IllegalTransition(from.status, next.status)
      if (this.#strict) throw err
      logConn.error('%s: ignored', err.message)
      return false
    }
    this.#state = next
    logConn('status %s', next.status)
    if (next.status === 'reconnecting') {
      this.#host.reconnect(next.info.reason)
      this.#host.emit('status', 'reconnecting', next.info)
      this.#host.emit('reconnecting', next.info)
    } else {
      this.#host.emit('status', next.status)
    }
    return true
  }

  #connect(): void {
    const attempt: A = this.#host.open({
      connected: () => this.#to({ status: 'authenticating', attempt }),
      online: () => this.#onOnline(attempt),
      closed: (end) => this.#onClosed(end),
    })
    this.#to({ status: 'connecting', attempt })
  }

  #onOnline(attempt: A): void {
    const address = this.#host.online(attempt)
    logConn('online as %s', address.toString())
    if (!this.#to({ status: 'online', attempt, since: Date.now(), address })) return
    this.#host.emit('online', address)
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.resolve(address)
  }

  #onClosed(end: SessionEnd): void {
    const from = this.#state
    this.#host.ended()
    if (from.status === 'stopping') {
      // The stop that closed it goes on to `stopped` (see #finishStop).
      if (end.wasOnline) this.#offline(end, from.done)
      return
    }
    let here: State<A> = from
    if (end.wasOnline) {
      if (!this.#offline(end, null)) return
      here = this.#state
      if (here.status !== 'offline') return // a listener of 'offline' stopped the component
    }
    if (end.error && this.#host.listenerCount('error') > 0) this.#host.emit('error', end.error)
    if (this.#state !== here) return // a listener of 'error' stopped the component
    this.#retryOrStop(end, from.status === 'online' ? from.since : 0)
  }

  /** The online connection ended: `offline`, announced with its reason. */
  #offline(end: SessionEnd, stopping: Promise<void> | null): boolean {
    logConn('offline (%s)', end.reason)
    if (!this.#to({ status: 'offline', stopping })) return false
    this.#host.emit('offline', { reason: end.reason, error: end.error })
    return true
  }

  /** The reconnect policy (docs/connection.md, "Why a connection ends" and "Backoff"). */
  #retryOrStop(end: SessionEnd, onlineSince: number): void {
    const { error, reason } = end
    const klass = error ? end.class : 'retry'
    if (klass !== 'refused') this.#refused.reset()
    if (klass === 'fatal') {
      void this.#stop(error, false)
      return
    }
    const backoff = this.#backoff
    if (backoff === null) {
      // No reconnect: the error that ended the connection is the one to report.
      const disabled = new SatelliteError(
        ErrorCodes.RECONNECT_EXHAUSTED,
        `connection ended (${reason}) and reconnect is disabled`,
        { fatal: true },
      )
      void this.#stop(error ?? disabled, false)
      return
    }
    if (end.wasOnline && Date.now() - onlineSince >= this.#stableAfter) backoff.reset()
    if (backoff.exhausted) {
      const exhausted = new SatelliteError(
        ErrorCodes.RECONNECT_EXHAUSTED,
        `gave up after ${backoff.attempts} failed attempts (reconnect.maxAttempts); last: ${error?.message ?? reason}`,
        { cause: error, fatal: true },
      )
      void this.#stop(exhausted, false)
      return
    }
    let delay: number
    if (klass === 'refused') {
      backoff.attempts++ // counts toward maxAttempts like any failed attempt
      delay = this.#refused.next()
    } else {
      delay = backoff.next(klass)
    }
    const info: ReconnectInfo = { delay, attempt: backoff.attempts, reason, error }
    logConn('reconnecting in %d ms (attempt %d, %s)', delay, info.attempt, reason)
    const timer = setTimeout(() => this.#connect(), delay)
    if (!this.#to({ status: 'reconnecting', timer, info })) clearTimeout(timer)
  }

  // ---------------------------------------------------------------- stopping

  /**
   * `stopping`: closes the live attempt (`close`: there is one, the user's stop; not when the
   * attempt just ended and its end stops the component), then `stopped`.
   */
  #stop(error: Error | undefined, close: boolean): Promise<void> {
    const from = this.#state
    const attempt = close ? this.attempt : null
    const online = from.status === 'online'
    if (error) logConn.error('stopping: %s', error.message)
    // `stopped` is announced unless nothing had started (stop() before start()), or on an error.
    const announce = error !== undefined || from.status !== 'idle'
    let settle!: (finished: Promise<void>) => void
    const done = new Promise<void>((resolve) => {
      settle = resolve
    })
    if (from.status === 'reconnecting') clearTimeout(from.timer)
    if (!this.#to({ status: 'stopping', done, attempt })) return Promise.resolve()
    settle(this.#finishStop(error, attempt, online, announce))
    return done
  }

  async #finishStop(error: Error | undefined, attempt: A | null, online: boolean, announce: boolean) {
    if (attempt) {
      if (online) this.#host.flush()
      await attempt.close(this.#stopTimeout)
    }
    const stopped = new SatelliteError(
      ErrorCodes.STOPPED,
      'the component was stopped',
      error ? { cause: error } : {},
    )
    this.#host.stopped(stopped)
    this.#rejectStart(error ?? stopped)
    if (this.#onAbort) this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#to({ status: 'stopped' })
    if (announce) this.#host.emit('stopped', { error })
  }

  #rejectStart(err: Error): void {
    const waiters = this.#waiters
    this.#waiters = []
    for (const w of waiters) w.reject(err)
  }
}
