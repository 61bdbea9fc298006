import { once } from 'node:events'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { type Behaviour, BehaviourQueue } from './behaviour.js'
import type { ClientHost, SimulatedClient } from './client.js'
import { ServerConnection } from './connection.js'
import type { ConnectionHost } from './connection-types.js'
import { TypedEmitter } from './events.js'
import { tryParseJid } from './jid.js'
import { logger } from './log.js'
import { resolveOptions, type ServerOptions, type ServerResolvedOptions } from './options.js'
import { type RoutedEvent, Router, type UndeliveredStanza } from './router.js'
import { Timers } from './timers.js'
import type { Element } from './xml.js'

const log = logger('server')

/**
 * Events of a {@link TestServer}.
 * @example
 * server.on('connection', (conn) => conn.behave({ noHandshakeReply: true }))
 * server.on('stanza', (stanza, conn) => console.log(conn.domain, stanza.toString()))
 */
export interface TestServerEvents {
  /** Every accepted TCP connection, before its stream header is read: script faults here. */
  connection: [conn: ServerConnection]
  /** A component completed its handshake. */
  authenticated: [conn: ServerConnection]
  /** Every stanza received from a component (before validation and routing). */
  stanza: [stanza: Element, conn: ServerConnection]
  /** Every stanza routed by the server, with its outcome. */
  routed: [event: RoutedEvent]
  /** A component connection closed. */
  disconnect: [conn: ServerConnection]
  /** The listener is (again) accepting connections. */
  listening: []
  /** `close()` finished. */
  close: []
}

/**
 * Options of {@link TestServer.waitForComponent}.
 * @example
 * await server.waitForComponent('echo.localhost', { timeout: 5000, fresh: true })
 */
export interface WaitForComponentOptions {
  /** Milliseconds; default 5000. */
  timeout?: number
  /** Ignore connections authenticated already; wait for the next handshake. Default false. */
  fresh?: boolean
}

/**
 * Options of {@link TestServer.refuseConnections}.
 * @example
 * await server.refuseConnections(500, { mode: 'unlisten' })
 */
export interface RefuseOptions {
  /**
   * `'reset'` (default): keep listening, but accept each new TCP connection and reset it at once
   * (ECONNRESET, or EPIPE on first write, for the component). `'unlisten'`: close the listening
   * socket (ECONNREFUSED), then listen again on the same port.
   */
  mode?: 'reset' | 'unlisten'
}

/**
 * Creates and starts an embedded XEP-0114 server (see {@link ServerOptions}); resolves once it
 * listens.
 * @example
 * const server = await createServer({ components: { 'echo.localhost': 'secret' } })
 * // connect your component to server.url with domain echo.localhost and password secret
 * const alice = server.client('alice@localhost/phone')
 * await server.close()
 */
export async function createServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = new TestServer(options)
  await server.listen()
  return server
}

/**
 * An embedded XEP-0114 server that emulates Prosody or ejabberd on the wire, with simulated
 * clients and fault injection. Create it with {@link createServer}.
 * @example
 * const server = await createServer({ components: { 'echo.localhost': 'secret' } })
 * const conn = await server.waitForComponent('echo.localhost')
 * const alice = server.client('alice@localhost')
 * alice.send("<message to='echo.localhost'><body>hi</body></message>")
 * await alice.expectStanza({ name: 'message', body: 'hi' })
 * await server.close()
 */
export class TestServer extends TypedEmitter<TestServerEvents> {
  /** The resolved options (flavour presets applied). */
  readonly options: ServerResolvedOptions
  readonly #router: Router
  readonly #net: NetServer
  readonly #connections = new Set<ServerConnection>()
  readonly #sockets = new Set<Socket>()
  readonly #behaviour = new BehaviourQueue()
  readonly #timers = new Timers()
  readonly #waiters = new Set<(error: Error) => void>()
  #port: number
  #listening = false
  #refuseUntil = 0
  #accepted = 0
  #closing: Promise<void> | undefined

  /** @internal use {@link createServer} */
  constructor(options: ServerOptions = {}) {
    super()
    this.options = resolveOptions(options)
    this.#port = this.options.port
    this.#router = new Router(this.options, (event) => this.emit('routed', event))
    this.#net = createNetServer((socket) => this.#accept(socket))
    this.#net.on('error', (err) => log.error('listener error: %s', err.message))
  }

  /** `xmpp://host:port`, the service URL for components. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host
    return `xmpp://${host}:${this.#port}`
  }

  /** The listening port (stays the same across `restart()`). */
  get port(): number {
    return this.#port
  }

  /** The server's own domain. */
  get domain(): string {
    return this.options.domain
  }

  /** Open component connections (authenticated or not), oldest first. */
  get connections(): ServerConnection[] {
    return [...this.#connections]
  }

  /** Simulated clients currently open. */
  get clients(): SimulatedClient[] {
    return this.#router.clients()
  }

  /** Stanzas the server could neither deliver nor bounce, in order. */
  get undelivered(): UndeliveredStanza[] {
    return this.#router.undelivered
  }

  /** True while the listening socket is open. */
  get listening(): boolean {
    return this.#listening
  }

  /**
   * Authenticated connections for a component domain, oldest first (several only with
   * `conflict: 'balance'`).
   * @example
   * expect(server.connectionsFor('echo.localhost')).toHaveLength(2)
   */
  connectionsFor(domain: string): ServerConnection[] {
    return this.#router.connectionsFor(domain)
  }

  /** Starts listening (done by {@link createServer}). @internal */
  async listen(): Promise<void> {
    if (this.#listening || this.#closing) return
    this.#net.listen({ host: this.options.host, port: this.#port })
    await once(this.#net, 'listening')
    const address = this.#net.address()
    if (address && typeof address === 'object') this.#port = address.port
    this.#listening = true
    log('listening on %s (%s)', this.url, this.options.flavour)
    this.emit('listening')
  }

  /**
   * Resolves with the authenticated connection of a component domain: the newest one already
   * connected, or the next to complete its handshake. Rejects after `timeout` (default 5000 ms).
   * @example
   * const conn = await server.waitForComponent('echo.localhost', { timeout: 2000 })
   */
  waitForComponent(domain: string, options: WaitForComponentOptions = {}): Promise<ServerConnection> {
    const wanted = domain.toLowerCase()
    const current = this.#router.connectionsFor(wanted).at(-1)
    if (current && !options.fresh) return Promise.resolve(current)
    if (this.#closing) return Promise.reject(new Error('server is closed'))
    const timeout = options.timeout ?? 5000
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        this.#timers.clear(timer)
        this.off('authenticated', onAuth)
        this.#waiters.delete(fail)
      }
      const onAuth = (conn: ServerConnection) => {
        if (conn.domain !== wanted) return
        cleanup()
        resolve(conn)
      }
      const fail = (error: Error) => {
        cleanup()
        reject(error)
      }
      const timer = this.#timers.set(() => {
        const seen = this.connections.map((c) => `#${c.id} ${c.domain ?? '(no header yet)'}`).join(', ')
        fail(
          new Error(
            `waitForComponent(${wanted}): no handshake within ${timeout} ms; open connections: ${seen || 'none'}`,
          ),
        )
      }, timeout)
      this.on('authenticated', onAuth)
      this.#waiters.add(fail)
    })
  }

  /**
   * Creates (or returns the open) simulated client for a JID at the server's domain. A bare JID
   * gets a generated resource.
   * @example
   * const alice = server.client('alice@localhost/phone')
   * const bob = server.client('bob@localhost') // bob@localhost/<random>
   */
  client(jid: string): SimulatedClient {
    if (this.#closing) throw new Error('server is closed')
    const parsed = tryParseJid(jid)
    if (!parsed?.local) throw new TypeError(`Not a user JID: ${jid}`)
    if (parsed.domain !== this.options.domain) {
      throw new TypeError(`Simulated clients live at ${this.options.domain}, not ${parsed.domain}`)
    }
    const full = parsed.resource
      ? parsed
      : tryParseJid(`${parsed.bare}/res-${Math.random().toString(36).slice(2, 10)}`)!
    const host: ClientHost = {
      domain: this.options.domain,
      recordLimit: this.options.recordLimit,
      routeFromClient: (stanza, client) => this.#router.fromClient(stanza, client),
      removeClient: (client) => this.#router.removeClient(client),
    }
    return this.#router.addClient(full, host)
  }

  /**
   * Sets the misbehaviour of upcoming connections (all of them, or the next `times`); `null`
   * clears it. Already open connections are not affected.
   * @example
   * server.behave({ rejectHandshake: { condition: 'conflict', text: 'busy' }, times: 1 })
   * server.behave({ noHeader: true })
   * server.behave(null)
   */
  behave(behaviour: Behaviour | null): void {
    this.#behaviour.set(behaviour)
  }

  /**
   * Refuses new TCP connections for `ms` milliseconds; open connections stay. Resolves once the
   * refusal is in effect (it ends by itself). See {@link RefuseOptions} for the two modes.
   * @example
   * await server.refuseConnections(300) // accept-and-reset for 300 ms
   */
  async refuseConnections(ms: number, options: RefuseOptions = {}): Promise<void> {
    if (this.#closing) return
    if ((options.mode ?? 'reset') === 'reset') {
      this.#refuseUntil = Date.now() + ms
      return
    }
    await this.#unlisten()
    this.#timers.set(() => {
      this.listen().catch((err: Error) => log.error('re-listen failed: %s', err.message))
    }, ms)
  }

  /**
   * Simulates a restart of a SIGTERM'd server: every connection is closed at the TCP level
   * (no stream error, no `</stream:stream>`), the port is closed for `downMs` (default 0), then
   * the server listens again on the same port. Resolves once it listens again. Simulated
   * clients survive.
   * @example
   * await server.restart({ downMs: 200 })
   * await server.waitForComponent('echo.localhost')
   */
  async restart(options: { downMs?: number } = {}): Promise<void> {
    if (this.#closing) throw new Error('server is closed')
    log('restart (down %d ms)', options.downMs ?? 0)
    const closing = this.connections.map((conn) => conn.closed)
    for (const conn of this.connections) conn.destroy()
    await this.#unlisten()
    await Promise.all(closing)
    if ((options.downMs ?? 0) > 0) await this.#timers.sleep(options.downMs ?? 0)
    if (this.#closing) return
    await this.listen()
  }

  /**
   * Closes everything: listener, connections (TCP destroy), clients, timers and pending
   * expectations. Idempotent; resolves when all sockets are closed.
   * @example
   * afterEach(() => server.close())
   */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    log('closing')
    this.#timers.clearAll()
    for (const fail of [...this.#waiters]) fail(new Error('server closed'))
    const closing = this.connections.map((conn) => conn.closed)
    for (const conn of this.connections) conn.destroy()
    for (const socket of this.#sockets) socket.destroy()
    for (const client of this.clients) client.close()
    await this.#unlisten()
    await Promise.all(closing)
    this.emit('close')
  }

  async #unlisten(): Promise<void> {
    if (!this.#listening) return
    this.#listening = false
    await new Promise<void>((resolve) => this.#net.close(() => resolve()))
  }

  #accept(socket: Socket): void {
    if (this.#closing || !this.#listening || Date.now() < this.#refuseUntil) {
      log('connection from %s refused', socket.remoteAddress)
      socket.on('error', () => {})
      socket.resetAndDestroy()
      return
    }
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    const conn = new ServerConnection(
      socket,
      this.#connectionHost(),
      this.#behaviour.take(),
      ++this.#accepted,
    )
    this.#connections.add(conn)
    this.emit('connection', conn)
  }

  #connectionHost(): ConnectionHost {
    return {
      options: this.options,
      register: (conn) => this.#router.register(conn),
      authenticated: (conn) => this.emit('authenticated', conn),
      stanza: (stanza, conn) => this.emit('stanza', stanza, conn),
      route: (stanza, conn) => this.#router.fromComponent(stanza, conn),
      closed: (conn) => {
        this.#router.unregister(conn)
        if (conn.isClosed && this.#connections.delete(conn)) this.emit('disconnect', conn)
      },
    }
  }
}
