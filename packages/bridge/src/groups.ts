// Legacy group chats as XEP-0045 rooms `escapeLocal(groupId)@gateway`, on @satellite/muc: every
// room is one XMPP user's view of their legacy group (a MucBackend: another user of the gateway
// sees their own). The engine does the XMPP side (joins, self-presence, history on join, MAM,
// occupant ids, stanza ids, self-ping, several resources, limits); the backend here joins through
// the adapter (its groups and members), sends the user's messages, and drives each view with what
// the legacy session reports (messages, member lists, topics, contacts' presence). The bridge
// keeps the room disco and the user's rooms in the gateway's disco#items; the user's rooms are
// closed (332) when their legacy session ends. The archive is in group-archive.ts.
import { randomUUID } from 'node:crypto'
import {
  type Component,
  type DiscoItem,
  type Element,
  errorReply,
  hasResource,
  type Stanza,
  StanzaError,
  type Unroute,
  xml,
} from '@satellite/core'
import { fromJid, toJid } from '@satellite/escaping'
import {
  enforceNick,
  type MucBackend,
  type MucService,
  muc,
  NS_MUC,
  NS_MUC_SELF_PING,
  NS_MUC_STABLE_ID,
  NS_OCCUPANT_ID,
  NS_SID,
  nickKey,
  type RemoteOccupant,
  type RoomView,
} from '@satellite/muc'
import { userOf } from './access.js'
import type { IncomingGroupMessage, LegacyGroup, LegacyMember } from './adapter.js'
import { BridgeError, BridgeErrorCodes } from './errors.js'
import { GroupArchive } from './group-archive.js'
import { narrowed } from './group-routes.js'
import type { ResolvedLimits } from './limits.js'
import { toResource } from './validate.js'

export { NS_MUC, NS_MUC_USER } from '@satellite/muc'

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
const NS_MAM = 'urn:xmpp:mam:2'

/** What the bridge gives the group-chat part. */
export interface GroupsHost<S> {
  xmpp: Component
  /** The adapter's groups capability, guarded: clean values or StanzaErrors with stable texts. */
  listGroups(user: string, session: S): Promise<LegacyGroup[]>
  members(user: string, session: S, group: string): Promise<LegacyMember[]>
  sendGroupText(user: string, session: S, group: string, text: string): Promise<string>
  networkName: string
  limits: ResolvedLimits
  send(el: Element): Promise<void>
  report(err: Error): void
  /** The user's live legacy session (logging in if needed), or a StanzaError to answer with. */
  sessionFor(user: string): Promise<S>
  /** Whether `session` is still the user's live legacy session (it may end during a join). */
  isCurrent(user: string, session: S): boolean
  /** What the legacy session last said of a contact's presence (members who are contacts). */
  presenceOf(user: string, legacyId: string): { online: boolean; status?: string } | undefined
  /** Group messages kept per user and group for the discussion history sent on join (0: none). */
  historySize: number
}

/** What the bridge calls back. */
export interface Groups {
  routes: Unroute[]
  message(user: string, m: IncomingGroupMessage): void
  members(user: string, group: string, members: LegacyMember[]): void
  subject(user: string, group: string, subject: string): void
  /** The user's legacy session is up: learn the user's groups (for room disco). */
  refresh(user: string, session: unknown): Promise<void>
  /** The user's legacy session ended: every room of the user is closed (status 332). */
  closeAll(user: string): void
  /** A contact's presence changed: its occupant presence in the user's rooms follows. */
  presence(user: string, legacyId: string): void
  /** Whether `group` is one of the user's groups (as last listed). */
  isGroup(user: string, group: string): boolean
  /** The user is gone (registration removed or replaced): forget the history too. */
  forget(user: string): void
  /** Entries of the maps (for monitoring and tests). */
  sizes(): GroupSizes
}

/** How much the group-chat part holds (totals, and the largest per user or room). */
export interface GroupSizes {
  /** Users with known groups. */
  users: number
  /** Most groups known for one user. */
  groups: number
  /** Rooms joined, all users. */
  rooms: number
  /** Most members in one room. */
  members: number
  /** Most of the user's resources in one room. */
  roomResources: number
  /** Most characters of history kept for one user, and users with history. */
  historyChars: number
  historyUsers: number
  /** Joins under way. */
  pendingJoins: number
}

/** Nicks are as long as a JID resource (1023 bytes, so at most 1023 characters). */
const NICK_LENGTH = 1023

/** `x` as a nick: a JID resource (see {@link toResource}) the engine takes as it is, or null. */
function asNick(x: unknown): string | null {
  const r = toResource(x)
  const n = r === null ? null : enforceNick(r, NICK_LENGTH)
  return n?.ok === true && toResource(n.nick) === n.nick ? n.nick : null
}

/** A bridge limit as an engine's limit: an integer (Infinity: the largest `max`). */
const cap = (n: number, max = Number.MAX_SAFE_INTEGER) => Math.min(Math.floor(n), max)

/** A sender's nick as an occupant resource when it is not a member (a nick nothing else has). */
const strangerNick = (id: string) => asNick(id) ?? 'unknown member'

/**
 * Nicks of the members as JID resources (what cannot be one is dropped or replaced by the
 * member id), unique (as the engine compares nicks) and distinct from the user's own nick.
 */
function nicksOf(members: LegacyMember[], own: string): Map<string, string> {
  const taken = new Set<string>([nickKey(own)])
  const free = (nick: string) => !taken.has(nickKey(nick))
  const out = new Map<string, string>()
  for (const m of members) {
    const base = asNick(m.nick) ?? asNick(m.id) ?? 'member'
    let nick = base
    if (!free(nick)) nick = asNick(`${base} (${m.id})`) ?? base
    for (let i = 2; !free(nick); i++) nick = asNick(`${base} ${i}`) ?? `member ${i}`
    taken.add(nickKey(nick))
    out.set(m.id, nick)
  }
  return out
}

/** One user's view of one legacy group. */
interface Joined {
  group: string
  view: RoomView
  /** Legacy id → nick of the other members. */
  members: Map<string, string>
}

export function groupChats<S>(host: GroupsHost<S>): Groups {
  const { xmpp, send, report, limits } = host
  const domain = xmpp.domain
  const roomJid = (group: string) => toJid(group, domain).toLowerCase()

  /** user → the user's groups, as last listed by the adapter (routes need to tell rooms from contacts). */
  const known = new Map<string, Map<string, LegacyGroup>>()
  /** user → group → the user's view of it; and each view's state. */
  const joined = new Map<string, Map<string, Joined>>()
  const byView = new WeakMap<RoomView, Joined>()
  let pendingJoins = 0

  const viewOf = (user: string, group: string) => joined.get(user)?.get(group)
  const nickOf = (j: Joined | undefined, from: string) => j?.members.get(from) ?? strangerNick(from)
  const archive = new GroupArchive(
    host.historySize,
    limits.historyChars,
    limits.sessions,
    (user, jid, from) =>
      nickOf(
        [...(joined.get(user)?.values() ?? [])].find((j) => j.view.jid === jid),
        from,
      ),
  )

  async function listGroups(user: string, session: S): Promise<Map<string, LegacyGroup>> {
    const list = new Map((await host.listGroups(user, session)).map((g) => [g.id, g]))
    known.set(user, list)
    return list
  }

  const occupantOf = (user: string, id: string, nick: string): RemoteOccupant => {
    const pres = host.presenceOf(user, id)
    return {
      nick,
      id,
      affiliation: 'member',
      // A member offline on the legacy network stays in the room, shown away (with its status text).
      ...(pres !== undefined && !pres.online ? { show: 'away' as const } : {}),
      ...(pres?.status !== undefined && pres.status !== '' ? { status: pres.status } : {}),
    }
  }

  const forgetView = (j: Joined) => {
    const mine = joined.get(j.view.user)
    if (mine?.get(j.group) !== j) return
    mine.delete(j.group)
    if (mine.size === 0) joined.delete(j.view.user)
  }

  const backend: MucBackend = {
    async join(view, request) {
      const user = view.user
      if (pendingJoins >= limits.pendingJoins) {
        report(
          new BridgeError(
            BridgeErrorCodes.LIMIT,
            `bridge: ${pendingJoins} room joins under way (limits.pendingJoins); refused one of ${user}`,
          ),
        )
        throw new StanzaError('resource-constraint', {
          type: 'wait',
          text: 'too many room joins under way; try again in a moment',
        })
      }
      pendingJoins++
      try {
        const session = await host.sessionFor(user)
        const groups = await listGroups(user, session)
        const info = [...groups.values()].find((g) => roomJid(g.id) === view.jid)
        if (info === undefined) {
          const id = fromJid(view.jid, domain) ?? view.room
          throw new StanzaError('item-not-found', { text: `no ${host.networkName} group '${id}'` })
        }
        const members = await host.members(user, session, info.id)
        if (!host.isCurrent(user, session)) {
          throw new StanzaError('service-unavailable', {
            type: 'wait',
            text: `the ${host.networkName} session ended during the join`,
          })
        }
        // Joins of other rooms ran meanwhile: the bound is checked with nothing in between.
        const mine = joined.get(user) ?? new Map<string, Joined>()
        if (mine.size >= limits.groups && !mine.has(info.id)) {
          throw new StanzaError('resource-constraint', { type: 'wait', text: 'too many rooms' })
        }
        const nick = info.nick ?? request.nick
        const j: Joined = { group: info.id, view, members: nicksOf(members, nick) }
        joined.set(user, mine)
        mine.set(info.id, j)
        byView.set(view, j)
        return {
          ...(info.nick === undefined ? {} : { nick: info.nick }),
          occupants: [...j.members].map(([id, n]) => occupantOf(user, id, n)),
          subject: { text: info.subject ?? '' },
          affiliation: 'member',
        }
      } finally {
        pendingJoins--
      }
    },
    leave(view) {
      const j = byView.get(view)
      if (j !== undefined) forgetView(j)
    },
    async message(view, text) {
      const j = byView.get(view)
      if (j === undefined)
        throw new StanzaError('not-acceptable', { text: 'join the room before sending to it' })
      const session = await host.sessionFor(view.user)
      await host.sendGroupText(view.user, session, j.group, text)
    },
    async nick(view) {
      throw new StanzaError('not-acceptable', {
        text: `nicks are ${host.networkName}'s: it is ${view.nick} here`,
      })
    },
  }

  /** The group an address stands for (null: another domain, no local part, or no usable group id). */
  const groupOfAddress = (to: string | undefined) => (to === undefined ? null : fromJid(to, domain))
  const isKnown = (s: Stanza) => {
    const group = groupOfAddress(s.attrs.to)
    return group !== null && known.get(userOf(s))?.has(group) === true
  }
  const inView = (s: Stanza) => s.toLocal !== '' && service.view(s.toLocal, userOf(s)) !== undefined

  // The rooms' disco#info (only for the user's groups; other addresses are contacts): before the
  // engine's, which answers only rooms the user is in.
  const discoRoute = xmpp.iqGet(
    {
      xmlns: NS_DISCO_INFO,
      name: 'query',
      to: '*',
      where: (iq) => !hasResource(iq.attrs.to) && iq.fromJid !== null && isKnown(iq),
    },
    async (iq) => {
      const user = userOf(iq)
      const group = groupOfAddress(iq.attrs.to) as string
      const info = (await listGroups(user, await host.sessionFor(user))).get(group)
      if (info === undefined) {
        throw new StanzaError('item-not-found', { text: `no ${host.networkName} group '${group}'` })
      }
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        xml('identity', { category: 'conference', type: 'text', name: info.name ?? info.id }),
        ...[
          NS_DISCO_INFO,
          NS_MUC,
          NS_MUC_SELF_PING,
          NS_MUC_STABLE_ID,
          NS_MAM,
          NS_SID,
          NS_OCCUPANT_ID,
          'muc_persistent',
          'muc_membersonly',
          'muc_semianonymous',
          'muc_unmoderated',
        ].map((v) => xml('feature', { var: v })),
      )
    },
  )

  const service: MucService = muc(
    narrowed(xmpp, (kind, s) => {
      if (s.fromJid === null || groupOfAddress(s.attrs.to) === null) return false
      const type = s.attrs.type
      if (kind === 'presence') {
        return hasResource(s.attrs.to) && (type === undefined || type === 'unavailable' || type === 'error')
      }
      if (kind === 'message') return inView(s)
      return isKnown(s)
    }),
    {
      backend,
      name: `${host.networkName} groups`,
      defaults: {
        persistent: false,
        public: false,
        whois: 'moderators',
        privateMessages: true,
        historyLength: host.historySize,
        logged: false,
      },
      // The bridge's limits (Infinity lifts one) as the engine's (integers): every user's rooms.
      limits: {
        rooms: cap(limits.sessions * limits.groups),
        roomsPerUser: cap(limits.groups),
        sessionsPerOccupant: cap(limits.resources),
        occupantsPerRoom: cap(limits.members + 1),
        messageChars: cap(limits.textLength),
        nickLength: NICK_LENGTH,
        // A join may log in, list the groups and their members: each call bounded by adapterTimeout.
        backendTimeout: Math.max(1, cap(limits.adapterTimeout * 4, 2_147_483_647)),
      },
      archive: { maxPerRoom: Math.max(1, host.historySize) },
      store: archive,
    },
  )

  // A groupchat message to a room the user is not in (or to an occupant): refused, never relayed.
  const groupchatRoute = xmpp.message({ to: '*', type: 'groupchat' }, (msg) =>
    send(
      errorReply(
        msg,
        hasResource(msg.attrs.to) || groupOfAddress(msg.attrs.to) === null
          ? new StanzaError('bad-request', { text: 'send groupchat messages to the room' })
          : new StanzaError('not-acceptable', { text: 'join the room before sending to it' }),
      ),
    ),
  )

  // disco#items of the gateway, for a user whose groups are known: the registered items plus the
  // user's rooms (what a client's "browse rooms" shows). Everyone else gets the built-in answer.
  const itemsRoute = xmpp.iqGet(
    {
      xmlns: NS_DISCO_ITEMS,
      name: 'query',
      to: '',
      where: (iq) =>
        iq.fromJid !== null &&
        iq.getChild('query')?.attrs.node === undefined &&
        (known.get(userOf(iq))?.size ?? 0) > 0,
    },
    (iq) => {
      const mine = known.get(userOf(iq)) ?? new Map<string, LegacyGroup>()
      const items: DiscoItem[] = [
        ...(xmpp.disco.items('') ?? []),
        ...[...mine.values()].map((g) => ({ jid: toJid(g.id, domain), name: g.name ?? g.id })),
      ]
      return xml(
        'query',
        { xmlns: NS_DISCO_ITEMS },
        ...items.map((i) =>
          xml('item', {
            jid: i.jid,
            ...(i.node === undefined ? {} : { node: i.node }),
            ...(i.name === undefined ? {} : { name: i.name }),
          }),
        ),
      )
    },
  )

  return {
    routes: [discoRoute, () => service.close(), groupchatRoute, itemsRoute],
    message(user, m) {
      const id = m.id !== '' ? m.id : randomUUID()
      const j = viewOf(user, m.group)
      if (j !== undefined && !j.view.closed) {
        j.view.say(nickOf(j, m.from), m.text, { id })
        return
      }
      // Not joined: kept for the history only (only the user's listed groups: what the adapter
      // reports cannot grow the archive without bound).
      if (host.historySize > 0 && known.get(user)?.has(m.group) === true) {
        archive.remember(
          roomJid(m.group),
          user,
          { from: m.from, id, text: m.text, at: Date.now() },
          randomUUID(),
        )
      }
    },
    members(user, group, list) {
      const j = viewOf(user, group)
      if (j === undefined) return
      const next = nicksOf(list, j.view.nick)
      // Gone first, then nick changes (303, keeping the occupant id), then arrivals (XEP-0045 7.6).
      for (const [id, nick] of j.members) if (!next.has(id)) j.view.remove(nick)
      for (const [id, nick] of j.members) {
        const renamed = next.get(id)
        if (renamed === undefined || renamed === nick) continue
        if (!j.view.rename(nick, renamed)) {
          j.view.remove(nick)
          j.view.add(occupantOf(user, id, renamed))
        }
      }
      for (const [id, nick] of next) if (!j.members.has(id)) j.view.add(occupantOf(user, id, nick))
      j.members = next
    },
    subject(user, group, subject) {
      viewOf(user, group)?.view.setSubject(subject)
    },
    async refresh(user, session) {
      await listGroups(user, session as S)
    },
    presence(user, legacyId) {
      for (const j of joined.get(user)?.values() ?? []) {
        const nick = j.members.get(legacyId)
        if (nick !== undefined) j.view.add(occupantOf(user, legacyId, nick))
      }
    },
    isGroup: (user, group) => known.get(user)?.has(group) === true,
    sizes: () => {
      const max = (xs: Iterable<number>) => Math.max(0, ...xs)
      const all = [...joined.values()].flatMap((m) => [...m.values()])
      return {
        users: known.size,
        groups: max([...known.values()].map((m) => m.size)),
        rooms: all.length,
        members: max(all.map((j) => j.members.size)),
        roomResources: max(all.map((j) => j.view.resources)),
        historyChars: archive.largest,
        historyUsers: archive.users,
        pendingJoins,
      }
    },
    forget(user) {
      archive.forget(user)
      known.delete(user)
    },
    closeAll(user) {
      // Listed again at the next login; meanwhile no room is offered (disco would log the user in).
      known.delete(user)
      for (const j of [...(joined.get(user)?.values() ?? [])]) j.view.close()
      joined.delete(user)
    },
  }
}
