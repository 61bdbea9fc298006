// The MucStore contract (packages/muc/test/store-contract.ts) against PostgresMucStore on a real
// PostgreSQL 15 (scripts/postgres, started by e2e/setup), each store in a schema of its own; then
// what only PostgreSQL has: instances sharing the database, and the archive insert rate next to
// SQLite's (printed, not asserted beyond completing).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteMucStore } from '@satellite/muc'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { MUC_POSTGRES_MIGRATIONS, PostgresMucStore } from '../../packages/muc/src/postgres-store.js'
import { message, storeContract } from '../../packages/muc/test/store-contract.js'

const PG_URL = inject('postgres').PG_URL as string
const opened: PostgresMucStore[] = []
afterAll(async () => {
  for (const s of opened) await s.close()
})

let schemas = 0
async function store(): Promise<PostgresMucStore> {
  const s = await PostgresMucStore.open(PG_URL, {
    schema: `muc_${process.pid}_${Date.now()}_${schemas++}`,
    max: 4,
  })
  opened.push(s)
  return s
}

storeContract('PostgresMucStore', store)

describe('PostgresMucStore', () => {
  it('records its migrations under the name muc', async () => {
    const s = await store()
    expect(await s.db.schemaVersion('muc')).toBe(MUC_POSTGRES_MIGRATIONS.length)
  })

  it('two instances on one schema see each other’s rooms, affiliations and archive', async () => {
    const schema = `shared_${process.pid}_${Date.now()}`
    const [a, b] = await Promise.all([
      PostgresMucStore.open(PG_URL, { schema }),
      PostgresMucStore.open(PG_URL, { schema }),
    ])
    opened.push(a, b)
    await a.saveRoom({
      jid: 'r@c',
      config: { persistent: true, nested: { x: [1, 'two'] } },
      subject: 's',
      created: 1,
    })
    await a.setAffiliation('r@c', 'alice@localhost', 'owner', 'founder')
    await a.append('r@c', message(1), 10)
    expect(await b.loadRoom('r@c')).toEqual({
      jid: 'r@c',
      config: { persistent: true, nested: { x: [1, 'two'] } },
      subject: 's',
      subjectNick: undefined,
      created: 1,
    })
    expect(await b.affiliations('r@c')).toEqual([
      { jid: 'alice@localhost', affiliation: 'owner', reason: 'founder' },
    ])
    await b.append('r@c', message(2), 10)
    expect((await a.query('r@c', { max: 5 }))?.messages.map((m) => m.id)).toEqual(['id-1', 'id-2'])
  })

  it('ignores a stanza-id archived twice in one room', async () => {
    const s = await store()
    await s.append('r@c', message(1), 10)
    await s.append('r@c', message(1), 10)
    expect((await s.query('r@c', { max: 5 }))?.count).toBe(1)
  })

  it('keeps ms timestamps beyond 32 bits exactly', async () => {
    const s = await store()
    const at = Date.UTC(2026, 11, 6, 12, 0, 0, 123)
    await s.append('r@c', message(1, 'alice', at), 10)
    await s.saveRoom({ jid: 'r@c', config: {}, subject: '', created: at })
    expect((await s.query('r@c', { max: 1, start: at, end: at }))?.messages[0]?.at).toBe(at)
    expect((await s.loadRoom('r@c'))?.created).toBe(at)
  })

  it('measures the archive insert rate against SQLite (10,000 messages)', async () => {
    const N = 10_000
    const messages = Array.from({ length: N }, (_, i) => message(i + 1))
    const pg = await store()
    let t = performance.now()
    for (const m of messages) await pg.append('bench@c', m, 100_000)
    const pgSerial = performance.now() - t
    const pg2 = await store()
    t = performance.now()
    // Eight appends in flight (as eight busy rooms would have): the pool's connections in use.
    for (let i = 0; i < N; i += 8) {
      await Promise.all(messages.slice(i, i + 8).map((m, k) => pg2.append(`bench${k}@c`, m, 100_000)))
    }
    const pgParallel = performance.now() - t
    const dir = mkdtempSync(join(tmpdir(), 'muc-bench-'))
    const sqlite = new SqliteMucStore({ path: join(dir, 'bench.db') })
    t = performance.now()
    for (const m of messages) sqlite.append('bench@c', m, 100_000)
    const sqliteMs = performance.now() - t
    expect(sqlite.query('bench@c', { max: 1 })?.count).toBe(N)
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
    expect((await pg.query('bench@c', { max: 1 }))?.count).toBe(N)
    expect((await pg2.query('bench0@c', { max: 1 }))?.count).toBe(N / 8)
    const rate = (ms: number) => Math.round((N / ms) * 1000)
    process.stderr.write(
      `archive insert rate, ${N} messages: PostgreSQL ${rate(pgSerial)}/s one at a time, ` +
        `${rate(pgParallel)}/s eight in flight; SQLite (a WAL file) ${rate(sqliteMs)}/s\n`,
    )
  })
})
