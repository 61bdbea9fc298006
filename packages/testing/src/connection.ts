import { EventEmitter } from 'node:events'
import type { Socket } from 'node:net'
import { type Behaviour, type StreamErrorSpec, streamErrorOf } from './behaviour.js'
import {
  errorReply,
  isNoReplyType,
  StanzaErrorResponse,
  type StreamErrorCondition,
  streamErrorXml,
} from './errors.js'
import { type FrameError, Framer } from './framer.js'
import { verifyHandshake } from './handshake.js'
import { parseJid } from './jid.js'
import { logger } from './log.js'
import { Inbox, type StanzaMatcher } from './match.js'
import type { ResolvedOptions } from './options.js'
import { type Namespaces, parseStrict, toElement, XmlSyntaxError } from './strict.js'
import { Timers } from './timers.js'
import { cloneElement, type Element, escapeXML, NS, truncate } from './xml.js'

const log = logger('connection')

/** The server side a connection talks to. @internal */
export interface ConnectionHost {
  readonly options: ResolvedOptions
  /** Registers an authenticated connection; returns an error to send instead when refused. */
  register(conn: ServerConnection): { condition: StreamErrorCondition; text: string } | undefined
  authenticated(conn: ServerConnection): void
  stanza(stanza: Element, conn: ServerConnection): void
  route(stanza: Element, conn: ServerConnection): void
  closed(conn: ServerConnection): void
}

/**
 * Options of `conn.write()`.
 * @example
 * await conn.write('<message>…</message>', { splitAt: [3, 10], delayMs: 20 })
 */
export interface WriteOptions {
  /** Byte offsets at which to cut the data into separate TCP writes (may fall inside UTF-8 sequences). */
  splitAt?: number[]
  /** Pause between the pieces so they arrive as separate reads. Default 20 ms when `splitAt` is given. */
  delayMs?: number
}

/**
 * A stream error the server sent on a connection.
 * @example
 * await conn.closed
 * expect(conn.streamErrorSent).toEqual({ condition: 'conflict', text: 'Component already connected' })
 */
export interface SentStreamError {
  condition: string
  text?: string
  /**
   * When the server closed the stream because of the component's input (`not-well-formed`,
   * `restricted-xml`): what was wrong and where, e.g. `mismatched tag: </message> closes <a>`.
   * Never sent on the wire (Prosody sends no text; ejabberd sends expat's message, e.g.
   * `mismatched tag`, as `text`).
   */
  reason?: string
}

/**
 * Events of a {@link ServerConnection}: `stanza` for each stanza from the component,
 * `authenticated` after the handshake, `close` when the TCP connection is gone.
 * @example
 * conn.on('stanza', (stanza) => { if (stanza.is('iq')) conn.send(reply(stanza)) })
 */
export interface ServerConnectionEvents {
  stanza: [stanza: Element]
  authenticated: []
  close: []
}

type Phase = 'header' | 'silent' | 'handshake' | 'authenticated' | 'closing' | 'closed'

const STANZAS = new Set(['message', 'presence', 'iq'])
const CLOSE_GRACE_MS = 1000
const RST_AFTER_WRITE_MS = 20

/**
 * One accepted TCP connection from a component, as seen by the test server, with fault
 * injection. Get it from `server.on('connection')` (before the stream header is read) or from
 * `await server.waitForComponent(domain)`.
 * @example
 * server.on('connection', (conn) => conn.behave({ headerDelayMs: 500 }))
 * const conn = await server.waitForComponent('echo.localhost')
 * conn.send(xml('message', { from: 'alice@localhost/a', to: 'echo.localhost' }, xml('body', {}, 'hi')))
 * await conn.expectStanza({ name: 'message', to: 'alice@localhost/a' })
 * conn.streamError('system-shutdown')
 */
export class ServerConnection extends EventEmitter<ServerConnectionEvents> {
  /** Sequence number within its server (1, 2, …), for logs. */
  readonly id: number
  /** Resolves when the TCP connection is closed (never rejects). */
  readonly closed: Promise<void>
  /** Stanzas received from the component, in order (the handshake excluded). */
  readonly received: Element[]
  /** Remote address and port of the component's socket. */
  readonly remote: string
  #domain: string | undefined
  #streamId: string | undefined
  #phase: Phase = 'header'
  #bytesReceived = 0
  #whitespaceBytes = 0
  #streamErrorSent: SentStreamError | undefined
  #peerClosedStream = false
  #userPaused = false
  #readDelayMs = 0
  #headerSent = false
  #behaviour: Behaviour
  #headerElement: Element | undefined
  /** Namespace bindings of the stream header, in scope for every stanza. */
  #namespaces: Namespaces = new Map()
  #handshakeTimer: NodeJS.Timeout | undefined
  #lastWriteAt = 0
  #blackholed = false
  #requests = 0
  readonly #inbox: Inbox
  readonly #socket: Socket
  readonly #host: ConnectionHost
  readonly #framer: Framer
  readonly #timers = new Timers()
  #resolveClosed!: () => void

  /** @internal */
  constructor(socket: Socket, host: ConnectionHost, behaviour: Behaviour, id: number) {
    super()
    this.id = id
    this.#socket = socket
    this.#host = host
    this.#behaviour = behaviour
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.#inbox = new Inbox(`connection #${this.id}`, host.options.recordLimit)
    this.received = this.#inbox.received
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    const rules = host.options
    this.#framer = new Framer(rules.stanzaSizeLimit, {
      header: (text) => this.#onHeader(text),
      stanza: (text) => this.#onFrame(text),
      end: () => this.#onStreamEnd(),
      whitespace: (bytes) => {
        this.#whitespaceBytes += bytes
      },
      error: (error) => this.#onFrameError(error),
    })
    socket.setNoDelay(true)
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    socket.on('error', (err) => log('#%d socket error: %s', this.id, err.message))
    socket.on('close', () => this.#finish())
    this.#handshakeTimer = this.#timers.set(() => {
      if (this.#phase === 'header' || this.#phase === 'handshake') {
        this.streamError('connection-timeout', 'No successful handshake in time')
      }
    }, host.options.handshakeTimeout)
    log('#%d accepted from %s', this.id, this.remote)
  }

  /** The domain from the component's stream header (`to`), once read. */
  get domain(): string | undefined {
    return this.#domain
  }

  /** The stream id sent to the component, once the header is answered. */
  get streamId(): string | undefined {
    return this.#streamId
  }

  /** True after a successful handshake, until the connection closes. */
  get authenticated(): boolean {
    return this.#phase === 'authenticated'
  }

  /** True once the TCP connection is closed. */
  get isClosed(): boolean {
    return this.#phase === 'closed'
  }

  /** Bytes read from the component so far. */
  get bytesReceived(): number {
    return this.#bytesReceived
  }

  /** Whitespace bytes received between stanzas (whitespace keepalives). */
  get whitespaceReceived(): number {
    return this.#whitespaceBytes
  }

  /** The stream error the server sent, if any. */
  get streamErrorSent(): SentStreamError | undefined {
    return this.#streamErrorSent
  }

  /** True when the component closed its stream with `</stream:stream>`. */
  get peerClosedStream(): boolean {
    return this.#peerClosedStream
  }

  /**
   * Sets the misbehaviour of this connection (replacing what `server.behave()` gave it). Call it
   * from the `connection` event, before the header arrives.
   * @example
   * server.on('connection', (conn) => conn.behave({ noHandshakeReply: true }))
   */
  behave(behaviour: Behaviour): void {
    this.#behaviour = { ...behaviour }
  }

  /**
   * Sends a stanza (element or XML string) to the component as is.
   * @example
   * conn.send("<message from='alice@localhost/a' to='echo.localhost'><body>hi</body></message>")
   */
  send(stanza: Element | string): void {
    this.#write(typeof stanza === 'string' ? stanza : stanza.toString())
  }

  /**
   * Writes raw bytes, optionally cut into several TCP writes at byte offsets with a pause in
   * between, so that the component reads them separately (split UTF-8, split tags, …).
   * Resolves when everything is handed to the kernel (or the connection closed).
   * @example
   * await conn.write(`<message from='a@localhost/x' to='echo.localhost'><body>😀</body></message>`, { splitAt: [60] })
   */
  async write(raw: string | Buffer, options: WriteOptions = {}): Promise<void> {
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

  /**
   * Sends `<stream:error>` with an RFC 6120 condition (and optional text), `</stream:stream>`,
   * and closes the connection.
   * @example
   * conn.streamError('system-shutdown', 'Server is restarting')
   */
  streamError(condition: StreamErrorCondition | (string & {}), text?: string): void {
    this.#streamError(condition, text, undefined)
  }

  #streamError(condition: string, text: string | undefined, reason: string | undefined): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    if (!this.#headerSent) this.#sendHeader(this.#streamId ?? '')
    this.#streamErrorSent = {
      condition,
      ...(text === undefined ? {} : { text }),
      ...(reason === undefined ? {} : { reason }),
    }
    log('#%d stream error %s%s', this.id, condition, text ? ` (${text})` : '')
    this.#write(streamErrorXml(condition, text))
    this.#close()
  }

  /**
   * Closes the TCP connection without any stream close: `'fin'` (default) is an orderly TCP
   * close, `'rst'` a reset (`socket.resetAndDestroy()`, deferred up to 20 ms after the last
   * write so that the peer really sees ECONNRESET).
   * @example
   * conn.drop('rst')
   */
  drop(how: 'fin' | 'rst' = 'fin'): void {
    if (this.#phase === 'closed') return
    log('#%d drop (%s)', this.id, how)
    this.#setPhase('closing')
    if (how === 'fin') {
      this.#socket.end(() => this.#socket.destroy())
      return
    }
    // A reset right after a write is often seen by the peer as a plain FIN (measured on Linux):
    // give recent writes a moment to be acknowledged first.
    const wait = this.#lastWriteAt + RST_AFTER_WRITE_MS - Date.now()
    if (wait > 0) this.#timers.set(() => this.#socket.resetAndDestroy(), wait)
    else this.#socket.resetAndDestroy()
  }

  /**
   * Closes the stream gracefully: sends `</stream:stream>` and closes the TCP connection once
   * the component answers with its own `</stream:stream>` (or after 1 s).
   * @example
   * conn.closeStream(); await conn.closed
   */
  closeStream(): void {
    if (this.#phase === 'closing' || this.#phase === 'closed') return
    log('#%d closing stream', this.id)
    if (!this.#headerSent) this.#sendHeader(this.#streamId ?? '')
    this.#write('</stream:stream>')
    this.#setPhase('closing')
    this.#timers.set(() => this.#socket.destroy(), CLOSE_GRACE_MS)
  }

  /**
   * Stops reading from the socket: the kernel buffers fill, then the component's writes back up
   * (its `socket.write()` returns false). Undo with `resumeReading()`.
   * @example
   * conn.pauseReading()
   */
  pauseReading(): void {
    this.#userPaused = true
    this.#socket.pause()
  }

  /**
   * Makes this connection a dead peer (a half-open TCP connection, a cable pulled): the server
   * stops reading and silently drops everything it would send on it (routed stanzas, replies,
   * raw writes, stream errors), and never closes it by itself. Only a component-side keepalive
   * or ping timeout can notice. `drop()` and `server.close()` still close it.
   * @example
   * conn.blackhole()
   * await server.waitForComponent('echo.localhost', { fresh: true }) // the component must reconnect
   */
  blackhole(): void {
    log('#%d blackholed', this.id)
    this.#blackholed = true
    this.pauseReading()
  }

  /** True after `blackhole()`. */
  get blackholed(): boolean {
    return this.#blackholed
  }

  /**
   * Sends an iq get/set to the component as the server and resolves with the component's result;
   * rejects with a {@link StanzaErrorResponse} on `type='error'`, or on timeout (default 2000 ms).
   * `id`, `from` (the server domain) and `to` (the component domain) are filled in when missing.
   * @example
   * const result = await conn.request(xml('iq', { type: 'get' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })))
   */
  async request(iq: Element | string, timeout = 2000): Promise<Element> {
    const el = cloneElement(toElement(iq))
    if (el.name !== 'iq' || (el.attrs.type !== 'get' && el.attrs.type !== 'set')) {
      throw new TypeError("request() needs an <iq type='get'|'set'/>")
    }
    el.attrs.id ??= `srv-${this.id}-${++this.#requests}`
    el.attrs.from ??= this.#host.options.domain
    if (this.#domain) el.attrs.to ??= this.#domain
    const id = String(el.attrs.id)
    const waiting = this.#inbox.expect(
      (s) => s.name === 'iq' && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'),
      timeout,
    )
    this.send(el)
    const reply = await waiting
    if (reply.attrs.type === 'error') throw new StanzaErrorResponse(reply)
    return reply
  }

  /**
   * Resumes reading after `pauseReading()`.
   * @example
   * conn.resumeReading()
   */
  resumeReading(): void {
    this.#userPaused = false
    this.#socket.resume()
  }

  /**
   * Delays the processing of every following read by `ms` (a slow server); `0` turns it off.
   * @example
   * conn.readDelay(200)
   */
  readDelay(ms: number): void {
    this.#readDelayMs = Math.max(0, ms)
  }

  /**
   * Resolves with the first stanza from the component matching `matcher` that no earlier
   * expectation consumed; rejects after `timeout` ms (default 2000) listing what was received.
   * @example
   * const reply = await conn.expectStanza({ name: 'iq', type: 'result', id: 'q1' })
   */
  expectStanza(matcher: StanzaMatcher, timeout = 2000): Promise<Element> {
    return this.#inbox.expect(matcher, timeout)
  }

  /** Destroys the socket at once (server shutdown). @internal */
  destroy(): void {
    this.#socket.destroy()
  }

  // ---------------------------------------------------------------- input

  #onData(chunk: Buffer): void {
    this.#bytesReceived += chunk.length
    if (this.#readDelayMs <= 0) {
      this.#process(chunk)
      return
    }
    this.#socket.pause()
    this.#timers.set(() => {
      this.#process(chunk)
      if (!this.#userPaused && !this.#socket.destroyed) this.#socket.resume()
    }, this.#readDelayMs)
  }

  #process(chunk: Buffer): void {
    if (this.#phase === 'closed') return
    this.#framer.push(chunk)
  }

  #onHeader(text: string): void {
    let header: Element
    try {
      const parsed = parseStrict(text, new Map(), true)
      header = parsed.element
      this.#namespaces = parsed.namespaces
    } catch (err) {
      this.#sendHeader('')
      this.#badInput(err)
      return
    }
    this.#headerElement = header
    if (this.#behaviour.noHeader) {
      log('#%d header ignored (noHeader)', this.id)
      this.#setPhase('silent')
      return
    }
    const delay = this.#behaviour.headerDelayMs ?? 0
    if (delay > 0) this.#timers.set(() => this.#answerHeader(header), delay)
    else this.#answerHeader(header)
  }

  #answerHeader(header: Element): void {
    if (this.#phase !== 'header') return
    const { options } = this.#host
    const prosody = options.flavour === 'prosody'
    const attrs = header.attrs as Record<string, string | undefined>
    if (header.name !== 'stream:stream' || attrs['xmlns:stream'] !== NS.stream) {
      this.#sendHeader(prosody ? '' : options.streamId())
      this.streamError('invalid-namespace', 'Stream namespace must be http://etherx.jabber.org/streams')
      return
    }
    if (attrs.xmlns !== NS.component) {
      this.#sendHeader(prosody ? '' : options.streamId())
      this.streamError('invalid-namespace', `Default namespace must be ${NS.component}`)
      return
    }
    const to = attrs.to?.toLowerCase()
    if (!to) {
      this.#sendHeader(prosody ? '' : options.streamId())
      this.streamError('improper-addressing', "Missing 'to' attribute")
      return
    }
    this.#domain = to
    const known = options.components.has(to)
    if (prosody && (!known || to === options.domain)) {
      this.#sendHeader('')
      this.streamError('host-unknown', `'${to}' does not match any configured external components`)
      return
    }
    this.#streamId = options.streamId()
    this.#sendHeader(this.#streamId)
    this.#setPhase('handshake')
  }

  #onFrame(text: string): void {
    if (this.#phase === 'closing' || this.#phase === 'closed' || this.#phase === 'silent') return
    let el: Element
    try {
      el = parseStrict(text, this.#namespaces).element
    } catch (err) {
      this.#badInput(err)
      return
    }
    if (this.#headerElement) el.parent = this.#headerElement
    if (this.#phase === 'header') {
      // only possible while the header reply is delayed (headerDelayMs): the component cannot
      // know the stream id yet, so whatever it sends is dropped
      log('#%d <%s/> before the header reply dropped', this.id, el.name)
      return
    }
    if (el.name === 'handshake') {
      this.#onHandshake(el)
      return
    }
    this.#inbox.push(el)
    this.emit('stanza', el)
    this.#host.stanza(el, this)
    if (!STANZAS.has(el.name)) {
      this.streamError('unsupported-stanza-type', `Unsupported element <${el.name}/>`)
      return
    }
    if (this.#phase === 'authenticated') this.#onStanza(el)
    else this.#beforeAuth(el)
  }

  #onFrameError(error: FrameError): void {
    const { rules } = this.#host.options
    log('#%d input rejected: %o', this.id, error)
    if (error.kind === 'too-big') this.streamError(rules.tooBigCondition, rules.tooBigText)
    else this.#inputError(error.kind, error.expat, `${error.expat}: ${error.reason}`)
  }

  /** A frame the strict parser refused (anything else thrown is a bug: not-well-formed too). */
  #badInput(err: unknown): void {
    log('#%d input rejected: %s', this.id, (err as Error).message)
    if (err instanceof XmlSyntaxError) this.#inputError(err.condition, err.expat, err.message)
    else this.#inputError('not-well-formed', 'not well-formed', String((err as Error).message))
  }

  /** Closes the stream over bad XML: Prosody sends no text, ejabberd expat's message. */
  #inputError(condition: 'not-well-formed' | 'restricted-xml', expat: string, reason: string): void {
    this.#streamError(condition, this.#host.options.rules.xmlErrorText ? expat : undefined, reason)
  }

  #onStreamEnd(): void {
    this.#peerClosedStream = true
    log('#%d component closed its stream', this.id)
    if (this.#phase === 'closing' || this.#phase === 'silent') {
      this.#setPhase('closing')
      this.#socket.end(() => this.#socket.destroy())
      return
    }
    if (!this.#headerSent) this.#sendHeader(this.#streamId ?? '')
    this.#write('</stream:stream>')
    this.#close()
  }

  // ---------------------------------------------------------------- handshake

  #onHandshake(el: Element): void {
    if (this.#phase === 'authenticated') {
      log('#%d second handshake ignored', this.id)
      return
    }
    if (this.#phase !== 'handshake') return
    const b = this.#behaviour
    if (b.noHandshakeReply) {
      log('#%d handshake swallowed (noHandshakeReply)', this.id)
      return
    }
    if (b.rejectHandshake) {
      this.#sendStreamError(b.rejectHandshake)
      return
    }
    const { options } = this.#host
    const domain = this.#domain ?? ''
    const secret = options.components.get(domain)
    const ok =
      secret !== undefined &&
      verifyHandshake(el.getText(), this.#streamId ?? '', secret, {
        caseSensitive: options.rules.handshakeCaseSensitive,
      })
    if (!ok) {
      log('#%d handshake for %s rejected', this.id, domain)
      this.streamError('not-authorized', options.rules.wrongSecretText)
      return
    }
    if (domain === options.domain) {
      this.streamError('conflict', 'Unable to register route on existing local domain')
      return
    }
    const delay = b.handshakeDelayMs ?? 0
    if (delay > 0) this.#timers.set(() => this.#accept(), delay)
    else this.#accept()
  }

  #accept(): void {
    if (this.#phase !== 'handshake') return
    const refused = this.#host.register(this)
    if (refused) {
      this.streamError(refused.condition, refused.text)
      return
    }
    this.#setPhase('authenticated')
    this.#timers.clear(this.#handshakeTimer)
    this.#write('<handshake/>')
    log('#%d authenticated as %s', this.id, this.#domain)
    this.emit('authenticated')
    this.#host.authenticated(this)
    const b = this.#behaviour
    if (b.streamErrorAfterHandshake) this.#sendStreamError(b.streamErrorAfterHandshake)
    else if (b.dropAfterHandshake) this.drop(b.dropAfterHandshake)
  }

  #sendStreamError(spec: StreamErrorSpec): void {
    const { condition, text, delayMs } = streamErrorOf(spec)
    if (delayMs > 0) this.#timers.set(() => this.streamError(condition, text), delayMs)
    else this.streamError(condition, text)
  }

  // ---------------------------------------------------------------- stanzas

  #beforeAuth(el: Element): void {
    if (this.#host.options.rules.beforeAuth === 'not-authorized') {
      this.streamError('not-authorized')
      return
    }
    if (!isNoReplyType(el)) {
      this.send(errorReply(el, { type: 'cancel', condition: 'service-unavailable' }))
    }
  }

  #onStanza(el: Element): void {
    const { options } = this.#host
    const { rules } = options
    const domain = this.#domain ?? ''
    const attrs = el.attrs as Record<string, string | undefined>
    let from = attrs.from
    if (!from) {
      if (rules.missingFrom === 'improper-addressing') {
        this.streamError('improper-addressing', "Missing 'from' attribute")
        return
      }
      from = domain
    }
    const fromDomain = parseJid(from)?.domain
    const allowed =
      fromDomain === domain ||
      (rules.fromAnyListenerDomain && fromDomain !== undefined && options.components.has(fromDomain))
    if (!allowed && options.validateFrom) {
      this.streamError('invalid-from', rules.invalidFromText(from, domain))
      return
    }
    if (!attrs.to) {
      if (rules.missingTo === 'improper-addressing') {
        this.streamError('improper-addressing', "Missing 'to' attribute")
      } else if (!isNoReplyType(el)) {
        this.send(errorReply(el, { type: 'modify', condition: 'bad-request', from: domain }))
      }
      return
    }
    const routed = cloneElement(el)
    routed.parent = null
    routed.attrs.from = from
    this.#host.route(routed, this)
  }

  // ---------------------------------------------------------------- output and closing

  #sendHeader(id: string): void {
    if (this.#headerSent) return
    this.#headerSent = true
    const { options } = this.#host
    const attrs: [string, string][] = [
      ['xmlns:stream', NS.stream],
      ['xmlns', NS.component],
      ['id', id],
    ]
    if (this.#domain) attrs.push(['from', this.#domain])
    if (options.flavour === 'prosody') attrs.push(['xml:lang', 'en'])
    if (options.shuffleHeaderAttributes) shuffle(attrs)
    const list = attrs.map(([k, v]) => ` ${k}='${escapeXML(v)}'`).join('')
    this.#write(`<?xml version='1.0'?><stream:stream${list}>`)
  }

  #write(data: string): void {
    // only the first tag's name and the size: the data may carry a client's password
    if (this.#blackholed) {
      log('#%d blackholed, dropped %s (%d chars)', this.id, tagOf(data), data.length)
      return
    }
    if (this.#socket.destroyed || this.#socket.writableEnded) {
      log('#%d write after close dropped %s (%d chars)', this.id, tagOf(data), data.length)
      return
    }
    this.#lastWriteAt = Date.now()
    this.#socket.write(data)
  }

  /** Ends the TCP connection after a stream error or close tag; destroys it if the peer lingers. */
  #close(): void {
    this.#setPhase('closing')
    if (this.#blackholed) return // a dead peer never learns about it
    this.#socket.end()
    this.#timers.set(() => this.#socket.destroy(), CLOSE_GRACE_MS)
  }

  #setPhase(phase: Phase): void {
    if (this.#phase === 'closed') return
    const wasAuthenticated = this.#phase === 'authenticated'
    this.#phase = phase
    if (wasAuthenticated && phase !== 'authenticated') this.#host.closed(this)
  }

  #finish(): void {
    if (this.#phase === 'closed') return
    this.#setPhase('closed')
    this.#timers.clearAll()
    this.#inbox.close('connection closed')
    this.#host.closed(this)
    log('#%d closed', this.id)
    this.#resolveClosed()
    this.emit('close')
  }
}

/** `<name>` of the first tag of some XML, for logs. */
function tagOf(data: string): string {
  return `<${truncate(/^\s*<\/?([^\s/>]*)/.exec(data)?.[1] ?? '?', 40)}>`
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const tmp = items[i]!
    items[i] = items[j]!
    items[j] = tmp
  }
}
