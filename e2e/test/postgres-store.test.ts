// The MucStore contract (packages/muc/test/store-contract.ts) against PostgresMucStore on a real
// PostgreSQL 15 (scripts/postgres, started by e2e/setup), each store in a schema of its own; then
// what only PostgreSQL has: instances sharing the database, and the archive insert rate next to
// SQLite's (printed, not asserted beyond completing).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { xml } from '@satellite/core'
import { muc, SqliteMucStore } from '@satellite/muc'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { MUC_POSTGRES_MIGRATIONS, PostgresMucStore } from '../../packages/muc/src/postgres-store.js'
import { brief, groupchat, join, nextStanzas, ROOM, setup } from '../../packages/muc/test/helpers.js'
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

  it('serves the engine: a persistent room comes back after a restart, from another instance', async () => {
    const schema = `restart_${process.pid}_${Date.now()}`
    const first = await PostgresMucStore.open(PG_URL, { schema })
    opened.push(first)
    const { xmpp, service, client } = await setup({ store: first, defaults: { persistent: true } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'Plans')))
    alice.send(groupchat('one'))
    alice.send(groupchat('two'))
    await nextStanzas(alice, 3, a0)
    // The archive is written asynchronously: wait until both messages are in the database.
    await expect.poll(async () => (await first.query(ROOM, { max: 10 }))?.count).toBe(2)
    service.close()
    await first.close()

    // Another store on the same database (as another instance would open it): loaded on the first stanza.
    const second = await PostgresMucStore.open(PG_URL, { schema })
    opened.push(second)
    const again = muc(xmpp, { store: second, defaults: { persistent: false } })
    expect(again.size).toBe(0)
    const got = await join(client('bob@localhost/pc'), ROOM, 'bob')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/bob [110]`,
      `message groupchat ${ROOM}/Alice delayed one`,
      `message groupchat ${ROOM}/Alice delayed two`,
      `message groupchat ${ROOM}/Alice subject`,
    ])
    expect(await second.affiliations(ROOM)).toEqual([{ jid: 'alice@localhost', affiliation: 'owner' }])
    again.close()
  })

  it('close() waits for the writes already called (the engine does not await its archive writes)', async () => {
    const schema = `muc_close_${process.pid}_${Date.now()}`
    const first = await PostgresMucStore.open(PG_URL, { schema, max: 4 })
    const writes: Promise<void>[] = []
    for (let i = 1; i <= 20; i++) writes.push(Promise.resolve(first.append('r@c', message(i), 100)))
    await first.close()
    expect((await Promise.allSettled(writes)).map((r) => r.status)).toEqual(Array(20).fill('fulfilled'))
    const second = await PostgresMucStore.open(PG_URL, { schema, max: 4 })
    opened.push(second)
    expect((await second.query('r@c', { max: 50 }))?.count).toBe(20)
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
    const dir = mkdtempSync(joinPath(tmpdir(), 'muc-bench-'))
    const sqlite = new SqliteMucStore({ path: joinPath(dir, 'bench.db') })
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
