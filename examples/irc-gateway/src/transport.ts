// The socket transport the gateway gives irc-framework (its `transport` option): irc-framework's
// own TCP/TLS transport, with two changes.
// - Reading: each line's bytes are decoded by decodeLine (UTF-8, else the server's fallback
//   encoding) instead of one iconv-lite encoding for everything (decode.ts says why).
// - Writing: every line, irc-framework's own included (registration, PONG, CTCP VERSION
//   replies), goes through the connection's OutboundScheduler; lines always leave as UTF-8.

import type { ClientOptions, TransportClass } from 'irc-framework'
import NetTransport from 'irc-framework/src/transports/net.js'
import { decodeLine, type FallbackEncoding } from './decode.js'
import { OutboundScheduler, type ResolvedSchedulerOptions, realTimers, type Timers } from './scheduler.js'

export interface TransportSettings {
  fallbackEncoding: FallbackEncoding
  flood: ResolvedSchedulerOptions
  timers?: Timers
  /** Called with each transport irc-framework makes (one per connection attempt). */
  onCreate?: (transport: GatewayTransport) => void
}

export interface GatewayTransport {
  readonly scheduler: OutboundScheduler
}

/** A transport class for irc-framework's `transport` option, bound to `settings`. */
export function gatewayTransport(settings: TransportSettings): TransportClass {
  class Transport extends NetTransport implements GatewayTransport {
    readonly scheduler: OutboundScheduler

    constructor(options: ClientOptions) {
      super(options)
      this.scheduler = new OutboundScheduler(
        (line) => super.writeLine(line),
        settings.flood,
        settings.timers ?? realTimers,
      )
      settings.onCreate?.(this)
    }

    override setEncoding(_encoding: string): boolean {
      this.encoding = 'utf8' // outbound always UTF-8; inbound decoded per line below
      return true
    }

    override writeLine(line: string, cb?: () => void): void {
      this.scheduler.push(line)
      // irc-framework waits for the callback only to end the connection after QUIT, which is
      // urgent (sent at once): calling it now keeps its order of events.
      if (cb) process.nextTick(cb)
    }

    override onSocketData(data: Buffer): void {
      let buffer = this.incoming_buffer.length === 0 ? data : Buffer.concat([this.incoming_buffer, data])
      let start = 0
      for (;;) {
        const end = buffer.indexOf(0x0a, start)
        if (end === -1) break
        this.emit('line', decodeLine(buffer.subarray(start, end + 1), settings.fallbackEncoding))
        start = end + 1
      }
      buffer = buffer.subarray(start)
      // Bound what a server can make us hold without a line end (irc-framework keeps it all).
      this.incoming_buffer = buffer.length > 16_384 ? Buffer.alloc(0) : Buffer.from(buffer)
    }

    override onSocketClose(): void {
      this.scheduler.close()
      super.onSocketClose()
    }
  }
  return Transport as unknown as TransportClass
}
