// The user's contacts follow the legacy contact list: stored, put in the roster (roster.ts: a
// XEP-0356 push or a subscription request), renamed, removed; their presence sent. A message
// from someone who is no contact adds them. Everything that changes a user's stored contacts
// runs one task at a time per user, so `limits.contacts` holds however many events arrive.
import { xml } from '@satellite/core'
import type { LegacyContact } from './adapter.js'
import type { BridgeContext } from './context.js'
import { KeyedQueue, setBounded } from './limits.js'
import { NS_NICK } from './ns.js'
import type { UserSession } from './sessions.js'
import { isLegacyId } from './validate.js'

export interface Contacts<S> {
  /** Syncs the stored contacts with the list of login `gen` when the user's earlier contact work is done. */
  sync(us: UserSession<S>, gen: number, list: LegacyContact[]): Promise<void>
  /** A message from `from` (login `gen`), who is not a stored contact: added, within limits.contacts. */
  addSender(us: UserSession<S>, gen: number, from: string): Promise<void>
}

export function contacts<S>(ctx: BridgeContext<S>): Contacts<S> {
  const { store, limits, roster } = ctx
  /** What changes a user's stored contacts, one task at a time per user. */
  const work = new KeyedQueue(Number.POSITIVE_INFINITY)
  /** A contact list waiting for its turn, per user: a newer full list replaces it. */
  const waitingLists = new Map<string, { gen: number; list: LegacyContact[]; done: Promise<void> }>()

  function sync(us: UserSession<S>, gen: number, list: LegacyContact[]): Promise<void> {
    const waiting = waitingLists.get(us.user)
    if (waiting !== undefined) {
      waiting.gen = gen
      waiting.list = list
      return waiting.done
    }
    const entry = { gen, list, done: Promise.resolve() }
    waitingLists.set(us.user, entry)
    entry.done = work.run(us.user, async () => {
      waitingLists.delete(us.user) // under way: a newer list waits behind it
      if (ctx.sessions.isCurrent(us, entry.gen)) await syncNow(us, entry.list)
    })
    return entry.done
  }

  async function addSender(us: UserSession<S>, gen: number, from: string): Promise<void> {
    // Beyond this many waiting there is no room anyway: the message goes out without waiting.
    if (work.pending(us.user) > limits.contacts) {
      ctx.limit(
        `contacts of ${us.user}: too many senders waiting to be added (limits.contacts), one not added`,
      )
      return
    }
    const added = await work.run(us.user, async () => {
      if (!ctx.sessions.isCurrent(us, gen)) return false
      const stored = await store.contacts(us.user)
      if (stored.some((c) => c.legacyId === from)) return false
      if (stored.length >= limits.contacts) {
        ctx.limit(
          `contacts of ${us.user}: more than ${limits.contacts} (limits.contacts), a sender not added`,
        )
        return false
      }
      await store.putContact(us.user, { legacyId: from, subscribed: true })
      return true
    })
    if (added && !(await roster.push(us.user, from, undefined))) {
      void ctx.send(xml('presence', { from: ctx.contactJid(from), to: us.user, type: 'subscribe' }))
    }
  }

  async function syncNow(us: UserSession<S>, list: LegacyContact[]): Promise<void> {
    const stored = new Map((await store.contacts(us.user)).map((c) => [c.legacyId, c]))
    const current = new Set<string>()
    if (ctx.caps.avatars !== undefined) {
      for (let i = 0; i < list.length; i += 16) {
        await Promise.all(list.slice(i, i + 16).map((c) => ctx.vcards.avatarOf(us, c.id)))
      }
    }
    for (const c of list) {
      current.add(c.id)
      const known = stored.get(c.id)
      const renamed = known !== undefined && known.name !== c.name
      roster.keep(us.user, c.id)
      if (known === undefined || !known.subscribed || (renamed && roster.canPush(us.user))) {
        await store.putContact(us.user, {
          legacyId: c.id,
          ...(c.name === undefined ? {} : { name: c.name }),
          subscribed: true,
        })
        // With roster permission: a roster push (a rename too); otherwise, or if the server
        // refuses it, a subscription request carrying the nickname.
        if (!(await roster.push(us.user, c.id, c.name)) && (known === undefined || !known.subscribed)) {
          const p = xml('presence', { from: ctx.contactJid(c.id), to: us.user, type: 'subscribe' })
          if (c.name !== undefined) p.c('nick', { xmlns: NS_NICK }).t(c.name)
          void ctx.send(p)
        }
      } else if (renamed) {
        await roster.push(us.user, c.id, c.name) // no grant (yet): remembered for the rename
      }
      if (c.online !== undefined) {
        const value = c.status === undefined ? { online: c.online } : { online: c.online, status: c.status }
        setBounded(us.presence, c.id, value, limits.contacts)
      }
      const pres = us.presence.get(c.id)
      ctx.presence.contact(us.user, c.id, pres?.online === true, pres?.status)
    }
    for (const id of stored.keys()) {
      if (current.has(id)) continue
      await store.removeContact(us.user, id)
      us.presence.delete(id)
      ctx.avatars.delete(us.user, id)
      if (isLegacyId(id)) roster.forget(us.user, id)
    }
  }

  return { sync, addSender }
}
