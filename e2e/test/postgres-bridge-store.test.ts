// The BridgeStore contract (packages/bridge/test/store-contract.ts) against PostgresBridgeStore on a
// real PostgreSQL 15 (scripts/postgres, started by e2e/setup), each database a schema of its own;
// then what only PostgreSQL has: instances opening one database at once (the key check), sharing
// it, close() waiting for writes, the legacy-bridge example on it, and the id-map write rate.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { component, isSatelliteError } from '@satellite/core'
import { openPostgres, type PostgresDb } from '@satellite/postgres'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq } from '@satellite/test-support/component'
import { createServer } from '@satellite/testing'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { legacyBridge, openBridgeStore } from '../../examples/legacy-bridge/src/bot.js'
import { parseUsers, startNetwork } from '../../examples/legacy-bridge/src/network/server.js'
import { SqliteStore } from '../../packages/bridge/src/index.js'
import {
  BRIDGE_POSTGRES_MIGRATIONS,
  PostgresBridgeStore,
  type PostgresBridgeStoreOptions,
} from '../../packages/bridge/src/postgres-store.js'
import { type ContractDatabase, storeContract } from '../../packages/bridge/test/store-contract.js'

const PG_URL = inject('postgres').PG_URL as string
const KEY = Buffer.alloc(32, 7)
const opened: { close(): unknown }[] = []
afterAll(async () => {
  for (const s of opened) await s.close()
})

let schemas = 0
const schemaName = (what: string) => `bridge_${what}_${process.pid}_${Date.now()}_${schemas++}`

async function open(schema: string, options: Omit<PostgresBridgeStoreOptions, 'schema'>) {
  const s = await PostgresBridgeStore.open(PG_URL, { ...options, schema, max: 4 })
  opened.push(s)
  return s
}

async function database(): Promise<ContractDatabase> {
  const schema = schemaName('c')
  let raw: PostgresDb | undefined
  const sql = async () => {
    if (raw === undefined) {
      raw = await openPostgres(PG_URL, { schema, max: 1 })
      opened.push(raw)
    }
    return raw.sql
  }
  return {
    open: (options) => open(schema, options),
    stored: async (user) => {
      const [row] = await (await sql())`SELECT credentials FROM bridge_registrations WHERE jid = ${user}`
      return row?.credentials as string | undefined
    },
    setStored: async (user, text) => {
      await (await sql())`UPDATE bridge_registrations SET credentials = ${text} WHERE jid = ${user}`
    },
  }
}

storeContract('PostgresBridgeStore', database)

describe('PostgresBridgeStore', () => {
  it('records its migrations under the name bridge, next to other stores in one schema', async () => {
    const schema = schemaName('m')
    const s = await open(schema, { key: KEY })
    expect(await s.db.schemaVersion('bridge')).toBe(BRIDGE_POSTGRES_MIGRATIONS.length)
    const again = await open(schema, { key: KEY })
    expect(await again.db.migrate(BRIDGE_POSTGRES_MIGRATIONS, { name: 'bridge' })).toBe(0)
  })

  it('instances opening an empty database at once: with one key all open; with two keys only the winner’s key opens', async () => {
    for (let round = 0; round < 5; round++) {
      const same = schemaName('same')
      const four = await Promise.all([1, 2, 3, 4].map(() => open(same, { key: KEY })))
      await four[0]?.putRegistration('alice@localhost', { username: 'alice', password: 'pw' })
      for (const s of four)
        expect(await s.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })

      const mixed = schemaName('mixed')
      const keys = [KEY, Buffer.alloc(32, 9), KEY, Buffer.alloc(32, 9)]
      const results = await Promise.allSettled(keys.map((key) => open(mixed, { key })))
      const ok = results.filter((r) => r.status === 'fulfilled')
      const refused = results.filter((r) => r.status === 'rejected')
      expect(ok).toHaveLength(2) // the two with the winner's key
      expect(refused).toHaveLength(2)
      for (const r of refused) {
        expect(isSatelliteError(r.reason, 'SAT_ERR_BRIDGE_KEY')).toBe(true)
        expect(String(r.reason.message)).toMatch(/another BRIDGE_KEY/)
        expect(String(r.reason.message)).not.toContain(new URL(PG_URL).password || '\u0000')
      }
    }
  })

  it('two instances on one database see each other’s registrations, contacts and id maps', async () => {
    const schema = schemaName('shared')
    const [a, b] = await Promise.all([open(schema, { key: KEY }), open(schema, { key: KEY })])
    await a.putRegistration('alice@localhost', { username: 'alice', password: 'pw' })
    await a.putContact('alice@localhost', { legacyId: 'zed', name: 'Zed', subscribed: true })
    await a.putMessage('alice@localhost', { contact: 'zed', xmppId: 'x1', legacyId: 'L1' })
    expect(await b.users()).toEqual(['alice@localhost'])
    expect(await b.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })
    expect(await b.contacts('alice@localhost')).toEqual([{ legacyId: 'zed', name: 'Zed', subscribed: true }])
    expect(await b.xmppIdOf('alice@localhost', 'zed', 'L1')).toBe('x1')
    await b.removeUser('alice@localhost')
    expect(await a.counts('alice@localhost')).toEqual({ registrations: 0, contacts: 0, messages: 0 })
  })

  it('close() waits for the writes already called', async () => {
    const schema = schemaName('close')
    const first = await PostgresBridgeStore.open(PG_URL, { schema, key: KEY, max: 4 })
    const writes: Promise<void>[] = [first.putRegistration('alice@localhost', { username: 'alice' })]
    for (let i = 1; i <= 20; i++) {
      writes.push(first.putMessage('alice@localhost', { contact: 'zed', xmppId: `x${i}`, legacyId: `L${i}` }))
    }
    await first.close()
    expect((await Promise.allSettled(writes)).map((r) => r.status)).toEqual(Array(21).fill('fulfilled'))
    const second = await open(schema, { key: KEY })
    expect((await second.counts('alice@localhost')).messages).toBe(20)
  })

  it('an unreachable server: SAT_ERR_POSTGRES_CONNECT, the password not shown', async () => {
    const err = await PostgresBridgeStore.open('postgres://bridge:s3cret-pw@127.0.0.1:1/bridge', {
      key: KEY,
      connectTimeout: 1_000,
    }).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_POSTGRES_CONNECT')).toBe(true)
    expect((err as Error).message).not.toContain('s3cret-pw')
  })

  it('measures the id-map write rate against SQLite (5,000 messages, pruned to 1,000)', async () => {
    const N = 5_000
    const pg = await open(schemaName('bench'), { key: KEY, maxMessages: 1_000 })
    await pg.putRegistration('alice@localhost', { username: 'alice' })
    let t = performance.now()
    for (let i = 0; i < N; i++) {
      await pg.putMessage('alice@localhost', { contact: 'zed', xmppId: `x${i}`, legacyId: `L${i}` })
    }
    const pgSerial = performance.now() - t
    const users = Array.from({ length: 8 }, (_, k) => `u${k}@localhost`)
    for (const u of users) await pg.putRegistration(u, { username: u })
    t = performance.now()
    for (let i = 0; i < N; i += 8) {
      await Promise.all(
        users.map((u, k) => pg.putMessage(u, { contact: 'zed', xmppId: `x${i + k}`, legacyId: `L${i}` })),
      )
    }
    const pgParallel = performance.now() - t
    const dir = mkdtempSync(join(tmpdir(), 'bridge-bench-'))
    const sqlite = new SqliteStore({ path: join(dir, 'bench.db'), key: KEY, maxMessages: 1_000 })
    sqlite.putRegistration('alice@localhost', { username: 'alice' })
    t = performance.now()
    for (let i = 0; i < N; i++)
      sqlite.putMessage('alice@localhost', { contact: 'zed', xmppId: `x${i}`, legacyId: `L${i}` })
    const sqliteMs = performance.now() - t
    expect(sqlite.counts('alice@localhost').messages).toBeLessThanOrEqual(1_010)
    sqlite.close()
    rmSync(dir, { recursive: true, force: true })
    expect((await pg.counts('alice@localhost')).messages).toBeLessThanOrEqual(1_010)
    expect(await pg.xmppIdOf('alice@localhost', 'zed', `L${N - 1}`)).toBe(`x${N - 1}`)
    const rate = (ms: number) => Math.round((N / ms) * 1000)
    process.stderr.write(
      `bridge id-map write rate, ${N} messages (kept 1,000): PostgreSQL ${rate(pgSerial)}/s one at a time, ` +
        `${rate(pgParallel)}/s eight users in flight; SQLite (a WAL file) ${rate(sqliteMs)}/s\n`,
    )
  })
})

describe('examples/legacy-bridge on PostgreSQL', () => {
  it('BRIDGE_DB=postgres://…: a registration through the bridge is in the database; another instance reads her credentials from it', async () => {
    const schema = schemaName('example')
    const store = await openBridgeStore(PG_URL, KEY, { schema })
    opened.push(store)
    expect(store.constructor.name).toBe('PostgresBridgeStore')
    const net = await startNetwork({ port: 0, users: parseUsers('alice:pw,zed:pw2') })
    afterTest(() => net.close())
    const srv = await createServer({ components: { 'bridge.localhost': 'secret' } })
    afterTest(() => srv.close())
    const xmpp = component({ service: srv.url, domain: 'bridge.localhost', secret: 'secret' })
    const gw = legacyBridge(xmpp, { legacyPort: net.port, store })
    afterTest(() => xmpp.stop())
    afterTest(() => gw.close())
    await xmpp.start()
    const alice = srv.client('alice@localhost/phone')
    const answer = await alice.request(registerIq('bridge.localhost', 'alice', 'pw'))
    expect(answer.attrs.type).toBe('result')
    await expect
      .poll(async () => (await store.contacts('alice@localhost')).map((c) => c.legacyId))
      .toContain('zed')

    // Another instance (a store of its own on the same database) finds her credentials.
    const other = await openBridgeStore(PG_URL, KEY, { schema })
    opened.push(other)
    expect(await other.users()).toEqual(['alice@localhost'])
    expect(await other.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })
    const refused = await openBridgeStore(PG_URL, Buffer.alloc(32, 1), { schema }).catch((e: unknown) => e)
    // Loaded from the built @satellite/bridge/postgres (its own error classes): told by the code.
    expect((refused as { code?: string }).code).toBe('SAT_ERR_BRIDGE_KEY')
  })
})
