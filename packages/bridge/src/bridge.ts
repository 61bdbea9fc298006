import { randomUUID } from 'node:crypto'
import { type Component, type Element, errorReply, type Stanza, StanzaError, xml } from '@satellite/core'
import { fromJid, toJid } from '@satellite/escaping'
import type { DataForm } from '@satellite/forms'
import { privileges } from '@satellite/privilege'
import { type Registration, registration } from '@satellite/register'
import { access, domainOf, userOf } from './access.js'
import type { Credentials, IncomingMessage, LegacyContact } from './adapter.js'
import { AvatarCache, type CachedAvatar } from './avatars.js'
import { type ContactRoutesHost, contactPresenceRoute, gatewayRoutes } from './contact-routes.js'
import { type EventSink, sessionEvents } from './events.js'
import { type Groups, groupChats, NS_MUC } from './groups.js'
import { guardAdapter, userText } from './guard.js'
import { KeyedQueue, QueueFullError, setBounded } from './limits.js'
import { BridgeError, BridgeErrorCodes, reporter } from './log.js'
import {
  type Bridge,
  type BridgeOptions,
  type ConnectReason,
  resolveOptions,
  type UserSession,
} from './options.js'
import { roster } from './roster.js'
import { deferralError, LoginThrottle } from './throttle.js'
import { CHAT_STATES, cleanText, isLegacyId } from './validate.js'

export { NS_GATEWAY, NS_VCARD } from './contact-routes.js'
export type { Bridge, BridgeOptions, BridgeSizes, SessionState } from './options.js'

export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
export const NS_RECEIPTS = 'urn:xmpp:receipts'
export const NS_CORRECT = 'urn:xmpp:message-correct:0'
export const NS_REACTIONS = 'urn:xmpp:reactions:0'
export const NS_NICK = 'http://jabber.org/protocol/nick'
export const NS_VCARD_UPDATE = 'vcard-temp:x:update'
const NS_HINTS = 'urn:xmpp:hints'

/** Registration values as one string, whatever the order of the fields. */
const canonical = (r: Registration) => JSON.stringify(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)))
/** The same registration values (whatever the order of the fields). */
const sameRegistration = (a: Registration, b: Registration) => canonical(a) === canonical(b)

const refused = (err: unknown) =>
  err instanceof StanzaError && (err.condition === 'not-authorized' || err.condition === 'forbidden')

/**
 * Turns the component into an XEP-0100 gateway to the legacy network of `adapter`: disco
 * identity `gateway/<type>`, XEP-0077 registration of legacy credentials (checked by a real
 * login), `jabber:iq:gateway`, one legacy session per registered user, messages and presence
 * relayed both ways, contacts at `escapeLocal(legacyId)@domain`. Everything the adapter does
 * or reports goes through a guard: an adapter bug ends at most that user's session.
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
  const { groupHistory, limits, loginLimits, base, cap, maxAttempts, fields } = resolveOptions(
    options,
    xmpp.options.limits.concurrency,
  )
  const throttle = new LoginThrottle(loginLimits)
  const { adapter, store } = options
  const caps = adapter.capabilities ?? {}
  const domain = xmpp.domain
  const report = reporter(xmpp, limits.reportsPerMinute)
  const networkName = cleanText(String(adapter.network?.name ?? ''), 100) || 'legacy network'
  const users = access({
    store,
    domain,
    allowedDomains: options.allowedDomains,
    report,
    maxTracked: limits.sessions,
  })
  const dropped = (user?: string) => (what: string) =>
    report(
      new BridgeError(
        BridgeErrorCodes.ADAPTER,
        `bridge: dropped from the ${networkName} adapter${user === undefined ? '' : ` (${user})`}: ${what}`,
      ),
    )
  const limit = (what: string) => report(new BridgeError(BridgeErrorCodes.LIMIT, `bridge: ${what}`))
  const guarded = guardAdapter(adapter, { limits, networkName, report, dropped: dropped() })
  const sessions = new Map<string, UserSession<S>>()
  /** Contacts' pictures known so far (user + legacy id → picture and SHA-1, or null: none). */
  const avatars = new AvatarCache(limits.contacts, limits.avatarCacheBytes)
  /** Registrations (and removals) of one user run one after the other. */
  const registrations = new KeyedQueue(limits.pendingRegistrations)
  /** Requests waiting for a legacy login (registrations, requests during a login), all users: limits.loginWaiters. */
  let loginWaiters = 0
  /** Requests of one user waiting for that user's login under way. */
  const userLoginWaiters = Math.max(1, Math.floor(limits.loginWaiters / 4))
  const busy = () =>
    new StanzaError('resource-constraint', {
      type: 'wait',
      text: 'the gateway is busy; try again in a moment',
    })
  /** Session generations, unique across users: events of a superseded login are ignored. */
  let generations = 0
  const unroutes: Array<() => void> = []

  const contactJid = (legacyId: string) => toJid(legacyId, domain)
  const send = async (el: Element) => {
    try {
      await xmpp.send(el)
    } catch (err) {
      report(err as Error)
    }
  }
  const contacts = roster({
    priv: options.privilegedRoster === false ? undefined : privileges(xmpp),
    store,
    networkName,
    contactJid,
    send,
    report,
    maxUsers: limits.sessions,
    maxContacts: limits.contacts,
  })
  unroutes.push(() => contacts.stop())

  // ------------------------------------------------------------------ disco

  xmpp.disco.identity({
    category: 'gateway',
    type: String(adapter.network?.type ?? 'unknown'),
    name: networkName,
  })
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

  /** The user's session entry, made if needed; `resource-constraint` beyond `limits.sessions`. */
  function session(user: string): UserSession<S> {
    let us = sessions.get(user)
    if (us !== undefined) return us
    if (sessions.size >= limits.sessions) {
      limit(`${sessions.size} sessions (limits.sessions): none for ${user}`)
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'the gateway is full; try again later',
      })
    }
    us = {
      user,
      state: 'offline',
      handle: null,
      generation: 0,
      resources: new Set(),
      attempt: 0,
      gaveUp: false,
      broken: false,
      busy: 0,
      waiting: 0,
      statusAfterLogin: null,
      timer: null,
      presence: new Map(),
      connecting: null,
    }
    sessions.set(user, us)
    return us
  }

  /** Forgets a session that holds nothing (logged out, no resource, nothing pending or to remember). */
  function release(us: UserSession<S>): void {
    const idle =
      us.state === 'offline' && us.resources.size === 0 && us.timer === null && us.connecting === null
    if (idle && us.busy === 0 && !us.gaveUp && !us.broken && sessions.get(us.user) === us) {
      sessions.delete(us.user)
      avatars.clear(us.user)
    }
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
      const av = avatars.get(user, legacyId)
      if (av !== undefined) x.c('photo').t(av?.hash ?? '')
    }
    void send(p)
  }

  /** The contact's picture: known, or asked to the adapter (undefined: unknown, e.g. offline or failed). */
  async function avatarOf(us: UserSession<S>, legacyId: string): Promise<CachedAvatar | null | undefined> {
    if (caps.avatars === undefined) return null
    if (avatars.has(us.user, legacyId)) return avatars.get(us.user, legacyId)
    const handle = us.handle
    if (handle === null) return undefined
    const gen = us.generation
    try {
      const av = await guarded.avatar(us.user, handle, legacyId)
      return us.generation === gen ? avatars.set(us.user, legacyId, av) : undefined
    } catch {
      return undefined // reported by the guard
    }
  }

  function gatewayPresence(user: string, online: boolean, to = user): void {
    void send(xml('presence', online ? { from: domain, to } : { from: domain, to, type: 'unavailable' }))
  }

  /** The events of one login: checked by `sessionEvents`, then ignored unless that login is the current one. */
  function eventsFor(us: UserSession<S>, gen: number) {
    const run =
      <A extends unknown[]>(fn: (...args: A) => unknown) =>
      (...args: A) => {
        if (us.generation !== gen) return
        Promise.resolve()
          .then(() => fn(...args))
          .catch((err: Error) => report(err))
      }
    const sink: EventSink = {
      message: run((m: IncomingMessage) => relayIncoming(us, gen, m)),
      presence: run((contact: string, online: boolean, status: string | undefined) => {
        const value = status === undefined ? { online } : { online, status }
        if (setBounded(us.presence, contact, value, limits.contacts) > 0) {
          limit(
            `presences of ${us.user}: more than ${limits.contacts} contacts (limits.contacts), the oldest dropped`,
          )
        }
        if (us.state === 'online') {
          contactPresence(us.user, contact, online, status)
          groups?.presence(us.user, contact)
        }
      }),
      contacts: run((list: LegacyContact[]) => syncLater(us, gen, list)),
      disconnected: run((reason: string | undefined) => lost(us, reason || 'the connection was lost')),
      typing: run((contact: string, state: string) => {
        // sessionEvents let only the five XEP-0085 states through; never an element name from outside.
        if (!CHAT_STATES.has(state)) return
        void send(
          xml(
            'message',
            { from: contactJid(contact), to: us.user, type: 'chat' },
            xml(state, { xmlns: NS_CHATSTATES }),
          ),
        )
      }),
      receipt: run(async (contact: string, legacyId: string) => {
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
      reaction: run(async (contact: string, legacyId: string, emojis: string[]) => {
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
      groupMessage: run((m) => groups?.message(us.user, m)),
      groupMembers: run((group, members) => groups?.members(us.user, group, members)),
      groupSubject: run((group, subject) => groups?.subject(us.user, group, subject)),
      avatar: run((contact, av) => {
        if (caps.avatars === undefined) return
        avatars.set(us.user, contact, av)
        const pres = us.presence.get(contact)
        if (us.state === 'online' && pres?.online === true) {
          contactPresence(us.user, contact, true, pres.status)
        }
      }),
    }
    return sessionEvents({ limits, dropped: dropped(us.user) }, sink)
  }

  /** After a successful login: contacts, their presence, the gateway's presence. */
  async function established(us: UserSession<S>, handle: S): Promise<void> {
    us.handle = handle
    us.state = 'online'
    us.attempt = 0
    us.gaveUp = false
    us.broken = false
    avatars.clear(us.user) // asked again: they may have changed while logged out
    gatewayPresence(us.user, true)
    const gen = us.generation
    // A failing contact list (reported by the guard) leaves the stored contacts as they are.
    const list = await guarded.listContacts(us.user, handle).catch(() => null)
    if (us.generation !== gen) return
    if (list !== null) await syncLater(us, gen, list)
    await groups?.refresh(us.user, handle).catch(() => {})
  }

  /**
   * What changes a user's stored contacts (a contact list, a message from someone new) runs one
   * task at a time per user: the count read and the write it allows have nothing in between,
   * so `limits.contacts` holds however many events arrive together.
   */
  const contactWork = new KeyedQueue(Number.POSITIVE_INFINITY)
  /** A contact list waiting for its turn, per user: a newer full list replaces it. */
  const waitingLists = new Map<string, { gen: number; list: LegacyContact[]; done: Promise<void> }>()

  /** Syncs the stored contacts with `list` when the user's earlier contact work is done. */
  function syncLater(us: UserSession<S>, gen: number, list: LegacyContact[]): Promise<void> {
    const waiting = waitingLists.get(us.user)
    if (waiting !== undefined) {
      waiting.gen = gen
      waiting.list = list
      return waiting.done
    }
    const entry = { gen, list, done: Promise.resolve() }
    waitingLists.set(us.user, entry)
    entry.done = contactWork.run(us.user, async () => {
      waitingLists.delete(us.user) // under way: a newer list waits behind it
      if (us.generation === entry.gen) await syncContacts(us, entry.list)
    })
    return entry.done
  }

  /** A message from `from`, who is not a stored contact: added, within limits.contacts. */
  async function addSender(us: UserSession<S>, gen: number, from: string): Promise<void> {
    // Beyond this many waiting there is no room anyway: the message goes out without waiting.
    if (contactWork.pending(us.user) > limits.contacts) {
      limit(`contacts of ${us.user}: too many senders waiting to be added (limits.contacts), one not added`)
      return
    }
    const added = await contactWork.run(us.user, async () => {
      if (us.generation !== gen) return false
      const stored = await store.contacts(us.user)
      if (stored.some((c) => c.legacyId === from)) return false
      if (stored.length >= limits.contacts) {
        limit(`contacts of ${us.user}: more than ${limits.contacts} (limits.contacts), a sender not added`)
        return false
      }
      await store.putContact(us.user, { legacyId: from, subscribed: true })
      return true
    })
    if (added && !(await contacts.push(us.user, from, undefined))) {
      void send(xml('presence', { from: contactJid(from), to: us.user, type: 'subscribe' }))
    }
  }

  async function syncContacts(us: UserSession<S>, list: LegacyContact[]): Promise<void> {
    const stored = new Map((await store.contacts(us.user)).map((c) => [c.legacyId, c]))
    const current = new Set<string>()
    if (caps.avatars !== undefined) {
      for (let i = 0; i < list.length; i += 16) {
        await Promise.all(list.slice(i, i + 16).map((c) => avatarOf(us, c.id)))
      }
    }
    for (const c of list) {
      current.add(c.id)
      const known = stored.get(c.id)
      const renamed = known !== undefined && known.name !== c.name
      contacts.keep(us.user, c.id)
      if (known === undefined || !known.subscribed || (renamed && contacts.canPush(us.user))) {
        await store.putContact(us.user, {
          legacyId: c.id,
          ...(c.name === undefined ? {} : { name: c.name }),
          subscribed: true,
        })
        // With roster permission: a roster push (a rename too); otherwise, or if the server
        // refuses it, a subscription request carrying the nickname.
        if (!(await contacts.push(us.user, c.id, c.name)) && (known === undefined || !known.subscribed)) {
          const p = xml('presence', { from: contactJid(c.id), to: us.user, type: 'subscribe' })
          if (c.name !== undefined) p.c('nick', { xmlns: NS_NICK }).t(c.name)
          void send(p)
        }
      } else if (renamed) {
        await contacts.push(us.user, c.id, c.name) // no grant (yet): remembered for the rename
      }
      if (c.online !== undefined) {
        const value = c.status === undefined ? { online: c.online } : { online: c.online, status: c.status }
        setBounded(us.presence, c.id, value, limits.contacts)
      }
      const pres = us.presence.get(c.id)
      contactPresence(us.user, c.id, pres?.online === true, pres?.status)
    }
    for (const id of stored.keys()) {
      if (current.has(id)) continue
      await store.removeContact(us.user, id)
      us.presence.delete(id)
      avatars.delete(us.user, id)
      if (isLegacyId(id)) contacts.forget(us.user, id)
    }
  }

  /** The legacy session is gone: contacts unavailable, rooms closed. */
  function allUnavailable(us: UserSession<S>): void {
    for (const id of us.presence.keys()) contactPresence(us.user, id, false)
    groups?.closeAll(us.user)
  }

  /** A login of `us` in `delay` ms (state `retrying` meanwhile). */
  function later(us: UserSession<S>, delay: number, reason: ConnectReason): void {
    us.state = 'retrying'
    us.timer = setTimeout(
      () => {
        us.timer = null
        us.connecting = null
        us.state = 'offline'
        void connect(us, reason)
      },
      Math.min(delay, 2 ** 31 - 1),
    ) // beyond, setTimeout would fire at once
    us.timer.unref?.()
  }

  /**
   * Logs the user in (if registered and allowed); resolves when done (or failed: the user is
   * told). Logins take from `loginLimits` (those on the user's presence from the user's own
   * limits too); one that has to wait is made later.
   */
  function connect(us: UserSession<S>, reason: ConnectReason): Promise<void> {
    if (us.state === 'online') return Promise.resolve()
    if (us.connecting !== null) return us.connecting
    if (us.timer !== null) {
      clearTimeout(us.timer)
      us.timer = null
    }
    const deferral = throttle.acquire(us.user, { byUser: reason === 'presence' })
    if (deferral !== null) {
      limit(`login of ${us.user} in ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
      later(us, deferral.wait, reason)
      return Promise.resolve()
    }
    const gen = ++generations
    us.generation = gen
    us.state = 'connecting'
    us.gaveUp = false
    const run = (async () => {
      const stored = users.allowed(us.user) ? await users.read(us.user) : { kind: 'none' as const }
      if (us.generation !== gen) return
      if (stored.kind !== 'ok') {
        us.state = 'offline'
        if (stored.kind === 'unreadable' && !us.broken) {
          us.broken = true
          notify(
            us.user,
            `Your stored ${networkName} login cannot be used any more; register again with ${domain}.`,
          )
        }
        return
      }
      let handle: S
      // Refusals count against the legacy account too (a re-login is never held back by it).
      const account = throttle.account(us.user, stored.credentials)
      try {
        handle = await guarded.login(us.user, stored.credentials, eventsFor(us, gen))
      } catch (err) {
        if (us.generation !== gen) return
        const condition = err instanceof StanzaError ? err.condition : 'service-unavailable'
        if (refused(err)) {
          throttle.refused(us.user, account)
          us.state = 'offline'
          notify(us.user, `${networkName} refused the login (${condition}); update your registration.`)
          return
        }
        retryLater(us, userText(condition, networkName))
        return
      }
      throttle.succeeded(us.user, account)
      if (us.generation !== gen) {
        await guarded.logout(us.user, handle)
        return
      }
      await established(us, handle)
      if (reason === 'retry') notify(us.user, `Reconnected to ${networkName}.`)
    })()
      .catch((err: Error) => {
        report(err)
        if (us.generation === gen && us.state === 'connecting') us.state = 'offline'
      })
      .finally(() => {
        if (us.generation === gen) us.connecting = null
        release(us)
      })
    us.connecting = run
    return run
  }

  function retryLater(us: UserSession<S>, reason: string): void {
    const why = reason.length > 200 ? `${reason.slice(0, 200)}…` : reason
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
        `Disconnected from ${networkName}: ${why}. Gave up after ${tries} ${tries === 1 ? 'attempt' : 'attempts'} to reconnect; go online again (available presence) to log in.`,
      )
      return
    }
    const delay = Math.min(cap, base * 2 ** us.attempt)
    us.attempt++
    us.handle = null
    allUnavailable(us)
    notify(us.user, `Disconnected from ${networkName}: ${why}. Reconnecting in ${Math.ceil(delay / 1000)} s.`)
    later(us, delay, 'retry')
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
    if (handle !== null) await guarded.logout(us.user, handle)
  }

  // ------------------------------------------------------------------ registration (XEP-0077)

  const instructions =
    cleanText(adapter.registration?.instructions, limits.fieldLength) ?? `Enter your ${networkName} login`
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
   * current one (if any). A refused login leaves the current session and registration as they
   * are, and no state behind. The same credentials again while online: nothing to do (no login,
   * no subscription request). Runs one at a time per user (see `registrations`).
   */
  async function validate(user: string, values: Registration, account: string): Promise<void> {
    if (!users.allowed(user)) {
      throw new StanzaError('not-allowed', { text: `this gateway does not serve users of ${domainOf(user)}` })
    }
    const before = await users.read(user)
    if (
      before.kind === 'ok' &&
      sameRegistration(before.credentials, values) &&
      sessions.get(user)?.state === 'online'
    ) {
      return
    }
    const us = session(user)
    us.busy++ // a presence meanwhile must not release the entry this registration fills
    try {
      await registerLogin(us, user, values, before.kind !== 'ok', account)
    } finally {
      us.busy--
      release(us)
    }
  }

  async function registerLogin(
    us: UserSession<S>,
    user: string,
    values: Registration,
    fresh: boolean,
    account: string,
  ): Promise<void> {
    // The login was taken from the limits when queued; a backoff may have begun since.
    const deferral = throttle.backoff(user, { byUser: true, account })
    if (deferral !== null) {
      limit(`registration of ${user} refused for ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
      throw deferralError(deferral, networkName)
    }
    const gen = ++generations // not current until it succeeds: its events wait for that
    let handle: S
    try {
      handle = await guarded.login(user, values as Credentials, eventsFor(us, gen))
    } catch (err) {
      if (!refused(err)) throw err // a guarded error: a valid condition and a stable text
      throttle.refused(user, account)
      throw new StanzaError('not-authorized', { text: `${networkName} refused these credentials` })
    }
    throttle.succeeded(user, account)
    try {
      await store.putRegistration(user, values as Credentials)
    } catch (err) {
      await guarded.logout(user, handle)
      report(err as Error)
      throw new StanzaError('internal-server-error', { text: 'the registration could not be stored' })
    }
    users.reset(user)
    await disconnect(us)
    groups?.forget(user) // possibly another legacy account: its history is not this one's
    us.generation = gen
    // A new registration subscribes the user to the gateway; then the contacts come in.
    if (fresh) void send(xml('presence', { from: domain, to: user, type: 'subscribe' }))
    await established(us, handle)
  }

  async function unregister(jid: string): Promise<void> {
    const us = sessions.get(jid)
    const stored = await store.contacts(jid)
    if (us !== undefined) {
      await disconnect(us)
      sessions.delete(jid)
    }
    avatars.clear(jid)
    await store.removeUser(jid)
    users.reset(jid)
    groups?.forget(jid)
    for (const c of stored) if (isLegacyId(c.legacyId)) contacts.forget(jid, c.legacyId)
    void send(xml('presence', { from: domain, to: jid, type: 'unsubscribe' }))
    void send(xml('presence', { from: domain, to: jid, type: 'unsubscribed' }))
    gatewayPresence(jid, false)
  }

  /** The last registration (or removal) of each user under way or waiting: the same again joins it. */
  const lastRegistration = new Map<string, { key: string; done: Promise<void> }>()

  /**
   * Queues a registration or removal of `jid` (`key`: what it asks for). Everything that can
   * refuse it is checked before it waits, with no await in between, and answered at once: the
   * user's queue is full (limits.pendingRegistrations), too many requests wait for logins
   * (limits.loginWaiters), the login limits (`before`, which takes the login from them).
   */
  function queued(jid: string, key: string, task: () => Promise<void>, before?: () => void): Promise<void> {
    const last = lastRegistration.get(jid)
    if (last?.key === key) return last.done
    if (registrations.pending(jid) > limits.pendingRegistrations) {
      limit(
        `registrations of ${jid}: more than ${limits.pendingRegistrations} waiting (limits.pendingRegistrations)`,
      )
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'your registrations are already under way; try again in a moment',
      })
    }
    if (loginWaiters >= limits.loginWaiters) {
      limit(
        `${loginWaiters} requests waiting for logins (limits.loginWaiters): a registration of ${jid} refused`,
      )
      throw busy()
    }
    before?.()
    loginWaiters++
    const done: Promise<void> = registrations.run(jid, task).finally(() => {
      loginWaiters--
      if (lastRegistration.get(jid)?.done === done) lastRegistration.delete(jid)
    })
    lastRegistration.set(jid, { key, done })
    return done
  }

  /** A registration (or update): joins the same one under way, or is queued within the login limits. */
  async function register(jid: string, values: Registration): Promise<void> {
    const before = await users.read(jid)
    const key = `set:${canonical(values)}`
    // The same credentials again while online and nothing else under way: nothing to do (no login).
    const online = sessions.get(jid)?.state === 'online'
    if (
      online &&
      !lastRegistration.has(jid) &&
      before.kind === 'ok' &&
      sameRegistration(before.credentials, values)
    ) {
      return
    }
    const account = throttle.account(jid, values)
    return queued(
      jid,
      key,
      () => validate(jid, values, account),
      () => {
        if (!users.allowed(jid)) return // validate() answers not-allowed, with no login
        const deferral = throttle.acquire(jid, { byUser: true, account })
        if (deferral === null) return
        limit(`registration of ${jid} refused for ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
        throw deferralError(deferral, networkName)
      },
    )
  }

  const reg = registration(xmpp, {
    fields,
    form,
    instructions,
    allow: (jid) => users.mayRegister(jid),
    hooks: {
      // An unreadable registration reads as one without values: the user can unregister or register again.
      get: async (jid) => {
        const r = await users.read(jid)
        return r.kind === 'ok' ? r.credentials : r.kind === 'unreadable' ? {} : null
      },
      register,
      update: register,
      remove: async (jid) => queued(jid, 'remove', () => unregister(jid)),
    },
  })
  unroutes.push(() => reg.stop())

  // ------------------------------------------------------------------ jabber:iq:gateway, vCards, contacts' presence

  const contactHost: ContactRoutesHost = {
    xmpp,
    networkName,
    normalizeId: guarded.normalizeId,
    contactJid,
    registered: async (user) => (await users.read(user)).kind !== 'none',
    contacts: (user) => store.contacts(user),
    avatar: (user, legacyId) => {
      const us = sessions.get(user)
      return us === undefined ? Promise.resolve(undefined) : avatarOf(us, legacyId)
    },
    presence: (user, legacyId) => {
      const us = sessions.get(user)
      const pres = us?.presence.get(legacyId)
      return { online: us?.state === 'online' && pres?.online === true, status: pres?.status }
    },
    contactPresence,
    send,
  }
  unroutes.push(...gatewayRoutes(contactHost))

  // ------------------------------------------------------------------ group chats (before the contact routes)

  const groups: Groups | undefined =
    caps.groups === undefined
      ? undefined
      : groupChats({
          xmpp,
          listGroups: guarded.listGroups,
          members: guarded.members,
          sendGroupText: guarded.sendGroupText,
          networkName,
          limits,
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

  /** Available and unavailable presences of one user to the gateway, one after the other. */
  const presences = new KeyedQueue(2 * limits.resources)

  /**
   * Follows the user's resources: the first available one logs in (not awaited), the last one
   * going unavailable logs out. Resolves with the session after an available presence.
   */
  async function presenceChange(
    user: string,
    resource: string,
    available: boolean,
  ): Promise<UserSession<S> | null> {
    if (!available) {
      // Only a resource seen available can go offline: servers also send bare-JID unavailable
      // presences that are no such thing (Prosody acknowledges an inbound subscribe with one).
      const us = sessions.get(user)
      if (us === undefined || !us.resources.delete(resource)) return null
      if (us.resources.size === 0) {
        await disconnect(us)
        release(us)
      }
      return null
    }
    if (!users.allowed(user) || (await users.read(user)).kind === 'none') return null
    let us: UserSession<S>
    try {
      us = session(user)
    } catch {
      return null // the gateway is full (reported)
    }
    const fresh = !us.resources.has(resource) && us.resources.size < limits.resources
    if (!us.resources.has(resource) && !fresh) {
      limit(
        `resources of ${user}: more than ${limits.resources} (limits.resources), ${resource} not followed`,
      )
    }
    if (fresh) us.resources.add(resource)
    if (us.state === 'online') {
      if (fresh) {
        gatewayPresence(user, true, resource)
        for (const [id, pres] of us.presence) contactPresence(user, id, pres.online, pres.status, resource)
      }
    } else if (us.state !== 'retrying') {
      void connect(us, 'presence')
    }
    return us
  }

  unroutes.push(
    xmpp.presence({ to: '' }, async (p) => {
      const user = userOf(p)
      const type = p.attrs.type ?? 'available'
      if (type === 'subscribe') {
        const registered = (await users.read(user)).kind !== 'none'
        return send(
          xml('presence', { from: domain, to: user, type: registered ? 'subscribed' : 'unsubscribed' }),
        )
      }
      if (type === 'probe') {
        const us = sessions.get(user)
        return gatewayPresence(user, us?.state === 'online', p.attrs.from)
      }
      if (type !== 'available' && type !== 'unavailable') return
      const resource = String(p.attrs.from)
      const us = await presences
        .run(user, () => presenceChange(user, resource, type === 'available'))
        .catch((err: unknown) => {
          if (!(err instanceof QueueFullError)) throw err
          limit(`presences of ${user}: too many waiting (2 × limits.resources), one dropped`)
          return null
        })
      if (us === null || caps.status === undefined) return
      const status = cleanText(p.getChildText('status') ?? undefined, limits.fieldLength)
      if (us.connecting === null) {
        if (us.handle !== null) await guarded.setStatus(user, us.handle, true, status).catch(() => {})
        return
      }
      // A login under way is not waited for here (no handler slot held): the newest status is
      // set once it is done.
      const waiting = us.statusAfterLogin !== null
      us.statusAfterLogin = { status }
      if (waiting) return
      void us.connecting.then(async () => {
        const next = us.statusAfterLogin
        us.statusAfterLogin = null
        if (next !== null && us.handle !== null) {
          await guarded.setStatus(user, us.handle, true, next.status).catch(() => {})
        }
      })
    }),
    contactPresenceRoute(contactHost),
  )

  // ------------------------------------------------------------------ messages

  async function relayIncoming(us: UserSession<S>, gen: number, m: IncomingMessage): Promise<void> {
    // A message from someone new adds the contact first (within limits.contacts).
    const stored = await store.contacts(us.user)
    if (!stored.some((c) => c.legacyId === m.from)) await addSender(us, gen, m.from)
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
    const stored = await users.read(user)
    if (stored.kind === 'none') {
      throw new StanzaError('registration-required', { text: `register with ${domain} first` })
    }
    if (stored.kind === 'unreadable') {
      throw new StanzaError('registration-required', {
        text: `your stored ${networkName} login cannot be used; register with ${domain} again`,
      })
    }
    const us = session(user)
    if (us.gaveUp) {
      throw new StanzaError('service-unavailable', {
        text: `gave up reconnecting to ${networkName}; go online again (available presence) to log in`,
      })
    }
    // A login under way (e.g. started by the initial presence a client sends just before
    // joining its rooms) is waited for, not refused: within limits.loginWaiters, since each
    // request waiting holds one of the component's handler slots.
    if (us.state === 'offline' || us.state === 'connecting') {
      const login = connect(us, 'presence')
      if (us.connecting !== null) {
        if (us.waiting >= userLoginWaiters || loginWaiters >= limits.loginWaiters) {
          limit(`${loginWaiters} requests waiting for logins (limits.loginWaiters): one of ${user} refused`)
          throw busy()
        }
        us.waiting++
        loginWaiters++
        try {
          await login
        } finally {
          us.waiting--
          loginWaiters--
        }
      }
    }
    const handle = us.handle
    if (us.state !== 'online' || handle === null) {
      release(us)
      throw new StanzaError('service-unavailable', {
        type: 'wait',
        text: `not connected to ${networkName} right now`,
      })
    }
    return handle
  }

  async function relayOutgoing(msg: Stanza): Promise<void> {
    const user = userOf(msg)
    const to = String(msg.attrs.to)
    const legacyId = fromJid(to, domain)
    // A local part that unescapes to no usable id (a lone surrogate, too long) is no contact.
    if (legacyId === null || !isLegacyId(legacyId)) {
      throw new StanzaError('jid-malformed', { text: 'not the address of a contact' })
    }
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
        const newId = await guarded.correct(user, handle, legacyId, original, body)
        await store.putMessage(user, { contact: legacyId, xmppId, legacyId: newId })
        return
      }
      const sent = await guarded.sendText(user, handle, legacyId, body)
      await store.putMessage(user, { contact: legacyId, xmppId, legacyId: sent })
      return
    }
    for (const c of children) {
      if (c.attrs.xmlns === NS_CHATSTATES && CHAT_STATES.has(c.name)) {
        if (caps.typing === undefined) throw unsupported('typing notifications')
        await guarded.sendTyping(user, handle, legacyId, c.name as 'active')
        return
      }
      if (c.attrs.xmlns === NS_RECEIPTS && c.name === 'received') {
        if (caps.receipts === undefined) throw unsupported('delivery receipts')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the received message is unknown' })
        await guarded.sendReceipt(user, handle, legacyId, original)
        return
      }
      if (c.attrs.xmlns === NS_REACTIONS && c.name === 'reactions') {
        if (caps.reactions === undefined) throw unsupported('reactions')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the message reacted to is unknown' })
        const emojis = c.getChildElements().flatMap((r) => (r.name === 'reaction' ? [r.getText()] : []))
        await guarded.react(user, handle, legacyId, original, emojis)
        return
      }
    }
  }

  unroutes.push(
    xmpp.message({ to: '*', type: ['chat', 'normal'] }, async (msg) => {
      try {
        await relayOutgoing(msg)
      } catch (err) {
        // StanzaErrors are the bridge's own or the guard's (valid condition, stable text); anything
        // else is a bug or a store failure: logged, and a stable text for the user.
        if (!(err instanceof StanzaError)) report(err as Error)
        const e =
          err instanceof StanzaError
            ? err
            : new StanzaError('undefined-condition', { text: 'the gateway could not relay this message' })
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
        for (const user of await store.users()) {
          if (!users.allowed(user)) continue
          if (sessions.size >= limits.sessions && !sessions.has(user)) {
            limit(
              `loginAtStart: ${sessions.size} sessions (limits.sessions), the other users log in on their presence`,
            )
            break
          }
          void connect(session(user), 'start')
        }
      }
    })().catch((err: Error) => report(err))
  }
  xmpp.on('online', onOnline)
  unroutes.push(() => xmpp.off('online', onOnline))
  if (xmpp.online) onOnline()

  const max = (xs: Iterable<number>) => {
    let m = 0
    for (const x of xs) m = Math.max(m, x)
    return m
  }
  return {
    state: (user) => sessions.get(user)?.state ?? 'offline',
    login: (user) => connect(session(user), 'start'),
    logout: async (user) => {
      const us = sessions.get(user)
      if (us !== undefined) {
        await disconnect(us)
        release(us)
      }
    },
    contactJid,
    sizes: () => ({
      sessions: sessions.size,
      resources: max([...sessions.values()].map((us) => us.resources.size)),
      presence: max([...sessions.values()].map((us) => us.presence.size)),
      avatars: avatars.size,
      avatarBytes: avatars.bytes,
      roster: contacts.size,
      rosterContacts: contacts.largest,
      logins: throttle.size,
      accounts: throttle.accounts,
      loginWaiters,
      registrations: registrations.size,
      groups: groups?.sizes(),
    }),
    stop: async () => {
      for (const u of unroutes.splice(0)) u()
      for (const us of sessions.values()) await disconnect(us)
      sessions.clear()
    },
  }
}
