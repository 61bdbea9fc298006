// The directory on SQLite (the default): one row per person (bare JID) in `entries`, and a
// contentless FTS5 index `entries_fts` that only ever holds the *published* fields, kept in sync
// by triggers. Searching can therefore never match (or reveal) a field its owner kept private.
import { type Db, type Migration, openDatabase } from '@satellite/sqlite'
import {
  type DirectoryQuery,
  type DirectoryStore,
  type EntryField,
  FIELDS,
  listLimit,
  type Match,
  searchLimit,
  toEntry,
  toPublic,
  words,
} from './store.js'

const published = (f: EntryField, alias: string) =>
  `CASE WHEN instr(${alias}.published, ',${f},') > 0 THEN ${alias}.${f} END`
const ftsValues = (alias: string) => FIELDS.map((f) => published(f, alias)).join(', ')

/**
 * The schema, one step per version (recorded in `PRAGMA user_version` by @satellite/sqlite).
 * Never edit a step that shipped: append one.
 */
export const MIGRATIONS: readonly Migration[] = [
  // 1: the entries. `published` is a comma-wrapped list of field names (',nick,email,').
  `CREATE TABLE entries (
     id INTEGER PRIMARY KEY,
     jid TEXT NOT NULL UNIQUE,
     nick TEXT NOT NULL,
     fullname TEXT,
     locality TEXT,
     country TEXT,
     email TEXT,
     about TEXT,
     published TEXT NOT NULL DEFAULT ',nick,',
     updated INTEGER NOT NULL
   )`,
  // 2: the full-text index of published fields (contentless: it stores no text, only the
  // index), with case-insensitive, accent-insensitive tokens and prefix indexes for 1-3
  // characters so that short prefixes stay fast. Triggers keep it in sync.
  `CREATE VIRTUAL TABLE entries_fts USING fts5(
     ${FIELDS.join(', ')},
     content='',
     tokenize='unicode61 remove_diacritics 2',
     prefix='1 2 3'
   );
   CREATE TRIGGER entries_ai AFTER INSERT ON entries BEGIN
     INSERT INTO entries_fts(rowid, ${FIELDS.join(', ')}) VALUES (new.id, ${ftsValues('new')});
   END;
   CREATE TRIGGER entries_ad AFTER DELETE ON entries BEGIN
     INSERT INTO entries_fts(entries_fts, rowid, ${FIELDS.join(', ')}) VALUES ('delete', old.id, ${ftsValues('old')});
   END;
   CREATE TRIGGER entries_au AFTER UPDATE ON entries BEGIN
     INSERT INTO entries_fts(entries_fts, rowid, ${FIELDS.join(', ')}) VALUES ('delete', old.id, ${ftsValues('old')});
     INSERT INTO entries_fts(rowid, ${FIELDS.join(', ')}) VALUES (new.id, ${ftsValues('new')});
   END;`,
  // 3: admins list entries by JID (the UNIQUE index covers it); keep a lookup by update time.
  'CREATE INDEX entries_updated ON entries(updated)',
]

/**
 * Builds an FTS5 MATCH expression from a query: each word becomes a quoted prefix term
 * ("ali"*), so user input can never be read as FTS syntax; words of one field are ANDed
 * inside a column filter. Returns null when the query has no word at all.
 */
export function matchExpression(query: DirectoryQuery): string | null {
  const parts: string[] = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    const terms = words(value).map((w) => `"${w.replaceAll('"', '""')}"*`)
    if (terms.length === 0) continue
    const group = terms.join(' AND ')
    parts.push(key === 'text' ? `(${group})` : `${key} : (${group})`)
  }
  return parts.length === 0 ? null : parts.join(' AND ')
}

interface Row extends Record<EntryField, string | null> {
  id: number
  jid: string
  published: string
  updated: number
}

/** The fields of a comma-wrapped list (',nick,email,'). */
const publishedOf = (row: Row): string[] => row.published.split(',')

/** Options of {@link sqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file, or ':memory:' (the default). */
  path?: string
}

/**
 * The SQLite implementation of {@link DirectoryStore} (better-sqlite3 through
 * @satellite/sqlite). Every statement is prepared once and parameterized.
 *
 * @example
 * ```ts
 * const store = sqliteStore({ path: process.env.DIRECTORY_DB ?? ':memory:' })
 * await store.put({ jid: 'alice@localhost', nick: 'Alice', published: ['nick'] })
 * await store.search({ nick: 'al' }, 50) // [{ jid: 'alice@localhost', rank: -0.9 }]
 * ```
 */
export function sqliteStore(options: SqliteStoreOptions = {}): DirectoryStore & { db: Db } {
  const db = openDatabase({ path: options.path ?? ':memory:', migrations: MIGRATIONS })
  const cols = FIELDS.join(', ')
  const getStmt = db.prepare<[string], Row>('SELECT * FROM entries WHERE jid = ?')
  const upsert = db.prepare(
    `INSERT INTO entries (jid, ${cols}, published, updated)
     VALUES (@jid, ${FIELDS.map((f) => `@${f}`).join(', ')}, @published, @updated)
     ON CONFLICT(jid) DO UPDATE SET ${FIELDS.map((f) => `${f} = excluded.${f}`).join(', ')},
       published = excluded.published, updated = excluded.updated`,
  )
  const del = db.prepare<[string]>('DELETE FROM entries WHERE jid = ?')
  const countStmt = db.prepare<[], { n: number }>('SELECT count(*) AS n FROM entries')
  const listStmt = db.prepare<[string, string, number], Row>(
    `SELECT * FROM entries WHERE jid > ? AND instr(jid, ?) > 0 ORDER BY jid LIMIT ?`,
  )
  const searchStmt = db.prepare<[string, number], Match>(
    `SELECT e.jid AS jid, f.rank AS rank
       FROM entries_fts f JOIN entries e ON e.id = f.rowid
      WHERE entries_fts MATCH ?
      ORDER BY f.rank, e.jid
      LIMIT ?`,
  )
  const byJid = db.prepare<[string], Row>(
    'SELECT * FROM entries WHERE jid IN (SELECT value FROM json_each(?))',
  )

  const entry = (row: Row) => toEntry(row, publishedOf(row))

  return {
    db,
    async get(jid) {
      const row = getStmt.get(jid)
      return row === undefined ? null : entry(row)
    },
    async put(e) {
      const params: Record<string, string | number | null> = {
        jid: e.jid,
        published: `,${FIELDS.filter((f) => e.published.includes(f)).join(',')},`,
        updated: Date.now(),
      }
      for (const f of FIELDS) params[f] = e[f] ?? null
      upsert.run(params)
    },
    async remove(jid) {
      return del.run(jid).changes > 0
    },
    async count() {
      return (countStmt.get() as { n: number }).n
    },
    async list({ after = '', filter = '', limit = 100 } = {}) {
      return listStmt.all(after, filter, listLimit(limit)).map(entry)
    },
    async search(query, limit) {
      const expression = matchExpression(query)
      if (expression === null) return []
      return searchStmt.all(expression, searchLimit(limit))
    },
    async publicEntries(jids) {
      if (jids.length === 0) return []
      const rows = new Map(byJid.all(JSON.stringify(jids)).map((r) => [r.jid, r]))
      return jids.flatMap((j) => {
        const r = rows.get(j)
        return r === undefined ? [] : [toPublic(entry(r))]
      })
    },
    async close() {
      if (db.open) db.close()
    },
  }
}
