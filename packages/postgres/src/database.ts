// A PostgreSQL connection pool with limits, and numbered migrations run once under an advisory
// lock, so that several instances of a service starting at once against one database are safe.
import { numberOption, optionError } from '@satellite/core'
import createDebug from 'debug'
import postgres from 'postgres'
import { PostgresError, PostgresErrorCodes } from './errors.js'
import { isPostgresUrl, redactUrl, scrub, secretsOf } from './url.js'

const log: (formatter: string, ...args: unknown[]) => void = createDebug('satellite:postgres')

/** The `postgres` client's query function (a pool): `` await sql`SELECT 1` ``. */
export type Sql = postgres.Sql
/** The query function inside a transaction (`sql.begin(async (tx) => …)`). */
export type TransactionSql = postgres.TransactionSql

/**
 * One schema step. Migrations run in order, exactly once per database (and schema): the version
 * reached is recorded in the table `satellite_migrations` under the migrations' `name`. Never
 * edit a migration that shipped; append a new one. A function step gets the transaction.
 */
export type Migration = string | ((tx: TransactionSql) => Promise<unknown>)

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /**
   * The name the version is recorded under (default `'default'`): several stores (the chatroom
   * kit, the bridge) can share a database, each with its own migrations and name.
   */
  name?: string
}

/**
 * Options of {@link openPostgres}.
 *
 * @example
 * ```ts
 * const options: PostgresOptions = { max: 20, connectTimeout: 5_000, schema: 'chat' }
 * ```
 */
export interface PostgresOptions {
  /** Most connections the pool opens (default 10, 1 to 1,000). */
  max?: number
  /** How long connecting may take, in ms (default 10,000; at least 1,000). */
  connectTimeout?: number
  /** A connection idle this long (ms) is closed (default 60,000; 0: never). */
  idleTimeout?: number
  /** The server cancels a statement running longer (ms; default 60,000; 0: no limit). */
  statementTimeout?: number
  /**
   * The schema to work in (created if missing, then the connections' `search_path`): several
   * services or tests can share one database. Default: the server's (`public`).
   */
  schema?: string
  /** `application_name` the server shows for the connections (default `'satellite'`). */
  applicationName?: string
  /** Migrations to run before {@link openPostgres} resolves (see {@link migrate}). */
  migrations?: readonly Migration[]
  /** The name of `migrations` (see {@link MigrateOptions.name}). */
  name?: string
}

/**
 * An open PostgreSQL database: a pool of connections with limits. `sql` is the
 * [postgres](https://github.com/porsager/postgres) client's query function.
 *
 * @example
 * ```ts
 * const db = await openPostgres(process.env.CHATROOM_DB ?? '')
 * const [{ n }] = await db.sql`SELECT count(*)::int AS n FROM muc_rooms`
 * await db.close()
 * ```
 */
export interface PostgresDb {
  /** The query function (a pool of at most `max` connections). */
  readonly sql: Sql
  /** The URL without its password (for logs). */
  readonly url: string
  /** The schema the connections work in (`undefined`: the server's default). */
  readonly schema: string | undefined
  /** Runs the migrations the database has not seen yet (see {@link migrate}). */
  migrate(migrations: readonly Migration[], options?: MigrateOptions): Promise<number>
  /** The version recorded under `name` (default `'default'`), 0 when none. */
  schemaVersion(name?: string): Promise<number>
  /** Closes the pool, waiting up to `timeout` ms (default 5,000) for queries running. */
  close(timeout?: number): Promise<void>
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/
const LOCK = 'satellite.migrate'

/** An error of the server or the network as a PostgresError, without the URL's secrets. */
function wrap(
  code: PostgresError['code'],
  what: string,
  err: unknown,
  secrets: readonly string[],
): PostgresError {
  const raw = err instanceof Error ? err.message : String(err)
  const detail = scrub(raw, secrets)
  const cause =
    err instanceof Error
      ? Object.assign(new Error(detail), { code: (err as { code?: unknown }).code })
      : undefined
  return new PostgresError(code, `${what}: ${detail}`, { cause })
}

/**
 * Opens a pool of connections to the PostgreSQL database at `url`
 * (`postgres://user:password@host:port/database`), checks that it answers, creates `schema` if
 * given, and runs `migrations` if given. Throws `SAT_ERR_CONFIG` for a bad option (the URL
 * redacted in the message), {@link PostgresError} `SAT_ERR_POSTGRES_CONNECT` when the server
 * cannot be reached or refuses, and the errors of {@link migrate}.
 *
 * @example
 * ```ts
 * const db = await openPostgres('postgres://chat:secret@127.0.0.1:5432/chat', {
 *   max: 20,
 *   name: 'chat',
 *   migrations: ['CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)'],
 * })
 * ```
 */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDb> {
  if (typeof url !== 'string' || !isPostgresUrl(url)) {
    throw optionError('postgres', 'url', `must be a postgres:// URL, got ${redactUrl(String(url))}`)
  }
  try {
    new URL(url)
  } catch {
    throw optionError('postgres', 'url', 'is not a valid URL')
  }
  const max = numberOption('postgres', 'max', options.max, 10, { min: 1, max: 1000 })
  const connectTimeout = numberOption('postgres', 'connectTimeout', options.connectTimeout, 10_000, {
    min: 1_000,
    max: 600_000,
  })
  const idleTimeout = numberOption('postgres', 'idleTimeout', options.idleTimeout, 60_000, {
    max: 86_400_000,
  })
  const statementTimeout = numberOption('postgres', 'statementTimeout', options.statementTimeout, 60_000, {
    max: 86_400_000,
  })
  const schema = options.schema
  if (schema !== undefined && (typeof schema !== 'string' || !IDENTIFIER.test(schema))) {
    throw optionError('postgres', 'schema', 'must be a lower-case identifier (a-z, 0-9, _; at most 63)')
  }
  const applicationName = options.applicationName ?? 'satellite'
  if (typeof applicationName !== 'string' || !/^[\x20-\x7e]{0,63}$/.test(applicationName)) {
    throw optionError('postgres', 'applicationName', 'must be printable ASCII, at most 63 characters')
  }
  if (options.name !== undefined) checkName(options.name)
  const secrets = secretsOf(url)
  const shown = redactUrl(url)
  const connection: Record<string, string> = {
    application_name: applicationName,
    statement_timeout: String(statementTimeout),
  }
  if (schema !== undefined) connection.search_path = schema
  const sql = postgres(url, {
    max,
    connect_timeout: Math.ceil(connectTimeout / 1000),
    idle_timeout: idleTimeout === 0 ? 0 : Math.max(1, Math.round(idleTimeout / 1000)),
    connection,
    onnotice: (n) => log('notice: %s', n.message),
  })
  try {
    await sql`SELECT 1`
    if (schema !== undefined) {
      // Concurrent CREATE SCHEMA IF NOT EXISTS can still collide: serialised by a lock.
      await sql.begin(async (tx) => {
        await tx`SELECT pg_advisory_xact_lock(hashtextextended(${`${LOCK}.schema`}, 0))`
        await tx.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`)
      })
    }
  } catch (err) {
    await sql.end({ timeout: 0 }).catch(() => {})
    throw wrap(PostgresErrorCodes.CONNECT, `cannot open ${shown}`, err, secrets)
  }
  log('opened %s (max %d connections%s)', shown, max, schema === undefined ? '' : `, schema ${schema}`)
  const db = new Handle(sql, shown, schema, secrets)
  if (options.migrations !== undefined) {
    try {
      await db.migrate(options.migrations, options.name === undefined ? {} : { name: options.name })
    } catch (err) {
      await db.close(0)
      throw err
    }
  }
  return db
}

class Handle implements PostgresDb {
  readonly #sql: Sql
  readonly #secrets: readonly string[]
  readonly url: string
  readonly schema: string | undefined
  #closed: Promise<void> | undefined

  constructor(sql: Sql, url: string, schema: string | undefined, secrets: readonly string[]) {
    this.#sql = sql
    this.url = url
    this.schema = schema
    this.#secrets = secrets
  }

  // A getter, so that inspecting the handle does not print the client's options (the password).
  get sql(): Sql {
    return this.#sql
  }

  migrate(migrations: readonly Migration[], options: MigrateOptions = {}): Promise<number> {
    return migrate(this.#sql, migrations, options).catch((err: unknown) => {
      if (err instanceof PostgresError) throw err
      throw wrap(PostgresErrorCodes.MIGRATE, `migrating ${this.url}`, err, this.#secrets)
    })
  }

  schemaVersion(name?: string): Promise<number> {
    return schemaVersion(this.#sql, name)
  }

  close(timeout = 5_000): Promise<void> {
    this.#closed ??= this.#sql
      .end({ timeout: Math.max(0, timeout) / 1000 })
      .then(() => log('closed %s', this.url))
    return this.#closed
  }
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !/^[\w.:-]{1,100}$/.test(name)) {
    throw optionError('postgres', 'name', 'must be 1 to 100 letters, digits, _ . : or -')
  }
  return name
}

/** The version recorded under `name` (default `'default'`): 0 when no migration ran. */
export async function schemaVersion(sql: Sql | TransactionSql, name = 'default'): Promise<number> {
  checkName(name)
  const [table] = await sql`SELECT to_regclass('satellite_migrations') AS t`
  if (table?.t === null || table === undefined) return 0
  const [row] = await sql`SELECT version FROM satellite_migrations WHERE name = ${name}`
  return row === undefined ? 0 : Number(row.version)
}

/**
 * Applies the migrations the database has not seen yet, in order, all in one transaction that
 * first takes a transaction-level advisory lock (`pg_advisory_xact_lock`): when several
 * instances start at once, one migrates and the others wait, then find nothing left to do.
 * The version is recorded in `satellite_migrations` (created if missing) under `options.name`.
 * The statement timeout does not apply inside (a step may take long, and so may the wait).
 * Returns the number applied. Throws {@link PostgresError} `SAT_ERR_POSTGRES_SCHEMA` when the
 * database is newer than `migrations`, and `SAT_ERR_POSTGRES_MIGRATE` when a step fails (nothing
 * of the run is kept).
 *
 * @example
 * ```ts
 * const applied = await migrate(db.sql, [
 *   'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)',
 *   async (tx) => tx`ALTER TABLE notes ADD COLUMN at BIGINT`,
 * ], { name: 'notes' })
 * ```
 */
export async function migrate(
  sql: Sql,
  migrations: readonly Migration[],
  options: MigrateOptions = {},
): Promise<number> {
  const name = checkName(options.name ?? 'default')
  const started = performance.now()
  const applied = await sql.begin(async (tx) => {
    // A migration (or the wait for another instance's) may outlast the statement timeout.
    await tx`SET LOCAL statement_timeout = 0`
    // One lock for every migration of the database: table creation included.
    await tx`SELECT pg_advisory_xact_lock(hashtextextended(${LOCK}, 0))`
    await tx`CREATE TABLE IF NOT EXISTS satellite_migrations (name TEXT PRIMARY KEY,
      version INTEGER NOT NULL, migrated_at TIMESTAMPTZ NOT NULL DEFAULT now())`
    const [row] = await tx`SELECT version FROM satellite_migrations WHERE name = ${name}`
    const current = row === undefined ? 0 : Number(row.version)
    if (current > migrations.length) {
      throw new PostgresError(
        PostgresErrorCodes.SCHEMA,
        `the database is at schema version ${current} of '${name}', newer than this code knows (${migrations.length}); refusing to use it`,
      )
    }
    for (let v = current; v < migrations.length; v++) {
      const step = migrations[v] as Migration
      try {
        if (typeof step === 'string') await tx.unsafe(step)
        else await step(tx)
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err)
        throw new PostgresError(
          PostgresErrorCodes.MIGRATE,
          `migration ${v + 1} of '${name}' failed (nothing applied): ${why}`,
          { cause: err },
        )
      }
    }
    if (migrations.length > current) {
      await tx`INSERT INTO satellite_migrations (name, version) VALUES (${name}, ${migrations.length})
        ON CONFLICT (name) DO UPDATE SET version = excluded.version, migrated_at = now()`
    }
    return migrations.length - current
  })
  if (applied > 0)
    log('migrated %s: %d step(s) in %d ms', name, applied, Math.round(performance.now() - started))
  return applied
}
