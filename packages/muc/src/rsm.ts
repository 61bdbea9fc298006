// XEP-0059 result set management, as MAM queries use it: <max/>, <after/>, <before/> (empty: the
// last page) in, <first/>, <last/>, <count/> out.
import { type Element, StanzaError, xml } from '@satellite/core'

/** XEP-0059. */
export const NS_RSM = 'http://jabber.org/protocol/rsm'

/** A parsed `<set/>` request; `before: ''` asks for the last page. @internal */
export interface RsmRequest {
  max?: number
  after?: string
  before?: string
}

/**
 * Reads the `<set/>` child of `parent` (an empty request when there is none). `bad-request`
 * for a malformed `<max/>`, an empty `<after/>` or both `<after/>` and `<before/>`;
 * `feature-not-implemented` for `<index/>` (the archive pages by id only). @internal
 */
export function parseRsm(parent: Element): RsmRequest {
  const set = parent.getChild('set', NS_RSM)
  const out: RsmRequest = {}
  if (set === undefined) return out
  for (const c of set.getChildElements()) {
    if (c.name === 'max') {
      const text = c.getText().trim()
      if (!/^\d{1,9}$/.test(text))
        throw new StanzaError('bad-request', '<max/> must be a non-negative integer')
      out.max = Number(text)
    } else if (c.name === 'after') {
      out.after = c.getText()
      if (out.after === '') throw new StanzaError('bad-request', '<after/> needs an id')
    } else if (c.name === 'before') out.before = c.getText()
    else if (c.name === 'index') {
      throw new StanzaError(
        'feature-not-implemented',
        'paging by <index/> is not supported: use <after/> or <before/>',
      )
    }
  }
  if (out.after !== undefined && out.before !== undefined) {
    throw new StanzaError('bad-request', '<after/> and <before/> cannot be combined')
  }
  return out
}

/** The response `<set/>`: first and last ids of the page (none when empty) and the count. @internal */
export function rsmSet(first: string | undefined, last: string | undefined, count: number): Element {
  const set = xml('set', { xmlns: NS_RSM })
  if (first !== undefined) set.c('first').t(first)
  if (last !== undefined) set.c('last').t(last)
  set.c('count').t(String(count))
  return set
}
