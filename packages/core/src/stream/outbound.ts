import type { ResolvedOptions } from '../config.js'
import { ErrorCodes, SatelliteError } from '../errors.js'

/** The part of a socket the outbound path needs. */
export interface WritableSocket {
  write(data: string): boolean
  once(event: 'drain', listener: () => void): unknown
  removeListener(event: 'drain', listener: () => void): unknown
}

interface Entry {
  data: string
  bytes: number
  expires: number
  resolve: (() => void) | undefined
  reject: ((err: Error) => void) | undefined
}

/** The promise of a stanza written (or batched) at once. @internal */
export const RESOLVED: Promise<void> = Promise.resolve()
const noop = () => {}
/** Largest batch written from the queue in one `write()` call. */
const BATCH_BYTES = 256 * 1024
/**
 * Most stanzas in one coalesced write. Flushing every 64 keeps replies from living long
 * enough to be promoted to the old heap when a slow handler runs through a big read,
 * which bounds RSS growth under a flood, for about one extra write per 64 replies.
 */
const BATCH_STANZAS = 64

/** A rejected promise that does not count as unhandled if the caller ignores it. */
export function quietReject(err: Error): Promise<never> {
  const p = Promise.reject(err)
  p.catch(noop)
  return p
}

/**
 * Outbound path: coalesces writes (one socket write per event-loop turn, or per 256 KiB
 * within a turn), honours
 * `socket.write()` returning false, and holds stanzas in a bounded FIFO (count, bytes and
 * TTL) while offline or while the socket pushes back. Order is preserved throughout.
 */
export class Outbound {
  readonly #opts: ResolvedOptions['queue']
  readonly #onDrop: (data: string, err: SatelliteError) => void
  #socket: WritableSocket | null = null
  #parts: string[] = []
  #partsBytes = 0
  #immediate: NodeJS.Immediate | null = null
  #congested = false
  #queue: Entry[] = []
  #head = 0
  #queueBytes = 0
  #expiryTimer: NodeJS.Timeout | null = null
  #now: () => number
  readonly #onPressure: () => void
  /** Stanzas handed to the socket. */
  written = 0
  /** `Date.now()` of the last socket write. */
  lastWriteAt = 0

  constructor(
    opts: ResolvedOptions['queue'],
    onDrop: (data: string, err: SatelliteError) => void,
    onPressure: () => void = () => {},
    now: () => number = Date.now,
  ) {
    this.#opts = opts
    this.#onDrop = onDrop
    this.#onPressure = onPressure
    this.#now = now
  }

  /** Stanzas waiting in the queue (not counting the current turn's batch). */
  get depth(): number {
    return this.#queue.length - this.#head
  }

  /** True while the socket is pushing back. */
  get congested(): boolean {
    return this.#congested
  }

  /** Online: starts writing to `socket`, first whatever was queued. */
  attach(socket: WritableSocket): void {
    this.#socket = socket
    this.#congested = false
    this.#drainQueue()
  }

  /** Offline: stops writing; anything not yet written goes back to the head of the queue. */
  detach(): void {
    if (this.#socket && this.#congested) this.#socket.removeListener('drain', this.#onDrain)
    this.#socket = null
    this.#congested = false
    if (this.#immediate) {
      clearImmediate(this.#immediate)
      this.#immediate = null
    }
    if (this.#parts.length > 0) {
      const expires = this.#now() + this.#opts.ttl
      const back: Entry[] = this.#parts.map((data) => ({
        data,
        bytes: Buffer.byteLength(data),
        expires,
        resolve: undefined,
        reject: undefined,
      }))
      this.#parts = []
      this.#partsBytes = 0
      for (const e of back) this.#queueBytes += e.bytes
      this.#queue = back.concat(this.#queue.slice(this.#head))
      this.#head = 0
    }
    this.#armExpiry()
  }

  /** Accepts one serialized stanza. */
  push(data: string): Promise<void> {
    if (this.#socket !== null && !this.#congested && this.#head === this.#queue.length) {
      this.#parts.push(data)
      this.#partsBytes += data.length
      if (this.#partsBytes >= BATCH_BYTES || this.#parts.length >= BATCH_STANZAS) this.flushNow()
      else if (this.#immediate === null) this.#immediate = setImmediate(this.#flush)
      return RESOLVED
    }
    return this.#enqueue(data)
  }

  /** Writes a raw string now, after anything pending (used for the stream footer and keepalives). */
  writeRaw(data: string): void {
    if (this.#socket === null) return
    this.flushNow()
    this.#socket.write(data)
    this.lastWriteAt = this.#now()
  }

  /** Writes the current turn's batch immediately. */
  flushNow(): void {
    if (this.#immediate) {
      clearImmediate(this.#immediate)
      this.#immediate = null
    }
    if (this.#parts.length > 0) this.#flush()
  }

  /** Rejects every queued stanza with `err` (used when stopping). */
  rejectAll(err: SatelliteError): void {
    const entries = this.#queue.slice(this.#head)
    this.#queue = []
    this.#head = 0
    this.#queueBytes = 0
    this.#clearExpiry()
    for (const e of entries) this.#drop(e, err)
  }

  #enqueue(data: string): Promise<void> {
    // UTF-8 bytes, as on the wire (only stanzas that wait are measured; the direct path is not).
    const bytes = Buffer.byteLength(data)
    if (this.depth >= this.#opts.max || this.#queueBytes + bytes > this.#opts.maxBytes) {
      const err = new SatelliteError(
        ErrorCodes.QUEUE_FULL,
        `outbound queue full (${this.depth} stanzas, ${this.#queueBytes} bytes; queue.max=${this.#opts.max}, queue.maxBytes=${this.#opts.maxBytes})`,
      )
      this.#onDrop(data, err)
      return quietReject(err)
    }
    const p = new Promise<void>((resolve, reject) => {
      this.#queue.push({ data, bytes, expires: this.#now() + this.#opts.ttl, resolve, reject })
      this.#queueBytes += bytes
      if (this.#socket === null) this.#armExpiry()
    })
    // A caller that does not await must not crash the process with an unhandled
    // rejection: losses are reported through the `dropped` event as well.
    p.catch(noop)
    return p
  }

  #flush = (): void => {
    this.#immediate = null
    const socket = this.#socket
    const parts = this.#parts
    if (socket === null || parts.length === 0) return
    const data = parts.length === 1 ? (parts[0] as string) : parts.join('')
    this.written += parts.length
    this.#parts = []
    this.#partsBytes = 0
    this.lastWriteAt = this.#now()
    if (!socket.write(data)) this.#congest(socket)
  }

  #congest(socket: WritableSocket): void {
    this.#congested = true
    socket.once('drain', this.#onDrain)
    this.#onPressure()
  }

  #onDrain = (): void => {
    this.#congested = false
    this.#drainQueue()
    if (!this.#congested) this.#onPressure()
  }

  #drainQueue(): void {
    const socket = this.#socket
    if (socket === null) return
    this.#clearExpiry()
    while (this.#head < this.#queue.length && !this.#congested) {
      const now = this.#now()
      let batch = ''
      const done: Entry[] = []
      while (this.#head < this.#queue.length && batch.length < BATCH_BYTES) {
        const e = this.#queue[this.#head++] as Entry
        this.#queueBytes -= e.bytes
        if (e.expires < now) {
          this.#drop(e, expired(e))
          continue
        }
        batch += e.data
        done.push(e)
      }
      this.#compact()
      if (batch.length === 0) continue
      this.written += done.length
      this.lastWriteAt = now
      const ok = socket.write(batch)
      for (const e of done) e.resolve?.()
      if (!ok) this.#congest(socket)
    }
  }

  #compact(): void {
    if (this.#head === this.#queue.length) {
      this.#queue = []
      this.#head = 0
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head)
      this.#head = 0
    }
  }

  #drop(e: Entry, err: SatelliteError): void {
    this.#onDrop(e.data, err)
    e.reject?.(err)
  }

  #armExpiry(): void {
    if (this.#expiryTimer !== null || this.#head >= this.#queue.length) return
    if (!Number.isFinite(this.#opts.ttl)) return
    const head = this.#queue[this.#head] as Entry
    const delay = Math.max(0, head.expires - this.#now()) + 1
    this.#expiryTimer = setTimeout(this.#expire, delay)
    this.#expiryTimer.unref()
  }

  #clearExpiry(): void {
    if (this.#expiryTimer !== null) {
      clearTimeout(this.#expiryTimer)
      this.#expiryTimer = null
    }
  }

  #expire = (): void => {
    this.#expiryTimer = null
    const now = this.#now()
    while (this.#head < this.#queue.length) {
      const e = this.#queue[this.#head] as Entry
      if (e.expires >= now) break
      this.#head++
      this.#queueBytes -= e.bytes
      this.#drop(e, expired(e))
    }
    this.#compact()
    if (this.#socket === null) this.#armExpiry()
  }
}

function expired(e: Entry): SatelliteError {
  return new SatelliteError(
    ErrorCodes.STANZA_EXPIRED,
    `stanza waited longer than queue.ttl in the outbound queue and was dropped (${e.bytes} bytes)`,
  )
}
