import type * as Net from 'node:net'
import type { ResolvedOptions } from '../config.js'
import {
  ErrorCodes,
  isSatelliteError,
  SatelliteError,
  STREAM_ERROR_CONDITIONS,
  StreamError,
} from '../errors.js'
import { logger } from '../log.js'
import type { Element } from '../xml/element.js'
import { StreamParser, type XmlViolationError } from '../xml/parser.js'
import type { Stanza } from '../xml/stanza.js'
import { classifyCondition } from './backoff.js'
import { explainStreamError } from './explain.js'
import {
  handshakeDigest,
  NS_COMPONENT,
  NS_STREAM_ERRORS,
  NS_STREAMS,
  streamErrorXml,
  streamHeader,
} from './handshake.js'
import { openSocket, tlsProblem } from './transport.js'

const logConn = logger('connection')
const logStream = logger('stream')

/** How long the server gets to close its side after Satellite closed the stream on an error, in ms. */
const ERROR_GRACE_MS = 1000

/**
 * Why a session ended, for the reconnect policy: the three classes of docs/connection.md, and
 * `refused` (ECONNREFUSED: nothing listens; it costs the server nothing) with its own schedule.
 */
export type EndClass = 'fatal' | 'conflict' | 'retry' | 'refused'

/** How a session ended (the `closed` handler's argument). */
export interface SessionEnd {
  /** Why it ended; `undefined` when the TCP connection just closed. */
  error: Error | undefined
  /** A stream error condition, an errno code, `timeout`, `ping-timeout`, `stream-closed`, `closed`... */
  reason: string
  /** What the reconnect policy makes of it. */
  class: EndClass
  /** The handshake had succeeded. */
  wasOnline: boolean
}

/**
 * What a session reports, in this order: `connected` (TCP, or TLS, is up and the stream header
 * was sent), `header` (the server's stream header), `online` (the handshake was accepted), then
 * `stanza` for each stanza, `closing` once (nothing may be written any more), `closed` once.
 * Nothing is reported after `closed`. Any step may be skipped when the session ends early.
 */
export interface SessionHandlers {
  /** TCP (or TLS) is up; the stream header was sent. */
  connected(): void
  /** The server's stream header (before the session checks it). */
  header?(attrs: Readonly<Record<string, string>>): void
  /** The server accepted the handshake. */
  online(): void
  /** A stanza, once online. */
  stanza(stanza: Stanza): void
  /** The session closes its side: write nothing more to its socket. */
  closing?(): void
  /** The socket is closed; how and why. */
  closed(end: SessionEnd): void
}

/** The keepalive and ping of an online session; they write through the component's outbound path. */
export interface Liveness {
  /** Whitespace keepalive after this many ms without a write; `false`: none. */
  keepalive: number | false
  /** XEP-0199 ping when nothing was read for `interval` ms; `false`: none. */
  ping: false | { interval: number; timeout: number }
  /** `Date.now()` of the last write. */
  lastWriteAt(): number
  /** True while the socket pushes back (no keepalive is written then). */
  congested(): boolean
  /** Writes a raw string after anything pending. */
  writeRaw(data: string): void
  /** Sends a ping; settles on any answer; rejects with `SAT_ERR_IQ_TIMEOUT` when none came. */
  sendPing(timeout: number): Promise<unknown>
}

/** Options of a {@link Session}: a subset of the component's resolved options, plus liveness. */
export interface SessionOptions
  extends Pick<ResolvedOptions, 'service' | 'tls' | 'domain' | 'secret' | 'handshakeTimeout'> {
  /** The parser's limits on what the server sends. */
  limits: Pick<ResolvedOptions['limits'], 'maxStanzaBytes' | 'maxDepth'>
  /** Keepalive and ping once online; none without it. */
  liveness?: Liveness
}

/** The steps of one session, each with what it owns. */
type Phase =
  | { is: 'connecting'; handshakeTimer: NodeJS.Timeout }
  | { is: 'authenticating'; handshakeTimer: NodeJS.Timeout }
  | { is: 'online'; keepalive: NodeJS.Timeout | null; ping: NodeJS.Timeout | null }
  | { is: 'closing'; wasOnline: boolean; grace: NodeJS.Timeout | null }
  | { is: 'closed' }

/** The phase of a session, as {@link Session.phase} reports it. */
export type SessionPhase = 'connecting' | 'authenticating' | 'online' | 'closing' | 'closed'

/**
 * One connection attempt of a component (XEP-0114): it owns its socket (TCP or direct TLS), its
 * stream parser, the handshake and its timeout, the keepalive and ping timers, and the time of
 * the last read. It reads the server's stream errors, closes the stream on invalid XML, and
 * reports how it ended, once. The component's supervisor makes one per attempt; `satellite
 * check` drives one step by step.
 *
 * @example
 * ```ts
 * const session = new Session(options, { connected, online, stanza, closed: (end) => console.log(end.reason) })
 * ```
 */
export class Session {
  /** The socket; the component's outbound path writes to it once online. */
  readonly socket: Net.Socket
  readonly #o: SessionOptions
  readonly #h: SessionHandlers
  readonly #parser: StreamParser
  #phase: Phase
  /** Why the session is ending, once known: the first reason wins. */
  #why: { error: Error; reason: string; class: EndClass } | undefined
  #lastReadAt = 0

  constructor(options: SessionOptions, handlers: SessionHandlers) {
    this.#o = options
    this.#h = handlers
    const { host, port, tls } = options.service
    logConn('connecting to %s:%d (%s)', host, port, tls ? 'tls' : 'tcp')
    const socket = openSocket(options.service, options.tls)
    this.socket = socket
    this.#parser = new StreamParser(
      {
        onStreamStart: (attrs) => this.#onHeader(attrs),
        onStanza: (stanza) => this.#onStanza(stanza),
        onStreamEnd: () => this.#onStreamEnd(),
        onError: (err) => this.#onXmlError(err),
      },
      { maxStanzaBytes: options.limits.maxStanzaBytes, maxDepth: options.limits.maxDepth },
    )
    this.#phase = {
      is: 'connecting',
      handshakeTimer: setTimeout(() => this.#onHandshakeTimeout(), options.handshakeTimeout),
    }
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    socket.once(tls ? 'secureConnect' : 'connect', () => this.#onConnect())
    socket.on('data', (chunk: Buffer) => {
      this.#lastReadAt = Date.now()
      this.#parser.write(chunk)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => this.#onSocketError(err))
    socket.on('close', () => this.#onClose())
  }

  /** Where the session is: `connecting`, `authenticating`, `online`, `closing` or `closed`. */
  get phase(): SessionPhase {
    return this.#phase.is
  }

  /** Writes raw data once online (the component writes through its outbound path instead). */
  write(data: string): void {
    if (this.#phase.is === 'online' && !this.socket.destroyed) this.socket.write(data)
  }

  /** Stops reading: TCP flow control then pushes back on the server. */
  pauseReading(): void {
    if (!this.socket.destroyed) this.socket.pause()
  }

  /** Reads again after {@link Session.pauseReading}. */
  resumeReading(): void {
    if (!this.socket.destroyed) this.socket.resume()
  }

  /**
   * Ends the session. Online: writes `</stream:stream>`, closes our side and waits up to
   * `timeout` ms for the server to close its own before destroying the socket. Before the
   * handshake succeeded: destroys the socket. Resolves once the socket is closed (after the
   * `closed` handler ran). Idempotent.
   */
  close(timeout: number): Promise<void> {
    const done = new Promise<void>((resolve) => {
      if (this.#phase.is === 'closed') resolve()
      else this.socket.once('close', () => resolve())
    })
    const phase = this.#phase.is
    if (phase === 'online') this.#end('</stream:stream>', timeout)
    else if (phase === 'connecting' || phase === 'authenticating') this.#destroy()
    return done
  }

  // ---------------------------------------------------------------- steps

  #onConnect(): void {
    const phase = this.#phase
    if (phase.is !== 'connecting') return
    logConn('connected; sending stream header for %s', this.#o.domain)
    this.#phase = { is: 'authenticating', handshakeTimer: phase.handshakeTimer }
    this.socket.write(streamHeader(this.#o.domain))
    this.#h.connected()
  }

  #onHeader(attrs: Record<string, string>): void {
    this.#h.header?.(attrs)
    if (this.#phase.is !== 'authenticating') return
    if (attrs.xmlns !== NS_COMPONENT) {
      const got = attrs.xmlns ?? '(none)'
      this.#fail(
        new StreamError(
          'invalid-namespace',
          undefined,
          `the server opened a ${got} stream, not jabber:component:accept: XMPP_SERVICE points at a client or server port, not the component port`,
          { fatal: true },
        ),
        'invalid-namespace',
        'fatal',
      )
      this.#closeWithError('invalid-namespace')
      return
    }
    const id = attrs.id
    logStream('stream header received (id %s)', id ? 'present' : 'missing')
    if (!id) return // Prosody sends id='' then a stream error (host-unknown): wait for it.
    this.socket.write(`<handshake>${handshakeDigest(id, this.#o.secret)}</handshake>`)
  }

  #onStanza(stanza: Stanza): void {
    const name = stanza.name
    if (name === 'stream:error' || (name === 'error' && stanza.getNS() === NS_STREAMS)) {
      this.#onStreamError(stanza)
      return
    }
    const phase = this.#phase
    // While a stop closes an online stream, what the server still sends is delivered.
    if (phase.is === 'online' || (phase.is === 'closing' && phase.wasOnline)) {
      this.#h.stanza(stanza)
      return
    }
    if (phase.is !== 'authenticating') return
    if (name === 'handshake') {
      this.#goOnline(phase.handshakeTimer)
      return
    }
    if (name === 'stream:features') {
      this.#fail(
        new SatelliteError(
          ErrorCodes.PROTOCOL,
          `the server offered stream features: ${this.#o.service.url} is a client or server port, not a XEP-0114 component port`,
          { fatal: true },
        ),
        'stream-features',
        'fatal',
      )
      this.#closeWithError('invalid-namespace')
      return
    }
    this.#fail(
      new SatelliteError(ErrorCodes.PROTOCOL, `unexpected <${name}> before the handshake answer`),
      'protocol',
      'retry',
    )
    this.#closeWithError('unsupported-stanza-type')
  }

  #goOnline(handshakeTimer: NodeJS.Timeout): void {
    clearTimeout(handshakeTimer)
    this.#lastReadAt = Date.now()
    const l = this.#o.liveness
    this.#phase = {
      is: 'online',
      keepalive: l && l.keepalive !== false ? this.#keepalive(l, l.keepalive) : null,
      ping: l && l.ping !== false ? this.#pinger(l, l.ping) : null,
    }
    this.#h.online()
  }

  #onStreamError(el: Element): void {
    let condition = 'undefined-condition'
    let text: string | undefined
    for (const c of el.children) {
      if (typeof c === 'string') continue
      const child = c as Element
      if (child.name === 'text') text = child.getText()
      else if (child.attrs.xmlns === NS_STREAM_ERRORS || condition === 'undefined-condition')
        condition = child.name
    }
    // The condition keys stats and metrics and is shown in messages: RFC 6120's closed set only.
    if (!STREAM_ERROR_CONDITIONS.has(condition)) {
      logConn.error(
        'stream error with an unknown condition (%j): read as undefined-condition',
        condition.slice(0, 64),
      )
      condition = 'undefined-condition'
    }
    const klass = classifyCondition(condition, text)
    const message = explainStreamError(condition, this.#o.domain, text)
    const err = new StreamError(condition, text, message, {
      fatal: klass === 'fatal',
      code: condition === 'not-authorized' ? ErrorCodes.AUTH : ErrorCodes.STREAM,
    })
    this.#fail(err, condition, klass)
    this.#parser.close()
    this.#end('</stream:stream>', ERROR_GRACE_MS)
  }

  #onStreamEnd(): void {
    logStream('the server closed the stream')
    this.#fail(
      new SatelliteError(ErrorCodes.STREAM, 'the server closed the stream'),
      'stream-closed',
      'retry',
    )
    this.#end('</stream:stream>', ERROR_GRACE_MS)
  }

  #onXmlError(err: XmlViolationError): void {
    this.#fail(
      new SatelliteError(
        ErrorCodes.XML,
        `the server sent invalid XML: ${err.message}; closed with <${err.condition}/>`,
      ),
      err.condition,
      'retry',
    )
    this.#closeWithError(err.condition, err.message)
  }

  #onHandshakeTimeout(): void {
    const what = this.#parser.root === null ? 'the stream header' : 'the handshake answer'
    const o = this.#o
    this.#fail(
      new SatelliteError(
        ErrorCodes.HANDSHAKE_TIMEOUT,
        `no ${what} from ${o.service.url} within ${o.handshakeTimeout} ms (handshakeTimeout)`,
      ),
      'timeout',
      'retry',
    )
    this.#destroy()
  }

  #onSocketError(err: NodeJS.ErrnoException): void {
    const code = err.code ?? 'error'
    const url = this.#o.service.url
    const problem = tlsProblem(code)
    const msg =
      problem === 'certificate'
        ? `TLS to ${url} failed: ${err.message} (check tls.ca / tls.servername, or the certificate of the server)`
        : problem === 'not-tls'
          ? `TLS to ${url} failed: ${err.message} (the port does not speak TLS: use xmpp:// or the server's direct-TLS component port)`
          : `${code} on ${url}: ${err.message}`
    const fatal = problem !== undefined
    this.#fail(
      new SatelliteError(ErrorCodes.TRANSPORT, msg, { cause: err, fatal }),
      code,
      fatal ? 'fatal' : code === 'ECONNREFUSED' ? 'refused' : 'retry',
    )
  }

  #onClose(): void {
    const phase = this.#phase
    if (phase.is === 'closed') return
    if (phase.is !== 'closing') this.#h.closing?.()
    this.#clearTimers(phase)
    this.#parser.close()
    this.#phase = { is: 'closed' }
    const why = this.#why
    this.#h.closed({
      error: why?.error,
      reason: why ? why.reason : 'closed',
      class: why ? why.class : 'retry',
      wasOnline: phase.is === 'online' || (phase.is === 'closing' && phase.wasOnline),
    })
  }

  // ---------------------------------------------------------------- ending

  /** Records why the session is ending (the first reason wins). */
  #fail(error: Error, reason: string, klass: EndClass): void {
    if (this.#why !== undefined) return
    this.#why = { error, reason, class: klass }
    logConn.error('%s', error.message)
  }

  #closeWithError(condition: string, text?: string): void {
    this.#parser.close()
    this.#end(streamErrorXml(condition, text), ERROR_GRACE_MS)
  }

  /** Closes our side after `data` (a footer or a stream error); destroys the socket after `grace` ms. */
  #end(data: string, grace: number): void {
    const phase = this.#closing()
    if (phase === null) return
    const socket = this.socket
    if (socket.destroyed) return
    socket.end(data)
    phase.grace = setTimeout(() => socket.destroy(), grace)
    phase.grace.unref()
  }

  #destroy(): void {
    if (this.#closing() !== null) this.socket.destroy()
  }

  /** Enters `closing` (timers cleared, `closing` reported); null if the session was already ending. */
  #closing(): Extract<Phase, { is: 'closing' }> | null {
    const phase = this.#phase
    if (phase.is === 'closing' || phase.is === 'closed') return null
    this.#clearTimers(phase)
    const next: Extract<Phase, { is: 'closing' }> = {
      is: 'closing',
      wasOnline: phase.is === 'online',
      grace: null,
    }
    this.#phase = next
    this.#h.closing?.()
    return next
  }

  #clearTimers(phase: Phase): void {
    switch (phase.is) {
      case 'connecting':
      case 'authenticating':
        clearTimeout(phase.handshakeTimer)
        break
      case 'online':
        if (phase.keepalive) clearInterval(phase.keepalive)
        if (phase.ping) clearInterval(phase.ping)
        break
      case 'closing':
        if (phase.grace) clearTimeout(phase.grace)
        break
    }
  }

  // ---------------------------------------------------------------- liveness

  /** Writes a space when nothing was written for `every` ms (checked every `every / 2`). */
  #keepalive(l: Liveness, every: number): NodeJS.Timeout {
    const timer = setInterval(
      () => {
        if (Date.now() - l.lastWriteAt() >= every && !l.congested()) l.writeRaw(' ')
      },
      Math.max(1, Math.floor(every / 2)),
    )
    timer.unref()
    return timer
  }

  /** Pings when nothing was read for `interval` ms; no answer within `timeout`: the link is dead. */
  #pinger(l: Liveness, ping: { interval: number; timeout: number }): NodeJS.Timeout {
    let waiting = false
    const timer = setInterval(
      () => {
        if (waiting || Date.now() - this.#lastReadAt < ping.interval) return
        waiting = true
        l.sendPing(ping.timeout).then(
          () => {
            waiting = false
          },
          (err: unknown) => {
            waiting = false
            // Any answer proves the link alive (an error answer included); a disconnect or a
            // stop is not this timer's business.
            if (!isSatelliteError(err, ErrorCodes.IQ_TIMEOUT)) return
            this.#fail(
              new SatelliteError(
                ErrorCodes.PING_TIMEOUT,
                `no answer to a ping within ${ping.timeout} ms: the link is dead`,
              ),
              'ping-timeout',
              'retry',
            )
            this.#destroy()
          },
        )
      },
      Math.max(1, Math.floor(ping.interval / 2)),
    )
    timer.unref()
    return timer
  }
}
