// The gateway itself (XEP-0100): its disco identity and features, jabber:iq:gateway, the
// registration of legacy credentials (XEP-0077: checked by a real login; one at a time per
// user, the same one again joins it), and requests waiting for a login: registrations and
// requests during a login hold one of the component's handler slots each, so they are bounded
// (limits.loginWaiters; a quarter of it per user) and refused at once beyond.
import { type DiscoTarget, type Identity, StanzaError, type Unroute, xml } from '@satellite/core'
import type { DataForm } from '@satellite/forms'
import { type LegacyField, type Registration, registration } from '@satellite/register'
import { userDomain } from './access.js'
import type { Credentials } from './adapter.js'
import type { BridgeContext } from './context.js'
import { loginEvents } from './events.js'
import { NS_MUC } from './groups.js'
import { refusedLogin } from './guard.js'
import { KeyedQueue } from './limits.js'
import { NS_CHATSTATES, NS_CORRECT, NS_GATEWAY, NS_REACTIONS, NS_RECEIPTS } from './ns.js'
import type { UserSession } from './sessions.js'
import { deferralError } from './throttle.js'
import { cleanText, isLegacyId } from './validate.js'

export interface Gateway<S> {
  /** The user's live legacy session, logging in if needed (waiting within limits.loginWaiters); a StanzaError to answer with otherwise. */
  sessionFor(user: string): Promise<S>
  /** A registration (or update): joins the same one under way, or is queued within the login limits. */
  register(jid: string, values: Registration): Promise<void>
  /** A removal of the registration: queued like a registration. */
  remove(jid: string): Promise<void>
  /** Requests waiting for a login, all users; users with a registration under way. */
  sizes(): { loginWaiters: number; registrations: number }
}

/** Registration values as one string, whatever the order of the fields. */
const canonical = (r: Registration) => JSON.stringify(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)))
/** The same registration values (whatever the order of the fields). */
const sameRegistration = (a: Registration, b: Registration) => canonical(a) === canonical(b)

const busy = () =>
  new StanzaError('resource-constraint', {
    type: 'wait',
    text: 'the gateway is busy; try again in a moment',
  })

/**
 * The gateway's disco identity (gateway/<type>; client/pc on contacts) and the declared
 * capabilities' features; returns what removes them.
 */
export function gatewayDisco<S>(ctx: BridgeContext<S>): Unroute {
  const { xmpp, networkName, caps } = ctx
  const identities: [Identity, DiscoTarget | undefined][] = [
    [
      { category: 'gateway', type: String(ctx.adapter.network?.type ?? 'unknown'), name: networkName },
      undefined,
    ],
    [{ category: 'client', type: 'pc', name: `${networkName} contact` }, { to: '*' }],
  ]
  const features: [string, DiscoTarget | undefined][] = []
  for (const f of [
    caps.typing && NS_CHATSTATES,
    caps.receipts && NS_RECEIPTS,
    caps.corrections && NS_CORRECT,
    caps.reactions && NS_REACTIONS,
  ]) {
    if (f) features.push([f, undefined], [f, { to: '*' }])
  }
  if (caps.groups) {
    identities.push([{ category: 'conference', type: 'text', name: `${networkName} groups` }, undefined])
    features.push([NS_MUC, undefined])
  }
  for (const [identity, target] of identities) xmpp.disco.identity(identity, target)
  for (const [f, target] of features) xmpp.disco.feature(f, target)
  return () => {
    for (const [identity, target] of identities) xmpp.disco.removeIdentity(identity, target)
    for (const [f, target] of features) xmpp.disco.removeFeature(f, target)
  }
}

/** jabber:iq:gateway (XEP-0100 §6.3): the prompt, and a legacy id turned into its JID. */
export function gatewayIdRoutes<S>(ctx: BridgeContext<S>): Unroute[] {
  const { xmpp, networkName } = ctx
  return [
    xmpp.iqGet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, () =>
      xml(
        'query',
        { xmlns: NS_GATEWAY },
        xml('desc', {}, `Enter the ${networkName} ID of the contact`),
        xml('prompt', {}, `${networkName} ID`),
      ),
    ),
    xmpp.iqSet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, async (_iq, query) => {
      const input = (query.getChildText('prompt') ?? '').trim()
      if (input === '') throw new StanzaError('bad-request', { text: 'give the contact ID in <prompt/>' })
      const id = await ctx.guarded.normalizeId(input)
      return xml('query', { xmlns: NS_GATEWAY }, xml('jid', {}, ctx.contactJid(id)))
    }),
  ]
}

export function gateway<S>(ctx: BridgeContext<S>): Gateway<S> {
  const { limits, networkName, domain, users, throttle, store } = ctx
  /** Registrations (and removals) of one user run one after the other. */
  const registrations = new KeyedQueue(limits.pendingRegistrations)
  /** The last registration (or removal) of each user under way or waiting: the same again joins it. */
  const lastRegistration = new Map<string, { key: string; done: Promise<void> }>()
  /** Requests waiting for a legacy login (registrations, requests during a login), all users: limits.loginWaiters. */
  let loginWaiters = 0
  /** Requests of one user waiting for that user's login under way. */
  const userLoginWaiters = Math.max(1, Math.floor(limits.loginWaiters / 4))

  async function sessionFor(user: string): Promise<S> {
    const stored = await users.read(user)
    if (stored.kind === 'none') {
      throw new StanzaError('registration-required', { text: `register with ${domain} first` })
    }
    if (stored.kind === 'unreadable') {
      throw new StanzaError('registration-required', {
        text: `your stored ${networkName} login cannot be used; register with ${domain} again`,
      })
    }
    const { sessions } = ctx
    const us = sessions.session(user)
    if (us.state.kind === 'gaveUp') {
      throw new StanzaError('service-unavailable', {
        text: `gave up reconnecting to ${networkName}; go online again (available presence) to log in`,
      })
    }
    // A login under way (e.g. started by the initial presence a client sends just before
    // joining its rooms) is waited for, not refused: within limits.loginWaiters, since each
    // request waiting holds one of the component's handler slots.
    if (us.state.kind === 'offline' || us.state.kind === 'connecting') {
      const login = sessions.connect(us, 'presence')
      if (us.state.kind === 'connecting') {
        if (us.waiting >= userLoginWaiters || loginWaiters >= limits.loginWaiters) {
          ctx.limit(
            `${loginWaiters} requests waiting for logins (limits.loginWaiters): one of ${user} refused`,
          )
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
    const st = us.state
    if (st.kind !== 'online') {
      sessions.release(us)
      throw new StanzaError('service-unavailable', {
        type: 'wait',
        text: `not connected to ${networkName} right now`,
      })
    }
    return st.handle
  }

  /**
   * Checks the credentials by logging in with them; on success that session replaces the
   * current one (if any). A refused login leaves the current session and registration as they
   * are, and no state behind. The same credentials again while online: nothing to do (no login,
   * no subscription request). Runs one at a time per user (see `registrations`).
   */
  async function validate(user: string, values: Registration, account: string): Promise<void> {
    if (!users.allowed(user)) {
      throw new StanzaError('not-allowed', {
        text: `this gateway does not serve users of ${userDomain(user)}`,
      })
    }
    const before = await users.read(user)
    if (
      before.kind === 'ok' &&
      sameRegistration(before.credentials, values) &&
      ctx.sessions.get(user)?.state.kind === 'online'
    ) {
      return
    }
    const us = ctx.sessions.session(user)
    us.busy++ // a presence meanwhile must not release the entry this registration fills
    try {
      await registerLogin(us, values, before.kind !== 'ok', account)
    } finally {
      us.busy--
      ctx.sessions.release(us)
    }
  }

  async function registerLogin(
    us: UserSession<S>,
    values: Registration,
    fresh: boolean,
    account: string,
  ): Promise<void> {
    const { user } = us
    const { sessions } = ctx
    // The login was taken from the limits when queued; a backoff may have begun since.
    const deferral = throttle.backoff(user, { byUser: true, account })
    if (deferral !== null) {
      ctx.limit(`registration of ${user} refused for ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
      throw deferralError(deferral, networkName)
    }
    const gen = sessions.nextLogin() // not current until it succeeds: its events are ignored until then
    let handle: S
    try {
      handle = await ctx.guarded.login(user, values as Credentials, loginEvents(ctx, us, gen))
    } catch (err) {
      if (!refusedLogin(err)) throw err // a guarded error: a valid condition and a stable text
      throttle.refused(user, account)
      throw new StanzaError('not-authorized', { text: `${networkName} refused these credentials` })
    }
    throttle.succeeded(user, account)
    try {
      await store.putRegistration(user, values as Credentials)
    } catch (err) {
      await ctx.guarded.logout(user, handle)
      ctx.report(err as Error)
      throw new StanzaError('internal-server-error', { text: 'the registration could not be stored' })
    }
    users.reset(user)
    await sessions.disconnect(us)
    // A login on presence may have begun during that logout: this registration's replaces it.
    void sessions.disconnect(us)
    ctx.groups?.forget(user) // possibly another legacy account: its history is not this one's
    // A new registration subscribes the user to the gateway; then the contacts come in.
    if (fresh) void ctx.send(xml('presence', { from: domain, to: user, type: 'subscribe' }))
    await sessions.adopt(us, gen, handle)
  }

  async function unregister(jid: string): Promise<void> {
    const us = ctx.sessions.get(jid)
    const stored = await store.contacts(jid)
    if (us !== undefined) {
      await ctx.sessions.disconnect(us)
      ctx.sessions.remove(jid)
    }
    ctx.avatars.clear(jid)
    await store.removeUser(jid)
    users.reset(jid)
    ctx.groups?.forget(jid)
    for (const c of stored) if (isLegacyId(c.legacyId)) ctx.roster.forget(jid, c.legacyId)
    void ctx.send(xml('presence', { from: domain, to: jid, type: 'unsubscribe' }))
    void ctx.send(xml('presence', { from: domain, to: jid, type: 'unsubscribed' }))
    ctx.presence.gateway(jid, false)
  }

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
      ctx.limit(
        `registrations of ${jid}: more than ${limits.pendingRegistrations} waiting (limits.pendingRegistrations)`,
      )
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'your registrations are already under way; try again in a moment',
      })
    }
    if (loginWaiters >= limits.loginWaiters) {
      ctx.limit(
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

  async function register(jid: string, values: Registration): Promise<void> {
    const before = await users.read(jid)
    const key = `set:${canonical(values)}`
    // The same credentials again while online and nothing else under way: nothing to do (no login).
    const online = ctx.sessions.get(jid)?.state.kind === 'online'
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
        ctx.limit(`registration of ${jid} refused for ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
        throw deferralError(deferral, networkName)
      },
    )
  }

  return {
    sessionFor,
    register,
    remove: async (jid) => queued(jid, 'remove', () => unregister(jid)),
    sizes: () => ({ loginWaiters, registrations: registrations.size }),
  }
}

/** XEP-0077 on the gateway: the legacy fields as a data form, handled by {@link Gateway}. */
export function registrationRoutes<S>(ctx: BridgeContext<S>, fields: readonly LegacyField[]): Unroute {
  const { limits, networkName, users } = ctx
  const instructions =
    cleanText(ctx.adapter.registration?.instructions, limits.fieldLength) ?? `Enter your ${networkName} login`
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
  const reg = registration(ctx.xmpp, {
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
      register: (jid, values) => ctx.gateway.register(jid, values),
      update: (jid, values) => ctx.gateway.register(jid, values),
      remove: (jid) => ctx.gateway.remove(jid),
    },
  })
  return () => reg.close()
}
