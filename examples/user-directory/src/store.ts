// The directory's storage: the entry, the search, and the asynchronous DirectoryStore interface
// with two implementations: SQLite with FTS5 (sqlite-store.ts, the default) and PostgreSQL with
// tsvector (postgres-store.ts, loaded only when DIRECTORY_DB is a postgres:// URL). Both index
// only the *published* fields: searching can never match (or reveal) a field its owner kept private.

/** The fields of an entry, in display order. */
export const FIELDS = ['nick', 'fullname', 'locality', 'country', 'email', 'about'] as const
/** A field of an entry. */
export type EntryField = (typeof FIELDS)[number]

/** Human-readable labels of the fields. */
export const LABELS: Record<EntryField, string> = {
  nick: 'Nickname',
  fullname: 'Full name',
  locality: 'Locality',
  country: 'Country',
  email: 'Email address',
  about: 'About me',
}

/** Maximum length (in characters) of each field. */
export const MAX_LENGTH: Record<EntryField, number> = {
  nick: 64,
  fullname: 128,
  locality: 128,
  country: 64,
  email: 254,
  about: 2000,
}

/** A person's entry. Absent fields are `undefined`; `published` lists the fields others may see. */
export interface DirectoryEntry {
  jid: string
  nick: string
  fullname?: string
  locality?: string
  country?: string
  email?: string
  about?: string
  published: EntryField[]
  /** Last change, ms since the epoch. */
  updated: number
}

/** What others see of an entry: the JID and the published fields only. */
export type PublicEntry = { jid: string } & Partial<Record<EntryField, string>>

/**
 * A search: `text` is matched against every published field (full text), the other keys
 * against one field each. Every word is a case-insensitive prefix ("ali" finds "Alice");
 * all words must match. Values are data, never SQL or FTS syntax.
 */
export type DirectoryQuery = Partial<Record<EntryField | 'text', string>>

/** One match of a search, best first. */
export interface Match {
  jid: string
  /** The score, lower is better: bm25 on SQLite, minus ts_rank_cd on PostgreSQL. */
  rank: number
}

/**
 * Storage of the directory. Every method is asynchronous (PostgreSQL answers over the network);
 * the SQLite store does its work at the call and returns settled promises. JIDs are compared
 * and ordered byte by byte on both backends.
 */
export interface DirectoryStore {
  get(jid: string): Promise<DirectoryEntry | null>
  /** Creates or replaces the entry of `entry.jid`. */
  put(entry: Omit<DirectoryEntry, 'updated'>): Promise<void>
  /** Removes an entry; false when there was none. */
  remove(jid: string): Promise<boolean>
  count(): Promise<number>
  /** Entries ordered by JID, after `after` (exclusive), whose JID contains `filter`; at most `limit` (default 100, at most {@link MAX_LIST}). */
  list(options?: { after?: string; filter?: string; limit?: number }): Promise<DirectoryEntry[]>
  /** Matches ordered by relevance (best first, then JID); at most `limit`. */
  search(query: DirectoryQuery, limit: number): Promise<Match[]>
  /** The public view of entries (published fields only), in the order of `jids`. */
  publicEntries(jids: readonly string[]): Promise<PublicEntry[]>
  /** Closes the database (after the writes already called); idempotent. */
  close(): Promise<void>
}

/** Most entries one `list()` call returns, whatever `limit` it is given. */
export const MAX_LIST = 1000

/** The `limit` of a `list()` call, as both stores apply it: an integer from 0 to {@link MAX_LIST} (100 when not a number). */
export function listLimit(limit: number): number {
  if (typeof limit !== 'number' || Number.isNaN(limit)) return 100
  return Math.max(0, Math.min(MAX_LIST, Math.floor(limit)))
}

/** The `limit` of a `search()` call, as both stores apply it: a whole number of matches, 0 when not a number. */
export function searchLimit(limit: number): number {
  return Number.isNaN(limit) || typeof limit !== 'number'
    ? 0
    : Math.max(0, Math.min(2 ** 31 - 1, Math.floor(limit)))
}

/** The words of a search value: letters and digits, lower-cased. */
export function words(value: string): string[] {
  return (value.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).filter((w) => w.length > 0)
}

/** A stored row's fields as an entry (`published`: the field names, in any order). */
export function toEntry(
  row: { jid: string; updated: number } & Record<EntryField, string | null>,
  published: readonly string[],
): DirectoryEntry {
  const entry: DirectoryEntry = {
    jid: row.jid,
    nick: row.nick ?? '',
    published: FIELDS.filter((f) => published.includes(f)),
    updated: row.updated,
  }
  for (const f of FIELDS) {
    const v = row[f]
    if (f !== 'nick' && v !== null) entry[f] = v
  }
  return entry
}

/** What others see of an entry: its JID and its published fields. */
export function toPublic(entry: DirectoryEntry): PublicEntry {
  const out: PublicEntry = { jid: entry.jid }
  for (const f of entry.published) {
    const v = entry[f]
    if (v !== undefined) out[f] = v
  }
  return out
}
