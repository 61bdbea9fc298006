// Occupant presences (XEP-0045 §7.2.3, §7.3, §7.6, §7.7): how an occupant's presence looks to
// each recipient, and its fan-out to the room.
import { type Element, xml } from '@satellite/core'
import { type Context, deliver, deliverAll } from './context.js'
import { NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID } from './ns.js'
import type { Occupant, Room, Session } from './room.js'

/** Status codes of XEP-0045 the engine sends. */
export const Status = {
  NON_ANONYMOUS: 100,
  CONFIG_CHANGED: 104,
  SELF: 110,
  LOGGED: 170,
  NOW_NON_ANONYMOUS: 172,
  NOW_SEMI_ANONYMOUS: 173,
  CREATED: 201,
  NICK_ASSIGNED: 210,
  BANNED: 301,
  NICK_CHANGED: 303,
  KICKED: 307,
  MEMBERSHIP_LOST: 321,
  REMOVED_MEMBERS_ONLY: 322,
  SHUTDOWN: 332,
  ERROR_REMOVED: 333,
} as const

/** Children of a client presence that the room does not pass on (its own MUC elements). */
function passedOn(child: Element): boolean {
  const ns = child.attrs.xmlns
  return ns !== NS_MUC && ns !== NS_MUC_USER && ns !== NS_OCCUPANT_ID
}

/** A client's presence as the room keeps it: its children minus MUC elements and occupant ids. */
export function keptPresence(p: Element): Element {
  const out = xml('presence')
  for (const child of p.children) {
    if (typeof child === 'string') continue
    if (passedOn(child as Element)) out.children.push(child)
  }
  return out
}

/** Whether `to` sees real JIDs: every occupant in a non-anonymous room, moderators otherwise. */
export function seesJids(room: Room, to: Occupant): boolean {
  return room.nonAnonymous || to.role === 'moderator'
}

/** What an occupant presence says besides the occupant. */
export interface PresenceParts {
  /** The presence's own children (show, status, caps…). */
  base: Element | undefined
  type?: 'unavailable'
  /** The `id` of the client presence this one reflects (kept, as Prosody does). */
  id?: string | undefined
  /** `<item><actor nick/><reason/></item>`: who changed the occupant's role or affiliation, and why. */
  actor?: string | undefined
  reason?: string | undefined
  /** `<item jid/>`: the real JID shown, when the recipient may see it. */
  jid?: string
  /** `<item nick/>` (303). */
  newNick?: string
  /** Status codes, ascending. */
  codes: readonly number[]
}

/** Builds the presence of `occ` (without `to`). */
export function occupantPresence(room: Room, occ: Occupant, p: PresenceParts): Element {
  const attrs: Record<string, string> = { from: `${room.jid}/${occ.nick}` }
  if (p.type !== undefined) attrs.type = p.type
  if (p.id !== undefined) attrs.id = p.id
  const el = xml('presence', attrs)
  if (p.base !== undefined) for (const child of p.base.children) el.children.push(child)
  const leaving = p.type === 'unavailable' && p.newNick === undefined
  const item: Record<string, string> = { affiliation: occ.affiliation, role: leaving ? 'none' : occ.role }
  if (p.jid !== undefined) item.jid = p.jid
  if (p.newNick !== undefined) item.nick = p.newNick
  const itemEl = xml('item', item)
  if (p.actor !== undefined) itemEl.c('actor', { nick: p.actor })
  if (p.reason !== undefined) itemEl.children.push(xml('reason', {}, p.reason))
  const x = xml('x', { xmlns: NS_MUC_USER }, itemEl)
  for (const code of p.codes) x.c('status', { code: String(code) })
  el.children.push(x, xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: occ.occupantId }))
  return el
}

/** How {@link announce} sends an occupant's presence. */
export interface Announce {
  base: Element | undefined
  type?: 'unavailable'
  /** The `id` of the client presence being reflected, kept on every copy. */
  id?: string | undefined
  actor?: string | undefined
  reason?: string | undefined
  newNick?: string
  /** Whether the other occupants get it (default true). */
  others?: boolean
  /** Codes for every recipient. */
  codes?: readonly number[]
  /** Codes added for the occupant's own sessions (after 110). */
  selfCodes?: readonly number[]
  /**
   * Which of the occupant's own sessions get the self-presence (with 110): all of them
   * (undefined), only this one, or none (null).
   */
  self?: Session | null
}

/**
 * Sends the presence of `occ` to every session in the room: one element for the recipients who
 * see real JIDs and one for the others (built once, `to` changed per recipient), and a
 * self-presence with 110 to the occupant's own sessions, last.
 */
export function announce(ctx: Context, room: Room, occ: Occupant, a: Announce): void {
  const codes = a.codes ?? []
  const parts: PresenceParts = { base: a.base, codes }
  if (a.type !== undefined) parts.type = a.type
  if (a.newNick !== undefined) parts.newNick = a.newNick
  if (a.id !== undefined) parts.id = a.id
  if (a.actor !== undefined) parts.actor = a.actor
  if (a.reason !== undefined) parts.reason = a.reason
  // Two fan-outs at most: those who see real JIDs and those who do not, each serialized once.
  const plain: Session[] = []
  const withJid: Session[] = []
  for (const other of a.others === false ? [] : room.occupants.values()) {
    if (other === occ) continue
    const list = seesJids(room, other) && occ.shown.jid !== '' ? withJid : plain
    for (const s of other.sessions.values()) list.push(s)
  }
  if (withJid.length > 0)
    deliverAll(ctx, withJid, occupantPresence(room, occ, { ...parts, jid: occ.shown.jid }))
  if (plain.length > 0) deliverAll(ctx, plain, occupantPresence(room, occ, parts))
  if (a.self === null) return
  const selfCodes = [...codes, Status.SELF, ...(a.selfCodes ?? [])].sort((x, y) => x - y)
  const targets = a.self === undefined ? occ.sessions.values() : [a.self]
  for (const s of targets) {
    deliver(ctx, s, occupantPresence(room, occ, { ...parts, jid: s.jid, codes: selfCodes }))
  }
}

/** Sends the presence of every other occupant to `session` (the start of a join, §7.2.3). */
export function rosterTo(ctx: Context, room: Room, occ: Occupant, session: Session): void {
  const sees = seesJids(room, occ)
  for (const other of room.occupants.values()) {
    if (other === occ) continue
    const parts: PresenceParts = { base: other.shown.presence, codes: [] }
    if (sees && other.shown.jid !== '') parts.jid = other.shown.jid
    deliver(ctx, session, occupantPresence(room, other, parts))
  }
}
