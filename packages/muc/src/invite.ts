// Mediated invitations (XEP-0045 §7.8.2): an occupant asks the room to invite someone; the room
// sends the invitee a message from the room with the inviter and the reason (and the password
// of a password-protected room). In a members-only room the invitee becomes a member.
import { bareOf, type Element, type Stanza, StanzaError, xml } from '@satellite/core'
import { isValidJid } from '@satellite/forms'
import { rank } from './affiliations.js'
import { type Context, log } from './context.js'
import { admit } from './messages.js'
import { NS_MUC_USER } from './ns.js'
import type { Room } from './room.js'

/** Most invitations in one message. */
const MAX_INVITES = 10

/** Invitations a room remembers so that their declines can be relayed (the newest ones). */
const MAX_PENDING = 100
/** How long a decline is relayed after its invitation (ms). */
const PENDING_MS = 24 * 3600_000

/** Per room: invitee bare JID → the inviter's full JID and when it invited. */
const pending = new WeakMap<Room, Map<string, { inviter: string; at: number }>>()

/**
 * Whether a message to the room is a mediated invitation or a decline of one
 * (`<x xmlns=muc#user><invite/>` or `<decline/>`).
 */
export function isInvitation(m: Element): boolean {
  const x = m.getChild('x', NS_MUC_USER)
  return x !== undefined && (x.getChild('invite') !== undefined || x.getChild('decline') !== undefined)
}

/**
 * Relays a decline (§7.8.2) to the inviter, from the room, with the decliner's JID: only for an
 * invitation this room sent the decliner (in the last day, among the room's newest 100), so the
 * room relays nothing else; otherwise `not-acceptable`.
 */
function decline(ctx: Context, room: Room, m: Stanza, from: string): void {
  const invited = pending.get(room)
  const bare = bareOf(from).toLowerCase()
  const p = invited?.get(bare)
  if (p === undefined || ctx.o.now() - p.at > PENDING_MS) {
    throw new StanzaError('not-acceptable', 'no invitation of yours to decline')
  }
  invited?.delete(bare)
  const reason = (m.getChild('x', NS_MUC_USER) as Element).getChild('decline')?.getChildText('reason')
  const d = xml('decline', { from })
  if (reason !== null && reason !== undefined) d.children.push(xml('reason', {}, reason))
  void ctx.xmpp
    .send(xml('message', { from: room.jid, to: p.inviter }, xml('x', { xmlns: NS_MUC_USER }, d)))
    .catch(() => {})
}

function remember(ctx: Context, room: Room, invitee: string, inviter: string): void {
  let invited = pending.get(room)
  if (invited === undefined) {
    invited = new Map()
    pending.set(room, invited)
  }
  invited.delete(invitee)
  invited.set(invitee, { inviter, at: ctx.o.now() })
  if (invited.size > MAX_PENDING) invited.delete(invited.keys().next().value as string)
}

/**
 * Sends the invitations of `m`. Refused: from a non-occupant (`not-acceptable`); in a
 * members-only room, from someone below admin unless the room allows invites (`forbidden`); an
 * invitee that is not a JID (`jid-malformed`); more than 10 at once (`policy-violation`).
 */
export function invite(ctx: Context, room: Room | undefined, m: Stanza, from: string): void {
  if (room === undefined) throw new StanzaError('item-not-found', 'no such room')
  const invites = (m.getChild('x', NS_MUC_USER) as Element).getChildren('invite')
  if (invites.length === 0) {
    decline(ctx, room, m, from)
    return
  }
  const occ = room.byJid.get(from)
  if (occ === undefined) throw new StanzaError('not-acceptable', 'join the room before inviting')
  if (invites.length > MAX_INVITES) {
    throw new StanzaError('policy-violation', {
      type: 'modify',
      text: `at most ${MAX_INVITES} invitations at once`,
    })
  }
  const privileged = rank(occ.affiliation) >= rank('admin')
  if (room.config.membersOnly && !privileged && !room.config.allowInvites) {
    throw new StanzaError('forbidden', 'only admins and owners may invite to this room')
  }
  admit(ctx, occ, m)
  if (room.config.membersOnly && room.affiliations.size + invites.length > ctx.o.affiliations) {
    throw new StanzaError('resource-constraint', {
      type: 'wait',
      text: 'this room has no room for more members',
    })
  }
  const targets: string[] = []
  for (const inv of invites) {
    const to = inv.attrs.to
    if (to === undefined || !isValidJid(to)) {
      throw new StanzaError('jid-malformed', 'invite someone by JID')
    }
    targets.push(to)
  }
  for (let i = 0; i < invites.length; i++) {
    const to = targets[i] as string
    const reason = (invites[i] as Element).getChildText('reason')
    const inv = xml('invite', { from })
    if (reason !== null && reason !== undefined) inv.children.push(xml('reason', {}, reason))
    const x = xml('x', { xmlns: NS_MUC_USER }, inv)
    if (room.config.password !== undefined) x.children.push(xml('password', {}, room.config.password))
    void ctx.xmpp.send(xml('message', { from: room.jid, to }, x)).catch(() => {})
    if (room.config.membersOnly) {
      const bare = bareOf(to).toLowerCase()
      if (room.affiliations.get(bare) === 'none') room.affiliations.set(bare, 'member')
    }
    remember(ctx, room, bareOf(to).toLowerCase(), from)
    log('%s invites %s to %s', occ.bare, to, room.jid)
  }
}
