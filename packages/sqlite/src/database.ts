import { mkdirSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname } from 'node:path'
import type BetterSqlite3 from 'better-sqlite3'

/** A better-sqlite3 database handle. */
export type Db = BetterSqlite3.Database

/**
 * One schema step. Migrations run in order, each in its own transaction, exactly once:
 * the database records its version (`PRAGMA user_version`). Never edit a migration that
 * shipped; append a new one.
 */
export type Migration = string | ((db: Db) => void)

/** Options of {@link openDatabase}. */
export interface OpenOptions {
  /** File path, or `':memory:'` (the default) for a database that lives as long as the process. */
  path?: string
  /** Schema steps, applied in order (index + 1 is the version they bring the database to). */
  migrations?: readonly Migration[]
  /** Open read-only (no migrations run). */
  readonly?: boolean
}

const require = createRequire(import.meta.url)

/**
 * Opens (or creates) a SQLite database, turns on WAL and foreign keys, and brings its
 * schema up to date with `migrations`. A database newer than the code (more versions
 * than migrations) is refused rather than misread.
 *
 * @example
 * ```ts
 * const db = openDatabase({
 *   path: process.env.DIRECTORY_DB ?? ':memory:',
 *   migrations: [
 *     'CREATE TABLE entries (jid TEXT PRIMARY KEY, nick TEXT NOT NULL)',
 *     (db) => db.exec('ALTER TABLE entries ADD COLUMN email TEXT'),
 *   ],
 * })
 * ```
 */
export function openDatabase(options: OpenOptions = {}): Db {
  const Database = require('better-sqlite3') as typeof BetterSqlite3
  const path = options.path ?? ':memory:'
  if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { readonly: options.readonly === true })
  if (path !== ':memory:' && !options.readonly) db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  if (!options.readonly) migrate(db, options.migrations ?? [])
  return db
}

/** The schema version recorded in the database. */
export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number
}

/**
 * Applies the migrations the database has not seen yet, each in a transaction; returns
 * the number applied. Throws if the database is newer than `migrations`.
 */
export function migrate(db: Db, migrations: readonly Migration[]): number {
  const current = schemaVersion(db)
  if (current > migrations.length) {
    throw new Error(
      `the database is at schema version ${current}, newer than this code knows (${migrations.length}); refusing to open it`,
    )
  }
  let applied = 0
  for (let v = current; v < migrations.length; v++) {
    const step = migrations[v] as Migration
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step)
      else step(db)
      db.pragma(`user_version = ${v + 1}`)
    })()
    applied++
  }
  return applied
}
