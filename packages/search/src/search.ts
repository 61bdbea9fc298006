import {
  bareOf,
  type Component,
  type Element,
  numberOption,
  optionError,
  type PluginHandle,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'
import {
  type DataForm,
  excerpt,
  type Field,
  type FieldValue,
  FormError,
  formElement,
  NS_DATA,
  parseForm,
  validateSubmission,
} from '@satellite/forms'
import { NS_RSM, parseRsm, type RsmRequest, type RsmResponse, rsmElement } from './rsm.js'

/**
 * The `jabber:iq:search` namespace (XEP-0055), also the FORM_TYPE of its data forms.
 *
 * @example
 * ```ts
 * const q = xml('query', { xmlns: NS_SEARCH })
 * ```
 */
export const NS_SEARCH = 'jabber:iq:search'

/**
 * A legacy XEP-0055 search field.
 *
 * @example
 * ```ts
 * const fields: LegacySearchField[] = ['first', 'last', 'nick', 'email']
 * ```
 */
export type LegacySearchField = 'first' | 'last' | 'nick' | 'email'

const LEGACY: ReadonlySet<string> = new Set(['first', 'last', 'nick', 'email'])
// Labels of the jabber:iq:search FORM_TYPE registry (XEP-0055 section 7.2).
const LABELS: Record<LegacySearchField, string> = {
  first: 'First Name',
  last: 'Family Name',
  nick: 'Nickname',
  email: 'Email Address',
}

/**
 * One search result: its JID; its other properties named like the reported (or legacy)
 * fields are the values shown (strings, booleans, string arrays; numbers are written as
 * text; other properties are ignored). Any object with a `jid` fits, e.g. a database row.
 *
 * @example
 * ```ts
 * const item: SearchItem = { jid: 'juliet@capulet.com', first: 'Juliet', nick: 'JuliC' }
 * ```
 */
export interface SearchItem {
  readonly jid: string
}

/**
 * The paging part of a search request, passed to the `query` callback: `max` (always set,
 * capped by `maxItems`), and at most one of `after`, `before` (`''`: last page), `index`.
 * `from` is the bare JID of the searcher.
 *
 * @example
 * ```ts
 * const page: SearchPaging = { max: 10, after: 'romeo@montague.net', from: 'juliet@capulet.com' }
 * ```
 */
export interface SearchPaging extends RsmRequest {
  max: number
  from: string
}

/**
 * What the `query` callback returns: the page of items, and optionally the RSM data
 * (`count` of the whole result set, `first`/`last` UIDs, `firstIndex`). When `first`/`last`
 * are omitted the JIDs of the first and last items are used.
 *
 * @example
 * ```ts
 * const result: SearchResult = { items: [{ jid: 'a@example.org', nick: 'a' }], count: 1 }
 * ```
 */
export interface SearchResult extends RsmResponse {
  items: readonly SearchItem[]
}

/**
 * Criteria of a search: field name to typed value (only the fields the searcher filled in).
 *
 * @example
 * ```ts
 * const criteria: SearchCriteria = { nick: 'Juli' }
 * ```
 */
export type SearchCriteria = Record<string, FieldValue>

/**
 * Options of {@link search}. Give legacy `fields`, a data `form` (extended search), or both.
 *
 * @example
 * ```ts
 * const options: SearchOptions = {
 *   fields: ['nick', 'email'],
 *   query: (criteria, { max }) => ({ items: directory.find(criteria).slice(0, max) }),
 * }
 * ```
 */
export interface SearchOptions {
  instructions?: string
  /** Legacy search fields. */
  fields?: readonly LegacySearchField[]
  /** Extended search form; FORM_TYPE is set to `jabber:iq:search`. */
  form?: DataForm
  /** Columns of a form result; by default `jid` plus the (non-hidden) form fields. */
  reported?: readonly Field[]
  /** Local part the service answers on (`''` the component domain, the default). */
  to?: string
  /** Page size when the searcher gives no `max`, and cap of `max`: an integer from 1 (default 50). */
  maxItems?: number
  /** Who may search; `forbidden` for the others. Receives the bare JID. */
  allow?: (jid: string) => boolean | Promise<boolean>
  /** Runs the search. Throw `StanzaError('item-not-found')` for an unknown after/before UID. */
  query(criteria: SearchCriteria, paging: SearchPaging): SearchResult | Promise<SearchResult>
}

/**
 * Handle returned by {@link search}: `close()` removes both routes, and with them the
 * `jabber:iq:search` feature from disco; a request after it is answered as if the service had
 * never been installed. Idempotent.
 *
 * @example
 * ```ts
 * const s = search(xmpp, options)
 * s.close()
 * ```
 */
export interface SearchHandle extends PluginHandle {
  /** Removes the routes, and with them the disco feature. Idempotent. */
  close(): void
}

/** The value of column `name` of an item, as a field value (undefined when absent or unusable). */
function cell(item: SearchItem, name: string): FieldValue | undefined {
  const v = (item as unknown as Record<string, unknown>)[name]
  if (typeof v === 'string' || typeof v === 'boolean') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (Array.isArray(v)) return v.map(String)
  return undefined
}

function textOf(v: FieldValue): string {
  if (typeof v === 'boolean') return v ? 'true' : 'false'
  return Array.isArray(v) ? v.join('\n') : v
}

/**
 * Makes the component a XEP-0055 search service: answers `jabber:iq:search` get with the
 * instructions, the legacy fields and/or the search form, and set with the results, as
 * legacy `<item jid=''/>` elements or as a data form result (`<reported/>` + `<item/>`)
 * when the searcher used the form. XEP-0059 result set management is supported on request
 * (`max`, `after`, `before`, `index`) and response (`first` with `index`, `last`, `count`).
 * The feature is advertised in disco. Errors: `bad-request` (no criteria, unknown field,
 * malformed form or RSM set such as a negative max or after+before together),
 * `not-acceptable` (a form value breaking the form rules), `forbidden` (`allow` refused),
 * plus what `query` throws as a `StanzaError`. A bad option is a fatal `SAT_ERR_CONFIG`
 * `SatelliteError` named `search.<option>`, thrown before anything is installed.
 *
 * @example
 * ```ts
 * search(xmpp, {
 *   instructions: 'Find users by nickname',
 *   fields: ['nick'],
 *   query: (criteria, paging) => paginate(directory.filter((u) => u.nick.includes(String(criteria.nick))), paging, (u) => u.jid),
 * })
 * ```
 */
export function search(xmpp: Component, options: SearchOptions): SearchHandle {
  const legacy = options.fields === undefined ? undefined : [...new Set(options.fields)]
  if (legacy === undefined && options.form === undefined) {
    throw optionError('search', 'fields', 'is required when there is no `form` (give either or both)')
  }
  for (const name of legacy ?? []) {
    if (!LEGACY.has(name)) {
      throw optionError(
        'search',
        'fields',
        `'${String(name).slice(0, 32)}' is not a legacy search field of XEP-0055`,
      )
    }
  }
  if (typeof options.query !== 'function') {
    throw optionError('search', 'query', `must be a function, got ${typeof options.query}`)
  }
  if (options.allow !== undefined && typeof options.allow !== 'function') {
    throw optionError('search', 'allow', `must be a function, got ${typeof options.allow}`)
  }
  const maxItems = numberOption('search', 'maxItems', options.maxItems, 50, { min: 1 })
  const form: DataForm | undefined =
    options.form === undefined
      ? undefined
      : {
          ...options.form,
          type: 'form',
          formType: NS_SEARCH,
          ...(options.form.instructions === undefined && options.instructions !== undefined
            ? { instructions: options.instructions }
            : {}),
        }
  const submitDef: DataForm =
    form ??
    ({
      formType: NS_SEARCH,
      fields: (legacy ?? []).map((name) => ({
        type: 'text-single' as const,
        var: name,
        label: LABELS[name],
      })),
    } satisfies DataForm)
  const reported: readonly Field[] = options.reported ?? [
    { type: 'jid-single', var: 'jid', label: 'JID' },
    ...(submitDef.fields ?? [])
      .filter(
        (f): f is Exclude<Field, { type: 'fixed' | 'hidden' }> => f.type !== 'fixed' && f.type !== 'hidden',
      )
      .map(({ value: _value, required: _required, ...column }) => column as Field),
  ]

  async function from(iq: Stanza): Promise<string> {
    if (iq.fromJid === null) throw new StanzaError('bad-request', { text: 'the request has no valid from' })
    const bare = bareOf(iq.from).toLowerCase() // as a parsed JID's bare()
    if (options.allow !== undefined && !(await options.allow(bare))) {
      throw new StanzaError('forbidden', { text: 'search is not allowed for this address' })
    }
    return bare
  }

  async function onGet(iq: Stanza): Promise<Element> {
    await from(iq)
    const q = xml('query', { xmlns: NS_SEARCH })
    if (options.instructions !== undefined) q.c('instructions').t(options.instructions)
    for (const name of legacy ?? []) q.c(name)
    if (form !== undefined) q.cnode(formElement(form))
    return q
  }

  async function onSet(iq: Stanza, query: Element): Promise<Element> {
    const rsm = parseRsm(query) // bad-request when malformed
    const children = query.getChildElements().filter((c) => !(c.name === 'set' && c.attrs.xmlns === NS_RSM))
    const x = children.find((c) => c.name === 'x' && c.attrs.xmlns === NS_DATA)
    let criteria: SearchCriteria
    if (x !== undefined) {
      const parsed = parseForm(x)
      const r = validateSubmission(submitDef, parsed)
      if (!r.ok) throw new FormError(r.errors)
      criteria = r.values as SearchCriteria
    } else {
      criteria = legacyCriteria(children)
    }
    if (Object.keys(criteria).length === 0) {
      throw new StanzaError('bad-request', { text: 'no search criteria were given' })
    }
    const searcher = await from(iq)
    const paging: SearchPaging = { ...rsm, max: Math.min(rsm?.max ?? maxItems, maxItems), from: searcher }
    const result = await options.query(criteria, paging)
    const items = result.items.slice(0, paging.max)
    const q = xml('query', { xmlns: NS_SEARCH })
    if (x !== undefined) {
      const rows = items.map((item) => {
        const row: Record<string, FieldValue | undefined> = {}
        for (const f of reported)
          if (f.var !== undefined) row[f.var] = f.var === 'jid' ? item.jid : cell(item, f.var)
        return row
      })
      q.cnode(formElement({ type: 'result', formType: NS_SEARCH, reported, items: rows }))
    } else {
      for (const item of items) {
        const el = q.c('item', { jid: item.jid })
        for (const name of legacy ?? []) {
          const v = cell(item, name)
          if (v !== undefined) el.c(name).t(textOf(v))
        }
      }
    }
    const firstItem = items[0]
    const lastItem = items[items.length - 1]
    const hasMore = result.count !== undefined && result.count > items.length
    if (rsm !== undefined || hasMore) {
      const response: RsmResponse = {}
      const first = result.first ?? firstItem?.jid
      const last = result.last ?? lastItem?.jid
      if (items.length > 0 && first !== undefined && last !== undefined) {
        response.first = first
        response.last = last
        const index =
          result.firstIndex ??
          (rsm?.index !== undefined
            ? rsm.index
            : rsm?.after === undefined && rsm?.before === undefined
              ? 0
              : undefined)
        if (index !== undefined) response.firstIndex = index
      }
      if (result.count !== undefined) response.count = result.count
      q.cnode(rsmElement(response))
    }
    return q
  }

  function legacyCriteria(children: Element[]): SearchCriteria {
    if (legacy === undefined) {
      throw new StanzaError('bad-request', { text: `this service needs the data form (${NS_DATA})` })
    }
    const allowed = new Set<string>(legacy)
    const criteria: SearchCriteria = {}
    const seen = new Set<string>()
    for (const c of children) {
      if (c.name === 'instructions') continue
      if (!LEGACY.has(c.name) || !allowed.has(c.name)) {
        throw new StanzaError('bad-request', { text: `unknown search field '${excerpt(c.name)}'` })
      }
      if (seen.has(c.name)) {
        throw new StanzaError('bad-request', { text: `field '${excerpt(c.name)}' given twice` })
      }
      seen.add(c.name)
      const v = c.getText()
      if (v !== '') criteria[c.name] = v
    }
    return criteria
  }

  const match = { xmlns: NS_SEARCH, name: 'query', to: options.to ?? '' }
  const offGet = xmpp.iqGet(match, (iq) => onGet(iq))
  const offSet = xmpp.iqSet(match, (iq, query) => onSet(iq, query))
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    offGet()
    offSet()
  }
  return { close }
}
