import { type CommandOptions, CommandSession } from './command.js'
import { StanzaErrorResponse } from './errors.js'
import { TypedEmitter } from './events.js'
import type { Jid } from './jid.js'
import { logger } from './log.js'
import { Inbox, type StanzaMatcher } from './match.js'
import { toElement } from './strict.js'
import { cloneElement, type Element, NS } from './xml.js'

const log = logger('client')

/** The server side a simulated client talks to. @internal */
export interface ClientHost {
  readonly domain: string
  readonly recordLimit: number
  routeFromClient(stanza: Element, client: SimulatedClient): void
  removeClient(client: SimulatedClient): void
}

/**
 * Events of a {@link SimulatedClient}.
 * @example
 * alice.on('stanza', (stanza) => console.log('alice got', stanza.toString()))
 */
export interface SimulatedClientEvents {
  stanza: [stanza: Element]
}

/**
 * An in-process user of the test server (no socket): what it sends is stamped with its full JID
 * and routed by the server; what is routed to it lands in `received`.
 * @example
 * const alice = server.client('alice@localhost/phone')
 * alice.send(xml('message', { to: 'echo.localhost', type: 'chat' }, xml('body', {}, 'hi')))
 * const reply = await alice.expectStanza({ name: 'message', from: 'echo.localhost' })
 */
export class SimulatedClient extends TypedEmitter<SimulatedClientEvents> {
  /** Full JID, e.g. `alice@localhost/phone`. */
  readonly jid: string
  /** Bare JID, e.g. `alice@localhost`. */
  readonly bare: string
  /** Stanzas routed to this client, in order. */
  readonly received: Element[]
  readonly #inbox: Inbox
  readonly #host: ClientHost
  #closed = false
  #requests = 0

  /** @internal */
  constructor(jid: Jid, host: ClientHost) {
    super()
    this.jid = jid.full
    this.bare = jid.bare
    this.#host = host
    this.#inbox = new Inbox(`client ${jid.full}`, host.recordLimit)
    this.received = this.#inbox.received
  }

  /** True after `close()` (or the server's close). */
  get closed(): boolean {
    return this.#closed
  }

  /**
   * Sends a stanza (element or XML string). The server sets `from` to this client's full JID
   * and routes it; the returned element is what was routed.
   * @example
   * alice.send("<message to='echo.localhost'><body>hello</body></message>")
   */
  send(stanza: Element | string): Element {
    if (this.#closed) throw new Error(`client ${this.jid} is closed`)
    const el = toElement(stanza)
    const routed = cloneElement(el)
    routed.attrs.from = this.jid
    if (routed.attrs.xmlns === NS.client) delete routed.attrs.xmlns
    log('%s sends %s', this.jid, routed.name)
    this.#host.routeFromClient(routed, this)
    return routed
  }

  /**
   * Resolves with the first received stanza matching `matcher` that no earlier expectation
   * consumed; rejects after `timeout` ms (default 2000) with a list of what was received.
   * @example
   * await alice.expectStanza({ name: 'message', body: 'hello' })
   * await alice.expectStanza((el) => el.getChild('ping', 'urn:xmpp:ping') !== undefined, 500)
   */
  expectStanza(matcher: StanzaMatcher, timeout = 2000): Promise<Element> {
    return this.#inbox.expect(matcher, timeout)
  }

  /**
   * Sends an iq get/set (an `id` is added when missing) and resolves with the `result`; rejects
   * with a {@link StanzaErrorResponse} on `type='error'`, or on timeout (default 2000 ms).
   * The reply must come from the iq's `to` (the server domain when `to` is missing).
   * @example
   * const result = await alice.request(xml('iq', { type: 'get', to: 'echo.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })))
   */
  async request(iq: Element | string, timeout = 2000): Promise<Element> {
    const el = cloneElement(toElement(iq))
    if (el.name !== 'iq' || (el.attrs.type !== 'get' && el.attrs.type !== 'set')) {
      throw new TypeError("request() needs an <iq type='get'|'set'/>")
    }
    if (!el.attrs.id) el.attrs.id = `sat-${++this.#requests}`
    const id = String(el.attrs.id)
    const peer = String(el.attrs.to ?? this.#host.domain).toLowerCase()
    const waiting = this.#inbox.expect(
      (s) =>
        s.name === 'iq' &&
        s.attrs.id === id &&
        (s.attrs.type === 'result' || s.attrs.type === 'error') &&
        String(s.attrs.from ?? '').toLowerCase() === peer,
      timeout,
    )
    this.send(el)
    const reply = await waiting
    if (reply.attrs.type === 'error') throw new StanzaErrorResponse(reply)
    return reply
  }

  /**
   * Executes the XEP-0050 ad-hoc command `node` at `to` and resolves with the session once the
   * first answer came (its first stage's form, or the result of a command without stages);
   * rejects with a {@link StanzaErrorResponse} on an error answer. Drive the rest of the session
   * with `next(values)`, `prev()`, `complete(values)` and `cancel()`.
   * @example
   * const session = await alice.command('poll.localhost', 'create-poll')
   * await session.next({ question: 'Lunch?' })
   * await session.complete({ choices: ['pizza', 'sushi'] })
   * expect(session.status).toBe('completed')
   */
  command(to: string, node: string, options: CommandOptions = {}): Promise<CommandSession> {
    return new CommandSession(this, to, node, options).execute()
  }

  /**
   * Disconnects the client: stanzas to it are no longer delivered and pending expectations fail.
   * @example
   * alice.close()
   */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#inbox.close('client closed')
    this.#host.removeClient(this)
  }

  /** Called by the server to deliver a stanza. @internal */
  deliver(stanza: Element): void {
    if (this.#closed) return
    this.#inbox.push(stanza)
    this.emit('stanza', stanza)
  }
}
