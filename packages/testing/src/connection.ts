import type { Socket } from 'node:net'
import { type Behaviour, type StreamErrorSpec, streamErrorOf } from './behaviour.js'
import type {
  ConnectionHost,
  SentStreamError,
  ServerConnectionEvents,
  WriteOptions,
} from './connection-types.js'
import { StanzaErrorResponse, type StreamErrorCondition, serverStreamErrorXml } from './errors.js'
import { TypedEmitter } from './events.js'
import { logger } from './log.js'
import { Inbox, type StanzaMatcher } from './match.js'
import {
  checkHandshake,
  isStanzaName,
  type StanzaVerdict,
  stanzaAfterAuth,
  stanzaBeforeAuth,
} from './stanza-rules.js'
import { checkHeader, headerXml } from './stream-header.js'
import { type InvalidInput, StreamInput } from './stream-input.js'
import { toElement } from './strict.js'
import { Timers } from './timers.js'
import { CLOSE_GRACE_MS, Wire } from './wire.js'
import { cloneElement, type Element } from './xml.js'

const log = logger('connection')

type Phase = 'header' | 'silent' | 'handshake' | 'authenticated' | 'closing' | 'closed'

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
export class ServerConnection extends TypedEmitter<ServerConnectionEvents> {
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
  #streamErrorSent: SentStreamError | undefined
  #peerClosedStream = false
  #headerSent = false
  #behaviour: Behaviour
  #handshakeTimer: NodeJS.Timeout | undefined
  #requests = 0
  readonly #inbox: Inbox
  readonly #wire: Wire
  readonly #host: ConnectionHost
  readonly #input: StreamInput
  readonly #timers = new Timers()
  #resolveClosed!: () => void

  /** @internal */
  constructor(socket: Socket, host: ConnectionHost, behaviour: Behaviour, id: number) {
    super()
    this.id = id
    this.#host = host
    this.#behaviour = behaviour
    this.remote = `${socket.remoteAddress}:${socket.remotePort}`
    this.#inbox = new Inbox(`connection #${this.id}`, host.options.recordLimit)
    this.received = this.#inbox.received
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve
    })
    this.#input = new StreamInput(host.options.stanzaSizeLimit, id, {
      wants: () => this.#phase !== 'closing' && this.#phase !== 'closed' && this.#phase !== 'silent',
      header: (header) => this.#onHeader(header),
      stanza: (el) => this.#onFrame(el),
      end: () => this.#onStreamEnd(),
      invalid: (input, inHeader) => this.#onInvalid(input, inHeader),
    })
    this.#wire = new Wire(
      socket,
      id,
      this.#timers,
      (chunk) => this.#process(chunk),
      () => this.#finish(),
    )
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
    return this.#wire.bytesReceived
  }

  /** Whitespace bytes received between stanzas (whitespace keepalives). */
  get whitespaceReceived(): number {
    return this.#input.whitespaceBytes
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
  write(raw: string | Buffer, options: WriteOptions = {}): Promise<void> {
    return this.#wire.writePieces(raw, options)
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
    this.#write(serverStreamErrorXml(condition, text))
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
    if (how === 'fin') this.#wire.fin()
    else this.#wire.reset()
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
    this.#wire.destroyAfter(CLOSE_GRACE_MS)
  }

  /**
   * Stops reading from the socket: the kernel buffers fill, then the component's writes back up
   * (its `socket.write()` returns false). Undo with `resumeReading()`.
   * @example
   * conn.pauseReading()
   */
  pauseReading(): void {
    this.#wire.pauseReading()
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
    this.#wire.blackhole()
  }

  /** True after `blackhole()`. */
  get blackholed(): boolean {
    return this.#wire.blackholed
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
    this.#wire.resumeReading()
  }

  /**
   * Delays the processing of every following read by `ms` (a slow server); `0` turns it off.
   * @example
   * conn.readDelay(200)
   */
  readDelay(ms: number): void {
    this.#wire.readDelay(ms)
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
    this.#wire.destroy()
  }

  // ---------------------------------------------------------------- input

  #process(chunk: Buffer): void {
    if (this.#phase === 'closed') return
    this.#input.push(chunk)
  }

  #onHeader(header: Element): void {
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
    const verdict = checkHeader(header, this.#host.options)
    this.#domain = verdict.domain
    if (verdict.kind === 'refuse') {
      this.#sendHeader(verdict.streamId)
      this.streamError(verdict.condition, verdict.text)
      return
    }
    this.#streamId = verdict.streamId
    this.#sendHeader(this.#streamId)
    this.#setPhase('handshake')
  }

  #onFrame(el: Element): void {
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
    if (!isStanzaName(el.name)) {
      this.streamError('unsupported-stanza-type', `Unsupported element <${el.name}/>`)
      return
    }
    const { options } = this.#host
    this.#act(
      this.#phase === 'authenticated'
        ? stanzaAfterAuth(el, this.#domain ?? '', options)
        : stanzaBeforeAuth(el, options),
    )
  }

  /** Closes the stream over bad input; over bad XML, Prosody sends no text, ejabberd expat's message. */
  #onInvalid(input: InvalidInput, inHeader: boolean): void {
    if (inHeader) this.#sendHeader('')
    const { rules } = this.#host.options
    if (input.kind === 'too-big') this.streamError(rules.tooBigCondition, rules.tooBigText)
    else this.#streamError(input.kind, rules.xmlErrorText ? input.expat : undefined, input.reason)
  }

  #onStreamEnd(): void {
    this.#peerClosedStream = true
    log('#%d component closed its stream', this.id)
    if (this.#phase === 'closing' || this.#phase === 'silent') {
      this.#setPhase('closing')
      this.#wire.fin()
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
    const refused = checkHandshake(el, this.#domain ?? '', this.#streamId ?? '', this.#host.options)
    if (refused) {
      if (refused.condition === 'not-authorized')
        log('#%d handshake for %s rejected', this.id, this.#domain ?? '')
      this.streamError(refused.condition, refused.text)
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

  /** Carries out what the flavour's rules decided about a stanza. */
  #act(verdict: StanzaVerdict): void {
    switch (verdict.kind) {
      case 'stream-error':
        this.streamError(verdict.condition, verdict.text)
        return
      case 'reply':
        this.send(verdict.reply)
        return
      case 'drop':
        return
      case 'route':
        this.#host.route(verdict.stanza, this)
        return
    }
  }

  // ---------------------------------------------------------------- output and closing

  #sendHeader(id: string): void {
    if (this.#headerSent) return
    this.#headerSent = true
    this.#write(headerXml(id, this.#domain, this.#host.options))
  }

  #write(data: string): void {
    this.#wire.write(data)
  }

  /** Ends the TCP connection after a stream error or close tag; destroys it if the peer lingers. */
  #close(): void {
    this.#setPhase('closing')
    this.#wire.end()
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
