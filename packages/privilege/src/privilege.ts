import { EventEmitter } from 'node:events'
import { type Component, type Element, type Stanza, StanzaError, type Unroute, xml } from '@satellite/core'
import createDebug from 'debug'
import { type Permission, PrivilegeError, PrivilegeInputError } from './errors.js'

const log = createDebug('satellite:privilege')

/**
 * XEP-0356 namespace of versions up to 0.3 (spoken by ejabberd up to at least 23.01).
 *
 * @example
 * ```ts
 * if (priv.granted()?.namespace === NS_PRIVILEGE_1) console.log('an older server')
 * ```
 */
export const NS_PRIVILEGE_1 = 'urn:xmpp:privilege:1'
/**
 * XEP-0356 namespace of version 0.4 and later (spoken by Prosody's mod_privilege since 2022):
 * adds the `iq` permission and the `push` attribute of the `roster` permission.
 *
 * @example
 * ```ts
 * if (priv.granted()?.namespace === NS_PRIVILEGE_2) console.log('iq permission possible')
 * ```
 */
export const NS_PRIVILEGE_2 = 'urn:xmpp:privilege:2'
/**
 * XEP-0297 Stanza Forwarding, used to wrap a message sent on a user's behalf.
 *
 * @example
 * ```ts
 * wrapper.getChild('privilege', NS_PRIVILEGE_2)?.getChild('forwarded', NS_FORWARD)
 * ```
 */
export const NS_FORWARD = 'urn:xmpp:forward:0'
/**
 * The roster namespace (RFC 6121).
 *
 * @example
 * ```ts
 * xml('query', { xmlns: NS_ROSTER })
 * ```
 */
export const NS_ROSTER = 'jabber:iq:roster'

/**
 * Roster access granted by the server.
 *
 * @example
 * ```ts
 * const canWrite = (a: RosterAccess) => a === 'set' || a === 'both'
 * ```
 */
export type RosterAccess = 'none' | 'get' | 'set' | 'both'
/**
 * Message access granted by the server: `outgoing` allows {@link Privileges.sendAs}.
 *
 * @example
 * ```ts
 * const ok = (a: MessageAccess) => a === 'outgoing'
 * ```
 */
export type MessageAccess = 'none' | 'outgoing'
/**
 * Presence access: with `managed_entity` the server forwards the presences of its users to
 * the component; with `roster`, of their contacts too.
 *
 * @example
 * ```ts
 * const seesUsers = (a: PresenceAccess) => a !== 'none'
 * ```
 */
export type PresenceAccess = 'none' | 'managed_entity' | 'roster'
/**
 * Access to privileged iqs of one namespace (XEP-0356 0.4, `urn:xmpp:privilege:2` only).
 *
 * @example
 * ```ts
 * const canSet = (a: IqAccess) => a !== 'get'
 * ```
 */
export type IqAccess = 'get' | 'set' | 'both'

/**
 * What one server granted to the component, from its last announcement.
 *
 * @example
 * ```ts
 * const g = priv.granted('example.org')
 * if (g?.roster === 'both') console.log(`roster access since ${g.at.toISOString()}`)
 * ```
 */
export interface Grant {
  /** The server domain that sent the announcement (users `*@server` are concerned). */
  server: string
  /** The namespace the server speaks: {@link NS_PRIVILEGE_1} or {@link NS_PRIVILEGE_2}. */
  namespace: typeof NS_PRIVILEGE_1 | typeof NS_PRIVILEGE_2
  roster: RosterAccess
  /** Whether the server forwards its users' roster pushes (0.4: the `push` attribute). */
  rosterPush: boolean
  message: MessageAccess
  presence: PresenceAccess
  /** Namespace → access of privileged iqs (0.4 only; empty otherwise). */
  iq: Record<string, IqAccess>
  /** When the announcement arrived. */
  at: Date
}

/**
 * A roster item (RFC 6121). In a set, `subscription: 'remove'` deletes the item; Prosody's
 * mod_privilege also stores `none`/`to`/`from`/`both` as given, ejabberd keeps the
 * subscription it already had.
 *
 * @example
 * ```ts
 * const item: RosterItem = { jid: 'bob%irc@gw.example.org', name: 'Bob', groups: ['IRC'] }
 * ```
 */
export interface RosterItem {
  jid: string
  name?: string
  groups?: string[]
  subscription?: 'none' | 'to' | 'from' | 'both' | 'remove'
  /** Read only: a pending outgoing subscription request. */
  ask?: 'subscribe'
}

/**
 * Options of {@link privileges}. Every limit has a default.
 *
 * @example
 * ```ts
 * const priv = privileges(xmpp, { servers: ['example.org'], timeout: 10_000 })
 * ```
 */
export interface PrivilegeOptions {
  /**
   * The server domains whose announcements are believed. Default: the parent domain of
   * the component (`example.org` for `gw.example.org`). `'any'` accepts any bare domain
   * (any server the component hears from, remote ones included: see `maxServers`).
   */
  servers?: readonly string[] | 'any'
  /** Timeout of each privileged iq, in ms. Default: the component's `requestTimeout`. */
  timeout?: number
  /**
   * How many grants of servers admitted only by `servers: 'any'` are kept at most (default 16);
   * their announcements beyond are ignored. The component's parent domain and the servers
   * listed in `servers` are always admitted and do not count, so remote servers cannot take
   * their place.
   */
  maxServers?: number
  /** The most roster items one {@link Privileges.rosterSet} call takes (default 500). */
  maxItems?: number
  /** The most `<perm/>` (and `<namespace/>`) elements an announcement may carry (default 64). */
  maxPerms?: number
}

/**
 * Events of {@link Privileges}.
 *
 * @example
 * ```ts
 * priv.on('change', (server, grant) => console.log(server, grant?.roster ?? 'gone'))
 * ```
 */
export interface PrivilegeEvents {
  /** A server announced its grant (again), or the grant was forgotten (`undefined`: offline). */
  change: [server: string, grant: Grant | undefined]
  /**
   * An announcement was ignored: malformed (the server's previous grant is then dropped, with
   * a `change` to `undefined`), or from a sender not in `servers`, or beyond `maxServers`. Also
   * emitted with `partial: true` when only a part was ignored (a `<perm/>` or `<namespace/>`
   * with an unknown type, read as `none`; an unknown `push`, read as `false`) and the rest recorded.
   */
  invalid: [info: { stanza: Stanza; reason: string; partial: boolean }]
  /** A roster push forwarded by the server (XEP-0356 0.4 with `push`): `user`'s roster changed. */
  rosterPush: [push: { user: string; items: RosterItem[] }]
}

const ROSTER_TYPES: ReadonlySet<string> = new Set(['none', 'get', 'set', 'both'])
const MESSAGE_TYPES: ReadonlySet<string> = new Set(['none', 'outgoing'])
const PRESENCE_TYPES: ReadonlySet<string> = new Set(['none', 'managed_entity', 'roster'])
const IQ_TYPES: ReadonlySet<string> = new Set(['get', 'set', 'both'])
const SUBSCRIPTIONS: ReadonlySet<string> = new Set(['none', 'to', 'from', 'both', 'remove'])
const BARE = /^(?:([^@/\s]+)@)?([^@/\s]+)$/

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0) {
    throw new PrivilegeInputError(`privileges(): ${name} must be a positive number, got ${value}`)
  }
  return value
}

function splitBare(address: string): { local: string | undefined; domain: string } | undefined {
  const m = BARE.exec(address)
  if (m === null) return undefined
  return { local: m[1], domain: (m[2] as string).toLowerCase() }
}

/**
 * Reads a `<privilege/>` announcement (either namespace) into a {@link Grant}. Unknown
 * `access` values are skipped (later versions may add some); a known access with an unknown
 * or missing type counts as `none` (an iq namespace with one grants nothing, an unknown `push`
 * counts as `false`), and `onIgnored` is told why. A repeated access, a `<perm/>` without
 * `access`, an `iq` permission in `urn:xmpp:privilege:1` or too many elements make it
 * malformed: a {@link PrivilegeInputError} is thrown.
 *
 * @example
 * ```ts
 * const grant = parseGrant(message.getChild('privilege', NS_PRIVILEGE_2)!, 'example.org', 64, console.warn)
 * ```
 */
export function parseGrant(
  el: Element,
  server: string,
  maxPerms = 64,
  onIgnored: (reason: string) => void = () => {},
): Grant {
  const ns = el.attrs.xmlns
  if (el.name !== 'privilege' || (ns !== NS_PRIVILEGE_1 && ns !== NS_PRIVILEGE_2)) {
    throw new PrivilegeInputError(`expected <privilege xmlns='${NS_PRIVILEGE_2}'/>, got <${el.name}/>`)
  }
  const grant: Grant = {
    server,
    namespace: ns,
    roster: 'none',
    rosterPush: false,
    message: 'none',
    presence: 'none',
    iq: {},
    at: new Date(),
  }
  const perms = el.getChildren('perm')
  if (perms.length > maxPerms) throw new PrivilegeInputError(`more than ${maxPerms} <perm/> elements`)
  const seen = new Set<string>()
  let push: string | undefined
  for (const perm of perms) {
    const access = perm.attrs.access
    const type = perm.attrs.type
    if (typeof access !== 'string') throw new PrivilegeInputError("a <perm/> without 'access'")
    if (access !== 'roster' && access !== 'message' && access !== 'presence' && access !== 'iq') {
      log('skipping unknown permission %s', access)
      continue
    }
    if (seen.has(access)) throw new PrivilegeInputError(`permission '${access}' announced twice`)
    seen.add(access)
    if (access === 'iq') {
      if (ns === NS_PRIVILEGE_1) throw new PrivilegeInputError(`the iq permission does not exist in ${ns}`)
      const spaces = perm.getChildren('namespace')
      if (spaces.length > maxPerms)
        throw new PrivilegeInputError(`more than ${maxPerms} <namespace/> elements`)
      for (const space of spaces) {
        const name = space.attrs.ns
        const t = space.attrs.type
        if (typeof name !== 'string' || name === '')
          throw new PrivilegeInputError("a <namespace/> without 'ns'")
        if (t === undefined) continue // Prosody writes no type for a namespace allowing nothing
        if (!IQ_TYPES.has(t)) {
          onIgnored(`unknown iq type '${t}' for ${name}: nothing granted for it`)
          continue
        }
        grant.iq[name] = t as IqAccess
      }
      continue
    }
    const allowed = access === 'roster' ? ROSTER_TYPES : access === 'message' ? MESSAGE_TYPES : PRESENCE_TYPES
    if (typeof type !== 'string' || !allowed.has(type)) {
      onIgnored(`unknown type '${type ?? ''}' for permission '${access}': read as 'none'`)
      continue
    }
    if (access === 'roster') {
      grant.roster = type as RosterAccess
      push = perm.attrs.push
    } else if (access === 'message') grant.message = type as MessageAccess
    else grant.presence = type as PresenceAccess
  }
  let pushOk = push !== 'false' && push !== '0'
  if (push !== undefined && push !== 'true' && push !== 'false' && push !== '1' && push !== '0') {
    onIgnored(`unknown push '${push}' for permission 'roster': read as 'false'`)
    pushOk = false
  }
  // 0.4: push defaults to true for get/both; 0.3 had no roster pushes at all.
  const reads = grant.roster === 'get' || grant.roster === 'both'
  grant.rosterPush = ns === NS_PRIVILEGE_2 && reads && pushOk
  return grant
}

function rosterItemElement(item: RosterItem): Element {
  if (typeof item !== 'object' || item === null)
    throw new PrivilegeInputError('a roster item must be an object')
  if (typeof item.jid !== 'string' || splitBare(item.jid) === undefined) {
    throw new PrivilegeInputError(`roster item jid must be a bare JID, got '${String(item.jid)}'`)
  }
  const attrs: Record<string, string> = { jid: item.jid }
  if (item.name !== undefined) {
    if (typeof item.name !== 'string') throw new PrivilegeInputError(`roster item name must be a string`)
    attrs.name = item.name
  }
  if (item.subscription !== undefined) {
    if (!SUBSCRIPTIONS.has(item.subscription)) {
      throw new PrivilegeInputError(`invalid roster subscription '${String(item.subscription)}'`)
    }
    attrs.subscription = item.subscription
  }
  const el = xml('item', attrs)
  for (const group of item.groups ?? []) {
    if (typeof group !== 'string' || group === '') {
      throw new PrivilegeInputError('roster groups must be non-empty strings')
    }
    el.c('group').t(group)
  }
  return el
}

/**
 * Reads the `<item/>`s of a `jabber:iq:roster` query.
 *
 * @example
 * ```ts
 * const items = parseRosterItems(result.getChild('query', NS_ROSTER)!)
 * ```
 */
export function parseRosterItems(query: Element): RosterItem[] {
  const items: RosterItem[] = []
  for (const el of query.getChildren('item')) {
    const jid = el.attrs.jid
    if (typeof jid !== 'string' || jid === '') continue
    const item: RosterItem = { jid }
    if (typeof el.attrs.name === 'string' && el.attrs.name !== '') item.name = el.attrs.name
    const sub = el.attrs.subscription
    if (typeof sub === 'string' && SUBSCRIPTIONS.has(sub))
      item.subscription = sub as RosterItem['subscription'] & string
    if (el.attrs.ask === 'subscribe') item.ask = 'subscribe'
    const groups = el.getChildren('group').map((g) => g.getText())
    if (groups.length > 0) item.groups = groups
    items.push(item)
  }
  return items
}

const NEEDED_ROSTER: Record<'get' | 'set', ReadonlySet<RosterAccess>> = {
  get: new Set(['get', 'both']),
  set: new Set(['set', 'both']),
}

/**
 * The privileges a component holds on the servers it is attached to (XEP-0356). Get it
 * with {@link privileges}.
 *
 * @example
 * ```ts
 * const priv = privileges(xmpp)
 * priv.on('change', (server, grant) => console.log(server, grant))
 * if (priv.can('example.org', 'roster', 'set')) await priv.rosterSet('alice@example.org', [{ jid: 'bot@gw.example.org' }])
 * ```
 */
export class Privileges extends EventEmitter<PrivilegeEvents> {
  readonly #xmpp: Component
  readonly #grants = new Map<string, Grant>()
  readonly #servers: ReadonlySet<string> | 'any'
  /** The component's parent domain (`example.org` for `gw.example.org`), or '' for none. */
  readonly #parent: string
  readonly #timeout: number | undefined
  readonly #maxServers: number
  readonly #maxItems: number
  readonly #maxPerms: number
  readonly #offs: Unroute[] = []
  readonly #domain: string

  /** @internal */
  constructor(xmpp: Component, options: PrivilegeOptions = {}) {
    super()
    this.#xmpp = xmpp
    this.#domain = xmpp.options.domain.toLowerCase()
    this.#maxServers = positive('maxServers', options.maxServers, 16)
    this.#maxItems = positive('maxItems', options.maxItems, 500)
    this.#maxPerms = positive('maxPerms', options.maxPerms, 64)
    this.#timeout = options.timeout === undefined ? undefined : positive('timeout', options.timeout, 0)
    const dot = this.#domain.indexOf('.')
    this.#parent = dot > 0 ? this.#domain.slice(dot + 1) : ''
    if (options.servers === 'any') this.#servers = 'any'
    else if (options.servers !== undefined) {
      if (!Array.isArray(options.servers) || options.servers.some((s) => typeof s !== 'string' || s === '')) {
        throw new PrivilegeInputError("privileges(): servers must be 'any' or a list of domains")
      }
      this.#servers = new Set(options.servers.map((s) => s.toLowerCase()))
    } else {
      this.#servers = new Set(this.#parent === '' ? [] : [this.#parent])
    }
    const isAnnouncement = (s: Stanza) =>
      s.attrs.type !== 'error' &&
      (s.getChild('privilege', NS_PRIVILEGE_2) !== undefined ||
        s.getChild('privilege', NS_PRIVILEGE_1) !== undefined)
    // Handled from the `stanza` event (whatever routes the application registered before);
    // the route only keeps announcements of trusted servers away from the application's
    // message routes: anything else with a <privilege/> child (e.g. a user's message to a
    // contact) goes on to them.
    const onStanza = (s: Stanza) => {
      if (s.name === 'message' && isAnnouncement(s)) this.#announce(s)
    }
    xmpp.on('stanza', onStanza)
    this.#offs.push(() => xmpp.off('stanza', onStanza))
    this.#offs.push(
      xmpp.message(
        { where: (s) => isAnnouncement(s) && this.#trustedSender(s.attrs.from) !== undefined },
        () => undefined,
      ),
    )
    this.#offs.push(
      xmpp.iqSet({ xmlns: NS_ROSTER, name: 'query', to: '' }, (iq, payload) => this.#push(iq, payload)),
    )
    const onOffline = () => this.#forget()
    xmpp.on('offline', onOffline)
    this.#offs.push(() => xmpp.off('offline', onOffline))
  }

  /**
   * The grant of `server` (default: the only server with a grant, or the first of `servers`),
   * or `undefined` if none was announced on this connection.
   */
  granted(server?: string): Grant | undefined {
    if (server !== undefined) return this.#grants.get(server.toLowerCase())
    if (this.#grants.size === 1) return this.#grants.values().next().value
    if (this.#servers !== 'any') {
      for (const s of this.#servers) {
        const g = this.#grants.get(s)
        if (g !== undefined) return g
      }
    }
    return undefined
  }

  /** Every current grant, one per server. */
  grants(): Grant[] {
    return [...this.#grants.values()]
  }

  /**
   * True if `server` granted `permission` with at least `type`: for roster `get`/`set`
   * (`both` covers both), message `outgoing`, presence `managed_entity`/`roster`.
   */
  can(server: string, permission: 'roster', type: 'get' | 'set'): boolean
  can(server: string, permission: 'message', type?: 'outgoing'): boolean
  can(server: string, permission: 'presence', type?: 'managed_entity' | 'roster'): boolean
  can(server: string, permission: Exclude<Permission, 'iq'>, type?: string): boolean {
    const g = this.#grants.get(server.toLowerCase())
    if (g === undefined) return false
    if (permission === 'roster') return NEEDED_ROSTER[type === 'set' ? 'set' : 'get'].has(g.roster)
    if (permission === 'message') return g.message === 'outgoing'
    if (type === 'roster') return g.presence === 'roster'
    return g.presence !== 'none'
  }

  /**
   * Resolves with the grant of `server` (default: as in {@link granted}) once announced;
   * rejects with a {@link PrivilegeError} (`reason: 'timeout'`) after `timeout` ms (default 5000).
   */
  waitForGrant(server?: string, options: { timeout?: number } = {}): Promise<Grant> {
    const timeout = positive('timeout', options.timeout, 5000)
    const now = this.granted(server)
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const onChange = () => {
        const g = this.granted(server)
        if (g === undefined) return
        clearTimeout(timer)
        this.off('change', onChange)
        resolve(g)
      }
      const timer = setTimeout(() => {
        this.off('change', onChange)
        reject(
          new PrivilegeError('timeout', {
            permission: 'roster',
            needed: 'both',
            server: server ?? this.#defaultServerName(),
            component: this.#domain,
          }),
        )
      }, timeout)
      this.on('change', onChange)
    })
  }

  /** The roster of `user` (a bare JID on a server that granted roster `get` or `both`). */
  async rosterGet(user: string): Promise<RosterItem[]> {
    const { server } = this.#check(user, 'roster', 'get')
    const res = await this.#request(
      xml('iq', { type: 'get', to: user, from: this.#domain }, xml('query', { xmlns: NS_ROSTER })),
      server,
      'roster',
      'get',
    )
    const query = res.getChild('query', NS_ROSTER)
    return query === undefined ? [] : parseRosterItems(query)
  }

  /**
   * Adds, updates or (with `subscription: 'remove'`) removes items of `user`'s roster: one
   * roster set per item, in order (servers accept one item per set). The server pushes each
   * change to the user's clients. Needs roster `set` or `both`.
   */
  async rosterSet(user: string, items: RosterItem | readonly RosterItem[]): Promise<void> {
    const list: readonly RosterItem[] = Array.isArray(items) ? items : [items as RosterItem]
    if (list.length > this.#maxItems) {
      throw new PrivilegeInputError(
        `rosterSet(): ${list.length} items, more than maxItems (${this.#maxItems})`,
      )
    }
    const elements = list.map(rosterItemElement)
    const { server } = this.#check(user, 'roster', 'set')
    for (const el of elements) {
      await this.#request(
        xml('iq', { type: 'set', to: user, from: this.#domain }, xml('query', { xmlns: NS_ROSTER }, el)),
        server,
        'roster',
        'set',
      )
    }
  }

  /** Removes `jids` from `user`'s roster (a roster set with `subscription='remove'` each). */
  rosterRemove(user: string, jids: string | readonly string[]): Promise<void> {
    const list = typeof jids === 'string' ? [jids] : jids
    return this.rosterSet(
      user,
      list.map((jid) => ({ jid, subscription: 'remove' as const })),
    )
  }

  /**
   * Sends `message` as if `user` (a bare JID of a server that granted message `outgoing`)
   * had sent it: it is wrapped in `<privilege><forwarded/></privilege>` and addressed to the
   * server, which delivers it `from` the user. Resolves once written; a server refusal
   * comes back later as a message error.
   */
  async sendAs(user: string, message: Element): Promise<void> {
    if (typeof message !== 'object' || message === null || (message as Element).name !== 'message') {
      throw new PrivilegeInputError('sendAs() expects a <message/> element')
    }
    if (typeof message.attrs.to !== 'string' || message.attrs.to === '') {
      throw new PrivilegeInputError("sendAs(): the message has no 'to'")
    }
    const { server, grant } = this.#check(user, 'message', 'outgoing')
    const inner = xml('message', { ...message.attrs, xmlns: 'jabber:client', from: user })
    for (const child of message.children) inner.children.push(child)
    const wrapper = xml(
      'message',
      { from: this.#domain, to: server },
      xml('privilege', { xmlns: grant.namespace }, xml('forwarded', { xmlns: NS_FORWARD }, inner)),
    )
    log('sending as %s to %s', user, message.attrs.to)
    await this.#xmpp.send(wrapper)
  }

  /** Removes the routes and listeners; the handle can no longer be used. */
  close(): void {
    for (const off of this.#offs.splice(0)) off()
    this.#grants.clear()
    handles.delete(this.#xmpp)
  }

  #defaultServerName(): string {
    if (this.#servers !== 'any') {
      const first = this.#servers.values().next().value
      if (first !== undefined) return first
    }
    return '(the server)'
  }

  #check(user: string, permission: Permission, needed: string): { server: string; grant: Grant } {
    const parts = typeof user === 'string' ? splitBare(user) : undefined
    if (parts === undefined || parts.local === undefined) {
      throw new PrivilegeInputError(`expected the bare JID of a user (user@server), got '${String(user)}'`)
    }
    const server = parts.domain
    const grant = this.#grants.get(server)
    const base = { permission, needed, server, component: this.#domain }
    if (grant === undefined) {
      throw new PrivilegeError('not-granted', {
        ...base,
        text: `${server} announced no privileges to ${this.#domain} on this connection`,
      })
    }
    const ok =
      permission === 'roster'
        ? NEEDED_ROSTER[needed === 'set' ? 'set' : 'get'].has(grant.roster)
        : permission === 'message'
          ? grant.message === 'outgoing'
          : false
    if (!ok) {
      const have = permission === 'roster' ? grant.roster : permission === 'message' ? grant.message : 'none'
      throw new PrivilegeError('not-granted', {
        ...base,
        text: `${server} granted ${permission}=${have} to ${this.#domain}`,
      })
    }
    return { server, grant }
  }

  async #request(iq: Element, server: string, permission: Permission, needed: string): Promise<Stanza> {
    try {
      return await this.#xmpp.request(iq, this.#timeout === undefined ? {} : { timeout: this.#timeout })
    } catch (err) {
      if (err instanceof StanzaError && err.condition === 'forbidden') {
        const text = err.text
        throw new PrivilegeError('refused', {
          permission,
          needed,
          server,
          component: this.#domain,
          ...(text === undefined ? {} : { text }),
        })
      }
      throw err
    }
  }

  /** The server domain of `from` if announcements from it are believed, else undefined. */
  #trustedSender(from: unknown): string | undefined {
    const parts = typeof from === 'string' ? splitBare(from) : undefined
    if (parts === undefined || parts.local !== undefined) return undefined
    if (this.#servers !== 'any' && !this.#servers.has(parts.domain)) return undefined
    return parts.domain
  }

  /** Whether `server` takes one of the `maxServers` slots (admitted only by `servers: 'any'`). */
  #counted(server: string): boolean {
    return this.#servers === 'any' && server !== this.#parent
  }

  #announce(stanza: Stanza): void {
    const invalid = (reason: string, partial = false) => {
      log(
        'ignoring %s from %s: %s',
        partial ? 'part of an announcement' : 'announcement',
        stanza.attrs.from,
        reason,
      )
      this.emit('invalid', { stanza, reason, partial })
    }
    const from = stanza.attrs.from
    const server = this.#trustedSender(from)
    if (server === undefined) {
      const parts = typeof from === 'string' ? splitBare(from) : undefined
      invalid(
        parts === undefined || parts.local !== undefined
          ? `'from' must be a server domain, got '${String(from)}'`
          : `${parts.domain} is not among the trusted servers (option servers)`,
      )
      return
    }
    if (!this.#grants.has(server) && this.#counted(server)) {
      let n = 0
      for (const s of this.#grants.keys()) if (this.#counted(s)) n++
      if (n >= this.#maxServers) {
        invalid(`already ${n} servers (option maxServers)`)
        return
      }
    }
    const el =
      stanza.getChild('privilege', NS_PRIVILEGE_2) ??
      (stanza.getChild('privilege', NS_PRIVILEGE_1) as Element)
    let grant: Grant
    const ignored: string[] = []
    try {
      grant = parseGrant(el, server, this.#maxPerms, (reason) => ignored.push(reason))
    } catch (err) {
      invalid((err as Error).message)
      // The server's current word is unreadable: its older (possibly wider) grant is not kept.
      if (this.#grants.delete(server)) this.emit('change', server, undefined)
      return
    }
    log(
      '%s grants %s: roster=%s message=%s presence=%s iq=%o',
      server,
      grant.namespace,
      grant.roster,
      grant.message,
      grant.presence,
      grant.iq,
    )
    this.#grants.set(server, grant)
    this.emit('change', server, grant)
    for (const reason of ignored) invalid(reason, true)
  }

  #push(iq: Stanza, payload: Element): undefined {
    const parts = typeof iq.attrs.from === 'string' ? splitBare(iq.attrs.from) : undefined
    const grant = parts?.local === undefined ? undefined : this.#grants.get(parts.domain)
    if (parts === undefined || grant === undefined || !grant.rosterPush) {
      throw new StanzaError('service-unavailable')
    }
    const user = iq.attrs.from as string
    this.emit('rosterPush', { user, items: parseRosterItems(payload) })
    return undefined
  }

  #forget(): void {
    const servers = [...this.#grants.keys()]
    this.#grants.clear()
    for (const s of servers) this.emit('change', s, undefined)
  }
}

const handles = new WeakMap<Component, Privileges>()

/**
 * Records the XEP-0356 privileges the server grants to `xmpp` and gives access to them.
 * One handle per component: later calls return the same one (their options are ignored).
 * Grants are forgotten when the connection drops; the server announces them again on the
 * next handshake.
 *
 * @example
 * ```ts
 * const priv = privileges(xmpp)
 * await xmpp.start()
 * await priv.waitForGrant('example.org')
 * await priv.rosterSet('alice@example.org', [{ jid: 'bob@gw.example.org', name: 'Bob', groups: ['Gateway'] }])
 * await priv.sendAs('alice@example.org', xml('message', { to: 'carol@example.org' }, xml('body', {}, 'hi')))
 * ```
 */
export function privileges(xmpp: Component, options: PrivilegeOptions = {}): Privileges {
  const existing = handles.get(xmpp)
  if (existing !== undefined) return existing
  const handle = new Privileges(xmpp, options)
  handles.set(xmpp, handle)
  return handle
}
