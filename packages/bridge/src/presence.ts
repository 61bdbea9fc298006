// Presence: the gateway's own (online while the user's legacy session is), the contacts'
// (their legacy presence, with the XEP-0153 picture hash), and the user's: the first available
// resource logs the legacy session in, the last one going unavailable logs it out, and its
// status goes to the network. Presences users send to contacts: subscriptions and probes.
import { errorReply, StanzaError, type Unroute, xml } from '@satellite/core'
import { contactIdOf, userOf } from './access.js'
import type { BridgeContext } from './context.js'
import { QueueFullError } from './errors.js'
import { KeyedQueue, setBounded } from './limits.js'
import { NS_VCARD_UPDATE } from './ns.js'
import type { UserSession } from './sessions.js'
import { cleanText } from './validate.js'

export interface Presence<S> {
  /** A contact's presence to the user (or to one resource, `to`). */
  contact(user: string, legacyId: string, online: boolean, status?: string, to?: string): void
  /** The gateway's presence to the user (or to one resource, `to`). */
  gateway(user: string, online: boolean, to?: string): void
  /** The legacy session is gone: contacts unavailable, rooms closed. */
  allUnavailable(us: UserSession<S>): void
  /** The legacy network reports a contact's presence. */
  changed(us: UserSession<S>, contact: string, online: boolean, status: string | undefined): void
}

export function presence<S>(ctx: BridgeContext<S>): Presence<S> {
  const { domain, limits, caps } = ctx
  const contact = (user: string, legacyId: string, online: boolean, status?: string, to = user) => {
    const from = ctx.contactJid(legacyId)
    const p = xml('presence', online ? { from, to } : { from, to, type: 'unavailable' })
    if (status !== undefined && status !== '') p.c('status').t(status)
    if (online && caps.avatars !== undefined) {
      // XEP-0153: the hash of the picture, empty for none, no <photo/> while not known yet.
      const x = p.c('x', { xmlns: NS_VCARD_UPDATE })
      const av = ctx.avatars.get(user, legacyId)
      if (av !== undefined) x.c('photo').t(av?.hash ?? '')
    }
    void ctx.send(p)
  }
  return {
    contact,
    gateway(user, online, to = user) {
      void ctx.send(
        xml('presence', online ? { from: domain, to } : { from: domain, to, type: 'unavailable' }),
      )
    },
    allUnavailable(us) {
      for (const id of us.presence.keys()) contact(us.user, id, false)
      ctx.groups?.closeAll(us.user)
    },
    changed(us, legacyId, online, status) {
      const value = status === undefined ? { online } : { online, status }
      if (setBounded(us.presence, legacyId, value, limits.contacts) > 0) {
        ctx.limit(
          `presences of ${us.user}: more than ${limits.contacts} contacts (limits.contacts), the oldest dropped`,
        )
      }
      if (us.state.kind === 'online') {
        contact(us.user, legacyId, online, status)
        ctx.groups?.presence(us.user, legacyId)
      }
    },
  }
}

/** Presence to the gateway: the user's resources (login, logout, status), subscriptions, probes. */
export function gatewayPresenceRoute<S>(ctx: BridgeContext<S>): Unroute {
  const { domain, limits, users } = ctx
  /** Available and unavailable presences of one user to the gateway, one after the other. */
  const presences = new KeyedQueue(2 * limits.resources)

  /**
   * Follows the user's resources: the first available one logs in (not awaited), the last one
   * going unavailable logs out. Resolves with the session after an available presence.
   */
  async function resourceChange(
    user: string,
    resource: string,
    available: boolean,
  ): Promise<UserSession<S> | null> {
    const { sessions } = ctx
    if (!available) {
      // Only a resource seen available can go offline: servers also send bare-JID unavailable
      // presences that are no such thing (Prosody acknowledges an inbound subscribe with one).
      const us = sessions.get(user)
      if (us === undefined || !us.resources.delete(resource)) return null
      if (us.resources.size === 0) {
        await sessions.disconnect(us)
        sessions.release(us)
      }
      return null
    }
    if (!users.allowed(user) || (await users.read(user)).kind === 'none') return null
    let us: UserSession<S>
    try {
      us = sessions.session(user)
    } catch {
      return null // the gateway is full (reported)
    }
    const fresh = !us.resources.has(resource) && us.resources.size < limits.resources
    if (!us.resources.has(resource) && !fresh) {
      ctx.limit(
        `resources of ${user}: more than ${limits.resources} (limits.resources), ${resource} not followed`,
      )
    }
    if (fresh) us.resources.add(resource)
    if (us.state.kind === 'online') {
      if (fresh) {
        ctx.presence.gateway(user, true, resource)
        for (const [id, pres] of us.presence)
          ctx.presence.contact(user, id, pres.online, pres.status, resource)
      }
    } else if (us.state.kind !== 'retrying') {
      void sessions.connect(us, 'presence')
    }
    return us
  }

  /** The user's status to the network: now, or once the login under way is done (no handler slot held meanwhile). */
  async function setStatus(us: UserSession<S>, status: string | undefined): Promise<void> {
    const st = us.state
    const pending = st.kind === 'connecting' || st.kind === 'online' ? st.login : null
    if (pending === null) {
      if (st.kind === 'online') await ctx.guarded.setStatus(us.user, st.handle, true, status).catch(() => {})
      return
    }
    const waiting = us.statusAfterLogin !== null
    us.statusAfterLogin = { status }
    if (waiting) return
    void pending.then(async () => {
      const next = us.statusAfterLogin
      us.statusAfterLogin = null
      const now = us.state
      if (next !== null && now.kind === 'online') {
        await ctx.guarded.setStatus(us.user, now.handle, true, next.status).catch(() => {})
      }
    })
  }

  return ctx.xmpp.presence({ to: '' }, async (p) => {
    const user = userOf(p)
    const type = p.attrs.type ?? 'available'
    if (type === 'subscribe') {
      const registered = (await users.read(user)).kind !== 'none'
      return ctx.send(
        xml('presence', { from: domain, to: user, type: registered ? 'subscribed' : 'unsubscribed' }),
      )
    }
    if (type === 'probe') {
      const online = ctx.sessions.get(user)?.state.kind === 'online'
      return ctx.presence.gateway(user, online, p.attrs.from)
    }
    if (type !== 'available' && type !== 'unavailable') return
    const resource = String(p.attrs.from)
    const us = await presences
      .run(user, () => resourceChange(user, resource, type === 'available'))
      .catch((err: unknown) => {
        if (!(err instanceof QueueFullError)) throw err
        ctx.limit(`presences of ${user}: too many waiting (2 × limits.resources), one dropped`)
        return null
      })
    if (us === null || ctx.caps.status === undefined) return
    await setStatus(us, cleanText(p.getChildText('status') ?? undefined, limits.fieldLength))
  })
}

/** Presences to contacts: subscriptions answered, probes answered with the contact's presence. */
export function contactPresenceRoute<S>(ctx: BridgeContext<S>): Unroute {
  const { domain } = ctx
  return ctx.xmpp.presence({ to: '*' }, async (p) => {
    const user = userOf(p)
    const type = p.attrs.type ?? 'available'
    let legacyId: string | null
    try {
      legacyId = contactIdOf(String(p.attrs.to), domain)
    } catch (err) {
      if (type === 'subscribe') await ctx.send(errorReply(p, err as StanzaError))
      return
    }
    if (legacyId === null) return
    const registered = (await ctx.users.read(user)).kind !== 'none'
    if (type === 'subscribe') {
      if (!registered) {
        return ctx.send(
          errorReply(p, new StanzaError('registration-required', { text: `register with ${domain} first` })),
        )
      }
      return ctx.send(xml('presence', { from: p.attrs.to, to: user, type: 'subscribed' }))
    }
    if (type === 'probe' && registered) {
      const us = ctx.sessions.get(user)
      const pres = us?.presence.get(legacyId)
      const online = us?.state.kind === 'online' && pres?.online === true
      return ctx.presence.contact(user, legacyId, online, pres?.status, String(p.attrs.from))
    }
  })
}
