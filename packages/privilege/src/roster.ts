import { type Element, xml } from '@satellite/core'
import { PrivilegeInputError } from './errors.js'
import { isBareJid } from './jid.js'

/**
 * A roster item (RFC 6121). In a set, `subscription: 'remove'` deletes the item; Prosody's
 * mod_privilege also stores `none`/`to`/`from`/`both` as given, ejabberd keeps the
 * subscription it already had.
 *
 * @example
 * ```ts
 * const item: RosterItem = { jid: 'bob%irc@gw.example.org', name: 'Bob', groups: ['IRC'] }
 * ```
 */
export interface RosterItem {
  jid: string
  name?: string
  groups?: string[]
  subscription?: 'none' | 'to' | 'from' | 'both' | 'remove'
  /** Read only: a pending outgoing subscription request. */
  ask?: 'subscribe'
}

const SUBSCRIPTIONS: ReadonlySet<string> = new Set(['none', 'to', 'from', 'both', 'remove'])

/** The `<item/>` of a roster set; throws a {@link PrivilegeInputError} for a bad item. */
export function rosterItemElement(item: RosterItem): Element {
  if (typeof item !== 'object' || item === null)
    throw new PrivilegeInputError('a roster item must be an object')
  if (typeof item.jid !== 'string' || !isBareJid(item.jid)) {
    throw new PrivilegeInputError(`roster item jid must be a bare JID, got '${String(item.jid)}'`)
  }
  const attrs: Record<string, string> = { jid: item.jid }
  if (item.name !== undefined) {
    if (typeof item.name !== 'string') throw new PrivilegeInputError(`roster item name must be a string`)
    attrs.name = item.name
  }
  if (item.subscription !== undefined) {
    if (!SUBSCRIPTIONS.has(item.subscription)) {
      throw new PrivilegeInputError(`invalid roster subscription '${String(item.subscription)}'`)
    }
    attrs.subscription = item.subscription
  }
  const el = xml('item', attrs)
  for (const group of item.groups ?? []) {
    if (typeof group !== 'string' || group === '') {
      throw new PrivilegeInputError('roster groups must be non-empty strings')
    }
    el.c('group').t(group)
  }
  return el
}

/**
 * Reads the `<item/>`s of a `jabber:iq:roster` query.
 *
 * @example
 * ```ts
 * const items = parseRosterItems(result.getChild('query', NS_ROSTER)!)
 * ```
 */
export function parseRosterItems(query: Element): RosterItem[] {
  const items: RosterItem[] = []
  for (const el of query.getChildren('item')) {
    const jid = el.attrs.jid
    if (typeof jid !== 'string' || jid === '') continue
    const item: RosterItem = { jid }
    if (typeof el.attrs.name === 'string' && el.attrs.name !== '') item.name = el.attrs.name
    const sub = el.attrs.subscription
    if (typeof sub === 'string' && SUBSCRIPTIONS.has(sub))
      item.subscription = sub as RosterItem['subscription'] & string
    if (el.attrs.ask === 'subscribe') item.ask = 'subscribe'
    const groups = el.getChildren('group').map((g) => g.getText())
    if (groups.length > 0) item.groups = groups
    items.push(item)
  }
  return items
}
