// The directory on PostgreSQL (DIRECTORY_DB=postgres://…), for directories whose instances share
// one database. Loaded only when the setting is a URL (openDirectoryStore), so that a directory on
// SQLite never loads the PostgreSQL client.
//
// The search uses PostgreSQL's full-text search: each row holds a `tsvector` of its *published*
// fields only (a field kept private is never in it, so it can never match), under a GIN index, and
// a search is a `tsquery` of prefix terms ('ali':*), all of which must match. The words of both
// sides are cut by tokens() below, not by a text search configuration: the same rule as FTS5's
// unicode61 tokenizer on SQLite (runs of letters and digits, lower-cased, accents removed), so
// that both backends find the same entries; `alice@example.org` is three words on both, where
// PostgreSQL's own parser would keep one email token. A field-restricted search uses lexemes
// tagged with the field ('nick:alice'), stored next to the plain ones.
import {
  KeyedQueue,
  type Migration,
  openPostgres,
  type PostgresDb,
  type PostgresOptions,
  type Sql,
} from '@satellite/postgres'
import {
  type DirectoryEntry,
  type DirectoryQuery,
  type DirectoryStore,
  type EntryField,
  FIELDS,
  listLimit,
  type Match,
  type PublicEntry,
  searchLimit,
  toEntry,
  toPublic,
  words,
} from './store.js'

/**
 * Schema of the PostgreSQL store (numbered migrations of `@satellite/postgres`, recorded under the
 * name `'directory'`; append, never edit). `jid` in byte order (COLLATE "C"), as SQLite compares
 * it: `list()` pages and ties in a search's order are the same on both backends.
 */
export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE directory_entries (
     jid TEXT COLLATE "C" PRIMARY KEY,
     nick TEXT NOT NULL,
     fullname TEXT,
     locality TEXT,
     country TEXT,
     email TEXT,
     about TEXT,
     published TEXT[] NOT NULL,
     updated BIGINT NOT NULL,
     doc TSVECTOR NOT NULL
   );
   CREATE INDEX directory_entries_doc ON directory_entries USING GIN (doc);
   CREATE INDEX directory_entries_updated ON directory_entries (updated);`,
]

/**
 * Longest word indexed, in characters (PostgreSQL refuses lexemes over 2,047 bytes): longer words
 * are indexed, and searched, by their first 200 characters.
 */
export const MAX_TOKEN = 200
/** Positions kept per lexeme (PostgreSQL keeps at most 256; they only weigh in the ranking). */
const MAX_POSITIONS = 255
/** Highest position in a tsvector. */
const MAX_POSITION = 16_383

/**
 * The words of a value as both sides of a PostgreSQL search see them: {@link words} (runs of
 * letters and digits, lower-cased) after removing the accents of Latin letters (Unicode NFD, the
 * marks after a Latin letter dropped: "Zürich" is "zurich", as FTS5's `remove_diacritics 2`
 * does; Greek or Cyrillic accents stay, as on FTS5), each cut to {@link MAX_TOKEN} characters.
 */
export function tokens(value: string): string[] {
  const folded = value
    .normalize('NFD')
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
    .normalize('NFC')
  return words(folded).map((w) => (w.length <= MAX_TOKEN ? w : [...w].slice(0, MAX_TOKEN).join('')))
}

/** A lexeme as tsvector and tsquery literals quote it (tokens hold neither, but data stays data). */
const quote = (lexeme: string) => `'${lexeme.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`

/**
 * The tsvector (as its text form) of an entry's published fields: each word at its position, once
 * plain and once tagged with its field (`'alice':1 'nick:alice':1`). Unpublished fields are not in it.
 */
export function documentVector(entry: Omit<DirectoryEntry, 'updated'>): string {
  const lexemes = new Map<string, number[]>()
  const add = (lexeme: string, at: number) => {
    const positions = lexemes.get(lexeme)
    if (positions === undefined) lexemes.set(lexeme, [at])
    else if (positions.length < MAX_POSITIONS) positions.push(at)
  }
  let at = 0
  for (const f of FIELDS) {
    const value = entry[f]
    if (value === undefined || !entry.published.includes(f)) continue
    for (const t of tokens(value)) {
      at = Math.min(at + 1, MAX_POSITION)
      add(t, at)
      add(`${f}:${t}`, at)
    }
  }
  return [...lexemes].map(([l, p]) => `${quote(l)}:${p.join(',')}`).join(' ')
}

/**
 * Builds a tsquery (as its text form) from a query: each word a quoted prefix term ('ali':*), a
 * field's words tagged with the field ('nick:ali':*), all ANDed. Only letters and digits reach it,
 * so user input is never tsquery syntax. Null when the query has no word at all; a key that is
 * neither `text` nor a field throws.
 */
export function tsQuery(query: DirectoryQuery): string | null {
  const terms: string[] = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue
    if (key !== 'text' && !(FIELDS as readonly string[]).includes(key)) {
      throw new TypeError(`not a directory field: ${JSON.stringify(key.slice(0, 40))}`)
    }
    for (const t of tokens(value)) terms.push(`${quote(key === 'text' ? t : `${key}:${t}`)}:*`)
  }
  return terms.length === 0 ? null : terms.join(' & ')
}

/** Options of {@link postgresStore}: those of `openPostgres` (pool size, timeouts, schema) but the migrations. */
export type PostgresStoreOptions = Omit<PostgresOptions, 'migrations' | 'name'>

/** The PostgreSQL store: a {@link DirectoryStore} and its database. */
export interface PostgresDirectoryStore extends DirectoryStore {
  /** The database (its pool); closed by `close()`. */
  readonly db: PostgresDb
}

type Row = { jid: string; published: string[]; updated: string | number } & Record<EntryField, string | null>

/** The columns of an entry (not its `doc`, which only the search reads). */
const COLUMNS = ['jid', ...FIELDS, 'published', 'updated']

const entryOf = (row: Row): DirectoryEntry => toEntry({ ...row, updated: Number(row.updated) }, row.published)

/**
 * Opens the directory's PostgreSQL store at `url`, bringing its tables up to date
 * ({@link POSTGRES_MIGRATIONS}, under an advisory lock: instances may start at once). The calls
 * about one JID run in the order they were made (a read sees the writes called before it).
 * Throws what `openPostgres` throws (`SAT_ERR_POSTGRES_*`, the URL's password never shown).
 *
 * Ranking: `ts_rank_cd` (cover density: each occurrence of the words counts) divided by
 * 1 + log of the document's length, best first, then JID. Close to FTS5's bm25, not equal: there
 * is no inverse document frequency (a rare word weighs as much as a common one). On a generated
 * directory (e2e/test/postgres-directory-store.test.ts) the best match differs in about 1 query
 * of 12, the first page of 20 in about 1 of 16; `ts_rank` was further from bm25.
 *
 * @example
 * ```ts
 * const store = await postgresStore('postgres://directory:secret@127.0.0.1/directory', { max: 10 })
 * await store.put({ jid: 'alice@localhost', nick: 'Alice', published: ['nick'] })
 * await store.search({ nick: 'al' }, 50) // [{ jid: 'alice@localhost', rank: -0.06 }]
 * await store.close()
 * ```
 */
export async function postgresStore(
  url: string,
  options: PostgresStoreOptions = {},
): Promise<PostgresDirectoryStore> {
  const db = await openPostgres(url, { ...options, migrations: POSTGRES_MIGRATIONS, name: 'directory' })
  const sql: Sql = db.sql
  const queue = new KeyedQueue()
  let closed: Promise<void> | undefined

  return {
    db,
    get(jid) {
      return queue.run(jid, async () => {
        const [row] = await sql<Row[]>`SELECT ${sql(COLUMNS)} FROM directory_entries WHERE jid = ${jid}`
        return row === undefined ? null : entryOf(row)
      })
    },
    put(entry) {
      const published = FIELDS.filter((f) => entry.published.includes(f))
      const values = FIELDS.map((f) => entry[f] ?? null)
      const [nick, fullname, locality, country, email, about] = values
      const doc = documentVector(entry)
      const now = Date.now()
      return queue.run(entry.jid, async () => {
        await sql`INSERT INTO directory_entries
            (jid, nick, fullname, locality, country, email, about, published, updated, doc)
          VALUES (${entry.jid}, ${nick ?? ''}, ${fullname ?? null}, ${locality ?? null}, ${country ?? null},
            ${email ?? null}, ${about ?? null}, ${`{${published.join(',')}}`}::text[], ${now}, ${doc}::tsvector)
          ON CONFLICT (jid) DO UPDATE SET nick = excluded.nick, fullname = excluded.fullname,
            locality = excluded.locality, country = excluded.country, email = excluded.email,
            about = excluded.about, published = excluded.published, updated = excluded.updated,
            doc = excluded.doc`
      })
    },
    remove(jid) {
      return queue.run(jid, async () => {
        const r = await sql`DELETE FROM directory_entries WHERE jid = ${jid}`
        return r.count > 0
      })
    },
    async count() {
      const [row] = await sql`SELECT count(*)::bigint AS n FROM directory_entries`
      return Number(row?.n)
    },
    async list({ after = '', filter = '', limit = 100 } = {}) {
      const rows = await sql<Row[]>`SELECT ${sql(COLUMNS)} FROM directory_entries
        WHERE jid > ${after} AND strpos(jid, ${filter}) > 0 ORDER BY jid LIMIT ${listLimit(limit)}`
      return rows.map(entryOf)
    },
    async search(query, limit) {
      const q = tsQuery(query)
      if (q === null) return []
      const rows = await sql`SELECT jid, ts_rank_cd(doc, q, 1) AS score
          FROM directory_entries, CAST(${q} AS tsquery) AS q
         WHERE doc @@ q
         ORDER BY score DESC, jid
         LIMIT ${searchLimit(limit)}`
      return rows.map((r): Match => ({ jid: r.jid as string, rank: -Number(r.score) }))
    },
    async publicEntries(jids) {
      if (jids.length === 0) return []
      const rows = await sql<
        Row[]
      >`SELECT ${sql(COLUMNS)} FROM directory_entries WHERE jid = ANY(${[...jids]}::text[])`
      const byJid = new Map(rows.map((r) => [r.jid, r]))
      return jids.flatMap((j): PublicEntry[] => {
        const r = byJid.get(j)
        return r === undefined ? [] : [toPublic(entryOf(r))]
      })
    },
    close() {
      closed ??= queue.idle().then(() => db.close())
      return closed
    },
  }
}
