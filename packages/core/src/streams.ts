// More than one stream for one component domain. ejabberd accepts several connections for a
// component domain and spreads stanzas over them (`domain_balancing`, with `component_number`
// slots); a component that holds one more stream receives what the server routes to it. An extra
// stream has its own connection lifecycle (reconnects with the component's policy) and feeds the
// component's one inbound path: the same routes and handlers, the same limits; what the component
// sends goes out through its main stream.
import { EventEmitter } from './builtins.js'
import type { ResolvedOptions } from './config.js'
import type { ComponentEvents, Status } from './events.js'
import { type JID, parseJid } from './jid.js'
import { logger } from './log.js'
import { Session } from './stream/session.js'
import { type AttemptEvents, Supervisor } from './supervisor.js'
import type { Stanza } from './xml/stanza.js'

const log = logger('streams')

/**
 * Events of an {@link ExtraStream}: its own lifecycle (the component's events with the same
 * names keep describing the main stream).
 *
 * @example
 * ```ts
 * extra.on('status', (s) => console.log('extra stream', s))
 * ```
 */
export type ExtraStreamEvents = Pick<
  ComponentEvents,
  'online' | 'offline' | 'error' | 'status' | 'reconnecting' | 'stopped'
>

/** What an extra stream needs of its component. @internal */
export interface StreamsHost {
  /** A stanza read on the extra stream: into the component's inbound path. */
  receive(stanza: Stanza): void
  /** True while the inbound path is behind (reading pauses on every stream). */
  behind(): boolean
  /** A reconnect of an extra stream (statistics). */
  reconnect(reason: string): void
}

/**
 * One more stream of a component for its domain, made by {@link Component.openStream}: stanzas
 * the server routes to it are handled by the component's routes, like those of the main stream.
 * It reconnects on its own with the component's reconnect policy; `close()` ends it for good. It
 * sends nothing but its keepalive: the component writes through its main stream.
 *
 * @example
 * ```ts
 * const extra = xmpp.openStream()
 * await extra.start()      // online: the server may now route stanzas to it
 * await extra.close()
 * ```
 */
export class ExtraStream extends EventEmitter<ExtraStreamEvents> {
  readonly #supervisor: Supervisor<Session>
  readonly #host: StreamsHost
  readonly #options: ResolvedOptions
  #lastWriteAt = 0

  /** @internal */
  constructor(host: StreamsHost, options: ResolvedOptions, onEnd: () => void) {
    super()
    this.#host = host
    this.#options = options
    this.#supervisor = new Supervisor<Session>(
      {
        emit: (event, ...args) => {
          if (event === 'stopped') onEnd()
          if (event === 'stanza' || event === 'dropped') return false
          return this.emit(event as keyof ExtraStreamEvents, ...(args as never))
        },
        listenerCount: (event) => this.listenerCount(event as keyof ExtraStreamEvents),
        open: (events) => this.#open(events),
        online: (session) => {
          this.#lastWriteAt = Date.now()
          if (host.behind()) session.pauseReading()
          return parseJid(options.domain)
        },
        ended: () => {},
        flush: () => {},
        stopped: () => {},
        reconnect: (reason) => host.reconnect(reason),
      },
      options,
    )
  }

  /** The extra stream's lifecycle state. */
  get status(): Status {
    return this.#supervisor.state.status
  }

  /** True while its handshake is done and its socket open. */
  get online(): boolean {
    return this.#supervisor.state.status === 'online'
  }

  /** Connects (and keeps reconnecting); resolves once online, rejects on a fatal error or `close()`. */
  start(): Promise<JID> {
    return this.#supervisor.start()
  }

  /** Ends the stream for good (no reconnect); idempotent. */
  close(): Promise<void> {
    return this.#supervisor.stop()
  }

  /** Pauses or resumes reading, with the component's inbound path. @internal */
  sync(behind: boolean): void {
    const session = this.#supervisor.attempt
    if (session === null || session.phase !== 'online') return
    if (behind) session.pauseReading()
    else session.resumeReading()
  }

  #open(events: AttemptEvents): Session {
    const o = this.#options
    let session: Session | undefined
    const write = (data: string) => {
      const socket = session?.socket
      if (socket === undefined || socket.destroyed) return
      this.#lastWriteAt = Date.now()
      socket.write(data)
    }
    session = new Session(
      {
        ...o,
        liveness: {
          keepalive: o.keepalive,
          // Pings go out through the main stream: they would not check this one.
          ping: false,
          lastWriteAt: () => this.#lastWriteAt,
          congested: () => session?.socket?.writableNeedDrain ?? false,
          writeRaw: write,
          sendPing: () => Promise.resolve(),
        },
      },
      {
        connected: events.connected,
        online: events.online,
        stanza: (stanza) => this.#host.receive(stanza),
        closed: events.closed,
      },
    )
    log('extra stream for %s: connecting', o.domain)
    return session
  }
}
