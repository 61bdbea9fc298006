import { SimulatedClient } from './client.js'
import type { ServerConnection } from './connection.js'
import { isNoReplyType, type StanzaErrorType, type StreamErrorCondition, serverErrorReply } from './errors.js'
import { type Jid, tryParseJid } from './jid.js'
import { logger } from './log.js'
import type { ServerResolvedOptions } from './options.js'
import { cloneElement, type Element, NS, xml } from './xml.js'

const log = logger('router')

/**
 * A stanza the server could not deliver and did not bounce (e.g. a message from a component to
 * a user with no simulated client).
 * @example
 * await expect.poll(() => server.undelivered.map((u) => u.stanza.attrs.id)).toContain('m1')
 */
export interface UndeliveredStanza {
  stanza: Element
  /** Who sent it: a client's full JID or `component <domain>`. */
  source: string
  reason: string
}

/**
 * What became of a routed stanza: `delivered`, `bounced` (an error went back to the sender),
 * `answered` (by the server itself) or `undelivered` (recorded in `server.undelivered`).
 * @example
 * server.on('routed', (e) => { if (e.outcome === 'bounced') console.log('bounced', e.stanza.toString()) })
 */
export type RouteOutcome = 'delivered' | 'bounced' | 'answered' | 'undelivered'

/**
 * Emitted as `routed` for every stanza the server routes (the CLI logs these).
 * @example
 * server.on('routed', (e) => console.log(`${e.source} -> ${e.target}: ${e.outcome}`))
 */
export interface RoutedEvent {
  stanza: Element
  /** A client's full JID or `component <domain>`. */
  source: string
  /** The stanza's `to`, or the server domain. */
  target: string
  outcome: RouteOutcome
}

/** Where a routed stanza came from, and how to answer it. @internal */
interface Origin {
  label: string
  reply(stanza: Element): void
}

/**
 * Routing between simulated clients and component connections, plus the server's own iq
 * answers (ping, disco). @internal
 */
export class Router {
  readonly #options: ServerResolvedOptions
  readonly #routes = new Map<string, ServerConnection[]>()
  readonly #users = new Map<string, Map<string, SimulatedClient>>()
  readonly #roundRobin = new Map<string, number>()
  /** Fixed slots per domain (`componentNumber`): the connection holding each, if any. */
  readonly #slots = new Map<string, (ServerConnection | undefined)[]>()
  readonly #onRouted: (event: RoutedEvent) => void
  readonly undelivered: UndeliveredStanza[] = []

  constructor(options: ServerResolvedOptions, onRouted: (event: RoutedEvent) => void) {
    this.#options = options
    this.#onRouted = onRouted
  }

  // ---------------------------------------------------------------- components

  /** Authenticated connections for a domain, oldest first. */
  connectionsFor(domain: string): ServerConnection[] {
    return [...(this.#routes.get(domain.toLowerCase()) ?? [])]
  }

  register(conn: ServerConnection): { condition: StreamErrorCondition; text: string } | undefined {
    const domain = conn.domain ?? ''
    const existing = this.#routes.get(domain) ?? []
    if (existing.length > 0) {
      if (this.#options.conflict === 'kick_new') {
        return { condition: 'conflict', text: 'Component already connected' }
      }
      if (this.#options.conflict === 'kick_old') {
        for (const old of existing) old.streamError('conflict', 'Replaced by a new connection')
      }
    }
    this.#routes.set(domain, [...(this.#routes.get(domain) ?? []), conn])
    const n = this.#slotCount()
    if (n !== undefined) {
      let slots = this.#slots.get(domain)
      if (slots === undefined) {
        slots = new Array<ServerConnection | undefined>(n).fill(undefined)
        this.#slots.set(domain, slots)
      }
      const free = slots.indexOf(undefined)
      if (free !== -1) slots[free] = conn
    }
    return undefined
  }

  /** The number of fixed slots, with `bare_destination` and `componentNumber`. */
  #slotCount(): number | undefined {
    const o = this.#options
    return o.conflict === 'balance' && o.balance === 'bare_destination' ? o.componentNumber : undefined
  }

  unregister(conn: ServerConnection): void {
    const domain = conn.domain ?? ''
    const slots = this.#slots.get(domain)
    if (slots !== undefined) {
      const i = slots.indexOf(conn)
      if (i !== -1) slots[i] = undefined
    }
    const list = this.#routes.get(domain)
    if (!list) return
    const rest = list.filter((c) => c !== conn)
    if (rest.length > 0) this.#routes.set(domain, rest)
    else this.#routes.delete(domain)
  }

  /** The connection for `stanza`; `null`: its slot's connection is gone (dropped silently, as ejabberd does). */
  #pick(domain: string, stanza: Element): ServerConnection | undefined | null {
    const list = this.#routes.get(domain)
    if (!list || list.length === 0) return undefined
    const slots = this.#slots.get(domain)
    if (slots !== undefined && this.#slotCount() !== undefined) {
      const bare = tryParseJid(String(stanza.attrs.to ?? ''))?.bare ?? ''
      return slots[hash(bare) % slots.length] ?? null
    }
    if (list.length === 1 || this.#options.conflict !== 'balance') return list[list.length - 1]
    switch (this.#options.balance) {
      case 'bare_destination': {
        const bare = tryParseJid(String(stanza.attrs.to ?? ''))?.bare ?? ''
        return list[hash(bare) % list.length]
      }
      case 'bare_source': {
        const bare = tryParseJid(String(stanza.attrs.from ?? ''))?.bare ?? ''
        return list[hash(bare) % list.length]
      }
      case 'round_robin': {
        const n = this.#roundRobin.get(domain) ?? 0
        this.#roundRobin.set(domain, n + 1)
        return list[n % list.length]
      }
      default:
        return list[Math.floor(Math.random() * list.length)]
    }
  }

  // ---------------------------------------------------------------- clients

  addClient(jid: Jid, host: ConstructorParameters<typeof SimulatedClient>[1]): SimulatedClient {
    let resources = this.#users.get(jid.bare)
    const existing = resources?.get(jid.resource)
    if (existing && !existing.closed) return existing
    const client = new SimulatedClient(jid, host)
    if (!resources) {
      resources = new Map()
      this.#users.set(jid.bare, resources)
    }
    resources.set(jid.resource, client)
    return client
  }

  removeClient(client: SimulatedClient): void {
    const resources = this.#users.get(client.bare)
    if (!resources) return
    for (const [resource, c] of resources) if (c === client) resources.delete(resource)
    if (resources.size === 0) this.#users.delete(client.bare)
  }

  clients(): SimulatedClient[] {
    return [...this.#users.values()].flatMap((m) => [...m.values()])
  }

  // ---------------------------------------------------------------- routing

  fromComponent(stanza: Element, conn: ServerConnection): void {
    this.#route(stanza, { label: `component ${conn.domain}`, reply: (el) => conn.send(el) })
  }

  fromClient(stanza: Element, client: SimulatedClient): void {
    if (!stanza.attrs.to) {
      // addressed to the user's own account: the server answers
      this.#serverStanza(
        stanza,
        { label: client.jid, reply: (el) => client.deliver(el) },
        this.#options.domain,
      )
      return
    }
    this.#route(stanza, { label: client.jid, reply: (el) => client.deliver(el) })
  }

  #route(stanza: Element, origin: Origin): void {
    const to = String(stanza.attrs.to)
    const target = tryParseJid(to)
    if (!target) {
      this.#bounce(stanza, origin, to, { type: 'modify', condition: 'jid-malformed' })
      return
    }
    const { domain } = target
    if (this.#options.components.has(domain) || this.#routes.has(domain)) {
      const conn = this.#pick(domain, stanza)
      if (conn === null) {
        this.#undeliverable(stanza, origin, to, `the connection holding its slot of ${domain} is gone`)
        return
      }
      if (conn) {
        conn.send(stanza)
        this.#emit(stanza, origin, to, 'delivered')
        return
      }
      const b = this.#options.rules.offlineBounce
      this.#bounce(stanza, origin, to, {
        type: b.type,
        condition: b.condition,
        text: b.text,
        ...(b.prosodyNotConnected ? { extra: xml('not-connected', { xmlns: NS.prosodyComponent }) } : {}),
      })
      return
    }
    if (domain === this.#options.domain) {
      if (!target.local) this.#serverStanza(stanza, origin, to)
      else this.#toUser(stanza, origin, target, to)
      return
    }
    this.#bounce(stanza, origin, to, { type: 'cancel', condition: 'remote-server-not-found' })
  }

  #toUser(stanza: Element, origin: Origin, target: Jid, to: string): void {
    const resources = this.#users.get(target.bare)
    const exact = target.resource ? resources?.get(target.resource) : undefined
    let recipients: SimulatedClient[] = []
    if (exact) recipients = [exact]
    else if (resources && (!target.resource || stanza.name === 'message'))
      recipients = [...resources.values()]
    if (recipients.length === 0) {
      if (stanza.name === 'iq' && !isNoReplyType(stanza)) {
        this.#bounce(stanza, origin, to, { type: 'cancel', condition: 'service-unavailable' })
      } else {
        this.#undeliverable(stanza, origin, to, `no simulated client for ${to}`)
      }
      return
    }
    for (const client of recipients) client.deliver(cloneElement(stanza))
    this.#emit(stanza, origin, to, 'delivered')
  }

  /** Stanzas to the server's own domain: ping and disco are answered, other iqs refused. */
  #serverStanza(stanza: Element, origin: Origin, to: string): void {
    const type = stanza.attrs.type
    if (stanza.name !== 'iq') {
      this.#undeliverable(stanza, origin, to, 'addressed to the server')
      return
    }
    if (type !== 'get' && type !== 'set') {
      this.#emit(stanza, origin, to, 'answered')
      return
    }
    const child = stanza.getChildElements()[0]
    const ns = child?.getNS()
    const result = (...children: Element[]) =>
      xml('iq', { type: 'result', id: stanza.attrs.id, from: to, to: stanza.attrs.from }, ...children)
    if (type === 'get' && child?.name === 'ping' && ns === NS.ping) {
      origin.reply(result())
    } else if (type === 'get' && child?.name === 'query' && ns === NS.discoInfo) {
      origin.reply(
        result(
          xml(
            'query',
            { xmlns: NS.discoInfo },
            xml('identity', { category: 'server', type: 'im', name: 'Satellite test server' }),
            xml('feature', { var: NS.discoInfo }),
            xml('feature', { var: NS.discoItems }),
            xml('feature', { var: NS.ping }),
          ),
        ),
      )
    } else if (type === 'get' && child?.name === 'query' && ns === NS.discoItems) {
      origin.reply(result(xml('query', { xmlns: NS.discoItems })))
    } else {
      origin.reply(serverErrorReply(stanza, { type: 'cancel', condition: 'service-unavailable', from: to }))
    }
    this.#emit(stanza, origin, to, 'answered')
  }

  #bounce(
    stanza: Element,
    origin: Origin,
    to: string,
    error: { type: StanzaErrorType; condition: string; text?: string; extra?: Element },
  ): void {
    if (isNoReplyType(stanza)) {
      this.#undeliverable(stanza, origin, to, `${error.condition} (not bounced: type ${stanza.attrs.type})`)
      return
    }
    origin.reply(serverErrorReply(stanza, { ...error, from: to }))
    this.#emit(stanza, origin, to, 'bounced')
  }

  #undeliverable(stanza: Element, origin: Origin, to: string, reason: string): void {
    this.undelivered.push({ stanza, source: origin.label, reason })
    if (this.undelivered.length > this.#options.recordLimit) this.undelivered.shift()
    this.#emit(stanza, origin, to, 'undelivered')
  }

  #emit(stanza: Element, origin: Origin, target: string, outcome: RouteOutcome): void {
    log('%s -> %s %s %s', origin.label, target, stanza.name, outcome)
    this.#onRouted({ stanza, source: origin.label, target, outcome })
  }
}

/** FNV-1a, for sticky balancing. */
function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}
