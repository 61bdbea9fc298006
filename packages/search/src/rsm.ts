import { type Element, StanzaError, xml } from '@satellite/core'
import { excerpt } from '@satellite/forms'

/**
 * The XEP-0059 result set management namespace.
 *
 * @example
 * ```ts
 * const set = query.getChild('set', NS_RSM)
 * ```
 */
export const NS_RSM = 'http://jabber.org/protocol/rsm'

/**
 * A parsed XEP-0059 request. `before: ''` (an empty `<before/>`) asks for the last page.
 *
 * @example
 * ```ts
 * const page: RsmRequest = { max: 10, after: 'item-42' }
 * ```
 */
export interface RsmRequest {
  max?: number
  after?: string
  before?: string
  index?: number
}

/**
 * What goes into a response `<set/>`: the UIDs of the first and last items of the page, the
 * index of the first item in the whole result set, and the total count.
 *
 * @example
 * ```ts
 * const r: RsmResponse = { first: 'a', firstIndex: 0, last: 'j', count: 42 }
 * ```
 */
export interface RsmResponse {
  first?: string
  firstIndex?: number
  last?: string
  count?: number
}

function nonNegativeInt(el: Element, what: string): number {
  const text = el.getText().trim()
  if (!/^\d{1,15}$/.test(text)) {
    throw new StanzaError('bad-request', {
      text: `<${what}/> must be a non-negative integer, got '${excerpt(text)}'`,
    })
  }
  return Number(text)
}

/**
 * Reads the `<set xmlns='http://jabber.org/protocol/rsm'/>` child of `parent`; undefined
 * when there is none. Throws a `StanzaError('bad-request')` for a malformed set: `max` or
 * `index` not a non-negative integer, an element given twice, an empty `<after/>`, or
 * `after`, `before` and `index` combined (at most one of them may be given).
 *
 * @example
 * ```ts
 * xmpp.iqGet({ xmlns: 'urn:example:list' }, (iq, query) => {
 *   const rsm = parseRsm(query) ?? {}
 *   const page = items.slice(0, rsm.max ?? 20)
 *   return xml('query', { xmlns: 'urn:example:list' }, ...page.map(toElement), rsmElement({ count: items.length }))
 * })
 * ```
 */
export function parseRsm(parent: Element): RsmRequest | undefined {
  const sets = parent
    .getChildElements()
    .filter((c) => c.name === 'set' && (c.attrs.xmlns ?? c.getNS()) === NS_RSM)
  if (sets.length === 0) return undefined
  if (sets.length > 1) throw new StanzaError('bad-request', { text: 'several RSM <set/> elements' })
  const set = sets[0] as Element
  const seen = new Set<string>()
  const out: RsmRequest = {}
  for (const c of set.getChildElements()) {
    if (seen.has(c.name)) {
      throw new StanzaError('bad-request', { text: `RSM <${excerpt(c.name)}/> given twice` })
    }
    seen.add(c.name)
    switch (c.name) {
      case 'max':
        out.max = nonNegativeInt(c, 'max')
        break
      case 'index':
        out.index = nonNegativeInt(c, 'index')
        break
      case 'after': {
        const v = c.getText()
        if (v === '') throw new StanzaError('bad-request', { text: 'RSM <after/> is empty' })
        out.after = v
        break
      }
      case 'before':
        out.before = c.getText()
        break
      default:
        // count, first, last belong to responses; other elements are ignored as XEP-0059 allows.
        break
    }
  }
  const anchors = [out.after, out.before, out.index].filter((v) => v !== undefined).length
  if (anchors > 1) {
    throw new StanzaError('bad-request', { text: 'RSM <after/>, <before/> and <index/> cannot be combined' })
  }
  return out
}

/**
 * Builds a response `<set xmlns='http://jabber.org/protocol/rsm'/>` (`<first index=''/>`,
 * `<last/>`, `<count/>`; an empty page carries only the count).
 *
 * @example
 * ```ts
 * rsmElement({ first: 'a', firstIndex: 0, last: 'c', count: 10 }).toString()
 * // <set xmlns="http://jabber.org/protocol/rsm"><first index="0">a</first><last>c</last><count>10</count></set>
 * ```
 */
export function rsmElement(response: RsmResponse): Element {
  const set = xml('set', { xmlns: NS_RSM })
  if (response.first !== undefined) {
    set
      .c('first', response.firstIndex === undefined ? {} : { index: String(response.firstIndex) })
      .t(response.first)
  }
  if (response.last !== undefined) set.c('last').t(response.last)
  if (response.count !== undefined) set.c('count').t(String(response.count))
  return set
}

/**
 * A page cut from an in-memory, ordered result set.
 *
 * @example
 * ```ts
 * const p: Page<string> = { items: ['a'], count: 1, first: 'a', last: 'a', firstIndex: 0 }
 * ```
 */
export interface Page<T> extends RsmResponse {
  items: T[]
}

/**
 * Cuts the page an RSM request asks for out of the whole ordered result set `all` (`id`
 * gives each item's UID): `after` the next `max` items, `before` the previous ones (`''`:
 * the last page), `index` from that position, else from the start. `max` defaults to
 * `defaultMax` and is capped by it. Throws `StanzaError('item-not-found')` when the
 * `after`/`before` UID is not in the set (XEP-0059 section 2.6).
 *
 * @example
 * ```ts
 * const page = paginate(users, rsm, (u) => u.jid, 20)
 * // { items, count, first, last, firstIndex }
 * ```
 */
export function paginate<T>(
  all: readonly T[],
  rsm: RsmRequest | undefined,
  id: (item: T) => string,
  defaultMax = 50,
): Page<T> {
  const max = Math.min(rsm?.max ?? defaultMax, defaultMax)
  const find = (uid: string): number => {
    const i = all.findIndex((item) => id(item) === uid)
    if (i < 0)
      throw new StanzaError('item-not-found', { text: `no item '${excerpt(uid)}' in the result set` })
    return i
  }
  let start: number
  if (rsm?.after !== undefined) start = find(rsm.after) + 1
  else if (rsm?.before !== undefined) {
    const end = rsm.before === '' ? all.length : find(rsm.before)
    start = Math.max(0, end - max)
    const items = all.slice(start, end)
    return page(items, start, all.length, id)
  } else start = rsm?.index ?? 0
  return page(all.slice(start, start + max), start, all.length, id)
}

function page<T>(items: T[], start: number, count: number, id: (item: T) => string): Page<T> {
  const p: Page<T> = { items, count }
  const first = items[0]
  const last = items[items.length - 1]
  if (first !== undefined && last !== undefined) {
    p.first = id(first)
    p.last = id(last)
    p.firstIndex = start
  }
  return p
}
