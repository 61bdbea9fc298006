// Legacy group chats as XEP-0045 rooms: `escapeLocal(groupId)@gateway`, one room view per XMPP
// user (the room a user sees is their legacy group; another user of the gateway sees their own).
// Implemented: join (occupants, self-presence with status 110/210, subject), leave, groupchat
// messages both ways with reflection, member changes, topic changes, room disco and the user's
// rooms in the gateway's disco#items, errors;
// the user's rooms are closed with status 332 when their legacy session ends. What a room looks
// like (nicks, occupant presences) is in rooms.ts, the discussion history in group-history.ts.
import { randomUUID } from 'node:crypto'
import {
  type Component,
  type DiscoItem,
  type Element,
  errorReply,
  hasResource,
  resourceOf,
  type Stanza,
  StanzaError,
  type Unroute,
  xml,
} from '@satellite/core'
import { fromJid, toJid } from '@satellite/escaping'
import { userOf } from './access.js'
import type { IncomingGroupMessage, LegacyGroup, LegacyMember } from './adapter.js'
import { BridgeError, BridgeErrorCodes, QueueFullError } from './errors.js'
import { GroupHistory, type Past, wanted } from './group-history.js'
import { KeyedQueue, type ResolvedLimits } from './limits.js'
import {
  NS_MUC,
  nicksOf,
  type OccupantPresenceArgs,
  occupantStanza,
  type Room,
  strangerNick,
} from './rooms.js'
import { isLegacyId } from './validate.js'

export { NS_MUC, NS_MUC_USER } from './rooms.js'

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
const NS_DELAY = 'urn:xmpp:delay'

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
  /** Joins and leaves under way or waiting. */
  pendingJoins: number
}

export function groupChats<S>(host: GroupsHost<S>): Groups {
  const { xmpp, send, report, limits } = host
  const domain = xmpp.domain
  /** user (bare JID) → group id → room. */
  const rooms = new Map<string, Map<string, Room>>()
  const roomJid = (group: string) => toJid(group, domain)
  const occupant = (group: string, nick: string) => `${roomJid(group)}/${nick}`

  const roomOf = (user: string, group: string) => rooms.get(user)?.get(group)
  /** The newest group messages per user and group, joined or not (for the history sent on join). */
  const history = new GroupHistory(host.historySize, limits.historyChars, limits.sessions)
  const remember = (user: string, group: string, past: Past) => {
    // Only the user's listed groups: what the adapter reports cannot grow the map without bound.
    if (host.historySize > 0 && known.get(user)?.has(group) === true) history.add(user, group, past)
  }
  /** user → the user's groups, as last listed by the adapter (routes need to tell rooms from contacts). */
  const known = new Map<string, Map<string, LegacyGroup>>()

  async function listGroups(user: string, session: S): Promise<Map<string, LegacyGroup>> {
    const list = new Map((await host.listGroups(user, session)).map((g) => [g.id, g]))
    known.set(user, list)
    return list
  }

  async function groupOf(user: string, group: string): Promise<{ session: S; info: LegacyGroup }> {
    const session = await host.sessionFor(user)
    const info = (await listGroups(user, session)).get(group)
    if (info === undefined) {
      throw new StanzaError('item-not-found', { text: `no ${host.networkName} group '${group}'` })
    }
    return { session, info }
  }

  const occupantPresence = (group: string, nick: string, ...rest: OccupantPresenceArgs) =>
    occupantStanza(occupant(group, nick), ...rest)

  function toResources(room: Room, build: (to: string) => Element): void {
    for (const to of room.resources) void send(build(to))
  }

  /** Joins and leaves of one room (user + group) run one after the other; at most `limits.pendingJoins` rooms busy. */
  const queues = new KeyedQueue(limits.resources)
  async function serial(user: string, group: string, run: () => Promise<void> | void): Promise<void> {
    if (queues.size >= limits.pendingJoins) {
      report(
        new BridgeError(
          BridgeErrorCodes.LIMIT,
          `bridge: ${queues.size} room joins under way (limits.pendingJoins); refused one of ${user}`,
        ),
      )
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'too many room joins under way; try again in a moment',
      })
    }
    try {
      return await queues.run(`${user}\n${group}`, async () => run())
    } catch (err) {
      if (!(err instanceof QueueFullError)) throw err
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'too many joins of this room under way; try again in a moment',
      })
    }
  }

  async function join(p: Stanza, group: string, asked: string): Promise<void> {
    const user = userOf(p)
    const full = String(p.attrs.from)
    const present = roomOf(user, group)
    if (present?.resources.has(full)) {
      if (asked === present.nick) return // a presence update in the room: nothing to relay
      throw new StanzaError('not-acceptable', {
        text: `nicks are ${host.networkName}'s: it is ${present.nick} here`,
      })
    }
    const checkRoom = () => {
      const room = roomOf(user, group)
      if (
        room === undefined
          ? (rooms.get(user)?.size ?? 0) >= limits.groups
          : room.resources.size >= limits.resources
      ) {
        throw new StanzaError('resource-constraint', {
          type: 'wait',
          text: 'too many rooms or resources in rooms',
        })
      }
    }
    checkRoom()
    const { session, info } = await groupOf(user, group)
    const members = await host.members(user, session, group)
    if (!host.isCurrent(user, session)) {
      throw new StanzaError('service-unavailable', {
        type: 'wait',
        text: `the ${host.networkName} session ended during the join`,
      })
    }
    // From here on nothing awaits: live events cannot come between the room's creation and the
    // join's stanzas, and the stanzas go out in this order (occupants, self, history, subject).
    // Joins of other rooms ran meanwhile: the bounds are checked again with nothing in between.
    checkRoom()
    let room = roomOf(user, group)
    if (room === undefined) {
      const nick = info.nick ?? asked
      room = {
        group,
        nick,
        resources: new Set(),
        members: nicksOf(members, nick),
        subject: info.subject ?? '',
      }
      const mine = rooms.get(user) ?? new Map<string, Room>()
      rooms.set(user, mine)
      mine.set(group, room)
    }
    room.resources.add(full)
    for (const [id, nick] of room.members) {
      void send(occupantPresence(group, nick, full, true, [], undefined, host.presenceOf(user, id)))
    }
    void send(occupantPresence(group, room.nick, full, true, room.nick === asked ? [110] : [110, 210]))
    // The discussion history, then the subject (XEP-0045 7.2.13-15), each with its original time.
    const historyAsked = p.getChild('x', NS_MUC)?.getChild('history')
    for (const past of wanted(history.of(user, group), historyAsked, Date.now())) {
      const nick = past.from === null ? room.nick : (room.members.get(past.from) ?? strangerNick(past.from))
      void send(
        xml(
          'message',
          { from: occupant(group, nick), to: full, type: 'groupchat', id: past.id },
          xml('body', {}, past.text),
          xml('delay', { xmlns: NS_DELAY, from: roomJid(group), stamp: past.at.toISOString() }),
        ),
      )
    }
    void send(
      xml(
        'message',
        { from: roomJid(group), to: full, type: 'groupchat', id: randomUUID() },
        xml('subject', {}, room.subject),
      ),
    )
  }

  function leave(user: string, full: string, group: string, codes: number[] = [110]): void {
    const room = roomOf(user, group)
    if (room === undefined || !room.resources.delete(full)) return
    void send(occupantPresence(group, room.nick, full, false, codes))
    if (room.resources.size === 0) rooms.get(user)?.delete(group)
  }

  async function groupchat(msg: Stanza, group: string): Promise<void> {
    const user = userOf(msg)
    const full = String(msg.attrs.from)
    const room = roomOf(user, group)
    if (room === undefined || !room.resources.has(full)) {
      throw new StanzaError('not-acceptable', { text: 'join the room before sending to it' })
    }
    if (msg.getChild('subject') !== undefined) {
      throw new StanzaError('forbidden', { text: `the topic is changed on ${host.networkName}` })
    }
    const body = msg.getChildText('body')
    if (body === null) return // chat states and other bodiless messages are not relayed
    const session = await host.sessionFor(user)
    const legacyId = await host.sendGroupText(user, session, group, body)
    const id = msg.attrs.id ?? (legacyId !== '' ? legacyId : randomUUID())
    remember(user, group, { from: null, id, text: body, at: new Date() })
    // Reflected to every resource of the user in the room, with the sender's id (XEP-0045 7.4).
    toResources(room, (to) =>
      xml('message', { from: occupant(group, room.nick), to, type: 'groupchat', id }, xml('body', {}, body)),
    )
  }

  const answer = async (stanza: Stanza, run: () => Promise<void>) => {
    try {
      await run()
    } catch (err) {
      // Details go to the log; the user gets a stable text.
      if (!(err instanceof StanzaError)) report(err as Error)
      const e =
        err instanceof StanzaError
          ? err
          : new StanzaError('undefined-condition', { text: 'the gateway could not do this' })
      await send(errorReply(stanza, e))
    }
  }

  /** The group an address stands for (null: another domain, no local part, or no usable group id). */
  const groupOfAddress = (to: string | undefined) => {
    const id = to === undefined ? null : fromJid(to, domain)
    return id !== null && isLegacyId(id) ? id : null
  }

  const routes: Unroute[] = [
    // Join / leave: presence to room@gateway/nick.
    xmpp.presence(
      { to: '*', type: ['available', 'unavailable'], where: (p) => hasResource(p.attrs.to) },
      (p) =>
        answer(p, async () => {
          const group = groupOfAddress(p.attrs.to)
          const nick = resourceOf(p.attrs.to)
          if (group === null || nick === '') throw new StanzaError('jid-malformed')
          const user = userOf(p)
          if (p.attrs.type === 'unavailable')
            return serial(user, group, () => leave(user, String(p.attrs.from), group))
          await serial(user, group, () => join(p, group, nick))
        }),
    ),
    xmpp.message({ to: '*', type: 'groupchat' }, (msg) =>
      answer(msg, async () => {
        const group = groupOfAddress(msg.attrs.to)
        if (group === null || hasResource(msg.attrs.to)) throw new StanzaError('bad-request')
        await groupchat(msg, group)
      }),
    ),
    // Private messages to an occupant of a room the user is in.
    xmpp.message(
      {
        to: '*',
        where: (m) => {
          if (!hasResource(m.attrs.to) || m.fromJid === null) return false
          const group = groupOfAddress(m.attrs.to)
          return group !== null && roomOf(userOf(m), group) !== undefined
        },
      },
      (msg) =>
        answer(msg, async () => {
          throw new StanzaError('feature-not-implemented', {
            text: `private messages in ${host.networkName} groups are not bridged; message the contact directly`,
          })
        }),
    ),
    // disco#info of a room (only for the user's groups; other addresses are contacts).
    xmpp.iqGet(
      {
        xmlns: NS_DISCO_INFO,
        name: 'query',
        to: '*',
        where: (iq) => {
          if (hasResource(iq.attrs.to) || iq.fromJid === null) return false
          const group = groupOfAddress(iq.attrs.to)
          return group !== null && known.get(userOf(iq))?.has(group) === true
        },
      },
      async (iq) => {
        const { info } = await groupOf(userOf(iq), groupOfAddress(iq.attrs.to) as string)
        return xml(
          'query',
          { xmlns: NS_DISCO_INFO },
          xml('identity', { category: 'conference', type: 'text', name: info.name ?? info.id }),
          ...[
            NS_DISCO_INFO,
            NS_MUC,
            'muc_persistent',
            'muc_membersonly',
            'muc_semianonymous',
            'muc_unmoderated',
          ].map((v) => xml('feature', { var: v })),
        )
      },
    ),
    // disco#items of the gateway, for a user whose groups are known: the registered items plus the
    // user's rooms (what a client's "browse rooms" shows). Everyone else gets the built-in answer.
    xmpp.iqGet(
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
          ...[...mine.values()].map((g) => ({ jid: roomJid(g.id), name: g.name ?? g.id })),
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
    ),
  ]

  return {
    routes,
    message(user, m) {
      const id = m.id !== '' ? m.id : randomUUID()
      remember(user, m.group, { from: m.from, id, text: m.text, at: new Date() })
      const room = roomOf(user, m.group)
      if (room === undefined) return // not joined: kept for the history only
      const nick = room.members.get(m.from) ?? strangerNick(m.from)
      toResources(room, (to) =>
        xml('message', { from: occupant(m.group, nick), to, type: 'groupchat', id }, xml('body', {}, m.text)),
      )
    },
    members(user, group, list) {
      const room = roomOf(user, group)
      if (room === undefined) return
      const next = nicksOf(list, room.nick)
      for (const [id, nick] of room.members) {
        const renamed = next.get(id)
        if (renamed === nick) continue
        // Gone, or a nick change: unavailable with status 303 and the new nick, then available (XEP-0045 7.6).
        toResources(room, (to) =>
          renamed === undefined
            ? occupantPresence(group, nick, to, false)
            : occupantPresence(group, nick, to, false, [303], renamed),
        )
      }
      for (const [id, nick] of next) {
        if (room.members.get(id) !== nick) {
          toResources(room, (to) =>
            occupantPresence(group, nick, to, true, [], undefined, host.presenceOf(user, id)),
          )
        }
      }
      room.members = next
    },
    subject(user, group, subject) {
      const room = roomOf(user, group)
      if (room === undefined) return
      room.subject = subject
      toResources(room, (to) =>
        xml(
          'message',
          { from: roomJid(group), to, type: 'groupchat', id: randomUUID() },
          xml('subject', {}, subject),
        ),
      )
    },
    async refresh(user, session) {
      await listGroups(user, session as S)
    },
    presence(user, legacyId) {
      const pres = host.presenceOf(user, legacyId)
      for (const room of rooms.get(user)?.values() ?? []) {
        const nick = room.members.get(legacyId)
        if (nick === undefined) continue
        toResources(room, (to) => occupantPresence(room.group, nick, to, true, [], undefined, pres))
      }
    },
    isGroup: (user, group) => known.get(user)?.has(group) === true,
    sizes: () => {
      const max = (xs: Iterable<number>) => Math.max(0, ...xs)
      const allRooms = [...rooms.values()].flatMap((m) => [...m.values()])
      return {
        users: known.size,
        groups: max([...known.values()].map((m) => m.size)),
        rooms: allRooms.length,
        members: max(allRooms.map((r) => r.members.size)),
        roomResources: max(allRooms.map((r) => r.resources.size)),
        historyChars: history.largest,
        historyUsers: history.users,
        pendingJoins: queues.size,
      }
    },
    forget(user) {
      history.forget(user)
      known.delete(user)
    },
    closeAll(user) {
      // Listed again at the next login; meanwhile no room is offered (disco would log the user in).
      known.delete(user)
      for (const room of [...(rooms.get(user)?.values() ?? [])]) {
        for (const full of [...room.resources]) leave(user, full, room.group, [110, 332])
      }
      rooms.delete(user)
    },
  }
}
