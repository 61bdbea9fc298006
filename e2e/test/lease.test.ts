// Leases in PostgreSQL (@satellite/postgres Lease) on a real PostgreSQL 15: heartbeats, expiry
// by the database's clock, one winner among survivors taking a dead lease over, the local fence
// of a paused holder, and writes fenced in a transaction.
import { Lease, openPostgres, type PostgresDb } from '@satellite/postgres'
import { afterAll, describe, expect, inject, it } from 'vitest'

const PG_URL = inject('postgres').PG_URL as string
const opened: PostgresDb[] = []
const leases: Lease[] = []
afterAll(async () => {
  for (const l of leases) await l.release().catch(() => {})
  for (const db of opened) await db.close()
})

let n = 0
async function database(): Promise<PostgresDb> {
  const db = await openPostgres(PG_URL, { schema: `lease_${process.pid}_${Date.now()}_${n++}`, max: 4 })
  opened.push(db)
  return db
}
async function acquire(
  db: PostgresDb,
  instance: string,
  extra: Partial<Parameters<typeof Lease.acquire>[1]> = {},
) {
  const lease = await Lease.acquire(db.sql, { group: 'chat.localhost', instance, ttl: 1000, ...extra })
  leases.push(lease)
  return lease
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe('Lease (PostgreSQL)', () => {
  it('instances hold leases renewed by their heartbeat; peers lists them; a restart takes a new generation', async () => {
    const db = await database()
    const a = await acquire(db, 'a', { renewEvery: 200 })
    const b = await acquire(db, 'b', { renewEvery: 200 })
    expect([a.valid, b.valid, a.generation]).toEqual([true, true, 1])
    await sleep(1300) // past the ttl: only the heartbeat keeps them
    expect([a.valid, b.valid]).toEqual([true, true])
    expect(await a.peers()).toEqual([
      { instance: 'a', generation: 1, expired: false, takenBy: null, leftAt: null },
      { instance: 'b', generation: 1, expired: false, takenBy: null, leftAt: null },
    ])
    await b.release()
    expect((await a.peers())[1]).toMatchObject({ instance: 'b', expired: true })
    const again = await acquire(db, 'b')
    expect(again.generation).toBe(2)
  })

  it('a paused holder: its local fence closes before the database gives the lease away; one survivor of two takes it over; the holder then finds it lost and its fenced writes fail', async () => {
    const db = await database()
    let clock = 0
    // No heartbeat and a clock that only moves when the test says: the holder is "paused".
    const paused = await acquire(db, 'paused', { heartbeat: false, now: () => clock })
    const b = await acquire(db, 'b', { renewEvery: 200 })
    const c = await acquire(db, 'c', { renewEvery: 200 })
    expect(paused.valid).toBe(true)
    clock += 1000 // the paused process wakes up: a ttl has passed on its own clock
    expect(paused.valid).toBe(false)
    const row = (await b.peers()).find((p) => p.instance === 'paused')
    expect(row?.expired).toBe(false) // the database has not given it away yet (its clock started later)
    expect(await b.takeOver(row as { instance: string; generation: number })).toBe(false)
    await sleep(1100)
    const dead = (await b.peers()).find((p) => p.instance === 'paused') as {
      instance: string
      generation: number
    }
    const [byB, byC] = await Promise.all([b.takeOver(dead), c.takeOver(dead)])
    expect([byB, byC].filter(Boolean)).toHaveLength(1)
    expect((await b.peers()).find((p) => p.instance === 'paused')).toMatchObject({
      generation: 2,
      takenBy: byB ? 'b' : 'c',
    })
    const lost: string[] = []
    paused.on('lost', (r) => lost.push(r))
    expect(await paused.renew()).toBe(false)
    expect(paused.state.kind).toBe('lost')
    expect(lost).toHaveLength(1)
    await expect(db.sql.begin((tx) => paused.check(tx))).rejects.toMatchObject({
      code: 'SAT_ERR_POSTGRES_LEASE',
    })
    await expect(db.sql.begin((tx) => b.check(tx))).resolves.toBeUndefined()
    // The lost instance closes its connections and says so; a restart of it starts clean.
    expect((await b.peers()).find((p) => p.instance === 'paused')?.leftAt).toBeNull()
    await paused.markLeft()
    expect((await b.peers()).find((p) => p.instance === 'paused')?.leftAt).toEqual(expect.any(Number))
    const restarted = await acquire(db, 'paused')
    expect(restarted.generation).toBe(3)
    expect((await b.peers()).find((p) => p.instance === 'paused')).toMatchObject({
      leftAt: null,
      takenBy: null,
      expired: false,
    })
  })

  it('bad options are SAT_ERR_CONFIG', async () => {
    const db = await database()
    await expect(Lease.acquire(db.sql, { group: 'has space' })).rejects.toThrow(/lease\.group/)
    await expect(Lease.acquire(db.sql, { group: 'g', ttl: 10 })).rejects.toThrow(/lease\.ttl/)
    await expect(Lease.acquire(db.sql, { group: 'g', ttl: 5000, renewEvery: 5000 })).rejects.toThrow(
      /lease\.renewEvery/,
    )
  })
})
