import {
  type Component,
  type Element,
  optionError,
  type Stanza,
  StanzaError,
  type Unroute,
} from '@satellite/core'
import type { PrivilegeEvents } from './events.js'
import { GrantBook, type GrantEmit, isAnnouncement } from './grants.js'
import { serverOfUser } from './jid.js'
import { NS_ROSTER } from './ns.js'
import type { PrivilegeOptions, ResolvedPrivilegeOptions } from './options.js'
import { parseRosterItems } from './roster.js'

/** What the shared state needs of a handle: its events. */
export interface Lease {
  emit<E extends keyof PrivilegeEvents>(event: E, ...args: PrivilegeEvents[E]): boolean
}

/** The options the shared state holds (the others are each handle's own). */
type SharedOptions = Pick<ResolvedPrivilegeOptions, 'servers' | 'parent' | 'maxServers' | 'maxPerms'>

/**
 * The privileges state of one component, shared by every handle `privileges(xmpp)` returned:
 * the grants, the listeners on the component and the routes (the server announces once per
 * connection, and each announcement is read once). It is installed with the first handle and
 * removed when the last one is closed.
 */
export class SharedPrivileges {
  readonly book: GrantBook
  readonly #options: SharedOptions
  readonly #leases = new Set<Lease>()
  readonly #offs: Unroute[] = []
  readonly #onEmpty: () => void
  readonly #emit: GrantEmit = (event, ...args) => {
    // a listener may close a handle (or open one): the handles at the time of the event hear it
    for (const lease of [...this.#leases]) lease.emit(event, ...args)
  }

  constructor(xmpp: Component, options: SharedOptions, onEmpty: () => void) {
    this.#options = options
    this.#onEmpty = onEmpty
    this.book = new GrantBook(options)
    // Handled from the `stanza` event (whatever routes the application registered before);
    // the route only keeps announcements of trusted servers away from the application's
    // message routes: anything else with a <privilege/> child (e.g. a user's message to a
    // contact) goes on to them.
    const onStanza = (s: Stanza) => {
      if (s.name === 'message' && isAnnouncement(s)) this.book.announce(s, this.#emit)
    }
    xmpp.on('stanza', onStanza)
    this.#offs.push(() => xmpp.off('stanza', onStanza))
    this.#offs.push(
      xmpp.message(
        { where: (s) => isAnnouncement(s) && this.book.trustedSender(s.attrs.from) !== undefined },
        () => undefined,
      ),
    )
    this.#offs.push(
      xmpp.iqSet({ xmlns: NS_ROSTER, name: 'query', to: '' }, (iq, payload) => this.#push(iq, payload)),
    )
    const onOffline = () => this.book.forget(this.#emit)
    xmpp.on('offline', onOffline)
    this.#offs.push(() => xmpp.off('offline', onOffline))
  }

  /**
   * Throws `optionError` for an option of `given` that the shared state holds with another
   * value (an option left out takes the shared one).
   */
  checkCompatible(given: PrivilegeOptions, resolved: SharedOptions): void {
    const o = this.#options
    if (given.servers !== undefined && !sameServers(o.servers, resolved.servers)) {
      throw optionError(
        'privileges',
        'servers',
        `differs from the live privileges(xmpp) (${show(o.servers)})`,
      )
    }
    for (const name of ['maxServers', 'maxPerms'] as const) {
      if (given[name] !== undefined && o[name] !== resolved[name]) {
        throw optionError('privileges', name, `differs from the live privileges(xmpp) (${o[name]})`)
      }
    }
  }

  add(lease: Lease): void {
    this.#leases.add(lease)
  }

  /** Releases `lease`; the last one removes the routes and listeners and forgets the grants. */
  release(lease: Lease): void {
    if (!this.#leases.delete(lease) || this.#leases.size > 0) return
    for (const off of this.#offs.splice(0)) off()
    this.book.forget(undefined)
    this.#onEmpty()
  }

  #push(iq: Stanza, payload: Element): undefined {
    const server = serverOfUser(iq.attrs.from)
    const grant = server === undefined ? undefined : this.book.get(server)
    if (grant === undefined || !grant.rosterPush) {
      throw new StanzaError('service-unavailable')
    }
    const push = { user: iq.attrs.from as string, items: parseRosterItems(payload) }
    for (const lease of [...this.#leases]) lease.emit('rosterPush', push)
    return undefined
  }
}

function sameServers(a: ReadonlySet<string> | 'any', b: ReadonlySet<string> | 'any'): boolean {
  if (a === 'any' || b === 'any') return a === b
  if (a.size !== b.size) return false
  for (const s of a) if (!b.has(s)) return false
  return true
}

function show(servers: ReadonlySet<string> | 'any'): string {
  return servers === 'any' ? "'any'" : `[${[...servers].join(', ')}]`
}
