import { EventEmitter } from 'node:events'
import {
  type Component,
  type Element,
  ErrorCodes,
  type PluginHandle,
  SatelliteError,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'
import createDebug from 'debug'
import { type Permission, PrivilegeError, PrivilegeInputError } from './errors.js'
import type { PrivilegeEvents, PrivilegeListener } from './events.js'
import { type Grant, NEEDED_ROSTER } from './grant.js'
import type { GrantBook } from './grants.js'
import { serverOfUser } from './jid.js'
import { NS_FORWARD, NS_ROSTER } from './ns.js'
import { type PrivilegeOptions, resolveOptions } from './options.js'
import { parseRosterItems, type RosterItem, rosterItemElement } from './roster.js'
import { SharedPrivileges } from './shared.js'

const log = createDebug('satellite:privilege')

// The event methods of Privileges, typed by PrivilegeEvents: only its events, with their
// arguments (as core's Component does; @types/node's EventEmitter<T> lets an unknown event name
// compile from version 25 on). Type-only: the methods are EventEmitter's, unchanged at run time.
export interface Privileges {
  /** Calls `listener` on every `event` (one of {@link PrivilegeEvents}, with its arguments). */
  on<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** Calls `listener` on the next `event` only. */
  once<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** Removes a listener added by `on`, `once`... */
  off<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** The same as `on`. */
  addListener<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** The same as `off`. */
  removeListener<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** Like `on`, but the listener runs before those already added. */
  prependListener<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** Like `once`, but the listener runs before those already added. */
  prependOnceListener<E extends keyof PrivilegeEvents>(event: E, listener: PrivilegeListener<E>): this
  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof PrivilegeEvents): this
  /** Calls the listeners of `event` with `args` (the handle emits its events itself). */
  emit<E extends keyof PrivilegeEvents>(event: E, ...args: PrivilegeEvents[E]): boolean
  /** How many listeners `event` has (of `listener` only, if given). */
  listenerCount<E extends keyof PrivilegeEvents>(event: E, listener?: PrivilegeListener<E>): number
  /** The listeners of `event`. */
  listeners<E extends keyof PrivilegeEvents>(event: E): Array<PrivilegeListener<E>>
  /** The listeners of `event`, including the wrappers `once` adds. */
  rawListeners<E extends keyof PrivilegeEvents>(event: E): Array<PrivilegeListener<E>>
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
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above types the inherited event methods
export class Privileges extends EventEmitter implements PluginHandle {
  readonly #xmpp: Component
  /** The component's shared state while this handle is open; `undefined` once closed. */
  #shared: SharedPrivileges | undefined
  readonly #timeout: number | undefined
  readonly #maxItems: number
  readonly #domain: string
  /** What `close()` settles: the pending `waitForGrant` calls. */
  readonly #waits = new Set<(err: Error) => void>()

  /** @internal */
  constructor(xmpp: Component, options: PrivilegeOptions = {}) {
    super()
    this.#xmpp = xmpp
    this.#domain = xmpp.options.domain.toLowerCase()
    const o = resolveOptions(this.#domain, options)
    this.#maxItems = o.maxItems
    this.#timeout = o.timeout
    let shared = states.get(xmpp)
    if (shared === undefined) {
      const made = new SharedPrivileges(xmpp, o, () => {
        if (states.get(xmpp) === made) states.delete(xmpp)
      })
      states.set(xmpp, made)
      shared = made
    } else {
      shared.checkCompatible(options, o)
    }
    shared.add(this)
    this.#shared = shared
  }

  /** The grants of the component, or none once this handle is closed. */
  get #book(): GrantBook | undefined {
    return this.#shared?.book
  }

  /**
   * The grant of `server` (default: the only server with a grant, or the first of `servers`),
   * or `undefined` if none was announced on this connection.
   */
  granted(server?: string): Grant | undefined {
    return server === undefined ? this.#book?.preferred() : this.#book?.get(server.toLowerCase())
  }

  /** Every current grant, one per server. */
  grants(): Grant[] {
    return this.#book?.all() ?? []
  }

  /**
   * True if `server` granted `permission` with at least `type`: for roster `get`/`set`
   * (`both` covers both), message `outgoing`, presence `managed_entity`/`roster`.
   */
  can(server: string, permission: 'roster', type: 'get' | 'set'): boolean
  can(server: string, permission: 'message', type?: 'outgoing'): boolean
  can(server: string, permission: 'presence', type?: 'managed_entity' | 'roster'): boolean
  can(server: string, permission: Exclude<Permission, 'iq'>, type?: string): boolean {
    const g = this.#book?.get(server.toLowerCase())
    if (g === undefined) return false
    if (permission === 'roster') return NEEDED_ROSTER[type === 'set' ? 'set' : 'get'].has(g.roster)
    if (permission === 'message') return g.message === 'outgoing'
    if (type === 'roster') return g.presence === 'roster'
    return g.presence !== 'none'
  }

  /**
   * Resolves with the grant of `server` (default: as in {@link granted}) once announced;
   * rejects with a {@link PrivilegeError} (`reason: 'timeout'`) after `timeout` ms (default
   * 5000), and with a `SAT_ERR_STOPPED` `SatelliteError` when the handle is (or gets) closed.
   * A `timeout` that is not a positive number throws a {@link PrivilegeInputError}.
   */
  waitForGrant(server?: string, options: { timeout?: number } = {}): Promise<Grant> {
    const timeout = options.timeout ?? 5000
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new PrivilegeInputError(`waitForGrant(): timeout must be a positive number, got ${timeout}`)
    }
    if (this.#shared === undefined) return Promise.reject(closedError())
    const now = this.granted(server)
    if (now !== undefined) return Promise.resolve(now)
    return new Promise((resolve, reject) => {
      const settle = (err: Error | undefined, grant?: Grant) => {
        clearTimeout(timer)
        this.off('change', onChange)
        this.#waits.delete(settle)
        if (err === undefined) resolve(grant as Grant)
        else reject(err)
      }
      const onChange = () => {
        const g = this.granted(server)
        if (g !== undefined) settle(undefined, g)
      }
      const timer = setTimeout(() => {
        settle(
          new PrivilegeError('timeout', {
            permission: 'roster',
            needed: 'both',
            server: server ?? this.#book?.defaultServerName() ?? '(the server)',
            component: this.#domain,
          }),
        )
      }, timeout)
      this.on('change', onChange)
      this.#waits.add(settle)
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

  /**
   * Releases this handle: rejects its pending `waitForGrant` calls (`SAT_ERR_STOPPED`), removes
   * its listeners, and it sees no grants any more. The component's other handles keep working;
   * with the last one go the routes and the listeners on the component and the grants (without
   * `change` events). Idempotent.
   */
  close(): void {
    const shared = this.#shared
    if (shared === undefined) return
    this.#shared = undefined
    for (const settle of [...this.#waits]) settle(closedError())
    this.removeAllListeners()
    shared.release(this)
  }

  #check(user: string, permission: Permission, needed: string): { server: string; grant: Grant } {
    const server = serverOfUser(user)
    if (server === undefined) {
      throw new PrivilegeInputError(`expected the bare JID of a user (user@server), got '${String(user)}'`)
    }
    const grant = this.#book?.get(server)
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
}

function closedError(): SatelliteError {
  return new SatelliteError(ErrorCodes.STOPPED, 'privileges: the handle was closed while waiting for a grant')
}

/** The shared state of each component with an open handle. */
const states = new WeakMap<Component, SharedPrivileges>()

/**
 * Records the XEP-0356 privileges the server grants to `xmpp` and gives access to them.
 * Each call returns its own handle on the component's one privileges state (grants, routes):
 * closing a handle releases only it, and the state goes with the last one. `timeout` and
 * `maxItems` are each handle's own; `servers`, `maxServers` and `maxPerms` belong to the shared
 * state, and giving one that differs from the live state's throws `SAT_ERR_CONFIG`. Grants are
 * forgotten when the connection drops; the server announces them again on the next handshake.
 *
 * A plugin (`Plugin<PrivilegeOptions, Privileges>`): a bad option throws a fatal `SAT_ERR_CONFIG`
 * `SatelliteError` (`privileges.option: problem`) before anything is installed; `close()`
 * removes what it installed.
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
  return new Privileges(xmpp, options)
}
