// Contacts in the user's roster: XEP-0356 roster sets when the user's server granted roster
// `set`, presence subscriptions otherwise, and the catch-up when the grant comes after a sync.
import { type Element, localOf, xml } from '@satellite/core'
import type { Privileges } from '@satellite/privilege'
import { userDomain } from './access.js'
import { setBounded } from './limits.js'
import type { BridgeStore } from './store.js'

export interface RosterHost {
  /** Roster pushes (undefined: `privilegedRoster: false`). */
  priv: Privileges | undefined
  store: BridgeStore
  networkName: string
  contactJid(legacyId: string): string
  send(el: Element): Promise<void>
  report(err: Error): void
  /** Users with something to catch up (the oldest forgotten first). */
  maxUsers: number
  /** Contacts of one user to catch up. */
  maxContacts: number
}

export interface Roster {
  /** Roster pushes for `user` (a bare JID): granted by their server. */
  canPush(user: string): boolean
  /** Adds or renames the contact with a roster set; false without the grant (remembered) or on failure. */
  push(user: string, legacyId: string, name: string | undefined): Promise<boolean>
  /** The contact is gone: unavailable, then removed from the roster (or unsubscribed). */
  forget(user: string, legacyId: string): void
  /** A contact (re)appeared: it is no removal to catch up. */
  keep(user: string, legacyId: string): void
  /** Stops listening to grants. */
  stop(): void
  /** Users with something to catch up. */
  readonly size: number
  /** Most contacts to catch up for one user. */
  readonly largest: number
}

export function roster(host: RosterHost): Roster {
  const { priv, store, contactJid, send, report } = host
  const canPush = (user: string) =>
    priv !== undefined && localOf(user) !== '' && priv.can(userDomain(user), 'roster', 'set')
  /**
   * Roster changes made with presence subscriptions only because no roster `set` grant was
   * known yet (grants come again after each handshake, maybe after the sync of a session):
   * user → legacy id → name of contacts to add or rename, and legacy ids of contacts to
   * remove. Made with roster sets as soon as the user's server grants roster `set`
   * ({@link catchUp}). In memory: lost on restart. Bounded: `maxUsers` users, `maxContacts` each.
   */
  const unpushed = new Map<string, Map<string, string | undefined>>()
  const unremoved = new Map<string, Set<string>>()
  const remember = <T extends Map<string, string | undefined> | Set<string>>(
    map: Map<string, T>,
    user: string,
    make: () => T,
    add: (entries: T) => void,
  ) => {
    const entries = map.get(user) ?? make()
    add(entries)
    if (entries.size > host.maxContacts) {
      const first = entries.keys().next().value as string
      entries.delete(first)
    }
    setBounded(map, user, entries, host.maxUsers)
  }

  async function push(user: string, legacyId: string, name: string | undefined): Promise<boolean> {
    if (priv === undefined) return false
    if (!canPush(user)) {
      remember(
        unpushed,
        user,
        () => new Map<string, string | undefined>(),
        (m) => {
          m.delete(legacyId)
          m.set(legacyId, name)
        },
      )
      unremoved.get(user)?.delete(legacyId)
      return false
    }
    unpushed.get(user)?.delete(legacyId)
    try {
      await priv.rosterSet(user, {
        jid: contactJid(legacyId),
        ...(name === undefined ? {} : { name }),
        groups: [host.networkName],
        subscription: 'both',
      })
      return true
    } catch (err) {
      report(err as Error)
      return false
    }
  }

  function forget(user: string, legacyId: string): void {
    const from = contactJid(legacyId)
    void send(xml('presence', { from, to: user, type: 'unavailable' }))
    const unsubscribe = () => {
      void send(xml('presence', { from, to: user, type: 'unsubscribe' }))
      void send(xml('presence', { from, to: user, type: 'unsubscribed' }))
    }
    const later = unpushed.get(user)
    later?.delete(legacyId)
    if (later?.size === 0) unpushed.delete(user)
    if (!canPush(user) || priv === undefined) {
      unsubscribe()
      if (priv !== undefined) {
        // The item stays in the roster (subscription none): removed once the grant comes.
        remember(
          unremoved,
          user,
          () => new Set<string>(),
          (s) => s.add(legacyId),
        )
      }
      return
    }
    // With roster permission the item is removed directly; if the server refuses, as before.
    priv.rosterRemove(user, from).catch((err: Error) => {
      report(err)
      unsubscribe()
    })
  }

  /**
   * `server` granted roster `set` (the announcement may come after the sessions' contact
   * sync: see `unpushed`): contacts that were only sent a presence `subscribe` are now set in
   * the roster (name, group, `subscription='both'`), renames are set, and contacts that were
   * only unsubscribed are removed. A subscription request already sent is not withdrawn (the
   * user may still answer it; the item is in the roster either way).
   */
  async function catchUp(server: string): Promise<void> {
    if (priv === undefined) return
    for (const user of new Set([...unpushed.keys(), ...unremoved.keys()])) {
      if (userDomain(user) !== server || !canPush(user)) continue
      const sets = unpushed.get(user)
      const removals = unremoved.get(user)
      unpushed.delete(user)
      unremoved.delete(user)
      for (const id of removals ?? []) {
        await priv.rosterRemove(user, contactJid(id)).catch((err: Error) => report(err))
      }
      if (sets === undefined) continue
      const stored = new Map((await store.contacts(user)).map((c) => [c.legacyId, c]))
      for (const [id, name] of sets) {
        const known = stored.get(id)
        if (known === undefined) continue // removed since
        // a failure is reported (and, if the grant went away meanwhile, remembered again)
        if ((await push(user, id, name)) && known.name !== name) {
          await store.putContact(user, {
            legacyId: id,
            ...(name === undefined ? {} : { name }),
            subscribed: true,
          })
        }
      }
    }
  }
  const onGrant = (server: string) => {
    if (unpushed.size === 0 && unremoved.size === 0) return
    catchUp(server).catch((err: Error) => report(err))
  }
  priv?.on('change', onGrant)

  return {
    canPush,
    push,
    forget,
    keep: (user, legacyId) => void unremoved.get(user)?.delete(legacyId),
    stop: () => void priv?.off('change', onGrant),
    get size() {
      return new Set([...unpushed.keys(), ...unremoved.keys()]).size
    },
    get largest() {
      let n = 0
      for (const m of [...unpushed.values(), ...unremoved.values()]) n = Math.max(n, m.size)
      return n
    },
  }
}
