// Presence to a room (XEP-0045 §7.2-7.7): joins, presence updates, re-joins, nick changes,
// leaving, and ghosts (an occupant whose server bounces what the room sends it).
import {
  bareOf,
  type Element,
  errorReply,
  isStanzaErrorCondition,
  localOf,
  resourceOf,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'
import { type Context, deliver, findRoom, log } from './context.js'
import { enter, sendState } from './enter.js'
import { MucError, MucErrorCodes } from './errors.js'
import { enforceNick, nickKey } from './nick.js'
import { NS_MUC, NS_STANZAS } from './ns.js'
import { announce, keptPresence, occupantPresence, rosterTo, Status } from './presence.js'
import { latestSession, type Occupant, type Room, type Session } from './room.js'
import { endView, enterView, viewNick } from './view.js'

/**
 * Error conditions that mean the occupant's session is gone (Prosody's list): an error stanza
 * with one of them, from an occupant's session, removes that session as if it had left.
 */
export const GHOST_CONDITIONS: ReadonlySet<string> = new Set([
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'recipient-unavailable',
  'redirect',
  'remote-server-not-found',
  'remote-server-timeout',
  'service-unavailable',
])

/**
 * Answers `stanza` with `err` (from the address it was sent to). A presence error carries
 * `<x xmlns='http://jabber.org/protocol/muc'/>`, as in XEP-0045's examples and from Prosody:
 * clients (slixmpp's `join_muc_wait`) match a join's error by it, and time out without it.
 */
export function refuse(ctx: Context, stanza: Element, err: StanzaError): void {
  const reply = errorReply(stanza, err)
  if (stanza.name === 'presence') reply.children.unshift(xml('x', { xmlns: NS_MUC }))
  void ctx.xmpp.send(reply).catch(() => {})
}

/** Handles a presence addressed to a room or an occupant JID. */
export function onPresence(ctx: Context, p: Stanza): void {
  const from = p.attrs.from
  const to = p.attrs.to
  if (!from || !to) return
  const type = p.attrs.type
  if (type === 'error') {
    ghost(ctx, p)
    return
  }
  // Subscriptions and probes to a room are not answered (RFC 6121 lets a service ignore them).
  if (type !== undefined && type !== 'unavailable') return
  const local = localOf(to).toLowerCase()
  const room = findRoom(ctx, p)
  const occ = room?.byJid.get(from)
  if (type === 'unavailable') {
    const session = occ?.sessions.get(from)
    if (room !== undefined && occ !== undefined && session !== undefined) {
      removeSession(ctx, room, occ, session, { base: keptPresence(p), id: p.attrs.id, ghost: false })
    }
    return
  }
  try {
    const raw = resourceOf(to)
    if (raw === '') throw new StanzaError('jid-malformed', 'join with a nick: room@service/nick')
    const nick = enforceNick(raw, ctx.o.nickLength)
    if (!nick.ok) throw new StanzaError('jid-malformed', nick.problem)
    if (room !== undefined && occ !== undefined) {
      const session = occ.sessions.get(from) as Session
      if (nick.nick === occ.nick) {
        update(ctx, room, occ, session, p)
      } else if (room.user !== undefined) {
        viewNick(ctx, room, occ, p, nick.nick)
      } else {
        changeNick(ctx, room, occ, session, p, nick.nick, nick.changed)
      }
      return
    }
    const join = {
      local,
      room,
      nick: nick.nick,
      changed: nick.changed,
      from,
      bare: bareOf(from),
      presence: p,
    }
    if (ctx.backend !== undefined && room === undefined) enterView(ctx, ctx.backend, join)
    else enter(ctx, join)
  } catch (err) {
    if (err instanceof StanzaError) refuse(ctx, p, err)
    else {
      ctx.report(new MucError(MucErrorCodes.INTERNAL, `presence to ${to} failed`, { cause: err }))
      refuse(ctx, p, new StanzaError('internal-server-error'))
    }
  }
}

/** A presence update from a joined session; with `<x xmlns=muc/>`, a re-join of that session. */
function update(ctx: Context, room: Room, occ: Occupant, session: Session, p: Stanza): void {
  session.presence = keptPresence(p)
  session.at = ctx.o.now()
  occ.shown = session
  const rejoin = p.getChild('x', NS_MUC) !== undefined
  const id = p.attrs.id
  if (!rejoin) {
    announce(ctx, room, occ, { base: session.presence, id })
    return
  }
  // The client thinks it is joining (it lost the room, e.g. after a reconnect): the others see a
  // presence update; this session gets the whole room again, as on a join.
  announce(ctx, room, occ, { base: session.presence, id, self: null })
  for (const s of occ.sessions.values()) {
    if (s !== session) announce(ctx, room, occ, { base: session.presence, id, others: false, self: s })
  }
  rosterTo(ctx, room, occ, session)
  sendState(ctx, room, occ, session, p, { created: false, changed: false })
}

/** A nick change (§7.6): 303 with the new nick, then the presence under the new nick. */
function changeNick(
  ctx: Context,
  room: Room,
  occ: Occupant,
  session: Session,
  p: Stanza,
  nick: string,
  changed: boolean,
): void {
  const key = nickKey(nick)
  if (key !== occ.key && room.occupants.has(key)) {
    throw new StanzaError('conflict', 'that nick is taken in this room')
  }
  session.presence = keptPresence(p)
  session.at = ctx.o.now()
  occ.shown = session
  announce(ctx, room, occ, {
    base: undefined,
    type: 'unavailable',
    newNick: nick,
    codes: [Status.NICK_CHANGED],
  })
  room.occupants.delete(occ.key)
  occ.nick = nick
  occ.key = key
  room.occupants.set(key, occ)
  announce(ctx, room, occ, {
    base: session.presence,
    id: p.attrs.id,
    selfCodes: changed ? [Status.NICK_ASSIGNED] : [],
  })
  log('%s in %s is now %s', occ.bare, room.jid, nick)
}

/**
 * Removes a session: the leaver gets its unavailable presence with 110 (not a ghost); when it
 * was the occupant's last session, everyone else gets the occupant's unavailable presence (333
 * for a ghost) and the occupant goes; a room left empty goes unless persistent.
 */
export function removeSession(
  ctx: Context,
  room: Room,
  occ: Occupant,
  session: Session,
  how: { base: Element | undefined; id?: string | undefined; ghost: boolean },
): void {
  occ.sessions.delete(session.jid)
  room.byJid.delete(session.jid)
  session.state = { kind: 'joined' }
  if (occ.sessions.size === 0) {
    announce(ctx, room, occ, {
      base: how.base,
      type: 'unavailable',
      id: how.id,
      codes: how.ghost ? [Status.ERROR_REMOVED] : [],
      self: how.ghost ? null : session,
    })
    room.occupants.delete(occ.key)
    if (room.user !== undefined) {
      endView(ctx, room, how.ghost ? undefined : (how.base?.getChildText('status') ?? undefined), true)
      return
    }
    room.byBare.delete(occ.bare)
    const n = (ctx.userRooms.get(occ.bare) ?? 1) - 1
    if (n <= 0) ctx.userRooms.delete(occ.bare)
    else ctx.userRooms.set(occ.bare, n)
    if (room.occupants.size === 0 && !room.config.persistent) destroy(ctx, room)
    return
  }
  if (!how.ghost) {
    const el = occupantPresence(room, occ, {
      base: how.base,
      type: 'unavailable',
      id: how.id,
      jid: session.jid,
      codes: [Status.SELF],
    })
    deliver(ctx, session, el)
  }
  if (occ.shown === session) {
    occ.shown = latestSession(occ) as Session
    announce(ctx, room, occ, { base: occ.shown.presence })
  }
}

/** Removes a room: it stops existing, and its history is forgotten. */
export function destroy(ctx: Context, room: Room): void {
  room.state = { kind: 'destroyed' }
  ctx.rooms.delete(room.key)
  if (room.user === undefined) ctx.listed.delete(room.local)
  log('room %s destroyed', room.jid)
  // A user's view of a remote room keeps its archive (the user's history of it).
  if (room.user !== undefined) return
  const failed = (err: unknown) =>
    ctx.report(new MucError(MucErrorCodes.STORE, `history of ${room.jid} not forgotten`, { cause: err }))
  try {
    const r = ctx.store.forget(room.jid)
    if (r instanceof Promise) r.catch(failed)
  } catch (err) {
    failed(err)
  }
}

/** The condition of an error stanza (`malformed error` when it has none). */
export function errorCondition(stanza: Element): string {
  const error = stanza.getChild('error')
  if (error === undefined) return 'malformed error'
  for (const child of error.children) {
    if (typeof child === 'string') continue
    const el = child as Element
    if (el.attrs.xmlns === NS_STANZAS && el.name !== 'text') {
      return isStanzaErrorCondition(el.name) ? el.name : 'malformed error'
    }
  }
  return 'malformed error'
}

/**
 * An error stanza (message or presence) to the room or an occupant JID: when it comes from an
 * occupant's session with a condition that means the session is gone, the session is removed
 * (status 333 to the others when it was the occupant's last). Other errors are dropped.
 */
export function ghost(ctx: Context, stanza: Stanza): void {
  const from = stanza.attrs.from as string
  const room = findRoom(ctx, stanza)
  const occ = room?.byJid.get(from)
  const session = occ?.sessions.get(from)
  if (room === undefined || occ === undefined || session === undefined) return
  const condition = errorCondition(stanza)
  if (condition !== 'malformed error' && !GHOST_CONDITIONS.has(condition)) return
  log('%s removed from %s: %s', from, room.jid, condition)
  const base = xml('presence', {}, xml('status', {}, `Removed: ${condition.replace(/-/g, ' ')}`))
  removeSession(ctx, room, occ, session, { base, ghost: true })
}
