// bridge(): builds the context (context.ts) and wires the parts through it: sessions,
// presence, contacts, messages, vCards, the gateway (registration, login waiting) and group
// chats; then registers the routes in their order of precedence.
import { randomUUID } from 'node:crypto'
import { type Component, type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { privileges } from '@satellite/privilege'
import { access } from './access.js'
import { AvatarCache } from './avatars.js'
import { contacts } from './contacts.js'
import type { BridgeContext, BridgeServices } from './context.js'
import { BridgeError, BridgeErrorCodes } from './errors.js'
import { gateway, gatewayDisco, gatewayIdRoutes, registrationRoutes } from './gateway.js'
import { groupChats } from './groups.js'
import { guardAdapter } from './guard.js'
import { reporter } from './log.js'
import { messageRoute, messages } from './messages.js'
import { type Bridge, type BridgeOptions, resolveOptions } from './options.js'
import { contactPresenceRoute, gatewayPresenceRoute, presence } from './presence.js'
import { roster } from './roster.js'
import { OFFLINE, publicState } from './session-state.js'
import { sessions } from './sessions.js'
import { LoginThrottle } from './throttle.js'
import { cleanText } from './validate.js'
import { vcardRoute, vcards } from './vcards.js'

export {
  NS_CHATSTATES,
  NS_CORRECT,
  NS_GATEWAY,
  NS_NICK,
  NS_REACTIONS,
  NS_RECEIPTS,
  NS_VCARD,
  NS_VCARD_UPDATE,
} from './ns.js'
export type { Bridge, BridgeOptions, BridgeSizes, SessionState } from './options.js'

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
  const { groupHistory, limits, loginLimits, retry, fields } = resolveOptions(
    options,
    xmpp.options.limits.concurrency,
  )
  const { adapter, store } = options
  const domain = xmpp.domain
  const report = reporter(xmpp, limits.reportsPerMinute)
  const networkName = cleanText(String(adapter.network?.name ?? ''), 100) || 'legacy network'
  const dropped = (user?: string) => (what: string) =>
    report(
      new BridgeError(
        BridgeErrorCodes.ADAPTER,
        `bridge: dropped from the ${networkName} adapter${user === undefined ? '' : ` (${user})`}: ${what}`,
      ),
    )
  const send = async (el: Element) => {
    try {
      await xmpp.send(el)
    } catch (err) {
      report(err as Error)
    }
  }
  const contactJid = (legacyId: string) => toJid(legacyId, domain)
  // The bridge's own privileges handle (the application's handles, if any, are others on the
  // same state): closed with the bridge.
  const priv = options.privilegedRoster === false ? undefined : privileges(xmpp)
  const services: BridgeServices<S> = {
    xmpp,
    domain,
    networkName,
    adapter,
    caps: adapter.capabilities ?? {},
    guarded: guardAdapter(adapter, { limits, networkName, report, dropped: dropped() }),
    store,
    users: access({
      store,
      domain,
      allowedDomains: options.allowedDomains,
      report,
      maxTracked: limits.sessions,
    }),
    limits,
    retry,
    throttle: new LoginThrottle(loginLimits),
    avatars: new AvatarCache(limits.contacts, limits.avatarCacheBytes),
    roster: roster({
      priv,
      store,
      networkName,
      contactJid,
      send,
      report,
      maxUsers: limits.sessions,
      maxContacts: limits.contacts,
    }),
    report,
    limit: (what) => report(new BridgeError(BridgeErrorCodes.LIMIT, `bridge: ${what}`)),
    dropped,
    send,
    notify: (user, text) =>
      void send(
        xml('message', { from: domain, to: user, type: 'chat', id: randomUUID() }, xml('body', {}, text)),
      ),
    contactJid,
  }
  // The parts are added right below, before any route or event can reach one of them.
  const ctx = services as BridgeContext<S>
  ctx.sessions = sessions(ctx)
  ctx.presence = presence(ctx)
  ctx.contacts = contacts(ctx)
  ctx.messages = messages(ctx)
  ctx.vcards = vcards(ctx)
  ctx.gateway = gateway(ctx)
  ctx.groups = undefined

  // Routes, in this order: a route registered earlier wins over a later one for the same stanza
  // (the vCards of contacts before the rooms' routes, the rooms' before the contacts' presence).
  const unroutes = [() => ctx.roster.stop()]
  if (priv !== undefined) unroutes.push(() => priv.close())
  unroutes.push(gatewayDisco(ctx))
  unroutes.push(registrationRoutes(ctx, fields), ...gatewayIdRoutes(ctx), vcardRoute(ctx))
  if (ctx.caps.groups !== undefined) {
    ctx.groups = groupChats({
      xmpp,
      listGroups: ctx.guarded.listGroups,
      members: ctx.guarded.members,
      sendGroupText: ctx.guarded.sendGroupText,
      networkName,
      limits,
      send,
      report,
      sessionFor: (user) => ctx.gateway.sessionFor(user),
      presenceOf: (user, legacyId) => ctx.sessions.get(user)?.presence.get(legacyId),
      isCurrent: (user, handle) => {
        const st = ctx.sessions.get(user)?.state
        return st?.kind === 'online' && st.handle === handle
      },
      historySize: groupHistory,
    })
    unroutes.push(...ctx.groups.routes)
  }
  unroutes.push(gatewayPresenceRoute(ctx), contactPresenceRoute(ctx), messageRoute(ctx))

  // The component's lifecycle: after a reconnect every session logs in again; `loginAtStart`.
  let wasOnline = false
  const onOnline = () => {
    const again = wasOnline
    wasOnline = true
    void (async () => {
      if (again) await ctx.sessions.reconnectAll()
      if (options.loginAtStart === true) {
        for (const user of await store.users()) {
          if (!ctx.users.allowed(user)) continue
          if (ctx.sessions.size >= limits.sessions && ctx.sessions.get(user) === undefined) {
            ctx.limit(
              `loginAtStart: ${ctx.sessions.size} sessions (limits.sessions), the other users log in on their presence`,
            )
            break
          }
          void ctx.sessions.connect(ctx.sessions.session(user), 'start')
        }
      }
    })().catch((err: Error) => report(err))
  }
  xmpp.on('online', onOnline)
  unroutes.push(() => xmpp.off('online', onOnline))
  if (xmpp.online) onOnline()

  // Everything installed above goes, then every session logs out; a second call waits for the first.
  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= (async () => {
      for (const u of unroutes.splice(0)) u()
      await ctx.sessions.stop()
    })()
    return closing
  }

  const max = (xs: Iterable<number>) => {
    let m = 0
    for (const x of xs) m = Math.max(m, x)
    return m
  }
  return {
    state: (user) => publicState(ctx.sessions.get(user)?.state ?? OFFLINE),
    login: (user) => ctx.sessions.connect(ctx.sessions.session(user), 'start'),
    logout: async (user) => {
      const us = ctx.sessions.get(user)
      if (us !== undefined) {
        await ctx.sessions.disconnect(us)
        ctx.sessions.release(us)
      }
    },
    contactJid,
    sizes: () => ({
      sessions: ctx.sessions.size,
      resources: max([...ctx.sessions.values()].map((us) => us.resources.size)),
      presence: max([...ctx.sessions.values()].map((us) => us.presence.size)),
      avatars: ctx.avatars.size,
      avatarBytes: ctx.avatars.bytes,
      roster: ctx.roster.size,
      rosterContacts: ctx.roster.largest,
      logins: ctx.throttle.size,
      accounts: ctx.throttle.accounts,
      ...ctx.gateway.sizes(),
      groups: ctx.groups?.sizes(),
    }),
    close,
  }
}
