// Service discovery (XEP-0045 §6): the service (conference/text), its public rooms, each room's
// features and muc#roominfo form; disco and pings to occupant JIDs (§6.6, XEP-0410).
import { type Element, NS_DISCO_ITEMS, resourceOf, type Stanza, StanzaError, xml } from '@satellite/core'
import { type Context, findRoom } from './context.js'
import { NS_MAM } from './mam.js'
import { enforceNick, nickKey } from './nick.js'
import {
  NS_DATA,
  NS_MUC,
  NS_MUC_ROOMINFO,
  NS_MUC_SELF_PING,
  NS_MUC_STABLE_ID,
  NS_OCCUPANT_ID,
  NS_SID,
} from './ns.js'
import type { Occupant, Room } from './room.js'
import { NS_RSM, parseRsm, rsmSet } from './rsm.js'

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'

/** The features a room advertises, from its settings (sorted). */
export function roomFeatures(room: Room): string[] {
  const c = room.config
  return [
    NS_DISCO_INFO,
    NS_MUC,
    NS_MUC_SELF_PING,
    NS_MUC_STABLE_ID,
    room.nonAnonymous ? 'muc_nonanonymous' : 'muc_semianonymous',
    c.public ? 'muc_public' : 'muc_hidden',
    c.persistent ? 'muc_persistent' : 'muc_temporary',
    c.membersOnly ? 'muc_membersonly' : 'muc_open',
    c.moderated ? 'muc_moderated' : 'muc_unmoderated',
    c.password !== undefined ? 'muc_passwordprotected' : 'muc_unsecured',
    NS_MAM,
    NS_SID,
    NS_OCCUPANT_ID,
  ].sort()
}

function field(v: string, label: string, value: string, type?: string): Element {
  const attrs: Record<string, string> = { var: v }
  if (type !== undefined) attrs.type = type
  else attrs.label = label
  return xml('field', attrs, xml('value', {}, value))
}

/** The room's disco#info: identity, features, and the muc#roominfo form (XEP-0128). */
export function roomInfo(room: Room, types: readonly string[] = ['text']): Element {
  const q = xml('query', { xmlns: NS_DISCO_INFO })
  for (const type of types)
    q.c('identity', { category: 'conference', type, name: room.config.name ?? room.local })
  for (const f of roomFeatures(room)) q.c('feature', { var: f })
  const form = xml(
    'x',
    { xmlns: NS_DATA, type: 'result' },
    field('FORM_TYPE', '', NS_MUC_ROOMINFO, 'hidden'),
    field('muc#roominfo_occupants', 'Number of occupants', String(room.occupants.size)),
    field('muc#roominfo_subject', 'Subject', room.subject.text),
    field(
      'muc#roominfo_changesubject',
      'Occupants may change the subject',
      String(room.config.changeSubject),
    ),
  )
  if (room.config.description !== undefined) {
    form.children.push(field('muc#roominfo_description', 'Description', room.config.description))
  }
  q.children.push(form)
  return q
}

/**
 * The service's disco#items: the items registered in disco, then the public rooms (in memory or
 * persistent in the store) in name order, paged with XEP-0059 (`<max/>` at most
 * `limits.discoPage`, default 100; without `<set/>` the first page, with a `<set/>` saying how
 * many there are). Views of remote rooms are not listed.
 */
export function serviceItems(ctx: Context, query: Element): Element {
  const node = query.attrs.node as string | undefined
  const q = xml('query', node === undefined ? { xmlns: NS_DISCO_ITEMS } : { xmlns: NS_DISCO_ITEMS, node })
  for (const it of ctx.xmpp.disco.items('', node) ?? []) {
    const attrs: Record<string, string> = { jid: it.jid }
    if (it.node !== undefined) attrs.node = it.node
    if (it.name !== undefined) attrs.name = it.name
    q.c('item', attrs)
  }
  if (node !== undefined) return q
  const rooms = new Map<string, string | undefined>()
  for (const [local, r] of ctx.listed) if (r.public) rooms.set(local, r.name)
  for (const r of ctx.rooms.values()) {
    if (r.user !== undefined) continue
    if (r.config.public) rooms.set(r.local, r.config.name)
    else rooms.delete(r.local)
  }
  const names = [...rooms.keys()].sort()
  const rsm = parseRsm(query)
  const max = Math.min(rsm.max ?? ctx.o.discoPage, ctx.o.discoPage)
  const jid = (local: string) => `${local}@${ctx.xmpp.domain}`
  let start = 0
  let end = names.length
  if (rsm.after !== undefined) {
    const after = rsm.after.split('@')[0] ?? ''
    start = names.findIndex((n) => n > after)
    if (start === -1) start = names.length
    end = Math.min(names.length, start + max)
  } else if (rsm.before !== undefined) {
    const before = rsm.before.split('@')[0] ?? ''
    end = rsm.before === '' ? names.length : names.findIndex((n) => n >= before)
    if (end === -1) end = names.length
    start = Math.max(0, end - max)
  } else {
    end = Math.min(names.length, max)
  }
  const page = names.slice(start, end)
  for (const name of page) q.c('item', { jid: jid(name), name: rooms.get(name) ?? name })
  if (query.getChild('set', NS_RSM) !== undefined || names.length > page.length) {
    const first = page[0]
    const last = page.at(-1)
    q.children.push(rsmSet(first && jid(first), last && jid(last), names.length))
  }
  return q
}

/** The occupant a full JID of the room names, if any. */
function occupantAt(room: Room, nick: string, maxLength: number): Occupant | undefined {
  const n = enforceNick(nick, maxLength)
  return n.ok ? room.occupants.get(nickKey(n.nick)) : undefined
}

/**
 * disco#info to a room (its info; `item-not-found` if it does not exist) or to an occupant JID
 * (`bad-request` from a non-occupant, §6.6; not forwarded yet: `feature-not-implemented`).
 */
export function discoInfo(ctx: Context, iq: Stanza, query: Element): Element {
  const room = findRoom(ctx, iq)
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  const nick = resourceOf(iq.attrs.to)
  if (nick === '') {
    if (query.attrs.node !== undefined) throw new StanzaError('item-not-found', 'no such node')
    return roomInfo(room, ctx.o.identityTypes)
  }
  if (!room.byJid.has(iq.attrs.from ?? ''))
    throw new StanzaError('bad-request', 'not an occupant of this room')
  throw new StanzaError('feature-not-implemented', 'queries to occupants are not forwarded')
}

/** disco#items to a room: none listed (occupants are not public). */
export function discoItems(ctx: Context, iq: Stanza): Element {
  const room = findRoom(ctx, iq)
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  if (resourceOf(iq.attrs.to) !== '' && !room.byJid.has(iq.attrs.from ?? '')) {
    throw new StanzaError('bad-request', 'not an occupant of this room')
  }
  return xml('query', { xmlns: NS_DISCO_ITEMS })
}

const notJoined = () =>
  new StanzaError('not-acceptable', { type: 'cancel', text: 'not an occupant of this room' })

/**
 * A ping to a room or an occupant JID (XEP-0410): the room answers for itself; to one's own
 * occupant JID, the room answers for the occupant (self-ping optimisation); a non-occupant gets
 * `not-acceptable`; a ping to another occupant is not forwarded yet (`feature-not-implemented`).
 */
export function ping(ctx: Context, iq: Stanza): undefined {
  const room = findRoom(ctx, iq)
  const nick = resourceOf(iq.attrs.to)
  if (room === undefined) {
    if (nick === '') throw new StanzaError('item-not-found', 'no such room')
    throw notJoined()
  }
  if (nick === '') return undefined
  const me = room.byJid.get(iq.attrs.from ?? '')
  if (me === undefined) throw notJoined()
  const target = occupantAt(room, nick, ctx.o.nickLength)
  if (target === me) return undefined
  if (target === undefined) throw new StanzaError('item-not-found', 'no occupant with that nick')
  throw new StanzaError('feature-not-implemented', 'pings to other occupants are not forwarded')
}
