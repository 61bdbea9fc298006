// Entering a room: the checks and refusals of XEP-0045 §7.2, the room created on first join
// (an instant room, §10.1.2), then what the new session is sent, in order: the other
// occupants, its own presence (110 and 100/170/201/210), the discussion history, the subject.
import { type Element, type Stanza, StanzaError, xml } from '@satellite/core'
import { rank, roleFor } from './affiliations.js'
import { roomCreated } from './archive.js'
import { type Context, deliver, log } from './context.js'
import { MucError, MucErrorCodes } from './errors.js'
import { type HistoryEntry, wanted } from './history.js'
import { affiliationSource, joinHook } from './hooks.js'
import { nickKey } from './nick.js'
import { NS_DELAY, NS_MUC, NS_SID } from './ns.js'
import { announce, keptPresence, rosterTo, Status } from './presence.js'
import { type Occupant, Room, type Session } from './room.js'

/** A join that passed the nick check: the room (existing or not), the nick and its key. */
export interface JoinRequest {
  local: string
  room: Room | undefined
  nick: string
  /** Enforcement changed the requested nick (status 210). */
  changed: boolean
  from: string
  bare: string
  presence: Stanza
}

/** Refuses, or admits and answers, a join. Throws the StanzaError to answer with. */
export function enter(ctx: Context, r: JoinRequest): void {
  const o = ctx.o
  let room = r.room
  const mine = room?.byBare.get(r.bare)
  let nick = r.nick
  let changed = r.changed
  if (mine !== undefined) {
    // One nick per user: another resource of a user already in the room gets the user's nick.
    if (mine.key !== nickKey(nick)) changed = true
    nick = mine.nick
    if (mine.sessions.size >= o.sessionsPerOccupant) {
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: `at most ${o.sessionsPerOccupant} resources of one user in a room`,
      })
    }
  } else {
    const affiliation = room?.affiliations.get(r.bare) ?? 'none'
    if (affiliation === 'outcast') throw new StanzaError('forbidden', 'you are banned from this room')
    if (room?.state.kind === 'locked') {
      throw new StanzaError('item-not-found', 'this room is not configured yet')
    }
    if (room?.config.membersOnly && affiliation === 'none') {
      throw new StanzaError('registration-required', 'this room is for members only')
    }
    const password = room?.config.password
    if (password !== undefined && r.presence.getChild('x', NS_MUC)?.getChildText('password') !== password) {
      throw new StanzaError('not-authorized', 'this room needs the right password')
    }
    const key = nickKey(nick)
    if (room?.occupants.has(key)) throw new StanzaError('conflict', 'that nick is taken in this room')
    const max = room?.config.maxUsers
    if (
      room !== undefined &&
      (room.occupants.size >= o.occupantsPerRoom ||
        (max !== undefined && room.occupants.size >= max && rank(affiliation) < rank('admin')))
    ) {
      throw new StanzaError('service-unavailable', { type: 'wait', text: 'this room is full' })
    }
    if ((ctx.userRooms.get(r.bare) ?? 0) >= o.roomsPerUser) {
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: `at most ${o.roomsPerUser} rooms at once`,
      })
    }
  }
  // A view of a remote room ran the hook before asking its backend (view.ts).
  if (mine === undefined && room?.user === undefined) {
    joinHook(ctx, {
      room: r.local,
      roomJid: `${r.local}@${ctx.xmpp.domain}`,
      jid: r.from,
      bare: r.bare,
      nick,
      creates: room === undefined,
    })
  }
  let created = false
  if (room === undefined) {
    if (ctx.rooms.size >= o.rooms) {
      throw new StanzaError('resource-constraint', { type: 'wait', text: 'no more rooms can be created' })
    }
    if (!o.mayCreate(r.local, r.bare)) throw new StanzaError('not-allowed', 'you may not create rooms here')
    const jid = `${r.local}@${ctx.xmpp.domain}`
    room = new Room(r.local, jid, { ...o.defaults }, o.now())
    affiliationSource(ctx, room)
    if (o.lockNewRooms) room.state = { kind: 'locked' }
    room.affiliations.set(r.bare, 'owner')
    ctx.rooms.set(r.local, room)
    roomCreated(ctx, room)
    created = true
    log('room %s created by %s', jid, r.bare)
  }
  const session: Session = {
    jid: r.from,
    presence: keptPresence(r.presence),
    at: o.now(),
    state: { kind: 'joined' },
  }
  let occ = mine
  if (occ === undefined) {
    const affiliation = room.affiliations.get(r.bare)
    occ = {
      remote: false,
      nick,
      key: nickKey(nick),
      bare: r.bare,
      occupantId: ctx.ids(room.jid, r.bare),
      affiliation,
      role: roleFor(affiliation, room.config.moderated),
      sessions: new Map(),
      shown: session,
      tokens: o.burst,
      counted: o.now(),
    }
    room.occupants.set(occ.key, occ)
    room.byBare.set(r.bare, occ)
    ctx.userRooms.set(r.bare, (ctx.userRooms.get(r.bare) ?? 0) + 1)
  }
  occ.sessions.set(r.from, session)
  occ.shown = session
  room.byJid.set(r.from, occ)
  rosterTo(ctx, room, occ, session)
  const id = r.presence.attrs.id
  announce(ctx, room, occ, { base: session.presence, id, self: null })
  for (const s of occ.sessions.values()) {
    if (s !== session) announce(ctx, room, occ, { base: session.presence, id, others: false, self: s })
  }
  sendState(ctx, room, occ, session, r.presence, { created, changed })
}

/**
 * Sends `session` its own presence, then the history its join asked for and the subject (a
 * join, or a re-join of a joined session). Live traffic for the session waits while the
 * history is read from an asynchronous store.
 */
export function sendState(
  ctx: Context,
  room: Room,
  occ: Occupant,
  session: Session,
  presence: Element,
  flags: { created: boolean; changed: boolean },
): void {
  const selfCodes: number[] = []
  if (room.nonAnonymous) selfCodes.push(Status.NON_ANONYMOUS)
  if (room.config.logged) selfCodes.push(Status.LOGGED)
  if (flags.created) selfCodes.push(Status.CREATED)
  if (flags.changed) selfCodes.push(Status.NICK_ASSIGNED)
  // Own presence: only to this session, and only after the roster (§7.2.3).
  const id = presence.attrs.id
  announce(ctx, room, occ, { base: occ.shown.presence, id, others: false, self: session, selfCodes })
  const x = presence.getChild('x', NS_MUC)
  const want = wanted(x?.getChild('history'), room.config.historyLength, ctx.o.now())
  const finish = (entries: readonly HistoryEntry[]) => {
    const queued = session.state.kind === 'joining' ? session.state.queue : []
    session.state = { kind: 'joined' }
    if (room.state.kind === 'destroyed' || !occ.sessions.has(session.jid)) return
    // A message that arrived while the store was read can be in both: it goes out live only.
    if (queued.length > 0 && entries.length > 0) {
      const live = new Set<string>()
      for (const el of queued) {
        const id = el.getChild('stanza-id', NS_SID)?.attrs.id
        if (id !== undefined) live.add(id)
      }
      entries = entries.filter((e) => !live.has(e.id))
    }
    sendHistory(ctx, room, session, entries, want.maxChars)
    sendSubject(ctx, room, session)
    for (const el of queued) void ctx.xmpp.send(el).catch(() => {})
  }
  let result: readonly HistoryEntry[] | Promise<readonly HistoryEntry[]>
  try {
    // A room just created has no history: the store is not asked.
    result = want.query.maxStanzas > 0 && !flags.created ? ctx.store.recent(room.archive, want.query) : []
  } catch (err) {
    storeFailed(ctx, room, err)
    result = []
  }
  if (!(result instanceof Promise)) {
    finish(result)
    return
  }
  session.state = { kind: 'joining', queue: [] }
  result.then(finish, (err: unknown) => {
    storeFailed(ctx, room, err)
    finish([])
  })
}

function storeFailed(ctx: Context, room: Room, err: unknown): void {
  ctx.report(new MucError(MucErrorCodes.STORE, `history of ${room.jid} could not be read`, { cause: err }))
}

/** Sends history entries (oldest first) within `maxChars`, each with its XEP-0203 delay. */
function sendHistory(
  ctx: Context,
  room: Room,
  session: Session,
  entries: readonly HistoryEntry[],
  maxChars: number,
): void {
  let start = 0
  if (Number.isFinite(maxChars)) {
    // The newest complete stanzas whose characters add up to at most maxChars (§7.2.14).
    let total = 0
    start = entries.length
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i] as HistoryEntry
      total += delayed(room, e).toString().length + session.jid.length + 6
      if (total > maxChars) break
      start = i
    }
  }
  for (let i = start; i < entries.length; i++) {
    deliver(ctx, session, delayed(room, entries[i] as HistoryEntry))
  }
}

function delayed(room: Room, e: HistoryEntry): Element {
  const el = xml(e.message.name, { ...e.message.attrs })
  for (const child of e.message.children) el.children.push(child)
  const from = room.nonAnonymous ? e.jid : room.jid
  el.children.push(xml('delay', { xmlns: NS_DELAY, from, stamp: new Date(e.at).toISOString() }))
  return el
}

/** The subject message that ends a join (§7.2.15): empty `<subject/>` when there is none. */
export function subjectMessage(room: Room): Element {
  const from = room.subject.nick === undefined ? room.jid : `${room.jid}/${room.subject.nick}`
  return xml('message', { from, type: 'groupchat' }, xml('subject', {}, room.subject.text))
}

function sendSubject(ctx: Context, room: Room, session: Session): void {
  deliver(ctx, session, subjectMessage(room))
}
