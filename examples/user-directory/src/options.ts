// The directory's options: what directory() accepts, and their check. A bad option is a fatal
// SAT_ERR_CONFIG naming it (`directory.pageSize: must be at least 1, got 0`), thrown before
// anything is installed or opened.
import type { CommandRegistry } from '@satellite/adhoc'
import { numberOption, optionError, type PluginHandle } from '@satellite/core'
import { parentDomain } from './access.js'
import { type RateLimit, RateLimiter } from './limits.js'
import type { DirectoryStore } from './store.js'

/** Options of {@link directory}. */
export interface DirectoryOptions {
  /**
   * The storage; by default a SQLite store at `dbPath`. A PostgreSQL store is opened with
   * `openDirectoryStore('postgres://…')` (asynchronous) and given here.
   */
  store?: DirectoryStore
  /**
   * SQLite file when no `store` is given (default ':memory:'). A `postgres://` URL is refused
   * (`SAT_ERR_CONFIG`): open it with `openDirectoryStore()` and pass the store.
   */
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
  /** Ad-hoc command sessions (XEP-0050); checked by `commands()` (`commands.<option>`). */
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
  /** Most entries the directory holds (default 1,000,000; 0 refuses every new entry). */
  maxEntries?: number
  /** Clock (ms), for tests. */
  now?: () => number
}

/** What {@link directory} returns: the plugin's handle, with the parts tests and programs read. */
export interface Directory extends PluginHandle {
  store: DirectoryStore
  commands: CommandRegistry
  /** The rate limiters (their `size` is the number of requesters tracked). */
  limiters: { searches: RateLimiter; writes: RateLimiter }
  /**
   * Removes the routes and the disco identity and ends command sessions at once, then closes the
   * store if it opened it. Idempotent (later calls return the first call's promise).
   */
  close(): Promise<void>
}

/** The options, checked, with their defaults. */
export interface DirectorySettings {
  name: string
  /** Lower-cased bare JIDs. */
  admins: ReadonlySet<string>
  /** Lower-cased domains. */
  domains: ReadonlySet<string>
  allowFederated: boolean
  pageSize: number
  maxResults: number
  maxWords: number
  maxEntries: number
  searches: RateLimiter
  writes: RateLimiter
}

export const PLUGIN = 'directory'

/** A PostgreSQL URL (`postgres://` or `postgresql://`), told apart without loading the client. */
export const POSTGRES = /^postgres(ql)?:\/\//i

function strings(option: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw optionError(PLUGIN, option, 'must be an array of strings')
  }
  return value.map((v: string) => v.toLowerCase())
}

function limiter(
  option: 'rateLimit' | 'writeLimit',
  limit: RateLimit | undefined,
  burst: number,
  perMinute: number,
  now?: () => number,
): RateLimiter {
  return new RateLimiter(
    limit?.burst ?? burst,
    limit?.perMinute ?? perMinute,
    now,
    limit?.maxRequesters,
    option,
  )
}

/** Checks `options` (a bad one throws a fatal `SAT_ERR_CONFIG` naming it) for a component at `domain`. */
export function resolveOptions(options: DirectoryOptions, domain: string): DirectorySettings {
  if (typeof options !== 'object' || options === null) {
    throw optionError(
      PLUGIN,
      'options',
      `must be an object, got ${options === null ? 'null' : typeof options}`,
    )
  }
  if (options.dbPath !== undefined && (typeof options.dbPath !== 'string' || POSTGRES.test(options.dbPath))) {
    // never the value: a URL may hold a password
    throw optionError(
      PLUGIN,
      'dbPath',
      typeof options.dbPath !== 'string'
        ? `must be a string, got ${typeof options.dbPath}`
        : 'a postgres:// URL is opened with openDirectoryStore() and passed as `store`',
    )
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw optionError(PLUGIN, 'name', `must be a string, got ${typeof options.name}`)
  }
  return {
    name: options.name ?? 'User directory',
    admins: new Set(strings('admins', options.admins) ?? []),
    domains: new Set(
      strings('allowedDomains', options.allowedDomains) ?? [parentDomain(domain).toLowerCase()],
    ),
    allowFederated: options.allowFederated === true,
    pageSize: numberOption(PLUGIN, 'pageSize', options.pageSize, 20, { min: 1 }),
    maxResults: numberOption(PLUGIN, 'maxResults', options.maxResults, 500, { min: 1 }),
    maxWords: numberOption(PLUGIN, 'maxQueryWords', options.maxQueryWords, 8, { min: 1 }),
    maxEntries: numberOption(PLUGIN, 'maxEntries', options.maxEntries, 1_000_000, { min: 0 }),
    searches: limiter('rateLimit', options.rateLimit, 10, 30, options.now),
    writes: limiter('writeLimit', options.writeLimit, 5, 12, options.now),
  }
}
