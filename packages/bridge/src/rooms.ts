// What a legacy group looks like as a XEP-0045 room to its user: the room's state, the members'
// nicks as occupant resources (valid, unique, never the user's own), and occupant presences.
import { type Element, xml } from '@satellite/core'
import type { LegacyMember } from './adapter.js'
import { toResource } from './validate.js'

export const NS_MUC = 'http://jabber.org/protocol/muc'
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'

/** One user's view of one legacy group. */
export interface Room {
  group: string
  /** The user's own nick. */
  nick: string
  /** Full JIDs of the user's resources in the room. */
  resources: Set<string>
  /** Legacy id → nick of the other members. */
  members: Map<string, string>
  subject: string
}

/** A sender's nick as an occupant resource when it is not a member (a nick nothing else has). */
export const strangerNick = (id: string) => toResource(id) ?? 'unknown member'

/**
 * Nicks of the members as JID resources (see {@link toResource}: what cannot be one is
 * dropped or replaced by the member id), unique and distinct from the user's own nick.
 */
export function nicksOf(members: LegacyMember[], own: string): Map<string, string> {
  const taken = new Set<string>([own])
  const out = new Map<string, string>()
  for (const m of members) {
    const base = toResource(m.nick) ?? toResource(m.id) ?? 'member'
    let nick = base
    if (taken.has(nick)) nick = toResource(`${base} (${m.id})`) ?? `${base} (member)`
    for (let i = 2; taken.has(nick); i++) nick = `${base} ${i}`
    taken.add(nick)
    out.set(m.id, nick)
  }
  return out
}

/** What {@link occupantStanza} takes after the occupant's address. */
export type OccupantPresenceArgs = [
  to: string,
  available: boolean,
  codes?: number[],
  newNick?: string,
  pres?: { online: boolean; status?: string },
]

/**
 * The presence of the occupant `from` (room@gateway/nick) to `to`: a member (XEP-0045 7.14),
 * participant while available; with status `codes`, a new nick (303), and the legacy presence
 * of a member who is also a contact.
 */
export function occupantStanza(
  from: string,
  ...[to, available, codes = [], newNick, pres]: OccupantPresenceArgs
): Element {
  // Members stay members when they leave (a members-only room); only the role goes (XEP-0045 7.14).
  const item = { affiliation: 'member', role: available ? 'participant' : 'none' }
  const x = xml(
    'x',
    { xmlns: NS_MUC_USER },
    xml('item', newNick === undefined ? item : { ...item, nick: newNick }),
  )
  for (const code of codes) x.c('status', { code: String(code) })
  // A member offline on the legacy network stays in the room, shown away (with its status text, if any).
  const extra: Element[] = []
  if (available && pres !== undefined) {
    if (!pres.online) extra.push(xml('show', {}, 'away'))
    if (pres.status !== undefined && pres.status !== '') extra.push(xml('status', {}, pres.status))
  }
  return xml('presence', available ? { from, to } : { from, to, type: 'unavailable' }, ...extra, x)
}
