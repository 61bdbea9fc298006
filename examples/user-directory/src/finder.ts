// XEP-0055 search with XEP-0059 paging: words are prefixes, all must match, only published
// fields are searched and shown; each search takes a token of the searcher's bucket.
import { type Component, StanzaError } from '@satellite/core'
import type { Field } from '@satellite/forms'
import { paginate, type SearchHandle, type SearchItem, search } from '@satellite/search'
import type { DirectoryContext } from './context.js'
import { takeOrRefuse } from './limits.js'
import { type DirectoryQuery, FIELDS, LABELS, type PublicEntry, words } from './store.js'

/** A search result row: the public entry, plus the legacy columns `first`/`last`. */
function resultItem(e: PublicEntry): SearchItem & Record<string, string> {
  const item: SearchItem & Record<string, string> = { ...e } as SearchItem & Record<string, string>
  if (e.fullname !== undefined) {
    const [first = '', ...rest] = e.fullname.split(/\s+/)
    item.first = first
    if (rest.length > 0) item.last = rest.join(' ')
  }
  return item
}

const SEARCH_FIELDS: readonly { var: string; label: string }[] = [
  { var: 'text', label: 'Any field (words or beginnings of words)' },
  ...FIELDS.filter((f) => f !== 'about').map((f) => ({ var: f, label: LABELS[f] })),
]

/** Installs the directory's search service on `xmpp`. */
export function directorySearch(xmpp: Component, ctx: DirectoryContext): SearchHandle {
  const { store, settings } = ctx
  const { maxResults, maxWords } = settings
  return search(xmpp, {
    instructions:
      'Find people by the beginning of their words: "ali" finds Alice. All words must match. Only what people chose to publish is searched and shown.',
    fields: ['first', 'last', 'nick', 'email'],
    form: {
      fields: SEARCH_FIELDS.map((f) => ({ type: 'text-single', var: f.var, label: f.label, maxLength: 256 })),
    },
    reported: [
      { type: 'jid-single', var: 'jid', label: 'JID' },
      ...FIELDS.map((f): Field => ({ type: 'text-single', var: f, label: LABELS[f] })),
    ],
    maxItems: settings.pageSize,
    allow: ctx.access.allowed,
    query: async (criteria, paging) => {
      const q: DirectoryQuery = {}
      let total = 0
      for (const [key, value] of Object.entries(criteria)) {
        const v = typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : ''
        if (v.length > 256) {
          throw new StanzaError('not-acceptable', { text: `field '${key}' is longer than 256 characters` })
        }
        total += words(v).length
        if (total > maxWords) {
          throw new StanzaError('not-acceptable', {
            text: `field '${key}': too many words (at most ${maxWords} in a search)`,
          })
        }
        // legacy first/last both search the full name
        const field = key === 'first' || key === 'last' ? 'fullname' : (key as keyof DirectoryQuery)
        q[field] = q[field] === undefined ? v : `${q[field]} ${v}`
      }
      takeOrRefuse(settings.searches, paging.from, 'searches')
      const matches = await store.search(q, maxResults)
      const page = paginate(matches, paging, (m) => m.jid, paging.max)
      const items = (await store.publicEntries(page.items.map((m) => m.jid))).map(resultItem)
      return { ...page, items }
    },
  })
}
