import type * as Net from 'node:net'
import type * as Tls from 'node:tls'
import { EventEmitter, net, tls } from './builtins.js'
import { type ComponentOptions, type ResolvedOptions, resolveOptions } from './config.js'
import {
  ErrorCodes,
  isSatelliteError,
  SatelliteError,
  STREAM_ERROR_CONDITIONS,
  StanzaError,
  StreamError,
} from './errors.js'
import { type JID, parseJid } from './jid.js'
import { logger } from './log.js'
import { installResponders, NS_CAPS, NS_PING } from './responders/builtin.js'
import { Disco } from './responders/disco.js'
import { errorReply, IqCaller, iqResult } from './routing/iq.js'
import type { StanzaMatch } from './routing/match.js'
import { type IqHandler, type IqMatch, Router, type StanzaHandler, type Unroute } from './routing/router.js'
import { Stats } from './stats.js'
import { Backoff, classifyCondition, type DisconnectClass } from './stream/backoff.js'
import { explainStreamError } from './stream/explain.js'
import {
  handshakeDigest,
  NS_COMPONENT,
  NS_STREAM_ERRORS,
  NS_STREAMS,
  streamErrorXml,
  streamHeader,
} from './stream/handshake.js'
import { Outbound, quietReject } from './stream/outbound.js'
import { Element, xml } from './xml/element.js'
import { StreamParser, type XmlViolationError } from './xml/parser.js'
import { serialize } from './xml/serialize.js'
import type { Stanza } from './xml/stanza.js'

// node:tls is loaded only for xmpps:// services (it adds ~3.5 MiB to an idle process): see builtins.ts.

const logConn = logger('connection')
const logStream = logger('stream')
const logRoute = logger('router')
const logOut = logger('outbound')

/** Lifecycle states, announced by the `status` event. */
export type Status =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'online'
  | 'offline'
  | 'reconnecting'
  | 'stopping'
  | 'stopped'

/** Detail of a `reconnecting` status. */
export interface ReconnectInfo {
  /** Delay before the next attempt, in ms. */
  delay: number
  /** Failed attempts in a row so far. */
  attempt: number
  /** Why the previous connection ended (a stream error condition, an errno code, `timeout`...). */
  reason: string
  error: Error | undefined
}

/** Events of a {@link Component}. */
export interface ComponentEvents {
  /** The handshake succeeded; the component's JID is given. */
  online: [address: JID]
  /** The connection went down (a reconnect may follow; see `status`). */
  offline: [info: { reason: string; error: Error | undefined }]
  /** Every incoming stanza, before routing (for logging or xmpp.js-style handling). */
  stanza: [stanza: Stanza]
  /** Connection errors, fatal errors (`err.fatal`), and errors thrown by handlers. */
  error: [err: Error]
  /** Every lifecycle change. */
  status: [status: Status, detail?: ReconnectInfo]
  /** A reconnect is scheduled. */
  reconnecting: [info: ReconnectInfo]
  /** A stanza was not sent: queue full, expired, or stopped. */
  dropped: [info: { data: string; error: SatelliteError }]
  /** Satellite stopped: by `stop()`, the AbortSignal, or a fatal error. */
  stopped: [info: { error: Error | undefined }]
}

/** A listener of the {@link Component} event `E`. */
export type ComponentListener<E extends keyof ComponentEvents> = (...args: ComponentEvents[E]) => void

// The event methods of Component, typed by ComponentEvents: only its events, with their
// arguments. Declared here rather than taken from @types/node's generic EventEmitter<T>, whose
// typing varies with the consumer's @types/node (from 25 on, an unknown event name compiles).
// Type-only: the methods are EventEmitter's, unchanged at run time.
export interface Component {
  /** Calls `listener` on every `event` (one of {@link ComponentEvents}, with its arguments). */
  on<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** Calls `listener` on the next `event` only. */
  once<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** Removes a listener added by `on`, `once`... */
  off<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** The same as `on`. */
  addListener<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** The same as `off`. */
  removeListener<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** Like `on`, but the listener runs before those already added. */
  prependListener<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** Like `once`, but the listener runs before those already added. */
  prependOnceListener<E extends keyof ComponentEvents>(event: E, listener: ComponentListener<E>): this
  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof ComponentEvents): this
  /** Calls the listeners of `event` with `args` (Satellite emits its events itself). */
  emit<E extends keyof ComponentEvents>(event: E, ...args: ComponentEvents[E]): boolean
  /** How many listeners `event` has (of `listener` only, if given). */
  listenerCount<E extends keyof ComponentEvents>(event: E, listener?: ComponentListener<E>): number
  /** The listeners of `event`. */
  listeners<E extends keyof ComponentEvents>(event: E): Array<ComponentListener<E>>
  /** The listeners of `event`, including the wrappers `once` adds. */
  rawListeners<E extends keyof ComponentEvents>(event: E): Array<ComponentListener<E>>
}

/** Options of {@link Component.request}. */
export interface RequestOptions {
  /** Timeout in ms (default: the component's `requestTimeout`, 30 s). */
  timeout?: number
}

interface Connection {
  gen: number
  socket: Net.Socket
  parser: StreamParser
  handshakeTimer: NodeJS.Timeout | null
  online: boolean
  onlineAt: number
  /** Why it ended, once known. */
  error: Error | undefined
  reason: string
  klass: DisconnectClass
  /** Set when the server closed the stream (we answered and closed). */
  closing: boolean
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|::1|0:0:0:0:0:0:0:1)$/i

/**
 * An XEP-0114 external component: owns the TCP/TLS connection, the stream, the
 * handshake, reconnects, outbound queueing, inbound backpressure, routing and iq.
 * Create it with {@link component}.
 *
 * @example
 * ```ts
 * const xmpp = component({ service: 'xmpp://127.0.0.1:5347', domain: 'echo.localhost', secret: 's3cret' })
 * xmpp.message({ type: 'chat' }, (msg) =>
 *   xmpp.send(xml('message', { from: msg.attrs.to, to: msg.attrs.from, type: 'chat' },
 *     xml('body', {}, msg.getChildText('body') ?? ''))))
 * await xmpp.start()
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above only types EventEmitter's own methods
export class Component extends EventEmitter {
  readonly options: ResolvedOptions
  /** The component's domain. */
  readonly domain: string
  /** Service discovery registry (identities, features, items). */
  readonly disco: Disco
  /** Counters: stanzas in/out, reconnects by reason, queue depth, iq latency. */
  readonly stats: Stats
  /** The component's JID, once online. */
  jid: JID | null = null
  #status: Status = 'idle'
  readonly #router = new Router()
  readonly #outbound: Outbound
  readonly #iq = new IqCaller()
  readonly #backoff: Backoff | null
  #conn: Connection | null = null
  #gen = 0
  #reconnectTimer: NodeJS.Timeout | null = null
  #keepaliveTimer: NodeJS.Timeout | null = null
  #pingTimer: NodeJS.Timeout | null = null
  #lastReadAt = 0
  #warnedPlaintext = false
  #startWaiters: Array<{ resolve: (jid: JID) => void; reject: (err: Error) => void }> = []
  #stopPromise: Promise<void> | null = null
  /** Set from stop() (or a fatal error) until the next start(). */
  #stopping = false
  // Inbound backpressure
  #inflight = 0
  #inbox: Stanza[] = []
  #inboxHead = 0
  /** Reading is paused (handlers behind, or the outbound socket pushing back). */
  #paused = false
  /** Handlers are behind: received stanzas wait in the inbox. */
  #behind = false
  #caps: boolean
  #onAbort: (() => void) | null = null

  constructor(options: ComponentOptions) {
    super()
    this.options = resolveOptions(options)
    const o = this.options
    this.domain = o.domain
    this.#backoff = o.reconnect === false ? null : new Backoff(o.reconnect)
    this.#outbound = new Outbound(
      o.queue,
      (data, error) => {
        logOut.error('dropped a stanza: %s', error.message)
        if (this.listenerCount('dropped') > 0) this.emit('dropped', { data, error })
      },
      () => this.#syncReading(),
    )
    this.stats = new Stats(
      this.#outbound,
      this.#iq,
      () => this.#inflight,
      () => this.#inbox.length - this.#inboxHead,
    )
    this.disco = new Disco(this.#router, { category: 'component', type: 'generic', name: o.name })
    const caps = o.responders.caps
    if (typeof caps === 'object' && caps.node) this.disco.capsNode = caps.node
    if (typeof caps === 'object' && caps.cacheSize !== undefined) this.disco.capsCacheSize = caps.cacheSize
    this.#caps = caps !== false && o.responders.disco !== false
    this.#router.onChange = () => this.disco.invalidate()
    installResponders(this.#router, this.disco, o.responders)
    if (o.signal) {
      this.#onAbort = () => void this.stop()
      if (o.signal.aborted) queueMicrotask(this.#onAbort)
    }
  }

  /** Current lifecycle state. */
  get status(): Status {
    return this.#status
  }

  /** True between a successful handshake and the end of that connection. */
  get online(): boolean {
    return this.#conn?.online === true
  }

  // ---------------------------------------------------------------- routing

  /**
   * Routes messages. `match` filters by type, local part of `to`, payload; first match wins.
   *
   * @example
   * ```ts
   * xmpp.message({ type: 'chat', to: '*' }, (msg) => { ... })
   * ```
   */
  message(match: StanzaMatch | StanzaHandler, handler?: StanzaHandler): Unroute {
    return typeof match === 'function'
      ? this.#router.add('message', undefined, match)
      : this.#router.add('message', match, handler as StanzaHandler)
  }

  /**
   * Routes presence stanzas.
   *
   * @example
   * ```ts
   * xmpp.presence({ type: 'subscribe' }, (p) => xmpp.send(xml('presence', { to: p.attrs.from, from: p.attrs.to, type: 'subscribed' })))
   * ```
   */
  presence(match: StanzaMatch | StanzaHandler, handler?: StanzaHandler): Unroute {
    return typeof match === 'function'
      ? this.#router.add('presence', undefined, match)
      : this.#router.add('presence', match, handler as StanzaHandler)
  }

  /**
   * Answers iq get requests carrying a payload in `match.xmlns`. The handler returns the
   * result payload (or nothing), or throws a `StanzaError`; exactly one reply is sent.
   * The namespace is advertised in disco#info automatically.
   *
   * @example
   * ```ts
   * xmpp.iqGet({ xmlns: 'jabber:iq:last', name: 'query' }, () => xml('query', { xmlns: 'jabber:iq:last', seconds: '0' }))
   * ```
   */
  iqGet(match: IqMatch, handler: IqHandler): Unroute {
    return this.#router.addIq('get', match, handler)
  }

  /**
   * Answers iq set requests; see {@link Component.iqGet}.
   *
   * @example
   * ```ts
   * xmpp.iqSet({ xmlns: 'jabber:iq:register', name: 'query' }, async (iq, query) => { await save(query); })
   * ```
   */
  iqSet(match: IqMatch, handler: IqHandler): Unroute {
    return this.#router.addIq('set', match, handler)
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * Connects and resolves with the component's JID once the handshake succeeds. Transient
   * failures are retried under the reconnect policy; rejects on a fatal error (wrong
   * secret, unknown domain...), when `maxAttempts` is reached, or on `stop()`.
   *
   * @example
   * ```ts
   * const address = await xmpp.start() // echo.localhost
   * ```
   */
  start(): Promise<JID> {
    if (this.#conn?.online && this.jid) return Promise.resolve(this.jid)
    if (this.#stopping && this.#status !== 'stopped') {
      return quietReject(new SatelliteError(ErrorCodes.STOPPED, 'start() called while stopping'))
    }
    const p = new Promise<JID>((resolve, reject) => this.#startWaiters.push({ resolve, reject }))
    if (this.#status === 'idle' || this.#status === 'stopped') {
      if (this.options.signal?.aborted) {
        this.#rejectStart(new SatelliteError(ErrorCodes.STOPPED, 'the AbortSignal was already aborted'))
        return p
      }
      this.#stopPromise = null
      this.#stopping = false
      if (this.#onAbort) this.options.signal?.addEventListener('abort', this.#onAbort, { once: true })
      this.#backoff?.reset()
      this.#connect()
    }
    return p
  }

  /**
   * Closes the stream and stops reconnecting. Waits (at most `stopTimeout`) for the
   * server to close its side; cancels every timer; rejects pending iq requests and
   * queued stanzas with `SAT_ERR_STOPPED`. Idempotent.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => xmpp.stop())
   * ```
   */
  stop(): Promise<void> {
    if (this.#stopPromise) return this.#stopPromise
    this.#stopPromise = this.#doStop(undefined)
    return this.#stopPromise
  }

  async #doStop(error: Error | undefined): Promise<void> {
    const wasStopped = this.#status === 'stopped' || this.#status === 'idle'
    this.#stopping = true
    this.#setStatus('stopping')
    this.#clearReconnect()
    this.#clearTimers()
    const conn = this.#conn
    if (conn) {
      const closed = new Promise<void>((resolve) => {
        if (conn.socket.destroyed) resolve()
        else conn.socket.once('close', () => resolve())
      })
      if (conn.online && !conn.socket.destroyed) {
        this.#outbound.flushNow()
        conn.socket.write('</stream:stream>')
        conn.socket.end()
        const timer = setTimeout(() => conn.socket.destroy(), this.options.stopTimeout)
        await closed
        clearTimeout(timer)
      } else {
        conn.socket.destroy()
        await closed
      }
    }
    const stopped = new SatelliteError(
      ErrorCodes.STOPPED,
      'the component was stopped',
      error ? { cause: error } : {},
    )
    this.#iq.rejectAll(stopped)
    this.#outbound.rejectAll(stopped)
    this.#rejectStart(error ?? stopped)
    if (this.#onAbort && this.options.signal) this.options.signal.removeEventListener('abort', this.#onAbort)
    this.#setStatus('stopped')
    if (!wasStopped || error) this.emit('stopped', { error })
  }

  // ---------------------------------------------------------------- sending

  /**
   * Sends a stanza. Online, it is written within this event-loop turn (writes are
   * coalesced) and the promise resolves at once; offline or while the socket pushes
   * back, it waits in the bounded queue and the promise settles when it is written,
   * or rejects with `SAT_ERR_QUEUE_FULL` / `SAT_ERR_STANZA_EXPIRED` / `SAT_ERR_STOPPED`.
   * A missing `from` is set to the domain; a `from` outside the domain or a missing
   * `to` rejects with `SAT_ERR_ADDRESS` (the server would close the stream).
   * Ignoring the promise is safe: losses are also reported by the `dropped` event.
   *
   * @example
   * ```ts
   * await xmpp.send(xml('message', { to: 'alice@example.org', from: 'bot@echo.example.org' }, xml('body', {}, 'hi')))
   * ```
   */
  send(stanza: Element): Promise<void> {
    if (!(stanza instanceof Element)) {
      return quietReject(
        new SatelliteError(
          ErrorCodes.INVALID_STANZA,
          `send() expects an Element built with xml(), got ${typeof stanza}`,
        ),
      )
    }
    if (this.#stopping) {
      return quietReject(new SatelliteError(ErrorCodes.STOPPED, 'send() after stop()'))
    }
    const name = stanza.name
    if (name === 'message' || name === 'presence' || name === 'iq') {
      const attrs = stanza.attrs
      const to = attrs.to as string | undefined
      if (!to) {
        return quietReject(
          new SatelliteError(ErrorCodes.ADDRESS, `<${name}> without 'to': the server would reject it`),
        )
      }
      const from = attrs.from as string | undefined
      if (from === undefined || from === '') attrs.from = this.domain
      else if (from !== this.domain && !fromInDomain(from, this.domain)) {
        return quietReject(
          new SatelliteError(
            ErrorCodes.ADDRESS,
            `<${name}> from '${from}' is outside ${this.domain}: the server would close the stream with invalid-from`,
          ),
        )
      }
      if (name === 'presence' && this.#caps && attrs.type === undefined) this.#addCaps(stanza)
    }
    let data: string
    try {
      data = serialize(stanza)
    } catch (err) {
      // A name that is not an XML name (SAT_ERR_XML_NAME): refused before anything is written.
      logOut.error('refused a stanza: %s', (err as Error).message)
      return quietReject(err as Error)
    }
    const max = this.options.limits.maxOutboundStanzaBytes
    if (data.length * 3 > max && Buffer.byteLength(data) > max) {
      return quietReject(
        new SatelliteError(
          ErrorCodes.STANZA_TOO_BIG,
          `<${name}> of ${Buffer.byteLength(data)} bytes is over limits.maxOutboundStanzaBytes (${max}); the server would close the stream`,
        ),
      )
    }
    return this.#outbound.push(data)
  }

  /**
   * Sends an iq get/set and resolves with the `result` stanza; rejects with a
   * `StanzaError` for an `error` answer, `SAT_ERR_IQ_TIMEOUT`, `SAT_ERR_IQ_DISCONNECTED`
   * or `SAT_ERR_IQ_TOO_MANY`. Answers are matched on `id` and on the sender being the
   * JID the request went to. An `id` is generated when absent.
   *
   * @example
   * ```ts
   * const res = await xmpp.request(xml('iq', { type: 'get', to: 'alice@example.org/phone' },
   *   xml('query', { xmlns: 'jabber:iq:version' })), { timeout: 5000 })
   * ```
   */
  request(iq: Element, options: RequestOptions = {}): Promise<Stanza> {
    if (
      !(iq instanceof Element) ||
      iq.name !== 'iq' ||
      (iq.attrs.type !== 'get' && iq.attrs.type !== 'set')
    ) {
      return quietReject(
        new SatelliteError(ErrorCodes.INVALID_STANZA, "request() expects an <iq type='get'|'set'>"),
      )
    }
    const to = iq.attrs.to as string | undefined
    if (!to) return quietReject(new SatelliteError(ErrorCodes.ADDRESS, "request(): the iq has no 'to'"))
    if (this.#iq.size >= this.options.limits.maxPendingRequests) {
      return quietReject(
        new SatelliteError(
          ErrorCodes.IQ_TOO_MANY,
          `${this.#iq.size} iq requests already wait for answers (limits.maxPendingRequests)`,
        ),
      )
    }
    let id = iq.attrs.id as string | undefined
    if (!id || this.#iq.has(id)) {
      id = this.#iq.nextId()
      iq.attrs.id = id
    }
    const timeout = options.timeout ?? this.options.requestTimeout
    const p = this.#iq.add(id, to, timeout, this.online)
    const rid = id
    this.send(iq).catch((err: Error) => this.#iq.fail(rid, err))
    return p
  }

  // ---------------------------------------------------------------- connection

  #setStatus(status: Status, detail?: ReconnectInfo): void {
    this.#status = status
    logConn('status %s', status)
    if (detail) this.emit('status', status, detail)
    else this.emit('status', status)
  }

  #connect(): void {
    const o = this.options
    const gen = ++this.#gen
    this.#setStatus('connecting')
    const { host, port, tls: useTls } = o.service
    if (!useTls && !LOOPBACK.test(host) && !this.#warnedPlaintext) {
      this.#warnedPlaintext = true
      process.emitWarning(
        `Satellite connects to ${host}:${port} in plaintext: XEP-0114 has no encryption of its own. Keep the component port on loopback or use xmpps:// (direct TLS).`,
        { code: 'SAT_WARN_PLAINTEXT' },
      )
    }
    logConn('connecting to %s:%d (%s)', host, port, useTls ? 'tls' : 'tcp')
    let socket: Net.Socket
    if (useTls) {
      const t = o.tls
      const opts: Tls.ConnectionOptions = { host, port, rejectUnauthorized: t.rejectUnauthorized ?? true }
      const servername = t.servername ?? (net.isIP(host) ? undefined : host)
      if (servername !== undefined) opts.servername = servername
      if (t.ca !== undefined) opts.ca = t.ca
      if (t.cert !== undefined) opts.cert = t.cert
      if (t.key !== undefined) opts.key = t.key
      socket = tls().connect(opts)
    } else {
      socket = net.connect({ host, port })
    }
    const parser = new StreamParser(
      {
        onStreamStart: (attrs) => this.#onStreamStart(conn, attrs),
        onStanza: (stanza) => this.#onStanza(conn, stanza),
        onStreamEnd: () => this.#onStreamEnd(conn),
        onError: (err) => this.#onXmlError(conn, err),
      },
      { maxStanzaBytes: o.limits.maxStanzaBytes, maxDepth: o.limits.maxDepth },
    )
    const conn: Connection = {
      gen,
      socket,
      parser,
      handshakeTimer: null,
      online: false,
      onlineAt: 0,
      error: undefined,
      reason: 'closed',
      klass: 'retry',
      closing: false,
    }
    this.#conn = conn
    conn.handshakeTimer = setTimeout(() => {
      conn.handshakeTimer = null
      const what = conn.parser.root === null ? 'the stream header' : 'the handshake answer'
      this.#fail(
        conn,
        new SatelliteError(
          ErrorCodes.HANDSHAKE_TIMEOUT,
          `no ${what} from ${o.service.url} within ${o.handshakeTimeout} ms (handshakeTimeout)`,
        ),
        'timeout',
        'retry',
      )
      socket.destroy()
    }, o.handshakeTimeout)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, 30_000)
    socket.once(useTls ? 'secureConnect' : 'connect', () => {
      logConn('connected; sending stream header for %s', this.domain)
      this.#setStatus('authenticating')
      socket.write(streamHeader(this.domain))
    })
    socket.on('data', (chunk: Buffer) => {
      this.#lastReadAt = Date.now()
      conn.parser.write(chunk)
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const code = err.code ?? 'error'
      const fatalTls = isTlsConfigError(code)
      const msg = fatalTls
        ? `TLS to ${o.service.url} failed: ${err.message} (check tls.ca / tls.servername, or the certificate of the server)`
        : `${code} on ${o.service.url}: ${err.message}`
      this.#fail(
        conn,
        new SatelliteError(ErrorCodes.TRANSPORT, msg, { cause: err, fatal: fatalTls }),
        code,
        fatalTls ? 'fatal' : 'retry',
      )
    })
    socket.on('close', () => this.#onClose(conn))
  }

  /** Records why `conn` is ending (first reason wins). */
  #fail(conn: Connection, error: Error, reason: string, klass: DisconnectClass): void {
    if (conn.error !== undefined) return
    conn.error = error
    conn.reason = reason
    conn.klass = klass
    logConn.error('%s', error.message)
  }

  #onStreamStart(conn: Connection, attrs: Record<string, string>): void {
    if (attrs.xmlns !== NS_COMPONENT) {
      const got = attrs.xmlns ?? '(none)'
      this.#fail(
        conn,
        new StreamError(
          'invalid-namespace',
          undefined,
          `the server opened a ${got} stream, not jabber:component:accept: XMPP_SERVICE points at a client or server port, not the component port`,
          { fatal: true },
        ),
        'invalid-namespace',
        'fatal',
      )
      this.#closeWithError(conn, 'invalid-namespace')
      return
    }
    const id = attrs.id
    logStream('stream header received (id %s)', id ? 'present' : 'missing')
    if (!id) return // Prosody sends id='' then a stream error (host-unknown): wait for it.
    conn.socket.write(`<handshake>${handshakeDigest(id, this.options.secret)}</handshake>`)
  }

  #onStanza(conn: Connection, stanza: Stanza): void {
    if (conn.gen !== this.#gen) return
    const name = stanza.name
    if (name === 'stream:error' || (name === 'error' && stanza.getNS() === NS_STREAMS)) {
      this.#onStreamError(conn, stanza)
      return
    }
    if (!conn.online) {
      if (name === 'handshake') {
        this.#onOnline(conn)
        return
      }
      if (name === 'stream:features') {
        this.#fail(
          conn,
          new SatelliteError(
            ErrorCodes.PROTOCOL,
            `the server offered stream features: ${this.options.service.url} is a client or server port, not a XEP-0114 component port`,
            { fatal: true },
          ),
          'stream-features',
          'fatal',
        )
        this.#closeWithError(conn, 'invalid-namespace')
        return
      }
      this.#fail(
        conn,
        new SatelliteError(ErrorCodes.PROTOCOL, `unexpected <${name}> before the handshake answer`),
        'protocol',
        'retry',
      )
      this.#closeWithError(conn, 'unsupported-stanza-type')
      return
    }
    this.stats.stanzasIn++
    if (this.#inflight >= this.options.limits.concurrency || this.#inboxHead < this.#inbox.length) {
      this.#inbox.push(stanza)
      if (!this.#behind) {
        this.#behind = true
        logRoute('handlers behind (%d running): pausing the socket', this.#inflight)
        this.#syncReading()
      }
      return
    }
    this.#dispatch(stanza)
  }

  #onOnline(conn: Connection): void {
    if (conn.handshakeTimer) clearTimeout(conn.handshakeTimer)
    conn.handshakeTimer = null
    conn.online = true
    conn.onlineAt = Date.now()
    this.jid = parseJid(this.domain)
    logConn('online as %s', this.domain)
    this.#iq.markOnWire()
    this.#outbound.attach(conn.socket)
    this.#startTimers(conn)
    this.#setStatus('online')
    this.emit('online', this.jid)
    const waiters = this.#startWaiters
    this.#startWaiters = []
    for (const w of waiters) w.resolve(this.jid)
  }

  #onStreamError(conn: Connection, el: Element): void {
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
    const message = explainStreamError(condition, this.domain, text)
    const err = new StreamError(condition, text, message, {
      fatal: klass === 'fatal',
      code: condition === 'not-authorized' ? ErrorCodes.AUTH : ErrorCodes.STREAM,
    })
    this.#fail(conn, err, condition, klass)
    conn.closing = true
    conn.parser.close()
    if (!conn.socket.destroyed) {
      conn.socket.end('</stream:stream>')
      setTimeout(() => conn.socket.destroy(), 1000).unref()
    }
  }

  #onStreamEnd(conn: Connection): void {
    logStream('the server closed the stream')
    this.#fail(
      conn,
      new SatelliteError(ErrorCodes.STREAM, 'the server closed the stream'),
      'stream-closed',
      'retry',
    )
    conn.closing = true
    if (!conn.socket.destroyed) {
      this.#outbound.detach()
      conn.socket.end('</stream:stream>')
      setTimeout(() => conn.socket.destroy(), 1000).unref()
    }
  }

  #onXmlError(conn: Connection, err: XmlViolationError): void {
    this.#fail(
      conn,
      new SatelliteError(
        ErrorCodes.XML,
        `the server sent invalid XML: ${err.message}; closed with <${err.condition}/>`,
      ),
      err.condition,
      'retry',
    )
    this.#closeWithError(conn, err.condition, err.message)
  }

  #closeWithError(conn: Connection, condition: string, text?: string): void {
    conn.parser.close()
    if (conn.socket.destroyed) return
    this.#outbound.detach()
    conn.socket.end(streamErrorXml(condition, text))
    setTimeout(() => conn.socket.destroy(), 1000).unref()
  }

  #onClose(conn: Connection): void {
    if (conn.handshakeTimer) clearTimeout(conn.handshakeTimer)
    conn.handshakeTimer = null
    conn.parser.close()
    if (this.#conn !== conn) return
    this.#conn = null
    this.#clearTimers()
    this.#outbound.detach()
    this.#iq.disconnected()
    this.#paused = false
    this.#behind = false
    const wasOnline = conn.online
    conn.online = false
    const error = conn.error
    const reason = error ? conn.reason : 'closed'
    if (wasOnline) {
      logConn('offline (%s)', reason)
      this.#setStatus('offline')
      this.emit('offline', { reason, error })
    }
    if (this.#stopping) return
    if (error && this.listenerCount('error') > 0) this.emit('error', error)
    const klass = error ? conn.klass : 'retry'
    if (klass === 'fatal') {
      void this.#fatal(error as Error)
      return
    }
    if (this.#backoff === null) {
      // No reconnect: the error that ended the connection is the one to report.
      void this.#fatal(
        error ??
          new SatelliteError(
            ErrorCodes.RECONNECT_EXHAUSTED,
            `connection ended (${reason}) and reconnect is disabled`,
            {
              fatal: true,
            },
          ),
      )
      return
    }
    if (
      wasOnline &&
      Date.now() - conn.onlineAt >= (this.options.reconnect as { stableAfter: number }).stableAfter
    ) {
      this.#backoff.reset()
    }
    if (this.#backoff.exhausted) {
      void this.#fatal(
        new SatelliteError(
          ErrorCodes.RECONNECT_EXHAUSTED,
          `gave up after ${this.#backoff.attempts} failed attempts (reconnect.maxAttempts); last: ${error?.message ?? reason}`,
          { cause: error, fatal: true },
        ),
      )
      return
    }
    const delay = this.#backoff.next(klass)
    this.stats.reconnect(reason)
    const info: ReconnectInfo = { delay, attempt: this.#backoff.attempts, reason, error }
    logConn('reconnecting in %d ms (attempt %d, %s)', delay, info.attempt, reason)
    this.#setStatus('reconnecting', info)
    this.emit('reconnecting', info)
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null
      this.#connect()
    }, delay)
  }

  async #fatal(error: Error): Promise<void> {
    logConn.error('stopping: %s', error.message)
    if (this.#stopPromise) return
    this.#stopPromise = this.#doStop(error)
    await this.#stopPromise
  }

  #rejectStart(err: Error): void {
    const waiters = this.#startWaiters
    this.#startWaiters = []
    for (const w of waiters) w.reject(err)
  }

  #clearReconnect(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = null
  }

  #startTimers(conn: Connection): void {
    const o = this.options
    this.#lastReadAt = Date.now()
    if (o.keepalive !== false) {
      const every = o.keepalive
      this.#keepaliveTimer = setInterval(
        () => {
          if (Date.now() - this.#outbound.lastWriteAt >= every && !this.#outbound.congested) {
            this.#outbound.writeRaw(' ')
          }
        },
        Math.max(1, Math.floor(every / 2)),
      )
      this.#keepaliveTimer.unref()
    }
    const ping = o.ping
    if (ping !== false) {
      let waiting = false
      this.#pingTimer = setInterval(
        () => {
          if (waiting || Date.now() - this.#lastReadAt < ping.interval) return
          waiting = true
          const iq = xml(
            'iq',
            { type: 'get', to: ping.to, from: this.domain },
            xml('ping', { xmlns: NS_PING }),
          )
          this.request(iq, { timeout: ping.timeout }).then(
            () => {
              waiting = false
            },
            (err: Error) => {
              waiting = false
              if (err instanceof StanzaError) return // an error answer still proves the link is alive
              if (
                this.#conn !== conn ||
                !(err instanceof SatelliteError) ||
                err.code !== ErrorCodes.IQ_TIMEOUT
              )
                return
              this.#fail(
                conn,
                new SatelliteError(
                  ErrorCodes.PING_TIMEOUT,
                  `no answer to a ping within ${ping.timeout} ms: the link is dead`,
                ),
                'ping-timeout',
                'retry',
              )
              conn.socket.destroy()
            },
          )
        },
        Math.max(1, Math.floor(ping.interval / 2)),
      )
      this.#pingTimer.unref()
    }
  }

  #clearTimers(): void {
    if (this.#keepaliveTimer) clearInterval(this.#keepaliveTimer)
    if (this.#pingTimer) clearInterval(this.#pingTimer)
    this.#keepaliveTimer = null
    this.#pingTimer = null
  }

  // ---------------------------------------------------------------- dispatch

  #dispatch(stanza: Stanza): void {
    if (this.listenerCount('stanza') > 0) this.emit('stanza', stanza)
    const name = stanza.name
    let result: unknown
    try {
      if (name === 'message') {
        const h = this.#router.find(this.#router.message, stanza)
        if (h === undefined) return
        result = h(stanza)
      } else if (name === 'presence') {
        const h = this.#router.find(this.#router.presence, stanza)
        if (h === undefined) return
        result = h(stanza)
      } else if (name === 'iq') {
        result = this.#dispatchIq(stanza)
      } else {
        logRoute('ignoring top-level <%s>', name)
        return
      }
    } catch (err) {
      this.#handlerError(stanza, err)
      return
    }
    if (result !== undefined && typeof (result as Promise<unknown>)?.then === 'function') {
      this.#inflight++
      ;(result as Promise<unknown>).then(this.#settled, (err: unknown) => {
        this.#handlerError(stanza, err)
        this.#settled()
      })
    }
  }

  #settled = (): void => {
    this.#inflight--
    const limit = this.options.limits.concurrency
    while (this.#inboxHead < this.#inbox.length && this.#inflight < limit) {
      const next = this.#inbox[this.#inboxHead] as Stanza
      this.#inbox[this.#inboxHead++] = undefined as unknown as Stanza
      this.#dispatch(next)
    }
    if (this.#inboxHead >= this.#inbox.length) {
      this.#inbox = []
      this.#inboxHead = 0
      if (this.#behind) {
        this.#behind = false
        logRoute('handlers caught up')
        this.#syncReading()
      }
    }
  }

  /**
   * Reads from the socket only while handlers keep up and the socket accepts our writes:
   * a peer that floods us while not reading our answers is pushed back by TCP, and memory
   * stays bounded.
   */
  #syncReading = (): void => {
    const conn = this.#conn
    if (conn === null || conn.socket.destroyed) return
    const pause = this.#behind || this.#outbound.congested
    if (pause === this.#paused) return
    this.#paused = pause
    if (pause) conn.socket.pause()
    else conn.socket.resume()
  }

  #handlerError(stanza: Stanza, err: unknown): void {
    const error =
      err instanceof Error
        ? err
        : new SatelliteError(ErrorCodes.STANZA, `handler threw a non-Error: ${String(err)}`)
    logRoute.error('handler for <%s> failed: %s', stanza.name, error.message)
    if (this.listenerCount('error') > 0) this.emit('error', error)
  }

  /** iq: results/errors go to the caller; get/set get exactly one reply. */
  #dispatchIq(iq: Stanza): unknown {
    const type = iq.attrs.type
    if (type === 'result' || type === 'error') {
      if (!this.#iq.settle(iq)) logRoute('unmatched iq %s id=%s from=%s', type, iq.attrs.id, iq.attrs.from)
      return undefined
    }
    if (type !== 'get' && type !== 'set') {
      this.#reply(
        errorReply(
          iq,
          new StanzaError('bad-request', { text: `iq type '${type}' is not get, set, result or error` }),
        ),
      )
      return undefined
    }
    let payload: Element | undefined
    let count = 0
    for (const c of iq.children) {
      if (typeof c === 'string') continue
      count++
      payload = c as Element
    }
    if (count !== 1 || payload === undefined) {
      this.#reply(
        errorReply(
          iq,
          new StanzaError('bad-request', { text: 'an iq get/set must carry exactly one payload' }),
        ),
      )
      return undefined
    }
    const handler = this.#router.findIq(type, iq)
    if (handler === undefined) {
      this.#reply(errorReply(iq, new StanzaError('service-unavailable')))
      return undefined
    }
    let answer: ReturnType<IqHandler>
    try {
      answer = handler(iq, payload)
    } catch (err) {
      this.#iqError(iq, err)
      return undefined
    }
    if (answer !== undefined && typeof (answer as Promise<unknown>).then === 'function') {
      // biome-ignore lint/suspicious/noConfusingVoidType: handlers may return nothing
      return (answer as Promise<Element | undefined | void>).then(
        (res) => this.#iqResult(iq, res),
        (err: unknown) => this.#iqError(iq, err),
      )
    }
    this.#iqResult(iq, answer as Element | undefined)
    return undefined
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: handlers may return nothing
  #iqResult(iq: Stanza, res: Element | undefined | void): void {
    if (res !== undefined && !(res instanceof Element)) {
      this.#iqError(iq, new TypeError('iq handler returned something that is not an Element'))
      return
    }
    this.#reply(iqResult(iq, res ?? undefined), iq)
  }

  #iqError(iq: Stanza, err: unknown): void {
    if (err instanceof StanzaError) {
      this.#reply(errorReply(iq, err), iq)
      return
    }
    this.#handlerError(iq, err)
    this.#reply(errorReply(iq, new StanzaError('internal-server-error')))
  }

  /**
   * Sends an answer; losses are reported through 'dropped'. When the answer to `request` (an iq
   * get/set) is refused because the handler built a name that is not an XML name, the requester
   * still gets exactly one answer: `internal-server-error`, and the handler's error is reported.
   */
  #reply(stanza: Element, request?: Stanza): void {
    if (!stanza.attrs.to) return // nobody to answer (the server always stamps 'from')
    this.send(stanza).catch((err: unknown) => {
      if (request === undefined || !isSatelliteError(err, ErrorCodes.XML_NAME)) return
      this.#handlerError(request, err)
      this.#reply(errorReply(request, new StanzaError('internal-server-error')))
    })
  }

  #addCaps(presence: Element): void {
    const local = localOf(presence.attrs.from as string)
    if (presence.getChild('c', NS_CAPS)) return
    const ver = this.disco.capsVer(local)
    if (ver === null) return
    presence.c('c', { xmlns: NS_CAPS, hash: 'sha-1', node: this.disco.capsNode, ver })
  }
}

function localOf(address: string): string {
  const at = address.indexOf('@')
  const slash = address.indexOf('/')
  return at > 0 && (slash < 0 || at < slash) ? address.slice(0, at) : ''
}

/** True if `from` is the domain or a JID at it (user@domain, domain/res, user@domain/res). */
export function fromInDomain(from: string, domain: string): boolean {
  const slash = from.indexOf('/')
  const end = slash < 0 ? from.length : slash
  const start = end - domain.length
  if (start < 0) return false
  if (start > 0) {
    if (from.charCodeAt(start - 1) !== 64 /* @ */) return false
    if (from.lastIndexOf('@', start - 2) >= 0) return false
  }
  if (from.startsWith(domain, start)) return true
  return from.slice(start, end).toLowerCase() === domain
}

function isTlsConfigError(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_CERT') ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'CERT_HAS_EXPIRED' ||
    code === 'ERR_SSL_WRONG_VERSION_NUMBER'
  )
}

/**
 * Creates an external component (not yet connected; call `start()`).
 *
 * @example
 * ```ts
 * import { component, configFromEnv, xml } from '@satellite/core'
 * const xmpp = component(configFromEnv())
 * await xmpp.start()
 * ```
 */
export function component(options: ComponentOptions): Component {
  return new Component(options)
}
