import { localOf } from './address.js'
import { EventEmitter } from './builtins.js'
import { type ComponentOptions, type ResolvedOptions, resolveOptions } from './config.js'
import { ErrorCodes, SatelliteError } from './errors.js'
import type { ComponentEvents, ComponentListener, Status } from './events.js'
import { Inbound } from './inbound.js'
import { type JID, parseJid } from './jid.js'
import { logger } from './log.js'
import { type OutgoingHost, prepare, prepareEach } from './outgoing.js'
import { installResponders, NS_CAPS, NS_PING } from './responders/builtin.js'
import { Disco } from './responders/disco.js'
import { IqCaller } from './routing/iq.js'
import type { StanzaMatch } from './routing/match.js'
import { type IqHandler, type IqMatch, Router, type StanzaHandler, type Unroute } from './routing/router.js'
import { Stats } from './stats.js'
import { Outbound, quietReject, RESOLVED } from './stream/outbound.js'
import { type Liveness, Session } from './stream/session.js'
import { ExtraStream } from './streams.js'
import { type AttemptEvents, Supervisor } from './supervisor.js'
import { Element, xml } from './xml/element.js'
import type { Stanza } from './xml/stanza.js'

export type { ComponentEvents, ComponentListener, ReconnectInfo, Status } from './events.js'

const logOut = logger('outbound')

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
  readonly #router = new Router()
  readonly #outbound: Outbound
  readonly #iq = new IqCaller()
  readonly #inbound: Inbound
  readonly #supervisor: Supervisor<Session>
  readonly #caps: boolean
  readonly #outgoing: OutgoingHost
  readonly #liveness: Liveness
  /** Extra streams (openStream()) until closed. */
  readonly #extras = new Set<ExtraStream>()
  #warnedPlaintext = false

  constructor(options: ComponentOptions) {
    super()
    this.options = resolveOptions(options)
    const o = this.options
    this.domain = o.domain
    this.#outbound = new Outbound(
      o.queue,
      (data, error) => {
        logOut.error('dropped a stanza: %s', error.message)
        if (this.listenerCount('dropped') > 0) this.emit('dropped', { data, error })
      },
      () => this.#syncReading(),
    )
    this.#inbound = new Inbound({
      router: this.#router,
      concurrency: o.limits.concurrency,
      send: (stanza) => this.send(stanza),
      settle: (iq) => this.#iq.settle(iq),
      observe: (stanza) => {
        if (this.listenerCount('stanza') > 0) this.emit('stanza', stanza)
      },
      error: (err) => {
        if (this.listenerCount('error') > 0) this.emit('error', err)
      },
      pressure: () => this.#syncReading(),
    })
    this.stats = new Stats(
      this.#outbound,
      this.#iq,
      () => this.#inbound.inflight,
      () => this.#inbound.backlog,
    )
    this.#liveness = {
      keepalive: o.keepalive,
      ping: o.ping,
      lastWriteAt: () => this.#outbound.lastWriteAt,
      congested: () => this.#outbound.congested,
      writeRaw: (data) => this.#outbound.writeRaw(data),
      sendPing: (timeout) => {
        const to = o.ping === false ? this.domain : o.ping.to
        const iq = xml('iq', { type: 'get', to, from: this.domain }, xml('ping', { xmlns: NS_PING }))
        return this.request(iq, { timeout })
      },
    }
    this.#supervisor = new Supervisor(
      {
        emit: (event, ...args) => this.emit(event, ...args),
        listenerCount: (event) => this.listenerCount(event),
        open: (events) => this.#open(events),
        online: (session) => this.#online(session),
        ended: () => {
          this.#outbound.detach()
          this.#iq.disconnected()
        },
        flush: () => this.#outbound.flushNow(),
        stopped: (err) => {
          this.#iq.rejectAll(err)
          this.#outbound.rejectAll(err)
        },
        reconnect: (reason) => this.stats.reconnect(reason),
      },
      o,
    )
    this.disco = new Disco(this.#router, { category: 'component', type: 'generic', name: o.name })
    const caps = o.responders.caps
    if (typeof caps === 'object' && caps.node) this.disco.capsNode = caps.node
    if (typeof caps === 'object' && caps.cacheSize !== undefined) this.disco.capsCacheSize = caps.cacheSize
    this.#caps = caps !== false && o.responders.disco !== false
    this.#outgoing = {
      domain: o.domain,
      caps: this.#caps,
      maxBytes: o.limits.maxOutboundStanzaBytes,
      addCaps: (p) => this.#addCaps(p),
    }
    this.#router.onChange = () => this.disco.invalidate()
    installResponders(this.#router, this.disco, o.responders)
  }

  /** Current lifecycle state. */
  get status(): Status {
    return this.#supervisor.state.status
  }

  /** True between a successful handshake and the end of that connection. */
  get online(): boolean {
    return this.#supervisor.state.status === 'online'
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
    return this.#supervisor.start()
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
    const main = this.#supervisor.stop()
    if (this.#extras.size === 0) return main
    const extras = [...this.#extras].map((e) => e.close())
    return Promise.all([main, ...extras]).then(() => undefined)
  }

  /**
   * Opens one more stream for the component's domain (ejabberd's `domain_balancing` spreads
   * stanzas over a domain's streams; with `component_number`, a survivor claims a dead
   * instance's slot this way). Stanzas the server routes to it go through the component's routes,
   * handlers and limits; the component's own writes go through its main stream. Call `start()`
   * on it; `close()` (or the component's `stop()`) ends it. Prosody accepts one stream per domain:
   * there an extra stream is refused with `conflict` and retries under the reconnect policy.
   *
   * @example
   * ```ts
   * const extra = xmpp.openStream()
   * await extra.start()
   * console.log(xmpp.streams) // 2
   * ```
   */
  openStream(): ExtraStream {
    const extra = new ExtraStream(
      {
        receive: (stanza) => {
          this.stats.stanzasIn++
          this.#inbound.receive(stanza)
        },
        behind: () => this.#inbound.behind,
        reconnect: (reason) => this.stats.reconnect(reason),
      },
      this.options,
      () => this.#extras.delete(extra),
    )
    this.#extras.add(extra)
    return extra
  }

  /** Streams online now: the main one and the extra ones (see {@link Component.openStream}). */
  get streams(): number {
    let n = this.online ? 1 : 0
    for (const e of this.#extras) if (e.online) n++
    return n
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
    if (this.#supervisor.halted) {
      return quietReject(new SatelliteError(ErrorCodes.STOPPED, 'send() after stop()'))
    }
    const data = prepare(this.#outgoing, stanza)
    return typeof data === 'string' ? this.#outbound.push(data) : quietReject(data)
  }

  /**
   * Sends one stanza to each of `recipients` (a room's message to its occupants): checked and
   * serialized once, then written once per recipient with its `to`, in order. Resolves once all
   * are written or queued; rejects, writing none, for what {@link Component.send} rejects (a bad
   * recipient, a `from` outside the domain, a name that is not an XML name, a stanza too big),
   * and per copy as `send()` does when the queue is full. The stanza's own `to` is ignored.
   *
   * @example
   * ```ts
   * await xmpp.sendEach(xml('message', { from: 'room@chat.example.org/alice', type: 'groupchat' },
   *   xml('body', {}, 'hi all')), ['bob@example.org/phone', 'carol@example.org/pc'])
   * ```
   */
  sendEach(stanza: Element, recipients: Iterable<string>): Promise<void> {
    if (this.#supervisor.halted) {
      return quietReject(new SatelliteError(ErrorCodes.STOPPED, 'sendEach() after stop()'))
    }
    const copies = prepareEach(this.#outgoing, stanza, recipients)
    if (!Array.isArray(copies)) return quietReject(copies)
    const waiting: Promise<void>[] = []
    for (const data of copies) {
      const p = this.#outbound.push(data)
      if (p !== RESOLVED) waiting.push(p)
    }
    return waiting.length === 0 ? RESOLVED : Promise.all(waiting).then(() => undefined)
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

  /** A connection attempt for the supervisor: a {@link Session} whose stanzas go to the inbound path. */
  #open(events: AttemptEvents): Session {
    const o = this.options
    const { host, port, tls } = o.service
    if (!tls && !LOOPBACK.test(host) && !this.#warnedPlaintext) {
      this.#warnedPlaintext = true
      process.emitWarning(
        `Satellite connects to ${host}:${port} in plaintext: XEP-0114 has no encryption of its own. Keep the component port on loopback or use xmpps:// (direct TLS).`,
        { code: 'SAT_WARN_PLAINTEXT' },
      )
    }
    const session = new Session(
      { ...o, liveness: this.#liveness },
      {
        connected: events.connected,
        online: events.online,
        stanza: (stanza) => {
          this.stats.stanzasIn++
          this.#inbound.receive(stanza)
        },
        closing: () => this.#outbound.detach(),
        closed: events.closed,
      },
    )
    return session
  }

  /** The handshake succeeded: the outbound path writes to the session from now on. */
  #online(session: Session): JID {
    this.jid = parseJid(this.domain)
    this.#iq.markOnWire()
    this.#outbound.attach(session.socket)
    if (this.#inbound.behind || this.#outbound.congested) session.pauseReading()
    return this.jid
  }

  /**
   * Reads from the socket only while handlers keep up and the socket accepts our writes:
   * a peer that floods us while not reading our answers is pushed back by TCP, and memory
   * stays bounded.
   */
  #syncReading(): void {
    const behind = this.#inbound.behind
    for (const e of this.#extras) e.sync(behind)
    const session = this.#supervisor.attempt
    if (session === null || session.phase === 'connecting' || session.phase === 'authenticating') return
    if (this.#inbound.behind || this.#outbound.congested) session.pauseReading()
    else session.resumeReading()
  }

  #addCaps(presence: Element): void {
    const local = localOf(presence.attrs.from as string)
    if (presence.getChild('c', NS_CAPS)) return
    const ver = this.disco.capsVer(local)
    if (ver === null) return
    presence.c('c', { xmlns: NS_CAPS, hash: 'sha-1', node: this.disco.capsNode, ver })
  }
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
