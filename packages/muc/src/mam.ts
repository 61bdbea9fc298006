// XEP-0313 (MAM 2) queries to a room: the query form (start, end, with), XEP-0059 paging both
// ways, each result as a forwarded message, then <fin/> with the page's <set/>.
import { bareOf, type Element, resourceOf, type Stanza, StanzaError, xml } from '@satellite/core'
import { parseForm } from '@satellite/forms'
import { type Context, findRoom } from './context.js'
import { NS_DATA, NS_DELAY } from './ns.js'
import type { Room } from './room.js'
import { parseRsm, rsmSet } from './rsm.js'
import type { ArchivePage, ArchiveQuery } from './store.js'

/** XEP-0313 MAM 2. */
export const NS_MAM = 'urn:xmpp:mam:2'
/** XEP-0297 stanza forwarding. */
export const NS_FORWARD = 'urn:xmpp:forward:0'

/** The fields a query may have (answer to an iq get, XEP-0313 §5.1). */
export function mamFields(): Element {
  return xml(
    'query',
    { xmlns: NS_MAM },
    xml(
      'x',
      { xmlns: NS_DATA, type: 'form' },
      xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)),
      xml('field', { var: 'with', type: 'jid-single' }),
      xml('field', { var: 'start', type: 'text-single' }),
      xml('field', { var: 'end', type: 'text-single' }),
    ),
  )
}

function room(ctx: Context, iq: Stanza): Room {
  const to = iq.attrs.to ?? ''
  if (resourceOf(to) !== '')
    throw new StanzaError('feature-not-implemented', 'query the room, not an occupant')
  const r = findRoom(ctx, iq)
  if (r === undefined) throw new StanzaError('item-not-found', 'no such room')
  return r
}

/** Answers an iq get: the query form's fields. */
export function mamForm(ctx: Context, iq: Stanza): Element {
  room(ctx, iq)
  return mamFields()
}

function time(value: string | undefined, name: string): number | undefined {
  if (value === undefined || value === '') return undefined
  // XEP-0082 DateTime: a date, a time and a zone.
  const t = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value)
    ? Date.parse(value)
    : Number.NaN
  if (!Number.isFinite(t)) throw new StanzaError('bad-request', `${name} must be a XEP-0082 date and time`)
  return t
}

/** The archive query a MAM request asks for (without its paging). */
function filters(room: Room, q: Element): Omit<ArchiveQuery, 'max'> {
  const x = q.getChild('x', NS_DATA)
  const out: Omit<ArchiveQuery, 'max'> = {}
  if (x === undefined) return out
  const form = parseForm(x)
  if (form.type !== 'submit') throw new StanzaError('bad-request', 'the query form must be of type submit')
  if (form.formType !== undefined && form.formType !== NS_MAM) {
    throw new StanzaError('bad-request', `the query form's FORM_TYPE must be ${NS_MAM}`)
  }
  for (const f of form.fields) {
    const v = f.values[0]
    switch (f.var) {
      case 'FORM_TYPE':
        break
      case 'start': {
        const t = time(v, 'start')
        if (t !== undefined) out.start = t
        break
      }
      case 'end': {
        const t = time(v, 'end')
        if (t !== undefined) out.end = t
        break
      }
      case 'with': {
        if (v === undefined || v === '') break
        const nick = resourceOf(v)
        if (bareOf(v).toLowerCase() !== room.jid || nick === '') {
          throw new StanzaError(
            'bad-request',
            'with must be an occupant JID of this room (room@service/nick)',
          )
        }
        out.nick = nick
        break
      }
      default:
        throw new StanzaError('bad-request', `unknown field '${(f.var ?? '').slice(0, 64)}'`)
    }
  }
  return out
}

/** Who may read the archive: occupants, and members (owners, admins) of the room. */
function mayQuery(room: Room, from: string): boolean {
  const bare = bareOf(from)
  const affiliation = room.affiliations.get(bare)
  if (affiliation === 'outcast') return false
  return room.byBare.has(bare) || (room.config.membersOnly && affiliation !== 'none')
}

/**
 * Answers a MAM query (iq set): the page's messages, each as `<result/>` with the query's
 * `queryid`, then the `<fin/>` the handler returns.
 */
export function mamQuery(ctx: Context, iq: Stanza, q: Element): Element | Promise<Element> {
  const r = room(ctx, iq)
  const from = iq.attrs.from ?? ''
  if (!mayQuery(r, from))
    throw new StanzaError('forbidden', 'only occupants may read the archive of this room')
  const rsm = parseRsm(q)
  const a = ctx.archive
  const query: ArchiveQuery = { ...filters(r, q), max: Math.min(rsm.max ?? a.defaultPage, a.maxPage) }
  if (rsm.after !== undefined) query.after = rsm.after
  if (rsm.before !== undefined) query.before = rsm.before
  const queryId = q.attrs.queryid
  const page = a.store.query(r.archive, query)
  const answer = (p: ArchivePage | null) => {
    if (p === null) throw new StanzaError('item-not-found', 'no message with that id in the archive')
    for (const m of p.messages) {
      const result = xml(
        'result',
        queryId === undefined ? { xmlns: NS_MAM, id: m.id } : { xmlns: NS_MAM, queryid: queryId, id: m.id },
      )
      const forwarded = xml('forwarded', { xmlns: NS_FORWARD })
      // Pushed, not appended: the archived element is shared and keeps its parent.
      forwarded.children.push(
        xml('delay', { xmlns: NS_DELAY, stamp: new Date(m.at).toISOString() }),
        m.message,
      )
      result.children.push(forwarded)
      void ctx.xmpp.send(xml('message', { to: from, from: r.jid }, result)).catch(() => {})
    }
    const fin = xml('fin', p.complete ? { xmlns: NS_MAM, complete: 'true' } : { xmlns: NS_MAM })
    fin.children.push(rsmSet(p.messages[0]?.id, p.messages.at(-1)?.id, p.count))
    return fin
  }
  return page instanceof Promise ? page.then(answer) : answer(page)
}
