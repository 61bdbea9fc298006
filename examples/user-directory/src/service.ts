// The directory service: wires registration (XEP-0077), search (XEP-0055 + XEP-0059) and
// ad-hoc commands (XEP-0050) onto a Satellite component, over a DirectoryStore.
import { type CommandRegistry, commands, type Session, type Stage } from '@satellite/adhoc'
import { type Component, StanzaError } from '@satellite/core'
import { type DataForm, excerpt, type Field } from '@satellite/forms'
import { type Registration, registration } from '@satellite/register'
import { paginate, type SearchItem, search } from '@satellite/search'
import { type RateLimit, RateLimiter, takeOrRefuse } from './limits.js'
import {
  type DirectoryEntry,
  type DirectoryQuery,
  type DirectoryStore,
  type EntryField,
  FIELDS,
  LABELS,
  MAX_LENGTH,
  type PublicEntry,
  sqliteStore,
  words,
} from './store.js'

/** Options of {@link directory}. */
export interface DirectoryOptions {
  /** The storage; by default a SQLite store at `dbPath`. */
  store?: DirectoryStore
  /** SQLite file when no `store` is given (default ':memory:'). */
  dbPath?: string
  /** Name of the disco identity `directory/user` (default 'User directory'). */
  name?: string
  /** Bare JIDs allowed to run the admin commands (and always allowed to use the service). */
  admins?: readonly string[]
  /**
   * Domains whose users may register and search. Default: the parent domain of the
   * component (`localhost` for `directory.localhost`).
   */
  allowedDomains?: readonly string[]
  /** Let anybody (any domain, federated users included) use the service. Default false. */
  allowFederated?: boolean
  /** Search rate limit per requester (bare JID): a token bucket (default burst 10, 30 a minute). */
  rateLimit?: RateLimit
  /**
   * Rate limit of changes per requester (bare JID): registrations, updates, removals, entry
   * edits and deletions (default burst 5, 12 a minute). Admins are not limited.
   */
  writeLimit?: RateLimit
  /** Ad-hoc command sessions (XEP-0050). */
  sessions?: {
    /** Live sessions in all (default 10,000). */
    max?: number
    /** Live sessions per requester, bare JID (default 5). */
    perRequester?: number
    /** Sessions of `max` only admins may open (default 100, or half of `max` if smaller). */
    adminReserve?: number
    /** Idle time after which a session expires, in ms (default 600,000). */
    timeout?: number
  }
  /** Page size when the searcher gives no `<max/>`, and cap of `<max/>` (default 20). */
  pageSize?: number
  /** Most matches a search considers (the result set that is paged; default 500). */
  maxResults?: number
  /** Most words in one search (default 8). */
  maxQueryWords?: number
  /** Most entries the directory holds (default 1,000,000). */
  maxEntries?: number
  /** Clock (ms), for tests. */
  now?: () => number
}

/** What {@link directory} returns. */
export interface Directory {
  store: DirectoryStore
  commands: CommandRegistry
  /** The rate limiters (their `size` is the number of requesters tracked). */
  limiters: { searches: RateLimiter; writes: RateLimiter }
  /** Removes the routes, ends command sessions, closes the store if it opened it. */
  stop(): void
}

/** Fields published when the person does not choose (legacy clients, first registration). */
export const DEFAULT_PUBLISHED: readonly EntryField[] = ['nick', 'fullname', 'locality', 'country', 'about']
/** Most lines in the free-text field. */
export const MAX_ABOUT_LINES = 30
const EMAIL = /^[^\s@]+@[^\s@]+$/
// Control characters (anything but the newline allowed in `about`) are refused.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/

/** Registration form and ad-hoc entry form: the six fields, then one publish switch each. */
export function entryForm(current: DirectoryEntry | null, instructions?: string): DataForm {
  const fields: Field[] = FIELDS.map((f): Field => {
    const value = current?.[f]
    if (f === 'about') {
      return {
        type: 'text-multi',
        var: f,
        label: LABELS[f],
        maxItems: MAX_ABOUT_LINES,
        maxLength: MAX_LENGTH[f],
        ...(value !== undefined ? { value: value.split('\n') } : {}),
      }
    }
    return {
      type: 'text-single',
      var: f,
      label: LABELS[f],
      maxLength: MAX_LENGTH[f],
      ...(f === 'nick' ? { required: true } : {}),
      ...(value !== undefined ? { value } : {}),
    }
  })
  for (const f of FIELDS) {
    fields.push({
      type: 'boolean',
      var: `publish_${f}`,
      label: `Show my ${LABELS[f].toLowerCase()} in search results`,
      value: (current?.published ?? DEFAULT_PUBLISHED).includes(f),
    })
  }
  return { title: 'Your directory entry', ...(instructions ? { instructions } : {}), fields }
}

const text = (v: unknown): string | undefined => {
  if (v === undefined || v === null) return undefined
  const s = (Array.isArray(v) ? v.join('\n') : String(v)).trim()
  return s === '' ? undefined : s
}

/**
 * Checks an entry against the limits; throws `not-acceptable` naming the field.
 */
export function checkEntry(entry: Omit<DirectoryEntry, 'updated'>): void {
  const bad = (f: string, why: string) => new StanzaError('not-acceptable', { text: `field '${f}' ${why}` })
  if (entry.nick === '') throw bad('nick', 'is required')
  for (const f of FIELDS) {
    const v = entry[f]
    if (v === undefined) continue
    if ([...v].length > MAX_LENGTH[f]) throw bad(f, `is longer than ${MAX_LENGTH[f]} characters`)
    if (CONTROL.test(v) || (f !== 'about' && v.includes('\n'))) throw bad(f, 'contains control characters')
  }
  if (entry.about !== undefined && entry.about.split('\n').length > MAX_ABOUT_LINES) {
    throw bad('about', `has more than ${MAX_ABOUT_LINES} lines`)
  }
  if (entry.email !== undefined && !EMAIL.test(entry.email)) throw bad('email', 'is not an email address')
}

/** An entry from submitted form values (`publish_*` booleans); absent fields are cleared. */
export function entryFromForm(
  jid: string,
  values: Record<string, unknown>,
  current: DirectoryEntry | null,
): Omit<DirectoryEntry, 'updated'> {
  const entry: Omit<DirectoryEntry, 'updated'> = { jid, nick: text(values.nick) ?? '', published: [] }
  for (const f of FIELDS) {
    const v = text(values[f])
    if (f !== 'nick' && v !== undefined) entry[f] = v
    const choice = values[`publish_${f}`]
    const pub = typeof choice === 'boolean' ? choice : (current?.published ?? DEFAULT_PUBLISHED).includes(f)
    if (pub) entry.published.push(f)
  }
  return entry
}

/** The registration view of an entry: form vars, plus the legacy names `name` and `city`. */
function asRegistration(e: DirectoryEntry): Registration {
  const r: Registration = { nick: e.nick }
  for (const f of FIELDS) {
    const v = e[f]
    if (v !== undefined) r[f] = f === 'about' ? v.split('\n') : v
    r[`publish_${f}`] = e.published.includes(f)
  }
  if (e.fullname !== undefined) r.name = e.fullname
  if (e.locality !== undefined) r.city = e.locality
  return r
}

/** The parent domain of a component domain (`localhost` for `directory.localhost`). */
export function parentDomain(domain: string): string {
  const dot = domain.indexOf('.')
  return dot < 0 ? domain : domain.slice(dot + 1)
}

const bareOf = (address: string): string => {
  const slash = address.indexOf('/')
  return (slash < 0 ? address : address.slice(0, slash)).toLowerCase()
}
const domainOf = (bare: string): string => bare.slice(bare.indexOf('@') + 1)

export { type RateLimit, RateLimiter } from './limits.js'

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

/**
 * Makes `xmpp` a user directory. Returns the store and `stop()`.
 *
 * @example
 * ```ts
 * const xmpp = component(configFromEnv())
 * const { stop } = directory(xmpp, { dbPath: 'directory.db', admins: ['alice@localhost'] })
 * await xmpp.start()
 * ```
 */
export function directory(xmpp: Component, options: DirectoryOptions = {}): Directory {
  const ownStore = options.store === undefined
  const store = options.store ?? sqliteStore({ path: options.dbPath ?? ':memory:' })
  const admins = new Set((options.admins ?? []).map((a) => a.toLowerCase()))
  const domains = new Set((options.allowedDomains ?? [parentDomain(xmpp.domain)]).map((d) => d.toLowerCase()))
  const maxResults = options.maxResults ?? 500
  const maxWords = options.maxQueryWords ?? 8
  const maxEntries = options.maxEntries ?? 1_000_000
  const limiter = new RateLimiter(
    options.rateLimit?.burst ?? 10,
    options.rateLimit?.perMinute ?? 30,
    options.now,
    options.rateLimit?.maxRequesters,
  )
  const writes = new RateLimiter(
    options.writeLimit?.burst ?? 5,
    options.writeLimit?.perMinute ?? 12,
    options.now,
    options.writeLimit?.maxRequesters,
  )
  const isAdmin = (address: string) => admins.has(bareOf(address))
  /** A change by `requester` (a JID): one token of its write bucket, unless an admin. */
  const mayWrite = (requester: string) => {
    if (!isAdmin(requester)) takeOrRefuse(writes, bareOf(requester), 'changes')
  }
  const allowed = (address: string) => {
    const bare = bareOf(address)
    return admins.has(bare) || options.allowFederated === true || domains.has(domainOf(bare))
  }

  /** Checks and stores an entry on behalf of `requester` (a JID; rate-limited unless an admin). */
  function save(entry: Omit<DirectoryEntry, 'updated'>, requester: string): void {
    checkEntry(entry)
    if (store.get(entry.jid) === null && store.count() >= maxEntries) {
      throw new StanzaError('resource-constraint', { type: 'wait', text: 'the directory is full' })
    }
    mayWrite(requester)
    store.put(entry)
  }

  xmpp.disco.identity({ category: 'directory', type: 'user', name: options.name ?? 'User directory' })

  // XEP-0077: the data form, and legacy fields for old clients (nick, name, city, email:
  // @satellite/register makes every legacy field required). Legacy registrations keep the
  // publish choices already made, or DEFAULT_PUBLISHED.
  const reg = registration(xmpp, {
    instructions:
      'Create or update your entry in the user directory. Choose which fields others can see in search results.',
    form: entryForm(null),
    fields: ['nick', 'name', 'city', 'email'],
    // As in the form, only the nick is required: old clients are not asked for more than new ones.
    optional: ['name', 'city', 'email'],
    allow: allowed,
    hooks: {
      get: (jid) => {
        const e = store.get(jid)
        return e === null ? null : asRegistration(e)
      },
      register: (jid, values) => {
        const current = store.get(jid)
        if ('name' in values || 'city' in values) {
          // legacy: the four fields replace theirs; the others and the publish choices stay
          const entry: Omit<DirectoryEntry, 'updated'> = {
            ...(current ?? { published: [...DEFAULT_PUBLISHED] }),
            jid,
            nick: text(values.nick) ?? '',
          }
          const set = (f: EntryField, v: unknown) => {
            const t = text(v)
            if (t === undefined) delete entry[f as Exclude<EntryField, 'nick'>]
            else (entry as Record<string, unknown>)[f] = t
          }
          set('fullname', values.name)
          set('locality', values.city)
          set('email', values.email)
          delete (entry as Partial<DirectoryEntry>).updated
          save(entry, jid)
        } else {
          save(entryFromForm(jid, values, current), jid)
        }
      },
      remove: (jid) => {
        mayWrite(jid)
        store.remove(jid)
      },
    },
  })

  // XEP-0055 + XEP-0059
  const finder = search(xmpp, {
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
    maxItems: options.pageSize ?? 20,
    allow: allowed,
    query: (criteria, paging) => {
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
      takeOrRefuse(limiter, paging.from, 'searches')
      const matches = store.search(q, maxResults)
      const page = paginate(matches, paging, (m) => m.jid, paging.max)
      const items = store.publicEntries(page.items.map((m) => m.jid)).map(resultItem)
      return { ...page, items }
    },
  })

  // XEP-0050
  // Admins get sessions of their own: users of many accounts cannot lock them out.
  const registry = commands(xmpp, {
    sessionTimeout: options.sessions?.timeout ?? 10 * 60_000,
    maxSessionsPerRequester: options.sessions?.perRequester ?? 5,
    maxSessions: options.sessions?.max ?? 10_000,
    ...(admins.size > 0
      ? {
          privileged: isAdmin,
          ...(options.sessions?.adminReserve !== undefined
            ? { reservedSessions: options.sessions.adminReserve }
            : {}),
        }
      : {}),
  })
  type EditState = { jid?: string }
  const editStage = (who: (s: Session<EditState>) => string) => ({
    form: (s: Session<EditState>) => entryForm(store.get(who(s))),
    submit: (values: Record<string, unknown>, s: Session<EditState>) => {
      const jid = who(s)
      save(entryFromForm(jid, values, store.get(jid)), s.from)
    },
  })
  const self = (s: Session<unknown>) => bareOf(s.from)

  registry.register<EditState>({
    node: 'edit-entry',
    name: 'Create or edit my directory entry',
    allowed,
    stages: [editStage(self)],
    complete: () => ({ notes: ['Your entry is saved.'] }),
  })
  registry.register({
    node: 'show-entry',
    name: 'Show my directory entry',
    allowed,
    complete: (s) => {
      const e = store.get(self(s))
      if (e === null) return { notes: ['You have no entry in the directory.'] }
      return { form: entryResult(e) }
    },
  })
  registry.register<{ confirm?: boolean }>({
    node: 'delete-entry',
    name: 'Delete my directory entry',
    allowed,
    stages: [
      {
        form: {
          title: 'Delete my entry',
          fields: [{ type: 'boolean', var: 'confirm', label: 'Really delete?', required: true }],
        },
        submit: (values, s) => {
          s.state.confirm = values.confirm === true
        },
      },
    ],
    complete: (s) => {
      if (s.state.confirm !== true) return { notes: ['Nothing was deleted.'] }
      mayWrite(s.from)
      return { notes: [store.remove(self(s)) ? 'Your entry is deleted.' : 'You had no entry.'] }
    },
  })

  // Admin commands
  const adminOnly = isAdmin
  const pickJid = (title: string, extra: Field[] = []): Stage<EditState>[] => [
    {
      form: {
        title,
        fields: [{ type: 'jid-single', var: 'jid', label: 'Entry (JID)', required: true }, ...extra],
      },
      submit: (values, s) => {
        const jid = bareOf(String(values.jid))
        if (store.get(jid) === null) {
          throw new StanzaError('item-not-found', { text: `no entry for ${excerpt(jid)}` })
        }
        s.state.jid = jid
        if (values.confirm !== undefined) (s.state as Record<string, unknown>).confirm = values.confirm
      },
    },
  ]
  registry.register<{ filter?: string; after?: string }>({
    node: 'admin-list',
    name: 'List entries (admin)',
    allowed: adminOnly,
    stages: [
      {
        form: {
          title: 'List entries',
          fields: [
            { type: 'text-single', var: 'filter', label: 'JID contains' },
            { type: 'text-single', var: 'after', label: 'Start after JID' },
          ],
        },
        submit: (values, s) => {
          if (typeof values.filter === 'string') s.state.filter = values.filter.toLowerCase()
          if (typeof values.after === 'string') s.state.after = values.after
        },
      },
    ],
    complete: (s) => {
      const rows = store.list({ ...s.state, limit: 100 })
      return {
        notes: [`${store.count()} entries in the directory; ${rows.length} shown (at most 100 a page).`],
        form: {
          type: 'result',
          title: 'Entries',
          reported: [
            { type: 'jid-single', var: 'jid', label: 'JID' },
            ...FIELDS.map((f): Field => ({ type: 'text-single', var: f, label: LABELS[f] })),
            { type: 'text-single', var: 'published', label: 'Published' },
          ],
          items: rows.map((e) => {
            const row: Record<string, string> = { jid: e.jid, published: e.published.join(' ') }
            for (const f of FIELDS) {
              const v = e[f]
              if (v !== undefined) row[f] = v
            }
            return row
          }),
        },
      }
    },
  })
  registry.register<EditState>({
    node: 'admin-edit',
    name: 'Edit an entry (admin)',
    allowed: adminOnly,
    stages: [...pickJid('Edit an entry'), editStage((s) => s.state.jid as string)],
    complete: (s) => ({ notes: [`The entry of ${s.state.jid} is saved.`] }),
  })
  registry.register<EditState>({
    node: 'admin-remove',
    name: 'Remove an entry (admin)',
    allowed: adminOnly,
    stages: pickJid('Remove an entry', [
      { type: 'boolean', var: 'confirm', label: 'Really remove?', required: true },
    ]),
    complete: (s) => {
      const st = s.state as EditState & { confirm?: boolean }
      if (st.confirm !== true) return { notes: ['Nothing was removed.'] }
      store.remove(st.jid as string)
      return { notes: [`The entry of ${st.jid} is removed.`] }
    },
  })

  return {
    store,
    commands: registry,
    limiters: { searches: limiter, writes },
    stop() {
      reg.stop()
      finder.stop()
      registry.close()
      if (ownStore) store.close()
    },
  }
}

/** An entry as a result form (its owner or an admin sees every field and the choices). */
function entryResult(e: DirectoryEntry): DataForm {
  const fields: Field[] = [{ type: 'jid-single', var: 'jid', label: 'JID', value: e.jid }]
  for (const f of FIELDS) {
    const v = e[f]
    if (f === 'about')
      fields.push({ type: 'text-multi', var: f, label: LABELS[f], value: v?.split('\n') ?? [] })
    else fields.push({ type: 'text-single', var: f, label: LABELS[f], value: v ?? '' })
  }
  for (const f of FIELDS) {
    fields.push({
      type: 'boolean',
      var: `publish_${f}`,
      label: `${LABELS[f]} published`,
      value: e.published.includes(f),
    })
  }
  return { type: 'result', title: 'Your directory entry', fields }
}
