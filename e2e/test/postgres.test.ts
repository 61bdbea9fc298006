// @satellite/postgres against a real PostgreSQL 15 (scripts/postgres, started by e2e/setup):
// migrations run once under the advisory lock when instances start at once, a newer schema is
// refused, a failed step leaves nothing, schemas keep services apart, and no error holds a password.
import { inspect } from 'node:util'
import { isSatelliteError } from '@satellite/core'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  type Migration,
  migrate,
  openPostgres,
  type PostgresDb,
  PostgresError,
} from '../../packages/postgres/src/index.js'

const PG_URL = inject('postgres').PG_URL as string
const opened: PostgresDb[] = []
afterAll(async () => {
  for (const db of opened) await db.close()
})

async function open(url: string, options: Parameters<typeof openPostgres>[1] = {}): Promise<PostgresDb> {
  const db = await openPostgres(url, options)
  opened.push(db)
  return db
}

let fresh = 0
/** A new empty database: its URL. */
async function freshDatabase(): Promise<string> {
  const admin = await open(PG_URL)
  const name = `t_${process.pid}_${Date.now()}_${fresh++}`
  await admin.sql.unsafe(`CREATE DATABASE ${name}`)
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const STEPS: Migration[] = [
  'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)',
  // Slow on purpose: the second instance arrives while the first one holds the lock.
  'SELECT pg_sleep(0.3); ALTER TABLE notes ADD COLUMN at BIGINT',
  async (tx) => {
    await tx`INSERT INTO notes (id, body) VALUES (1, 'seeded once')`
  },
]

describe('@satellite/postgres migrations', () => {
  it('two instances starting at once on a fresh database: both succeed, each step applied once', async () => {
    const url = await freshDatabase()
    const [a, b] = await Promise.all([open(url), open(url)])
    const [na, nb] = await Promise.all([
      a.migrate(STEPS, { name: 'notes' }),
      b.migrate(STEPS, { name: 'notes' }),
    ])
    // One of them applied the three steps, the other found nothing left.
    expect([na, nb].sort()).toEqual([0, 3])
    expect(await a.schemaVersion('notes')).toBe(3)
    expect(await b.schemaVersion('notes')).toBe(3)
    const rows = await a.sql`SELECT id, body, at FROM notes`
    expect(rows.map((r) => ({ ...r }))).toEqual([{ id: '1', body: 'seeded once', at: null }])
    // Run again: nothing to do; a longer list applies only the new step.
    expect(await a.migrate(STEPS, { name: 'notes' })).toBe(0)
    expect(await migrate(a.sql, [...STEPS, 'CREATE INDEX notes_at ON notes (at)'], { name: 'notes' })).toBe(1)
    expect(await b.schemaVersion('notes')).toBe(4)
  })

  it('five instances opening with migrations at once all succeed', async () => {
    const url = await freshDatabase()
    const dbs = await Promise.all(
      Array.from({ length: 5 }, () => open(url, { migrations: STEPS, name: 'notes', max: 2 })),
    )
    expect(dbs).toHaveLength(5)
    const sql = (dbs[0] as PostgresDb).sql
    expect((await sql`SELECT count(*)::int AS n FROM notes`)[0]?.n).toBe(1)
    const [row] = await sql`SELECT version FROM satellite_migrations WHERE name = 'notes'`
    expect(row?.version).toBe(3)
  })

  it('keeps the versions of differently named migrations apart', async () => {
    const url = await freshDatabase()
    const db = await open(url)
    expect(await db.migrate(['CREATE TABLE a (x INT)'], { name: 'first' })).toBe(1)
    expect(await db.migrate(['CREATE TABLE b (x INT)', 'CREATE TABLE c (x INT)'], { name: 'second' })).toBe(2)
    expect(await db.schemaVersion('first')).toBe(1)
    expect(await db.schemaVersion('second')).toBe(2)
    expect(await db.schemaVersion('never')).toBe(0)
  })

  it('refuses a database newer than the code (SAT_ERR_POSTGRES_SCHEMA)', async () => {
    const url = await freshDatabase()
    const db = await open(url, { migrations: STEPS, name: 'notes' })
    const err = await db.migrate(STEPS.slice(0, 2), { name: 'notes' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PostgresError)
    expect((err as PostgresError).code).toBe('SAT_ERR_POSTGRES_SCHEMA')
    expect((err as Error).message).toMatch(/schema version 3 of 'notes', newer than this code knows \(2\)/)
    await expect(open(url, { migrations: [], name: 'notes' })).rejects.toMatchObject({
      code: 'SAT_ERR_POSTGRES_SCHEMA',
    })
  })

  it('a failing step rolls back the whole run (SAT_ERR_POSTGRES_MIGRATE)', async () => {
    const url = await freshDatabase()
    const db = await open(url)
    const err = await db
      .migrate(['CREATE TABLE kept_not (x INT)', 'CREATE TABLE oops (x NOSUCHTYPE)'], { name: 'bad' })
      .catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_POSTGRES_MIGRATE')).toBe(true)
    expect((err as Error).message).toMatch(/migration 2 of 'bad' failed.*nosuchtype/i)
    expect(await db.schemaVersion('bad')).toBe(0)
    const [t] = await db.sql`SELECT to_regclass('kept_not') AS t`
    expect(t?.t).toBeNull()
  })

  it('works in its own schema, created on open, next to another', async () => {
    const url = await freshDatabase()
    const [a, b] = await Promise.all([
      open(url, { schema: 'svc_a', migrations: ['CREATE TABLE t (x INT)'] }),
      open(url, { schema: 'svc_b', migrations: ['CREATE TABLE t (x INT)', 'ALTER TABLE t ADD y INT'] }),
    ])
    await a.sql`INSERT INTO t (x) VALUES (1)`
    expect((await b.sql`SELECT count(*)::int AS n FROM t`)[0]?.n).toBe(0)
    expect(await a.schemaVersion()).toBe(1)
    expect(await b.schemaVersion()).toBe(2)
    const [where] = await a.sql`SELECT current_schema() AS s, current_setting('application_name') AS app`
    expect(where).toEqual({ s: 'svc_a', app: 'satellite' })
  })

  it('waits for a migration longer than the statement timeout, which does not apply to migrations', async () => {
    const url = await freshDatabase()
    const [a, b] = await Promise.all([
      open(url, { statementTimeout: 200 }),
      open(url, { statementTimeout: 200 }),
    ])
    const slow: Migration[] = ['SELECT pg_sleep(0.6)', 'CREATE TABLE t (x INT)']
    expect((await Promise.all([a.migrate(slow), b.migrate(slow)])).sort()).toEqual([0, 2])
  })

  it('applies the statement timeout knob', async () => {
    const db = await open(PG_URL, { statementTimeout: 200 })
    const started = performance.now()
    await expect(db.sql`SELECT pg_sleep(5)`).rejects.toThrow(/statement timeout/)
    expect(performance.now() - started).toBeLessThan(4_000)
  })
})

describe('@satellite/postgres errors never show the password', () => {
  const SECRET = 'Sup3r-s3cret-pw'

  it('wrong password on a server that asks for one: SAT_ERR_POSTGRES_CONNECT, redacted', async () => {
    const admin = await open(PG_URL)
    const role = `r_${process.pid}_${Date.now()}`
    await admin.sql.unsafe(`CREATE ROLE ${role} LOGIN PASSWORD 'right-one'`)
    // The cluster trusts every local connection: a wrong password would pass, so ask for a
    // database that does not exist, with a password in the URL.
    const u = new URL(PG_URL)
    u.username = role
    u.password = SECRET
    u.pathname = '/no_such_database'
    const err = await openPostgres(u.toString(), { connectTimeout: 2_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PostgresError)
    expect((err as PostgresError).code).toBe('SAT_ERR_POSTGRES_CONNECT')
    expect((err as Error).message).toMatch(/no_such_database/)
    expect((err as Error).message).toContain(':***@')
    expect(inspect(err, { depth: 10 })).not.toContain(SECRET)
    expect(JSON.stringify(err)).not.toContain(SECRET)
  })

  it('nothing listening: SAT_ERR_POSTGRES_CONNECT, redacted', async () => {
    const port = Number(new URL(PG_URL).port) + 1
    const url = `postgres://someone:${SECRET}@127.0.0.1:${port}/x`
    const err = await openPostgres(url, { connectTimeout: 1_000 }).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_POSTGRES_CONNECT')).toBe(true)
    expect(inspect(err, { depth: 10 })).not.toContain(SECRET)
  })

  it('an open handle does not show it when inspected', async () => {
    const u = new URL(PG_URL)
    u.password = SECRET
    const db = await open(u.toString())
    expect(db.url).toContain(':***@')
    expect(inspect(db, { depth: 10, showHidden: false })).not.toContain(SECRET)
    expect((await db.sql`SELECT 1 AS one`)[0]?.one).toBe(1)
  })
})
