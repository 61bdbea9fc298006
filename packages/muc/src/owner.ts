// The muc#owner protocol (XEP-0045 §10): the configuration form (get), its submission, the
// instant room and the cancel of a locked new room (set), and destroying a room.
import { bareOf, type Element, type Stanza, StanzaError, xml } from '@satellite/core'
import { formElement } from '@satellite/forms'
import { adminGet, adminSet, evict, roomOf } from './admin.js'
import { persistRoom } from './archive.js'
import { type Context, deliver, log } from './context.js'
import { NS_DATA, NS_MUC_OWNER, NS_MUC_USER } from './ns.js'
import { destroy } from './occupancy.js'
import type { RoomConfig } from './options.js'
import { occupantPresence, rosterTo, Status } from './presence.js'
import type { Room } from './room.js'
import { applyForm, configForm, isEmptySubmission } from './roomconfig.js'

/** An admin answer in the muc#owner namespace. */
function ownerItems(q: Element): Element {
  q.attrs.xmlns = NS_MUC_OWNER
  return q
}

function ownerOnly(room: Room, from: string): void {
  if (room.affiliations.get(bareOf(from)) !== 'owner') {
    throw new StanzaError('forbidden', 'only owners may configure or destroy this room')
  }
}

/**
 * A muc#owner get: the configuration form, to owners. With an `<item/>`, the owner or admin list
 * (the older way of XEP-0045 before 1.21, still sent by some clients): as with muc#admin.
 */
export function ownerGet(ctx: Context, iq: Stanza, query: Element): Element {
  const room = roomOf(ctx, iq)
  ownerOnly(room, iq.attrs.from ?? '')
  if (query.getChild('item') !== undefined) return ownerItems(adminGet(ctx, iq, query))
  return xml('query', { xmlns: NS_MUC_OWNER }, formElement(configForm(room.config, ctx.o)))
}

/** A muc#owner set: a submitted or cancelled form, or `<destroy/>`. */
export function ownerSet(ctx: Context, iq: Stanza, query: Element): undefined {
  const room = roomOf(ctx, iq)
  ownerOnly(room, iq.attrs.from ?? '')
  if (query.getChild('item') !== undefined) return adminSet(ctx, iq, query)
  const destroyEl = query.getChild('destroy')
  if (destroyEl !== undefined) {
    destroyRoom(ctx, room, destroyEl.attrs.jid, destroyEl.getChildText('reason') ?? undefined)
    return undefined
  }
  const x = query.getChild('x', NS_DATA)
  if (x === undefined) throw new StanzaError('bad-request', 'send a data form or <destroy/>')
  const type = x.attrs.type
  if (type === 'cancel') {
    // Cancelling the first configuration of a locked new room destroys it (§10.1.3).
    if (room.state.kind === 'locked') destroyRoom(ctx, room, undefined, undefined)
    return undefined
  }
  if (type !== 'submit') throw new StanzaError('bad-request', 'a form of type submit or cancel')
  const next = isEmptySubmission(x) ? room.config : applyForm(room.config, ctx.o, x)
  configure(ctx, room, next)
  return undefined
}

/**
 * Applies new settings: unlocks a locked room; tells the occupants when something changed
 * (104, with 172/173 when the anonymity changed); a room now members-only removes the
 * occupants who are not members (322).
 */
function configure(ctx: Context, room: Room, next: RoomConfig): void {
  const before = { ...room.config }
  Object.assign(room.config, next)
  if (room.state.kind === 'locked') room.state = { kind: 'open' }
  const codes: number[] = []
  for (const k of Object.keys(next) as (keyof RoomConfig)[]) {
    if (before[k] !== next[k]) {
      codes.push(Status.CONFIG_CHANGED)
      break
    }
  }
  if (codes.length === 0) return
  // A persistent room's settings are saved (a room made persistent is saved for the first time).
  persistRoom(ctx, room)
  if (before.whois !== next.whois) {
    codes.push(next.whois === 'anyone' ? Status.NOW_NON_ANONYMOUS : Status.NOW_SEMI_ANONYMOUS)
  }
  log('%s configured', room.jid)
  if (next.membersOnly && !before.membersOnly) {
    for (const occ of [...room.occupants.values()]) {
      if (occ.affiliation === 'none') evict(ctx, room, occ, Status.REMOVED_MEMBERS_ONLY, undefined, undefined)
    }
  }
  const x = xml('x', { xmlns: NS_MUC_USER })
  for (const code of codes) x.c('status', { code: String(code) })
  const msg = xml('message', { from: room.jid, type: 'groupchat' }, x)
  for (const occ of room.occupants.values()) for (const s of occ.sessions.values()) deliver(ctx, s, msg)
  if (before.whois === next.whois) return
  // Who sees real JIDs changed for the occupants who are not moderators: they get every other
  // occupant's presence again, with (now non-anonymous) or without them (as Prosody does).
  for (const occ of room.occupants.values()) {
    if (occ.role === 'moderator') continue
    for (const s of occ.sessions.values()) rosterTo(ctx, room, occ, s)
  }
}

/**
 * Destroys a room (§10.9): every occupant gets its own unavailable presence (110, role none)
 * with `<destroy/>` (the alternate venue and the reason), then the room, its lists and its
 * history go.
 */
export function destroyRoom(
  ctx: Context,
  room: Room,
  venue: string | undefined,
  reason: string | undefined,
): void {
  const d = xml('destroy', venue === undefined ? {} : { jid: venue })
  if (reason !== undefined) d.children.push(xml('reason', {}, reason))
  for (const occ of room.occupants.values()) {
    for (const s of occ.sessions.values()) {
      occ.affiliation = 'none'
      const el = occupantPresence(room, occ, {
        base: undefined,
        type: 'unavailable',
        jid: s.jid,
        codes: [Status.SELF],
      })
      el.getChild('x', NS_MUC_USER)?.children.push(d)
      deliver(ctx, s, el)
    }
  }
  for (const occ of room.occupants.values()) {
    const n = (ctx.userRooms.get(occ.bare) ?? 1) - 1
    if (n <= 0) ctx.userRooms.delete(occ.bare)
    else ctx.userRooms.set(occ.bare, n)
  }
  room.occupants.clear()
  room.byJid.clear()
  room.byBare.clear()
  log('%s destroyed by its owner', room.jid)
  destroy(ctx, room)
}
