import { createHash, randomUUID } from 'node:crypto'
import { type Component, type Element, errorReply, type Stanza, StanzaError, xml } from '@satellite/core'
import { fromJid, toJid } from '@satellite/escaping'
import type { DataForm } from '@satellite/forms'
import { privileges } from '@satellite/privilege'
import { type LegacyField, type Registration, registration } from '@satellite/register'
import type {
  Avatar,
  ChatState,
  Credentials,
  IncomingGroupMessage,
  IncomingMessage,
  LegacyContact,
  LegacyMember,
  NetworkAdapter,
  SessionEvents,
} from './adapter.js'
import { type Groups, groupChats, NS_MUC } from './groups.js'
import type { BridgeStore } from './store.js'

export const NS_GATEWAY = 'jabber:iq:gateway'
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
export const NS_RECEIPTS = 'urn:xmpp:receipts'
export const NS_CORRECT = 'urn:xmpp:message-correct:0'
export const NS_REACTIONS = 'urn:xmpp:reactions:0'
export const NS_NICK = 'http://jabber.org/protocol/nick'
export const NS_VCARD = 'vcard-temp'
export const NS_VCARD_UPDATE = 'vcard-temp:x:update'
const NS_HINTS = 'urn:xmpp:hints'

const CHAT_STATES: ReadonlySet<string> = new Set(['active', 'composing', 'paused', 'inactive', 'gone'])

/** Options of {@link bridge}. */
export interface BridgeOptions<S> {
  adapter: NetworkAdapter<S>
  store: BridgeStore
  /** Log every registered user in when the component comes online (default false: on their presence). */
  loginAtStart?: boolean
  /**
   * Legacy re-logins after a disconnect: exponential backoff in ms (default base 1000, cap 60000)
   * and at most `maxAttempts` attempts in a row (default: no limit). After the last one fails,
   * the user is told by a message from the gateway and the session stays logged out until the
   * user's next available presence (or {@link Bridge.login}).
   */
  retry?: { base?: number; cap?: number; maxAttempts?: number }
  /**
   * Manage contacts with XEP-0356 roster pushes when the user's server granted the
   * gateway roster `set` (default `true`): contacts are added, renamed and removed in the
   * user's roster directly (group: the network name), with no subscription requests. When
   * not granted, or when the server answers a roster set with an error, presence
   * subscriptions are used as before.
   */
  privilegedRoster?: boolean
  /**
   * Group messages kept in memory per user and group while the legacy session is up, and sent
   * as the discussion history (with XEP-0203 delays) when the user joins the room; the join's
   * `<history/>` limits apply. Default 20; 0 sends no history.
   */
  groupHistory?: number
}

/** State of one user's legacy session. */
export type SessionState = 'offline' | 'connecting' | 'online' | 'retrying'

/** Handle returned by {@link bridge}. */
export interface Bridge {
  /** The state of `user`'s legacy session (bare JID). */
  state(user: string): SessionState
  /** Logs `user` in now (no-op when online). */
  login(user: string): Promise<void>
  /** Logs `user` out and marks the contacts unavailable. */
  logout(user: string): Promise<void>
  /** The JID standing for a legacy id. */
  contactJid(legacyId: string): string
  /** Removes the routes and logs every session out. */
  stop(): Promise<void>
}

interface UserSession<S> {
  user: string
  state: SessionState
  handle: S | null
  /** Bumped on every login/logout: events of older sessions are ignored. */
  generation: number
  resources: Set<string>
  attempt: number
  /** Re-logins ran out of attempts: nothing logs in again but the user's available presence. */
  gaveUp: boolean
  timer: NodeJS.Timeout | null
  /** Known legacy presence of contacts (legacy id → online/status). */
  presence: Map<string, { online: boolean; status?: string }>
  /** Contacts' pictures known so far (legacy id → picture and SHA-1, or null: none). */
  avatars: Map<string, CachedAvatar | null>
  connecting: Promise<void> | null
}

interface CachedAvatar extends Avatar {
  /** Hex SHA-1 of the bytes (XEP-0153). */
  hash: string
}

function bareOf(stanza: Stanza): string {
  const from = stanza.fromJid
  if (from === null) throw new StanzaError('bad-request', { text: 'the stanza has no valid from' })
  return from.bare().toString()
}

function asStanzaError(err: unknown, fallback: string): StanzaError {
  if (err instanceof StanzaError) return err
  return new StanzaError(fallback, { text: err instanceof Error ? err.message : String(err) })
}

/**
 * Turns the component into an XEP-0100 gateway to the legacy network of `adapter`: disco
 * identity `gateway/<type>`, XEP-0077 registration of legacy credentials (checked by a real
 * login), `jabber:iq:gateway`, one legacy session per registered user, messages and presence
 * relayed both ways, contacts at `escapeLocal(legacyId)@domain`.
 *
 * @example
 * ```ts
 * const xmpp = component(configFromEnv())
 * bridge(xmpp, { adapter, store: new SqliteStore({ path: 'bridge.db', key: keyFromEnv() }) })
 * await xmpp.start()
 * ```
 */
export function bridge<S>(xmpp: Component, options: BridgeOptions<S>): Bridge {
  // Options are checked before anything is registered on the component.
  const groupHistory = options.groupHistory ?? 20
  if (!Number.isInteger(groupHistory) || groupHistory < 0) {
    throw new TypeError(`bridge(): groupHistory must be an integer >= 0, got ${String(options.groupHistory)}`)
  }
  const { adapter, store } = options
  const caps = adapter.capabilities ?? {}
  const domain = xmpp.domain
  const base = options.retry?.base ?? 1000
  const cap = options.retry?.cap ?? 60_000
  const maxAttempts = options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY
  if (!(maxAttempts >= 0)) {
    throw new RangeError(`retry.maxAttempts must be a number >= 0, got ${options.retry?.maxAttempts}`)
  }
  for (const [name, v] of [
    ['retry.base', base],
    ['retry.cap', cap],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new RangeError(`${name} must be a number of ms > 0, got ${v}`)
  }
  const sessions = new Map<string, UserSession<S>>()
  /** Session generations, unique across users: events of a superseded login are ignored. */
  let generations = 0
  const unroutes: Array<() => void> = []
  const networkName = adapter.network.name

  const contactJid = (legacyId: string) => toJid(legacyId, domain)
  const priv = options.privilegedRoster === false ? undefined : privileges(xmpp)
  /** Roster pushes for `user` (a bare JID): granted by their server, else false. */
  const canPush = (user: string) => {
    const at = user.lastIndexOf('@')
    return priv !== undefined && at > 0 && priv.can(user.slice(at + 1), 'roster', 'set')
  }
  const serverOf = (user: string) => user.slice(user.lastIndexOf('@') + 1).toLowerCase()
  /**
   * Roster changes made with presence subscriptions only because no roster `set` grant was
   * known yet (grants come again after each handshake, maybe after the sync of a session):
   * user → legacy id → name of contacts to add or rename, and legacy ids of contacts to
   * remove. Made with roster sets as soon as the user's server grants roster `set`
   * ({@link catchUp}). In memory: lost on restart.
   */
  const unpushed = new Map<string, Map<string, string | undefined>>()
  const unremoved = new Map<string, Set<string>>()
  /**
   * Adds or updates the contact in `user`'s roster with a privileged roster set; false on
   * failure. Without the grant (yet), the contact is remembered for {@link catchUp}.
   */
  const pushContact = async (user: string, legacyId: string, name: string | undefined): Promise<boolean> => {
    if (priv === undefined) return false
    if (!canPush(user)) {
      const later = unpushed.get(user) ?? new Map<string, string | undefined>()
      unpushed.set(user, later.set(legacyId, name))
      unremoved.get(user)?.delete(legacyId)
      return false
    }
    unpushed.get(user)?.delete(legacyId)
    try {
      await priv.rosterSet(user, {
        jid: contactJid(legacyId),
        ...(name === undefined ? {} : { name }),
        groups: [networkName],
        subscription: 'both',
      })
      return true
    } catch (err) {
      report(err as Error)
      return false
    }
  }
  const send = (el: Element) => xmpp.send(el).catch((err: Error) => report(err))
  const report = (err: Error) => {
    if (xmpp.listenerCount('error') > 0) xmpp.emit('error', err)
  }

  // ------------------------------------------------------------------ disco

  xmpp.disco.identity({ category: 'gateway', type: adapter.network.type, name: networkName })
  xmpp.disco.identity({ category: 'client', type: 'pc', name: `${networkName} contact` }, { to: '*' })
  const features: string[] = []
  if (caps.typing) features.push(NS_CHATSTATES)
  if (caps.receipts) features.push(NS_RECEIPTS)
  if (caps.corrections) features.push(NS_CORRECT)
  if (caps.reactions) features.push(NS_REACTIONS)
  for (const f of features) {
    xmpp.disco.feature(f)
    xmpp.disco.feature(f, { to: '*' })
  }
  if (caps.groups) {
    xmpp.disco.identity({ category: 'conference', type: 'text', name: `${networkName} groups` })
    xmpp.disco.feature(NS_MUC)
  }

  // ------------------------------------------------------------------ sessions

  function session(user: string): UserSession<S> {
    let us = sessions.get(user)
    if (us === undefined) {
      us = {
        user,
        state: 'offline',
        handle: null,
        generation: 0,
        resources: new Set(),
        attempt: 0,
        gaveUp: false,
        timer: null,
        presence: new Map(),
        avatars: new Map(),
        connecting: null,
      }
      sessions.set(user, us)
    }
    return us
  }

  function notify(user: string, text: string): void {
    void send(
      xml('message', { from: domain, to: user, type: 'chat', id: randomUUID() }, xml('body', {}, text)),
    )
  }

  function contactPresence(
    user: string,
    legacyId: string,
    online: boolean,
    status?: string,
    to = user,
  ): void {
    const p = xml(
      'presence',
      online ? { from: contactJid(legacyId), to } : { from: contactJid(legacyId), to, type: 'unavailable' },
    )
    if (status !== undefined && status !== '') p.c('status').t(status)
    if (online && caps.avatars !== undefined) {
      // XEP-0153: the hash of the picture, empty for none, no <photo/> while not known yet.
      const x = p.c('x', { xmlns: NS_VCARD_UPDATE })
      const av = sessions.get(user)?.avatars.get(legacyId)
      if (av !== undefined) x.c('photo').t(av?.hash ?? '')
    }
    void send(p)
  }

  function cacheAvatar(us: UserSession<S>, legacyId: string, av: Avatar | null): CachedAvatar | null {
    const entry =
      av === null
        ? null
        : { type: av.type, data: av.data, hash: createHash('sha1').update(av.data).digest('hex') }
    us.avatars.set(legacyId, entry)
    return entry
  }

  /** The contact's picture: known, or asked to the adapter (undefined: unknown, e.g. offline or failed). */
  async function avatarOf(us: UserSession<S>, legacyId: string): Promise<CachedAvatar | null | undefined> {
    if (caps.avatars === undefined) return null
    if (us.avatars.has(legacyId)) return us.avatars.get(legacyId)
    const handle = us.handle
    if (handle === null) return undefined
    const gen = us.generation
    try {
      const av = await caps.avatars.avatar(handle, legacyId)
      if (us.generation !== gen) return undefined
      return cacheAvatar(us, legacyId, av)
    } catch (err) {
      report(err instanceof Error ? err : new Error(String(err)))
      return undefined
    }
  }

  function gatewayPresence(user: string, online: boolean, to = user): void {
    void send(xml('presence', online ? { from: domain, to } : { from: domain, to, type: 'unavailable' }))
  }

  function eventsFor(us: UserSession<S>, gen: number): SessionEvents {
    const live = () => us.generation === gen
    const guard =
      <A extends unknown[]>(fn: (...args: A) => Promise<void> | void) =>
      (...args: A) => {
        if (!live()) return
        Promise.resolve()
          .then(() => fn(...args))
          .catch((err: Error) => report(err))
      }
    return {
      message: guard((m: IncomingMessage) => relayIncoming(us, m)),
      presence: guard((contact: string, online: boolean, status?: string) => {
        us.presence.set(contact, status === undefined ? { online } : { online, status })
        if (us.state === 'online') {
          contactPresence(us.user, contact, online, status)
          groups?.presence(us.user, contact)
        }
      }),
      contacts: guard((list: LegacyContact[]) => syncContacts(us, list)),
      disconnected: guard((reason: string) => lost(us, reason)),
      typing: guard((contact: string, state: ChatState) => {
        void send(
          xml(
            'message',
            { from: contactJid(contact), to: us.user, type: 'chat' },
            xml(state, { xmlns: NS_CHATSTATES }),
          ),
        )
      }),
      receipt: guard(async (contact: string, legacyId: string) => {
        const id = await store.xmppIdOf(us.user, contact, legacyId)
        if (id === null) return
        void send(
          xml(
            'message',
            { from: contactJid(contact), to: us.user, id: randomUUID() },
            xml('received', { xmlns: NS_RECEIPTS, id }),
          ),
        )
      }),
      reaction: guard(async (contact: string, legacyId: string, emojis: string[]) => {
        const id = await store.xmppIdOf(us.user, contact, legacyId)
        if (id === null) return
        const reactions = xml('reactions', { xmlns: NS_REACTIONS, id })
        for (const e of emojis) reactions.c('reaction').t(e)
        void send(
          xml(
            'message',
            { from: contactJid(contact), to: us.user, type: 'chat', id: randomUUID() },
            reactions,
            xml('store', { xmlns: NS_HINTS }),
          ),
        )
      }),
      groupMessage: guard((m: IncomingGroupMessage) => groups?.message(us.user, m)),
      groupMembers: guard((group: string, members: LegacyMember[]) =>
        groups?.members(us.user, group, members),
      ),
      groupSubject: guard((group: string, subject: string) => groups?.subject(us.user, group, subject)),
      avatar: guard((contact: string, av: Avatar | null) => {
        if (caps.avatars === undefined) return
        cacheAvatar(us, contact, av)
        const pres = us.presence.get(contact)
        if (us.state === 'online' && pres?.online === true) {
          contactPresence(us.user, contact, true, pres.status)
        }
      }),
    }
  }

  /** After a successful login: contacts, their presence, the gateway's presence. */
  async function established(us: UserSession<S>, handle: S): Promise<void> {
    us.handle = handle
    us.state = 'online'
    us.attempt = 0
    us.gaveUp = false
    us.avatars.clear() // asked again: they may have changed while logged out
    gatewayPresence(us.user, true)
    await syncContacts(us, await adapter.listContacts(handle))
    await groups?.refresh(us.user, handle)
  }

  async function syncContacts(us: UserSession<S>, list: LegacyContact[]): Promise<void> {
    const stored = new Map((await store.contacts(us.user)).map((c) => [c.legacyId, c]))
    const current = new Set<string>()
    if (caps.avatars !== undefined) await Promise.all(list.map((c) => avatarOf(us, c.id)))
    for (const c of list) {
      current.add(c.id)
      const known = stored.get(c.id)
      const renamed = known !== undefined && known.name !== c.name
      unremoved.get(us.user)?.delete(c.id)
      if (known === undefined || !known.subscribed || (renamed && canPush(us.user))) {
        await store.putContact(us.user, {
          legacyId: c.id,
          ...(c.name === undefined ? {} : { name: c.name }),
          subscribed: true,
        })
        // With roster permission: a roster push (a rename too); otherwise, or if the server
        // refuses it, a subscription request carrying the nickname.
        if (!(await pushContact(us.user, c.id, c.name)) && (known === undefined || !known.subscribed)) {
          const p = xml('presence', { from: contactJid(c.id), to: us.user, type: 'subscribe' })
          if (c.name !== undefined) p.c('nick', { xmlns: NS_NICK }).t(c.name)
          void send(p)
        }
      } else if (renamed) {
        await pushContact(us.user, c.id, c.name) // no grant (yet): remembered for the rename
      }
      if (c.online !== undefined) {
        us.presence.set(
          c.id,
          c.status === undefined ? { online: c.online } : { online: c.online, status: c.status },
        )
      }
      const pres = us.presence.get(c.id)
      contactPresence(us.user, c.id, pres?.online === true, pres?.status)
    }
    for (const id of stored.keys()) {
      if (current.has(id)) continue
      await store.removeContact(us.user, id)
      us.presence.delete(id)
      us.avatars.delete(id)
      forgetContact(us.user, id)
    }
  }

  function forgetContact(user: string, legacyId: string): void {
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
        unremoved.set(user, (unremoved.get(user) ?? new Set<string>()).add(legacyId))
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
      if (serverOf(user) !== server || !canPush(user)) continue
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
        if ((await pushContact(user, id, name)) && known.name !== name) {
          await store.putContact(user, {
            legacyId: id,
            ...(name === undefined ? {} : { name }),
            subscribed: true,
          })
        }
      }
    }
  }
  if (priv !== undefined) {
    const onGrant = (server: string) => {
      if (unpushed.size === 0 && unremoved.size === 0) return
      catchUp(server).catch((err: Error) => report(err))
    }
    priv.on('change', onGrant)
    unroutes.push(() => priv.off('change', onGrant))
  }

  /** The legacy session is gone: contacts unavailable, rooms closed. */
  function allUnavailable(us: UserSession<S>): void {
    for (const id of us.presence.keys()) contactPresence(us.user, id, false)
    groups?.closeAll(us.user)
  }

  /** Logs the user in (if registered); resolves when done (or failed: the user is told). */
  function connect(us: UserSession<S>, reason: 'presence' | 'start' | 'retry' | 'reconnect'): Promise<void> {
    if (us.state === 'online') return Promise.resolve()
    if (us.connecting !== null) return us.connecting
    if (us.timer !== null) {
      clearTimeout(us.timer)
      us.timer = null
    }
    const gen = ++generations
    us.generation = gen
    us.state = 'connecting'
    us.gaveUp = false
    const run = (async () => {
      const credentials = await store.getRegistration(us.user)
      if (credentials === null) {
        us.state = 'offline'
        return
      }
      let handle: S
      try {
        handle = await adapter.login(credentials, eventsFor(us, gen))
      } catch (err) {
        if (us.generation !== gen) return
        const e = asStanzaError(err, 'service-unavailable')
        if (e.condition === 'not-authorized' || e.condition === 'forbidden') {
          us.state = 'offline'
          notify(
            us.user,
            `${networkName} refused the login (${e.text ?? e.condition}); update your registration.`,
          )
          return
        }
        retryLater(us, e.text ?? e.condition)
        return
      }
      if (us.generation !== gen) {
        await adapter.logout(handle).catch(() => {})
        return
      }
      await established(us, handle)
      if (reason === 'retry') notify(us.user, `Reconnected to ${networkName}.`)
    })()
      .catch((err: Error) => report(err))
      .finally(() => {
        if (us.generation === gen) us.connecting = null
      })
    us.connecting = run
    return run
  }

  function retryLater(us: UserSession<S>, reason: string): void {
    if (us.attempt >= maxAttempts) {
      const tries = us.attempt
      us.attempt = 0
      us.state = 'offline'
      us.gaveUp = true
      us.handle = null
      allUnavailable(us)
      gatewayPresence(us.user, false)
      notify(
        us.user,
        `Disconnected from ${networkName}: ${reason}. Gave up after ${tries} ${tries === 1 ? 'attempt' : 'attempts'} to reconnect; go online again (available presence) to log in.`,
      )
      return
    }
    const delay = Math.min(cap, base * 2 ** us.attempt)
    us.attempt++
    us.state = 'retrying'
    us.handle = null
    allUnavailable(us)
    notify(
      us.user,
      `Disconnected from ${networkName}: ${reason}. Reconnecting in ${Math.ceil(delay / 1000)} s.`,
    )
    us.timer = setTimeout(() => {
      us.timer = null
      us.connecting = null
      us.state = 'offline'
      void connect(us, 'retry')
    }, delay)
    us.timer.unref?.()
  }

  function lost(us: UserSession<S>, reason: string): void {
    if (us.state !== 'online') return
    us.generation = ++generations
    us.connecting = null
    retryLater(us, reason)
  }

  async function disconnect(us: UserSession<S>): Promise<void> {
    us.generation = ++generations
    us.connecting = null
    if (us.timer !== null) clearTimeout(us.timer)
    us.timer = null
    const handle = us.handle
    us.handle = null
    const wasUp = us.state === 'online'
    us.state = 'offline'
    if (wasUp) {
      allUnavailable(us)
      gatewayPresence(us.user, false)
    }
    if (handle !== null) await adapter.logout(handle).catch((err: Error) => report(err))
  }

  // ------------------------------------------------------------------ registration (XEP-0077)

  const fields: readonly LegacyField[] = adapter.registration?.fields ?? ['username', 'password']
  const instructions = adapter.registration?.instructions ?? `Enter your ${networkName} login`
  const form: DataForm = {
    title: `${networkName} registration`,
    instructions,
    fields: fields.map((name) => ({
      type: name === 'password' || name === 'key' ? ('text-private' as const) : ('text-single' as const),
      var: name,
      label: name[0]?.toUpperCase() + name.slice(1),
      required: true,
    })),
  }

  /**
   * Checks the credentials by logging in with them; on success that session replaces the
   * current one (if any). A refused login leaves the current session and registration as they are.
   */
  async function validate(user: string, values: Registration): Promise<void> {
    const us = session(user)
    const gen = ++generations // not current until it succeeds: its events wait for that
    let handle: S
    try {
      handle = await adapter.login(values as Credentials, eventsFor(us, gen))
    } catch (err) {
      const e = asStanzaError(err, 'service-unavailable')
      if (e.condition === 'not-authorized') {
        throw new StanzaError('not-authorized', {
          text: e.text ?? `${networkName} refused these credentials`,
        })
      }
      throw e
    }
    try {
      await store.putRegistration(user, values as Credentials)
    } catch (err) {
      await adapter.logout(handle).catch(() => {})
      throw err
    }
    await disconnect(us)
    groups?.forget(user) // possibly another legacy account: its history is not this one's
    us.generation = gen
    // Subscribe the user to the gateway, then bring the contacts in.
    void send(xml('presence', { from: domain, to: user, type: 'subscribe' }))
    await established(us, handle)
  }

  const reg = registration(xmpp, {
    fields,
    form,
    instructions,
    hooks: {
      get: (jid) => store.getRegistration(jid),
      register: (jid, values) => validate(jid, values),
      update: (jid, values) => validate(jid, values),
      remove: async (jid) => {
        const us = sessions.get(jid)
        const contacts = await store.contacts(jid)
        if (us !== undefined) {
          await disconnect(us)
          sessions.delete(jid)
        }
        await store.removeUser(jid)
        groups?.forget(jid)
        for (const c of contacts) forgetContact(jid, c.legacyId)
        void send(xml('presence', { from: domain, to: jid, type: 'unsubscribe' }))
        void send(xml('presence', { from: domain, to: jid, type: 'unsubscribed' }))
        gatewayPresence(jid, false)
      },
    },
  })
  unroutes.push(() => reg.stop())

  // ------------------------------------------------------------------ jabber:iq:gateway (XEP-0100 §6.3)

  unroutes.push(
    xmpp.iqGet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, () =>
      xml(
        'query',
        { xmlns: NS_GATEWAY },
        xml('desc', {}, `Enter the ${networkName} ID of the contact`),
        xml('prompt', {}, `${networkName} ID`),
      ),
    ),
    xmpp.iqSet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, (_iq, query) => {
      const input = (query.getChildText('prompt') ?? '').trim()
      if (input === '') throw new StanzaError('bad-request', { text: 'give the contact ID in <prompt/>' })
      const id = adapter.normalizeId !== undefined ? adapter.normalizeId(input) : input
      let address: string
      try {
        address = contactJid(id)
      } catch (err) {
        throw new StanzaError('not-acceptable', { text: (err as Error).message })
      }
      return xml('query', { xmlns: NS_GATEWAY }, xml('jid', {}, address))
    }),
  )

  // ------------------------------------------------------------------ contacts' vCards (XEP-0054)

  unroutes.push(
    xmpp.iqGet({ xmlns: NS_VCARD, name: 'vCard', to: '*' }, async (iq) => {
      const user = bareOf(iq)
      const legacyId = fromJid(String(iq.attrs.to), domain)
      if (legacyId === null) throw new StanzaError('item-not-found')
      if ((await store.getRegistration(user)) === null) {
        throw new StanzaError('registration-required', { text: `register with ${domain} first` })
      }
      const contact = (await store.contacts(user)).find((c) => c.legacyId === legacyId)
      if (contact === undefined) throw new StanzaError('item-not-found', { text: 'not one of your contacts' })
      const card = xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, contact.name ?? legacyId))
      if (contact.name !== undefined) card.c('NICKNAME').t(contact.name)
      const us = sessions.get(user)
      const av = us === undefined ? undefined : await avatarOf(us, legacyId)
      if (av !== undefined && av !== null) {
        card.c('PHOTO').c('TYPE').t(av.type).up().c('BINVAL').t(av.data.toString('base64'))
      }
      return card
    }),
  )

  // ------------------------------------------------------------------ group chats (before the contact routes)

  const groups: Groups | undefined =
    caps.groups === undefined
      ? undefined
      : groupChats({
          xmpp,
          groups: caps.groups,
          networkName,
          send,
          report,
          sessionFor: liveHandle,
          presenceOf: (user, legacyId) => sessions.get(user)?.presence.get(legacyId),
          isCurrent: (user, handle) => {
            const us = sessions.get(user)
            return us?.state === 'online' && us.handle === handle
          },
          historySize: groupHistory,
        })
  if (groups !== undefined) unroutes.push(...groups.routes)

  // ------------------------------------------------------------------ presence

  unroutes.push(
    xmpp.presence({ to: '' }, async (p) => {
      const user = bareOf(p)
      const type = p.attrs.type ?? 'available'
      if (type === 'subscribe') {
        const registered = (await store.getRegistration(user)) !== null
        return send(
          xml('presence', { from: domain, to: user, type: registered ? 'subscribed' : 'unsubscribed' }),
        )
      }
      if (type === 'probe') {
        const us = sessions.get(user)
        return gatewayPresence(user, us?.state === 'online', p.attrs.from)
      }
      if (type !== 'available' && type !== 'unavailable') return
      if ((await store.getRegistration(user)) === null) return
      const us = session(user)
      const resource = String(p.attrs.from)
      if (type === 'available') {
        const fresh = !us.resources.has(resource)
        us.resources.add(resource)
        if (us.state === 'online') {
          if (fresh) {
            gatewayPresence(user, true, resource)
            for (const [id, pres] of us.presence)
              contactPresence(user, id, pres.online, pres.status, resource)
          }
        } else if (us.state !== 'retrying') {
          await connect(us, 'presence')
        }
        if (caps.status !== undefined && us.handle !== null) {
          await caps.status.setStatus(us.handle, true, p.getChildText('status') ?? undefined)
        }
        return
      }
      // Only a resource seen available can go offline: servers also send bare-JID unavailable
      // presences that are no such thing (Prosody acknowledges an inbound subscribe with one).
      if (!us.resources.delete(resource)) return
      if (us.resources.size === 0) await disconnect(us)
    }),
    xmpp.presence({ to: '*' }, async (p) => {
      const user = bareOf(p)
      const type = p.attrs.type ?? 'available'
      const legacyId = fromJid(String(p.attrs.to), domain)
      if (legacyId === null) return
      const registered = (await store.getRegistration(user)) !== null
      if (type === 'subscribe') {
        if (!registered) {
          return send(
            errorReply(
              p,
              new StanzaError('registration-required', { text: `register with ${domain} first` }),
            ),
          )
        }
        return send(xml('presence', { from: p.attrs.to, to: user, type: 'subscribed' }))
      }
      if (type === 'probe' && registered) {
        const pres = sessions.get(user)?.presence.get(legacyId)
        const online = sessions.get(user)?.state === 'online' && pres?.online === true
        return contactPresence(user, legacyId, online, pres?.status, p.attrs.from)
      }
    }),
  )

  // ------------------------------------------------------------------ messages

  async function relayIncoming(us: UserSession<S>, m: IncomingMessage): Promise<void> {
    const known = (await store.contacts(us.user)).some((c) => c.legacyId === m.from)
    if (!known) {
      await store.putContact(us.user, { legacyId: m.from, subscribed: true })
      if (!(await pushContact(us.user, m.from, undefined))) {
        void send(xml('presence', { from: contactJid(m.from), to: us.user, type: 'subscribe' }))
      }
    }
    // The legacy id doubles as the XMPP id (as Slidge does): stable and easy to correlate.
    const id = m.id !== '' ? m.id : randomUUID()
    await store.putMessage(us.user, { contact: m.from, xmppId: id, legacyId: m.id })
    const msg = xml(
      'message',
      { from: contactJid(m.from), to: us.user, type: 'chat', id },
      xml('body', {}, m.text),
    )
    if (m.replaces !== undefined && caps.corrections) {
      const original = await store.xmppIdOf(us.user, m.from, m.replaces)
      if (original !== null) msg.c('replace', { xmlns: NS_CORRECT, id: original })
    }
    if (caps.receipts) msg.c('request', { xmlns: NS_RECEIPTS })
    if (caps.typing) msg.c('active', { xmlns: NS_CHATSTATES })
    await send(msg)
  }

  function unsupported(what: string): StanzaError {
    return new StanzaError('feature-not-implemented', { text: `${networkName} does not support ${what}` })
  }

  /** The user's live legacy session, logging in if needed; a StanzaError to answer with otherwise. */
  async function liveHandle(user: string): Promise<S> {
    if ((await store.getRegistration(user)) === null) {
      throw new StanzaError('registration-required', { text: `register with ${domain} first` })
    }
    const us = session(user)
    if (us.gaveUp) {
      throw new StanzaError('service-unavailable', {
        text: `gave up reconnecting to ${networkName}; go online again (available presence) to log in`,
      })
    }
    // A login under way (e.g. started by the initial presence a client sends just before
    // joining its rooms) is waited for, not refused.
    if (us.state === 'offline' || us.state === 'connecting') await connect(us, 'presence')
    const handle = us.handle
    if (us.state !== 'online' || handle === null) {
      throw new StanzaError('service-unavailable', {
        type: 'wait',
        text: `not connected to ${networkName} right now`,
      })
    }
    return handle
  }

  async function relayOutgoing(msg: Stanza): Promise<void> {
    const user = bareOf(msg)
    const to = String(msg.attrs.to)
    const legacyId = fromJid(to, domain)
    if (legacyId === null) throw new StanzaError('jid-malformed')
    // Contacts have no resources; with groups, `room@gateway/nick` is an occupant: never relay
    // that to the contact `room` (on IRC-like networks it would post to the channel).
    if (groups !== undefined && to.includes('/')) {
      throw new StanzaError('feature-not-implemented', {
        text: `private messages to ${networkName} group members are not bridged; message the contact directly`,
      })
    }
    const handle = await liveHandle(user)
    if (groups?.isGroup(user, legacyId)) {
      throw new StanzaError('not-acceptable', {
        text: `${legacyId} is a group: join the room and send groupchat messages`,
      })
    }
    const body = msg.getChildText('body')
    const children = msg.getChildElements()
    if (body !== null) {
      const replace = children.find((c) => c.name === 'replace' && c.attrs.xmlns === NS_CORRECT)
      const xmppId = msg.attrs.id ?? randomUUID()
      if (replace !== undefined) {
        if (caps.corrections === undefined) throw unsupported('message corrections')
        const original = await store.legacyIdOf(user, legacyId, String(replace.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the corrected message is unknown' })
        const newId = await caps.corrections.correct(handle, legacyId, original, body)
        await store.putMessage(user, { contact: legacyId, xmppId, legacyId: newId })
        return
      }
      const sent = await adapter.sendText(handle, legacyId, body)
      await store.putMessage(user, { contact: legacyId, xmppId, legacyId: sent })
      return
    }
    for (const c of children) {
      if (c.attrs.xmlns === NS_CHATSTATES && CHAT_STATES.has(c.name)) {
        if (caps.typing === undefined) throw unsupported('typing notifications')
        await caps.typing.sendTyping(handle, legacyId, c.name as ChatState)
        return
      }
      if (c.attrs.xmlns === NS_RECEIPTS && c.name === 'received') {
        if (caps.receipts === undefined) throw unsupported('delivery receipts')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the received message is unknown' })
        await caps.receipts.sendReceipt(handle, legacyId, original)
        return
      }
      if (c.attrs.xmlns === NS_REACTIONS && c.name === 'reactions') {
        if (caps.reactions === undefined) throw unsupported('reactions')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the message reacted to is unknown' })
        const emojis = c.getChildElements().flatMap((r) => (r.name === 'reaction' ? [r.getText()] : []))
        await caps.reactions.react(handle, legacyId, original, emojis)
        return
      }
    }
  }

  unroutes.push(
    xmpp.message({ to: '*', type: ['chat', 'normal'] }, async (msg) => {
      try {
        await relayOutgoing(msg)
      } catch (err) {
        const e = asStanzaError(err, 'undefined-condition')
        if (!(err instanceof StanzaError)) report(err as Error)
        await send(errorReply(msg, e))
      }
    }),
  )

  // ------------------------------------------------------------------ component lifecycle

  let wasOnline = false
  const onOnline = () => {
    const again = wasOnline
    wasOnline = true
    void (async () => {
      if (again) {
        // After a reconnect of the component: log every active session in again.
        for (const us of sessions.values()) {
          if (us.state === 'offline') continue
          await disconnect(us)
          void connect(us, 'reconnect')
        }
      }
      if (options.loginAtStart === true) {
        for (const user of await store.users()) void connect(session(user), 'start')
      }
    })().catch((err: Error) => report(err))
  }
  xmpp.on('online', onOnline)
  unroutes.push(() => xmpp.off('online', onOnline))
  if (xmpp.online) onOnline()

  return {
    state: (user) => sessions.get(user)?.state ?? 'offline',
    login: (user) => connect(session(user), 'presence'),
    logout: async (user) => {
      const us = sessions.get(user)
      if (us !== undefined) await disconnect(us)
    },
    contactJid,
    stop: async () => {
      for (const u of unroutes.splice(0)) u()
      for (const us of sessions.values()) await disconnect(us)
      sessions.clear()
    },
  }
}
