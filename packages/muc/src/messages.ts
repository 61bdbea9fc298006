// Messages to a room (XEP-0045 §7.4, §7.5, §8.1): groupchat reflected to every occupant with the
// room's stanza-id and the sender's occupant-id, private messages between occupants, the
// subject, and the per-occupant size and rate limits.

import { randomUUID } from 'node:crypto'
import { type Element, resourceOf, type Stanza, StanzaError, xml } from '@satellite/core'
import { persistRoom } from './archive.js'
import { type Context, deliver, deliverAll, findRoom } from './context.js'
import { MucError, MucErrorCodes } from './errors.js'
import type { HistoryEntry } from './history.js'
import { messageHook } from './hooks.js'
import { invite, isInvitation } from './invite.js'
import { enforceNick, nickKey } from './nick.js'
import { NS_MUC_USER, NS_OCCUPANT_ID, NS_SID } from './ns.js'
import { ghost, refuse } from './occupancy.js'
import type { Occupant, Room, Session } from './room.js'
import { viewGroupchat, viewPrivate } from './view.js'

/** Handles a message addressed to a room or an occupant JID. */
export function onMessage(ctx: Context, m: Stanza): void {
  const from = m.attrs.from
  const to = m.attrs.to
  if (!from || !to) return
  const type = m.attrs.type ?? 'normal'
  if (type === 'error') {
    ghost(ctx, m)
    return
  }
  try {
    const room = findRoom(ctx, m)
    const nick = resourceOf(to)
    if (nick === '' && type !== 'groupchat' && isInvitation(m)) {
      if (room?.user !== undefined)
        throw new StanzaError('feature-not-implemented', 'invitations are not relayed here')
      invite(ctx, room, m, from)
    } else if (nick === '') groupchat(ctx, room, m, from, type)
    else privateMessage(ctx, room, m, from, type, nick)
  } catch (err) {
    if (err instanceof StanzaError) refuse(ctx, m, err)
    else {
      ctx.report(new MucError(MucErrorCodes.INTERNAL, `message to ${to} failed`, { cause: err }))
      refuse(ctx, m, new StanzaError('internal-server-error'))
    }
  }
}

function groupchat(ctx: Context, room: Room | undefined, m: Stanza, from: string, type: string): void {
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  if (type !== 'groupchat') {
    throw new StanzaError('bad-request', 'send messages to the room with type groupchat')
  }
  const occ = room.byJid.get(from)
  if (occ === undefined) throw new StanzaError('not-acceptable', 'join the room before sending to it')
  if (occ.role === 'visitor') throw new StanzaError('forbidden', 'you have no voice in this room')
  admit(ctx, occ, m)
  const passed = messageHook(ctx, room, occ, m, from)
  if (passed === undefined) return
  m = passed as Stanza
  if (room.user !== undefined) {
    viewGroupchat(ctx, room, occ, m)
    return
  }
  const subject = m.getChild('subject')
  const body = m.getChild('body')
  if (subject !== undefined && body === undefined) {
    if (occ.role !== 'moderator' && !room.config.changeSubject) {
      throw new StanzaError('forbidden', 'only moderators may change the subject of this room')
    }
    room.subject = { text: subject.getText(), nick: occ.nick }
    persistRoom(ctx, room)
  }
  const id = randomUUID()
  const out = reflected(room, occ, m, 'groupchat', id)
  deliverAll(ctx, sessionsOf(room), out)
  if (body === undefined) return
  delete out.attrs.to
  keep(ctx, room, { id, at: ctx.o.now(), jid: from, message: out })
}

/** Every session of every occupant of `room`. */
function* sessionsOf(room: Room): Generator<Session> {
  for (const occ of room.occupants.values()) yield* occ.sessions.values()
}

/** Keeps a message in the room's history (its length 0: nothing kept). */
export function keep(ctx: Context, room: Room, entry: HistoryEntry): void {
  if (room.config.historyLength === 0) return
  const failed = (err: unknown) =>
    ctx.report(new MucError(MucErrorCodes.STORE, `a message of ${room.jid} was not kept`, { cause: err }))
  try {
    const r = ctx.store.append(room.archive, entry, room.config.historyLength)
    if (r instanceof Promise) r.catch(failed)
  } catch (err) {
    failed(err)
  }
}

function privateMessage(
  ctx: Context,
  room: Room | undefined,
  m: Stanza,
  from: string,
  type: string,
  nick: string,
): void {
  if (type === 'groupchat')
    throw new StanzaError('bad-request', 'a private message cannot be of type groupchat')
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  const occ = room.byJid.get(from)
  if (occ === undefined) throw new StanzaError('not-acceptable', 'join the room to send private messages')
  if (!room.config.privateMessages) {
    throw new StanzaError('forbidden', 'private messages are not allowed in this room')
  }
  const enforced = enforceNick(nick, ctx.o.nickLength)
  const target = enforced.ok ? room.occupants.get(nickKey(enforced.nick)) : undefined
  if (target === undefined) throw new StanzaError('item-not-found', 'no occupant with that nick')
  admit(ctx, occ, m)
  if (target.remote) {
    viewPrivate(ctx, room, target, m)
    return
  }
  const out = reflected(room, occ, m, type, undefined)
  // Marks it as a private message of a room (XEP-0045 §7.5).
  out.children.push(xml('x', { xmlns: NS_MUC_USER }))
  for (const s of target.sessions.values()) deliver(ctx, s, out)
}

/** Refuses a message over the size limit or the sender's rate. */
export function admit(ctx: Context, occ: Occupant, m: Element): void {
  const max = ctx.o.messageChars
  if (charsOver(m, max)) {
    throw new StanzaError('policy-violation', {
      type: 'modify',
      text: `a message is at most ${max} characters`,
    })
  }
  const now = ctx.o.now()
  const o = ctx.o
  occ.tokens = Math.min(o.burst, occ.tokens + ((now - occ.counted) / 1000) * o.perSecond)
  occ.counted = now
  if (occ.tokens < 1) {
    throw new StanzaError('resource-constraint', {
      type: 'wait',
      text: `too many messages: at most ${o.burst} at once, then ${o.perSecond} per second`,
    })
  }
  occ.tokens -= 1
}

/** True when the text and attribute values of `el` add up to more than `max` characters. */
export function charsOver(el: Element, max: number): boolean {
  let left = max
  const walk = (e: Element): boolean => {
    for (const k in e.attrs) {
      const v = e.attrs[k]
      if (typeof v === 'string') left -= v.length
    }
    for (const c of e.children) {
      if (typeof c === 'string') left -= c.length
      else if (walk(c as Element)) return true
      if (left < 0) return true
    }
    return left < 0
  }
  return walk(el)
}

/**
 * The message as the room sends it: from the sender's occupant JID, its `id` kept (XEP-0045
 * stable ids), its children minus any occupant-id and any stanza-id claiming to be the room's,
 * then the sender's occupant-id and (groupchat) the room's stanza-id.
 */
function reflected(room: Room, occ: Occupant, m: Element, type: string, id: string | undefined): Element {
  const attrs: Record<string, string> = { from: `${room.jid}/${occ.nick}`, type }
  if (m.attrs.id !== undefined) attrs.id = m.attrs.id
  if (m.attrs['xml:lang'] !== undefined) attrs['xml:lang'] = m.attrs['xml:lang']
  const out = xml('message', attrs)
  for (const c of m.children) {
    if (typeof c === 'string') continue
    const el = c as Element
    const ns = el.attrs.xmlns
    if (ns === NS_OCCUPANT_ID) continue
    if (ns === NS_SID && el.name === 'stanza-id' && el.attrs.by?.toLowerCase() === room.jid) continue
    if (ns === NS_MUC_USER) continue
    out.children.push(el)
  }
  out.children.push(xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: occ.occupantId }))
  if (id !== undefined) out.children.push(xml('stanza-id', { xmlns: NS_SID, id, by: room.jid }))
  return out
}
