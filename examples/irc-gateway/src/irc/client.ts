// A small IRC client: one socket (TCP or TLS), registration with IRCv3 CAP (multi-prefix, and
// SASL PLAIN when credentials are given), keepalive, and the events of events.ts. Every line in
// goes through decodeLine (UTF-8, else the server's fallback encoding); every line out, the
// client's own included (registration, PONG, CTCP VERSION), goes through the connection's
// OutboundScheduler and leaves as UTF-8.
//
// Why not irc-framework: measured with 500 connections to ngircd, irc-framework's Client costs
// 20 KiB of heap before it connects and about 31 KiB connected (a handler table, a network and
// a user object, middleware, per client); this one costs a few KiB, the socket's own about 2.
// The gateway keeps one per XMPP user and IRC server.
import type * as Net from 'node:net'
import type * as Tls from 'node:tls'
import createDebug from 'debug'
import { decodeLine, type FallbackEncoding } from '../decode.js'
import { OutboundScheduler, type ResolvedSchedulerOptions, realTimers, type Timers } from '../scheduler.js'
import type { ClientHandler } from './events.js'
import { type ChannelModes, DEFAULT_MODES, handleLine, isupport, type LineHost } from './handlers.js'
import { type IrcLine, parseLine } from './line.js'

const debug = createDebug('satellite:irc-gateway:client')
// The modules themselves (not ESM facades): what a test's spy on tls.connect replaces is what runs.
const net = process.getBuiltinModule('node:net') as typeof Net
const tls = process.getBuiltinModule('node:tls') as typeof Tls

export interface IrcClientOptions {
  host: string
  port: number
  tls: boolean
  nick: string
  username: string
  gecos: string
  /** Answer to CTCP VERSION. */
  version: string
  /** SASL PLAIN credentials: the `sasl` capability is asked for when set. */
  sasl?: { account: string; password: string }
  fallbackEncoding: FallbackEncoding
  flood: ResolvedSchedulerOptions
  timers?: Timers
  /** Send a PING after this long without a line from the server (default 60 000 ms). */
  pingAfter?: number
  /** Close after this long without a line (default 150 000 ms), or unregistered after `registerTimeout`. */
  pingTimeout?: number
  /** Close when not registered this long after connecting (default 60 000 ms). */
  registerTimeout?: number
}

/** Bytes held of a line without its end; a longer one is dropped (a server cannot make us hold more). */
const MAX_PARTIAL = 16_384
/** Where CAP negotiation stands during registration. */
type CapState = 'ls' | 'req' | 'sasl' | 'done'

export class IrcClient implements LineHost {
  readonly handler: ClientHandler
  /** The nick in use (once registered), else the last one asked for. */
  nick = ''
  registered = false
  /** The server's NICKLEN, when it said. */
  nickLen: number | undefined
  modes: ChannelModes = DEFAULT_MODES
  names: LineHost['names']
  version = ''
  #opts: IrcClientOptions | undefined
  #socket: Net.Socket | undefined
  #scheduler: OutboundScheduler | undefined
  #partial: Buffer | undefined
  #cap: CapState = 'done'
  #capsOffered = ''
  #lastRead = 0
  #connectedAt = 0
  #timer: NodeJS.Timeout | undefined

  constructor(handler: ClientHandler) {
    this.handler = handler
  }

  /** True while the socket is open. */
  get connected(): boolean {
    return this.#socket !== undefined
  }

  /** Lines waiting in the outbound scheduler. */
  get pending(): number {
    return this.#scheduler?.pending ?? 0
  }

  /** Opens the socket and registers; ends with a `close` event (after `registered`, or not). */
  connect(options: IrcClientOptions): void {
    if (this.#socket !== undefined) throw new Error('IrcClient: already connected')
    this.#opts = options
    this.nick = options.nick
    this.version = options.version
    this.registered = false
    this.modes = DEFAULT_MODES
    this.nickLen = undefined
    this.names = undefined
    const timers = options.timers ?? realTimers
    const socket = options.tls
      ? tls.connect({
          host: options.host,
          port: options.port,
          ...(net.isIP(options.host) === 0 ? { servername: options.host } : {}),
          rejectUnauthorized: true,
        })
      : net.connect({ host: options.host, port: options.port })
    this.#socket = socket
    this.#scheduler = new OutboundScheduler((line) => socket.write(`${line}\r\n`), options.flood, timers)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 60_000)
    socket.on(options.tls ? 'secureConnect' : 'connect', () => this.#onConnect())
    socket.on('data', (data: Buffer) => this.#onData(data))
    socket.on('error', (err: Error) => debug('%s:%d: %s', options.host, options.port, err.message))
    socket.on('close', () => this.#onClose(socket))
    this.#connectedAt = performance.now()
    this.#lastRead = this.#connectedAt
    this.#arm()
  }

  /** Sends one line (without CR LF) through the scheduler; dropped when not connected. */
  raw(line: string): void {
    this.#scheduler?.push(line)
  }

  changeNick(nick: string): void {
    if (!this.registered) this.nick = nick
    this.raw(`NICK ${lastParam(nick)}`)
  }

  /** Sends QUIT (at once, ahead of the queue) and ends the socket; closed for good after 2 s. */
  quit(message: string): void {
    const socket = this.#socket
    if (socket === undefined) return
    this.raw(`QUIT :${message.replace(/[\r\n\0]/g, ' ')}`)
    socket.end()
    const t = setTimeout(() => socket.destroy(), 2000)
    t.unref()
  }

  /** Closes the socket now, without QUIT. */
  destroy(): void {
    this.#socket?.destroy()
  }

  #onConnect(): void {
    const o = this.#opts
    if (o === undefined) return
    this.#cap = 'ls'
    this.#capsOffered = ''
    this.raw('CAP LS 302')
    this.raw(`NICK ${lastParam(o.nick)}`)
    this.raw(`USER ${o.username} 0 * :${o.gecos}`)
  }

  #onData(data: Buffer): void {
    this.#lastRead = performance.now()
    let buffer = this.#partial === undefined ? data : Buffer.concat([this.#partial, data])
    this.#partial = undefined
    let start = 0
    for (;;) {
      const end = buffer.indexOf(0x0a, start)
      if (end === -1) break
      const stop = end > start && buffer[end - 1] === 0x0d ? end - 1 : end
      if (stop > start) this.#onLine(decodeLine(buffer.subarray(start, stop), this.#opts?.fallbackEncoding))
      start = end + 1
      if (this.#socket === undefined) return
    }
    if (start < buffer.length) {
      buffer = buffer.subarray(start)
      // A copy, so the read buffer it came from is not held; too long a line is dropped.
      this.#partial = buffer.length > MAX_PARTIAL ? undefined : Buffer.from(buffer)
    }
  }

  #onLine(text: string): void {
    const l = parseLine(text)
    if (l === null) return
    switch (l.command) {
      case 'CAP':
        this.#onCap(l)
        return
      case 'AUTHENTICATE':
        if (this.#cap === 'sasl' && l.params[0] === '+') this.#authenticate()
        return
      case '001':
        this.nick = l.params[0] || this.nick
        this.registered = true
        this.#cap = 'done'
        this.handler.onRegistered({ nick: this.nick })
        return
      case '005': {
        const r = isupport(l.params.slice(1, -1), this.modes)
        this.modes = r.modes
        if (r.nickLen !== undefined) this.nickLen = r.nickLen
        return
      }
      case '900':
        this.handler.onLoggedIn({ nick: l.params[0] ?? '', account: l.params[2] ?? '' })
        return
      case '903':
      case '907':
        this.#capEnd()
        return
      case '902':
      case '904':
      case '905':
      case '906':
      case '908':
        this.#saslFailed(l)
        return
    }
    handleLine(this, l)
  }

  #onCap(l: IrcLine): void {
    const sub = (l.params[1] ?? '').toUpperCase()
    if (sub === 'LS' && this.#cap === 'ls') {
      // CAP * LS * :caps (more to come) / CAP * LS :caps (the last line)
      const more = l.params[2] === '*' && l.params.length > 3
      if (this.#capsOffered.length < 8192) this.#capsOffered += ` ${l.params[l.params.length - 1] ?? ''}`
      if (more) return
      const offered = new Set(this.#capsOffered.split(' ').map((c) => c.split('=')[0] as string))
      const want: string[] = []
      if (offered.has('multi-prefix')) want.push('multi-prefix')
      if (this.#opts?.sasl !== undefined) {
        if (offered.has('sasl')) want.push('sasl')
        else this.handler.onSaslFailed({ reason: 'capability_missing' })
      }
      this.#capsOffered = ''
      if (want.length === 0) {
        this.#capEnd()
        return
      }
      this.#cap = 'req'
      this.raw(`CAP REQ :${want.join(' ')}`)
    } else if (sub === 'ACK' && this.#cap === 'req') {
      const acked = (l.params[2] ?? '').split(' ')
      if (acked.includes('sasl') && this.#opts?.sasl !== undefined) {
        this.#cap = 'sasl'
        this.raw('AUTHENTICATE PLAIN')
      } else {
        this.#capEnd()
      }
    } else if (sub === 'NAK' && this.#cap === 'req') {
      if (this.#opts?.sasl !== undefined) this.handler.onSaslFailed({ reason: 'capability_missing' })
      this.#capEnd()
    }
  }

  #authenticate(): void {
    const s = this.#opts?.sasl
    if (s === undefined) return
    const payload = Buffer.from(`${s.account}\0${s.account}\0${s.password}`).toString('base64')
    for (let i = 0; i < payload.length; i += 400) this.raw(`AUTHENTICATE ${payload.slice(i, i + 400)}`)
    if (payload.length % 400 === 0) this.raw('AUTHENTICATE +')
  }

  #saslFailed(l: IrcLine): void {
    const reasons: Record<string, 'nick_locked' | 'fail' | 'too_long' | 'unsupported_mechanism'> = {
      '902': 'nick_locked',
      '904': 'fail',
      '905': 'too_long',
      '906': 'fail',
      '908': 'unsupported_mechanism',
    }
    this.handler.onSaslFailed({
      reason: reasons[l.command] ?? 'fail',
      message: l.params[l.params.length - 1] ?? '',
    })
    this.#capEnd()
  }

  #capEnd(): void {
    if (this.#cap === 'done') return
    this.#cap = 'done'
    this.raw('CAP END')
  }

  /**
   * Keepalive and registration timeout: one timer per connection, checked every 15 s at most. On
   * the real clock, whatever `timers` the scheduler is given (tests move that one far ahead).
   */
  #arm(): void {
    const o = this.#opts
    if (o === undefined) return
    const pingAfter = o.pingAfter ?? 60_000
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined
        const socket = this.#socket
        if (socket === undefined) return
        const now = performance.now()
        const registerTimeout = o.registerTimeout ?? 60_000
        if (!this.registered && now - this.#connectedAt >= registerTimeout) {
          debug('%s:%d: not registered after %d ms: closing', o.host, o.port, registerTimeout)
          socket.destroy()
          return
        }
        const quiet = now - this.#lastRead
        if (quiet >= (o.pingTimeout ?? 150_000)) {
          debug('%s:%d: nothing from the server for %d ms: closing', o.host, o.port, quiet)
          socket.destroy()
          return
        }
        if (this.registered && quiet >= pingAfter) this.raw(`PING :${o.host}`)
        this.#arm()
      },
      Math.min(15_000, pingAfter),
    )
  }

  #onClose(socket: Net.Socket): void {
    if (this.#socket !== socket) return
    this.#socket = undefined
    this.#partial = undefined
    this.names = undefined
    this.registered = false
    clearTimeout(this.#timer)
    this.#timer = undefined
    const dropped = this.#scheduler?.close() ?? 0
    this.#scheduler = undefined
    this.handler.onClose({ dropped })
  }
}

/** A last parameter as the protocol wants it: with ':' when it is empty, has a space or starts with ':'. */
function lastParam(value: string): string {
  return value === '' || value.includes(' ') || value.startsWith(':') ? `:${value}` : value
}
