// The outbound scheduler of one IRC connection: a token bucket (a burst of `burst` lines, then
// one line every `interval` ms) in front of the socket, so a paste of 50 lines is spread out
// instead of tripping the server's flood protection (an "Excess Flood" kill on most ircds; ngircd
// stops reading and delays the client). Lines the server must see at once to keep the connection
// (PONG, and QUIT so a close is not stuck behind a paste) jump the queue; the queue is bounded.
// Lines a user waits on (NICK, JOIN, PART: a room join or nick change answered by the server)
// go ahead of queued messages but still take a token, so they cannot flood either.
import { numberOption } from '@satellite/core'

export interface SchedulerOptions {
  /** Lines sent at once before the steady rate applies (default 5). */
  burst?: number
  /** Milliseconds between lines at the steady rate (default 2000). */
  interval?: number
  /** Lines that may wait; past it, `push` refuses (default 1000). */
  maxQueue?: number
}

export interface ResolvedSchedulerOptions {
  burst: number
  interval: number
  maxQueue: number
}

/** Checks the options (fatal SAT_ERR_CONFIG `irc-gateway.flood.<option>`). */
export function schedulerOptions(options: SchedulerOptions = {}): ResolvedSchedulerOptions {
  return {
    burst: numberOption('irc-gateway', 'flood.burst', options.burst, 5, { min: 1, max: 100 }),
    interval: numberOption('irc-gateway', 'flood.interval', options.interval, 2000, { min: 1, max: 60_000 }),
    maxQueue: numberOption('irc-gateway', 'flood.maxQueue', options.maxQueue, 1000, { min: 1, max: 100_000 }),
  }
}

/** Clock and timers (tests pass fake ones). */
export interface Timers {
  now(): number
  setTimeout(fn: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
}

/** Whether a line jumps the queue: PONG (keeps the connection) and QUIT (ends it). */
export function isUrgent(line: string): boolean {
  return line.startsWith('PONG ') || line.startsWith('QUIT')
}

/** Whether a line goes ahead of queued messages (still paced): NICK, JOIN, PART. */
export function isPriority(line: string): boolean {
  return line.startsWith('NICK ') || line.startsWith('JOIN ') || line.startsWith('PART ')
}

export class OutboundScheduler {
  readonly #opts: ResolvedSchedulerOptions
  readonly #timers: Timers
  readonly #write: (line: string) => void
  readonly #queue: string[] = []
  #head = 0
  /** Priority lines waiting (sent before #queue). */
  readonly #first: string[] = []
  #tokens: number
  #last: number
  #timer: unknown = undefined
  #closed = false
  /** Lines sent since the scheduler was made. */
  sent = 0

  constructor(write: (line: string) => void, options: ResolvedSchedulerOptions, timers: Timers = realTimers) {
    this.#write = write
    this.#opts = options
    this.#timers = timers
    this.#tokens = options.burst
    this.#last = timers.now()
  }

  /** Lines waiting. */
  get pending(): number {
    return this.#queue.length - this.#head + this.#first.length
  }

  /**
   * Sends `line` now when a token is left, else queues it. Returns false (and drops the line) when
   * the queue is full or the scheduler closed. Urgent lines are sent at once, without a token.
   */
  push(line: string): boolean {
    if (this.#closed) return false
    if (isUrgent(line)) {
      this.#send(line)
      return true
    }
    this.#refill()
    if (this.pending === 0 && this.#tokens >= 1) {
      this.#tokens -= 1
      this.#send(line)
      return true
    }
    if (this.pending >= this.#opts.maxQueue) return false
    if (isPriority(line)) this.#first.push(line)
    else this.#queue.push(line)
    this.#arm()
    return true
  }

  /** Drops what waits and stops the timer; push() refuses from now on. Returns the lines dropped. */
  close(): number {
    const dropped = this.pending
    this.#closed = true
    this.#queue.length = 0
    this.#first.length = 0
    this.#head = 0
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer)
    this.#timer = undefined
    return dropped
  }

  #send(line: string): void {
    this.sent++
    this.#write(line)
  }

  #refill(): void {
    const now = this.#timers.now()
    const earned = (now - this.#last) / this.#opts.interval
    if (earned > 0) {
      this.#tokens = Math.min(this.#opts.burst, this.#tokens + earned)
      this.#last = now
    }
  }

  #arm(): void {
    if (this.#timer !== undefined || this.pending === 0) return
    const wait = Math.max(0, Math.ceil((1 - this.#tokens) * this.#opts.interval))
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined
      this.#drain()
    }, wait)
  }

  #drain(): void {
    if (this.#closed) return
    this.#refill()
    while (this.pending > 0 && this.#tokens >= 1) {
      this.#tokens -= 1
      if (this.#first.length > 0) {
        this.#send(this.#first.shift()!)
        continue
      }
      const line = this.#queue[this.#head]!
      this.#queue[this.#head++] = ''
      this.#send(line)
    }
    if (this.#queue.length === this.#head) {
      this.#queue.length = 0
      this.#head = 0
    } else if (this.#head > 1024) {
      this.#queue.splice(0, this.#head)
      this.#head = 0
    }
    this.#arm()
  }
}
