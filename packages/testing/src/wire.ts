// The TCP side of a server connection and its faults: reads (paused, delayed), writes (whole or
// in pieces, dropped when blackholed or closed), and the ways of closing (end, FIN, reset).
import type { Socket } from 'node:net'
import type { WriteOptions } from './connection-types.js'
import { logger } from './log.js'
import type { Timers } from './timers.js'
import { truncate } from './xml.js'

const log = logger('connection')

/** Grace period between `end()` and `destroy()` when the peer lingers. */
export const CLOSE_GRACE_MS = 1000
/** A reset this soon after a write is seen by the peer as a plain FIN (measured on Linux). */
const RST_AFTER_WRITE_MS = 20

/** The socket of one server connection with its read and write faults. @internal */
export class Wire {
  #bytesReceived = 0
  #userPaused = false
  #readDelayMs = 0
  #lastWriteAt = 0
  #blackholed = false
  readonly #socket: Socket
  readonly #id: number
  readonly #timers: Timers

  /** `read` gets every chunk (after the read delay); `closed` is called once, when the socket closes. */
  constructor(socket: Socket, id: number, timers: Timers, read: (chunk: Buffer) => void, closed: () => void) {
    this.#socket = socket
    this.#id = id
    this.#timers = timers
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk, read))
    socket.on('error', (err) => log('#%d socket error: %s', id, err.message))
    socket.on('close', closed)
  }

  get bytesReceived(): number {
    return this.#bytesReceived
  }

  get blackholed(): boolean {
    return this.#blackholed
  }

  #onData(chunk: Buffer, read: (chunk: Buffer) => void): void {
    this.#bytesReceived += chunk.length
    if (this.#readDelayMs <= 0) {
      read(chunk)
      return
    }
    this.#socket.pause()
    this.#timers.set(() => {
      read(chunk)
      if (!this.#userPaused && !this.#socket.destroyed) this.#socket.resume()
    }, this.#readDelayMs)
  }

  pauseReading(): void {
    this.#userPaused = true
    this.#socket.pause()
  }

  resumeReading(): void {
    this.#userPaused = false
    this.#socket.resume()
  }

  readDelay(ms: number): void {
    this.#readDelayMs = Math.max(0, ms)
  }

  /** Stops reading and drops every following write, for good. */
  blackhole(): void {
    this.#blackholed = true
    this.pauseReading()
  }

  /** Writes a string, unless blackholed or closed (then logs the drop). */
  write(data: string): void {
    // only the first tag's name and the size: the data may carry a client's password
    if (this.#blackholed) {
      log('#%d blackholed, dropped %s (%d chars)', this.#id, tagOf(data), data.length)
      return
    }
    if (this.#socket.destroyed || this.#socket.writableEnded) {
      log('#%d write after close dropped %s (%d chars)', this.#id, tagOf(data), data.length)
      return
    }
    this.#lastWriteAt = Date.now()
    this.#socket.write(data)
  }

  /** Writes raw bytes, cut at byte offsets into separate writes with a pause in between. */
  async writePieces(raw: string | Buffer, options: WriteOptions): Promise<void> {
    if (this.#blackholed) return
    const data = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw
    const cuts = [...new Set(options.splitAt ?? [])]
      .filter((n) => n > 0 && n < data.length)
      .sort((a, b) => a - b)
    const delayMs = options.delayMs ?? (cuts.length > 0 ? 20 : 0)
    let start = 0
    for (const [i, end] of [...cuts, data.length].entries()) {
      if (i > 0 && delayMs > 0) await this.#timers.sleep(delayMs)
      if (this.#socket.destroyed || this.#socket.writableEnded) return
      this.#lastWriteAt = Date.now()
      await new Promise<void>((resolve) => this.#socket.write(data.subarray(start, end), () => resolve()))
      start = end
    }
  }

  /** An orderly TCP close (FIN), destroying the socket once the end is written. */
  fin(): void {
    this.#socket.end(() => this.#socket.destroy())
  }

  /**
   * A TCP reset, deferred up to 20 ms after the last write: a reset right after a write is often
   * seen by the peer as a plain FIN, so recent writes get a moment to be acknowledged first.
   */
  reset(): void {
    const wait = this.#lastWriteAt + RST_AFTER_WRITE_MS - Date.now()
    if (wait > 0) this.#timers.set(() => this.#socket.resetAndDestroy(), wait)
    else this.#socket.resetAndDestroy()
  }

  /** Ends the TCP connection and destroys it if the peer lingers; a blackholed peer never learns. */
  end(): void {
    if (this.#blackholed) return
    this.#socket.end()
    this.destroyAfter(CLOSE_GRACE_MS)
  }

  destroyAfter(ms: number): void {
    this.#timers.set(() => this.#socket.destroy(), ms)
  }

  destroy(): void {
    this.#socket.destroy()
  }
}

/** `<name>` of the first tag of some XML, for logs. */
function tagOf(data: string): string {
  return `<${truncate(/^\s*<\/?([^\s/>]*)/.exec(data)?.[1] ?? '?', 40)}>`
}
