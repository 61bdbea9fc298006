// A fake session factory and host for the supervisor's unit tests: attempts that connect, go
// online and end when the test says so, and a record of every event and host call.
import { type JID, parseJid, StreamError } from '@satellite/core'
import type { ComponentEvents, Status } from '../src/events.js'
import type { Attempt } from '../src/lifecycle.js'
import type { EndClass, SessionEnd } from '../src/stream/session.js'
import {
  type AttemptEvents,
  Supervisor,
  type SupervisorHost,
  type SupervisorOptions,
} from '../src/supervisor.js'

export const ADDRESS: JID = parseJid('echo.localhost')

export const RECONNECT = {
  base: 1000,
  cap: 60_000,
  stableAfter: 30_000,
  maxAttempts: Number.POSITIVE_INFINITY,
  conflictFloor: 30_000,
}

/** One connection attempt, driven by the test. Reports nothing after `closed`, like a Session. */
export class FakeAttempt implements Attempt {
  readonly closeCalls: number[] = []
  wasOnline = false
  ended = false
  readonly #events: AttemptEvents

  constructor(events: AttemptEvents) {
    this.#events = events
  }

  connect(): void {
    this.#events.connected()
  }

  accept(): void {
    this.wasOnline = true
    this.#events.online()
  }

  /** The attempt ends (the socket closed) for this reason. */
  end(error?: Error, reason = 'closed', klass: EndClass = 'retry'): void {
    if (this.ended) return
    this.ended = true
    const end: SessionEnd = { error, reason, class: klass, wasOnline: this.wasOnline }
    this.#events.closed(end)
  }

  /** Raw access to the handlers, to report what a real session never would. */
  get events(): AttemptEvents {
    return this.#events
  }

  close(timeout: number): Promise<void> {
    this.closeCalls.push(timeout)
    // Like a Session: the `closed` report comes first, then the promise resolves.
    return Promise.resolve().then(() => this.end())
  }
}

export const refused = (): [Error, string, EndClass] => [
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5347'), { code: 'ECONNREFUSED' }),
  'ECONNREFUSED',
  'refused',
]
export const streamError = (condition: string, klass: EndClass): [Error, string, EndClass] => [
  new StreamError(condition, undefined, `<${condition}/>`, { fatal: klass === 'fatal' }),
  condition,
  klass,
]

type Entry = [string, ...unknown[]]

/** A supervisor over fake attempts, recording everything in order. */
export function supervise(options: Partial<SupervisorOptions> = {}) {
  const log: Entry[] = []
  const attempts: FakeAttempt[] = []
  const listeners: Partial<{ [E in keyof ComponentEvents]: (...args: ComponentEvents[E]) => void }> = {}
  const host: SupervisorHost<FakeAttempt> = {
    emit(event, ...args) {
      log.push([event, ...args])
      ;(listeners[event] as ((...a: unknown[]) => void) | undefined)?.(...args)
      return true
    },
    listenerCount: (event) => (event === 'error' ? 1 : listeners[event] ? 1 : 0),
    open(events) {
      const a = new FakeAttempt(events)
      attempts.push(a)
      return a
    },
    online: () => ADDRESS,
    ended: () => void log.push(['#ended']),
    flush: () => void log.push(['#flush']),
    stopped: (err) => void log.push(['#stopped', err.code]),
    reconnect: (reason) => void log.push(['#reconnect', reason]),
  }
  const sup = new Supervisor<FakeAttempt>(host, {
    reconnect: RECONNECT,
    stopTimeout: 2000,
    signal: undefined,
    random: () => 0.5,
    strict: true,
    ...options,
  })
  const statuses = (): Status[] => log.filter((e) => e[0] === 'status').map((e) => e[1] as Status)
  const events = (): string[] => log.map((e) => e[0])
  const last = (): FakeAttempt => {
    const a = attempts.at(-1)
    if (!a) throw new Error('no attempt was opened')
    return a
  }
  return { sup, log, attempts, listeners, statuses, events, last }
}
