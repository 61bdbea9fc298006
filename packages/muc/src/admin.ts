// The muc#admin protocol (XEP-0045 §8, §9, §10): lists of affiliations and roles, and changes
// to them (voice, moderator, membership, admin, owner, kick 307, ban 301), with the privilege
// rules of §5 and their errors.
import { bareOf, type Element, resourceOf, type Stanza, StanzaError, xml } from '@satellite/core'
import { type ListedAffiliation, rank, roleFor } from './affiliations.js'
import { type Context, findRoom, log } from './context.js'
import { enforceNick, nickKey } from './nick.js'
import { NS_MUC_ADMIN } from './ns.js'
import { destroy } from './occupancy.js'
import { announce, rosterTo, Status, seesJids } from './presence.js'
import type { Affiliation, Occupant, Role, Room } from './room.js'

const LISTED: ReadonlySet<string> = new Set(['owner', 'admin', 'member', 'outcast'])
const AFFILIATIONS: ReadonlySet<string> = new Set(['owner', 'admin', 'member', 'outcast', 'none'])
const ROLES: ReadonlySet<string> = new Set(['moderator', 'participant', 'visitor'])
const SET_ROLES: ReadonlySet<string> = new Set(['moderator', 'participant', 'visitor', 'none'])

/** The room an iq is addressed to (`item-not-found`); an iq to an occupant JID: `bad-request`. */
export function roomOf(ctx: Context, iq: Stanza): Room {
  const room = findRoom(ctx, iq)
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  if (resourceOf(iq.attrs.to) !== '') throw new StanzaError('bad-request', 'send this to the room itself')
  if (room.user !== undefined) {
    throw new StanzaError('feature-not-implemented', 'this room is on a remote network: use its own commands')
  }
  return room
}

const isModerator = (room: Room, from: string): boolean => room.byJid.get(from)?.role === 'moderator'

/** A muc#admin get: one `<item/>` naming an affiliation list or a role. */
export function adminGet(ctx: Context, iq: Stanza, query: Element): Element {
  const room = roomOf(ctx, iq)
  const items = query.getChildren('item')
  const from = iq.attrs.from ?? ''
  if (items.length !== 1) throw new StanzaError('bad-request', 'ask for one affiliation or role')
  const { affiliation, role } = (items[0] as Element).attrs
  const out = xml('query', { xmlns: NS_MUC_ADMIN })
  if (affiliation !== undefined && role === undefined && LISTED.has(affiliation)) {
    if (rank(room.affiliations.get(bareOf(from))) < rank('admin')) {
      throw new StanzaError('forbidden', 'only admins and owners may see the affiliation lists')
    }
    for (const e of room.affiliations.list(affiliation as ListedAffiliation)) {
      const it = out.c('item', { affiliation: e.affiliation, jid: e.jid })
      if (e.reason !== undefined) it.children.push(xml('reason', {}, e.reason))
    }
    return out
  }
  if (role !== undefined && affiliation === undefined && ROLES.has(role)) {
    if (!isModerator(room, from)) throw new StanzaError('forbidden', 'only moderators may see the roles')
    for (const o of room.occupants.values()) {
      if (o.role !== role) continue
      out.c('item', { affiliation: o.affiliation, jid: o.shown.jid, nick: o.nick, role: o.role })
    }
    return out
  }
  throw new StanzaError('bad-request', 'an item with one affiliation or one role')
}

/** One change asked by a muc#admin set. */
type Change =
  | { kind: 'role'; occ: Occupant; role: Role | 'none'; reason: string | undefined }
  | { kind: 'affiliation'; jid: string; affiliation: Affiliation; reason: string | undefined }

/**
 * A muc#admin set: every item is checked first (privileges of §5, then that an owner remains),
 * then all are applied, or none.
 */
export function adminSet(ctx: Context, iq: Stanza, query: Element): undefined {
  const room = roomOf(ctx, iq)
  const from = iq.attrs.from ?? ''
  const actorBare = bareOf(from)
  const actorAff = room.affiliations.get(actorBare)
  const actor = room.byJid.get(from)
  const items = query.getChildren('item')
  if (items.length === 0) throw new StanzaError('bad-request', 'no item to change')
  const changes: Change[] = []
  for (const it of items) {
    const { affiliation, role, nick, jid } = it.attrs
    const reason = it.getChildText('reason') ?? undefined
    if ((affiliation === undefined) === (role === undefined)) {
      throw new StanzaError('bad-request', 'an item changes either an affiliation or a role')
    }
    if (role !== undefined) {
      if (!SET_ROLES.has(role)) throw new StanzaError('bad-request', `no role '${role.slice(0, 20)}'`)
      if (nick === undefined) throw new StanzaError('bad-request', 'a role change names the occupant by nick')
      // The privilege first: no one else learns from the answer who is in the room.
      if (actor === undefined || actor.role !== 'moderator') {
        throw new StanzaError('forbidden', 'only moderators may change roles')
      }
      const occ = findNick(ctx, room, nick)
      if (rank(occ.affiliation) >= rank('admin') && role !== 'moderator') {
        throw new StanzaError('not-allowed', 'the role of an admin or owner cannot be changed')
      }
      if ((role === 'moderator' || occ.role === 'moderator') && rank(actorAff) < rank('admin')) {
        throw new StanzaError('forbidden', 'only admins and owners may grant or revoke moderation')
      }
      changes.push({ kind: 'role', occ, role: role as Role | 'none', reason })
      continue
    }
    const aff = affiliation as string
    if (!AFFILIATIONS.has(aff)) throw new StanzaError('bad-request', `no affiliation '${aff.slice(0, 20)}'`)
    if (rank(actorAff) < rank('admin')) {
      throw new StanzaError('forbidden', 'only admins and owners may change affiliations')
    }
    let target: string
    if (jid !== undefined) {
      // Servers send JIDs lower-cased (their local part and domain are case-insensitive).
      target = bareOf(jid).toLowerCase()
      if (target === '' || target.startsWith('@') || target.endsWith('@')) {
        throw new StanzaError('jid-malformed', 'not a JID')
      }
    } else if (nick !== undefined) target = findNick(ctx, room, nick).bare
    else throw new StanzaError('bad-request', 'an affiliation change names a JID')
    if (actorAff === 'admin') {
      if (rank(room.affiliations.get(target)) >= rank('admin')) {
        throw new StanzaError('not-allowed', 'an admin cannot change an admin or an owner')
      }
      if (rank(aff as Affiliation) >= rank('admin')) {
        throw new StanzaError('forbidden', 'only owners may make admins and owners')
      }
    }
    changes.push({ kind: 'affiliation', jid: target, affiliation: aff as Affiliation, reason })
  }
  checkOwnersRemain(ctx, room, changes)
  for (const c of changes) {
    if (c.kind === 'role') setRole(ctx, room, c.occ, c.role, actor?.nick, c.reason)
    else setAffiliation(ctx, room, c.jid, c.affiliation, actor?.nick, c.reason)
  }
  return undefined
}

function findNick(ctx: Context, room: Room, nick: string): Occupant {
  // The nick as the room folds it (another case or form names the same occupant).
  const n = enforceNick(nick, ctx.o.nickLength)
  const occ = n.ok ? room.occupants.get(nickKey(n.nick)) : undefined
  if (occ !== undefined) return occ
  throw new StanzaError('item-not-found', 'no occupant with that nick')
}

/** Refuses (`conflict`) changes that leave the room without an owner, or past the list limit. */
function checkOwnersRemain(ctx: Context, room: Room, changes: readonly Change[]): void {
  const after = new Map<string, Affiliation>()
  for (const c of changes) if (c.kind === 'affiliation') after.set(c.jid, c.affiliation)
  if (after.size === 0) return
  let owners = room.affiliations.owners
  let added = 0
  for (const [jid, a] of after) {
    const before = room.affiliations.get(jid)
    if (before === 'owner' && a !== 'owner') owners--
    if (before !== 'owner' && a === 'owner') owners++
    if (before === 'none' && a !== 'none') added++
  }
  if (owners < 1) throw new StanzaError('conflict', 'a room keeps at least one owner')
  if (room.affiliations.size + added > ctx.o.affiliations) {
    throw new StanzaError('resource-constraint', {
      type: 'wait',
      text: `at most ${ctx.o.affiliations} affiliations in a room`,
    })
  }
}

/** Changes an occupant's role: `none` kicks it (307), another role is announced to everyone. */
export function setRole(
  ctx: Context,
  room: Room,
  occ: Occupant,
  role: Role | 'none',
  actor: string | undefined,
  reason: string | undefined,
): void {
  if (role === 'none') {
    evict(ctx, room, occ, Status.KICKED, actor, reason)
    return
  }
  if (occ.role === role) return
  changeRole(ctx, room, occ, role, reason)
}

/**
 * Gives `occ` its new role and announces it. When that changes whether it sees real JIDs (a
 * moderator of a semi-anonymous room), its sessions get every other occupant's presence again,
 * with or without the JIDs (as Prosody does).
 */
function changeRole(ctx: Context, room: Room, occ: Occupant, role: Role, reason: string | undefined): void {
  const saw = seesJids(room, occ)
  occ.role = role
  announce(ctx, room, occ, { base: occ.shown.presence, reason })
  if (seesJids(room, occ) !== saw) for (const s of occ.sessions.values()) rosterTo(ctx, room, occ, s)
}

/**
 * Changes the affiliation of `jid` and, when it is in the room, what follows for it: outcast is
 * banned (301), none in a members-only room is removed (321), otherwise the role the new
 * affiliation gives, announced to everyone.
 */
export function setAffiliation(
  ctx: Context,
  room: Room,
  jid: string,
  affiliation: Affiliation,
  actor: string | undefined,
  reason: string | undefined,
): void {
  room.affiliations.set(jid, affiliation, reason)
  log('%s is now %s of %s', jid, affiliation, room.jid)
  const occ = room.byBare.get(jid)
  if (occ === undefined) return
  occ.affiliation = affiliation
  if (affiliation === 'outcast') {
    evict(ctx, room, occ, Status.BANNED, actor, reason)
    return
  }
  if (affiliation === 'none' && room.config.membersOnly) {
    evict(ctx, room, occ, Status.MEMBERSHIP_LOST, actor, reason)
    return
  }
  changeRole(ctx, room, occ, roleFor(affiliation, room.config.moderated), reason)
}

/**
 * Removes an occupant with all its sessions: everyone gets its unavailable presence with `code`
 * (and the actor and reason), its own sessions with 110; a room left empty goes unless persistent.
 */
export function evict(
  ctx: Context,
  room: Room,
  occ: Occupant,
  code: number,
  actor: string | undefined,
  reason: string | undefined,
): void {
  announce(ctx, room, occ, { base: undefined, type: 'unavailable', codes: [code], actor, reason })
  for (const s of occ.sessions.values()) {
    room.byJid.delete(s.jid)
    s.state = { kind: 'joined' }
  }
  occ.sessions.clear()
  room.occupants.delete(occ.key)
  room.byBare.delete(occ.bare)
  const n = (ctx.userRooms.get(occ.bare) ?? 1) - 1
  if (n <= 0) ctx.userRooms.delete(occ.bare)
  else ctx.userRooms.set(occ.bare, n)
  log('%s removed from %s (%d)', occ.bare, room.jid, code)
  if (room.occupants.size === 0 && !room.config.persistent) destroy(ctx, room)
}
