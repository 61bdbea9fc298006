// PostgresMucStore fenced by a Lease (docs/scaling.md, "Fencing") on a real PostgreSQL 15: every
// write checks the lease in its transaction, so a write from an instance whose lease was taken over
// (or re-acquired by a new process of the instance) is rolled back with SAT_ERR_POSTGRES_LEASE, also
// one already in flight or queued when the lease changed hands; the engine reports it as
// SAT_ERR_MUC_STORE. The MucStore contract with a fence that stays valid; the cost measured.
import { MucError } from '@satellite/muc'
import { Lease, type PostgresDb } from '@satellite/postgres'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { PostgresMucStore } from '../../packages/muc/src/postgres-store.js'
import { groupchat, join, nextStanzas, ROOM, setup } from '../../packages/muc/test/helpers.js'
import { message, storeContract } from '../../packages/muc/test/store-contract.js'

const PG_URL = inject('postgres').PG_URL as string
const GROUP = 'chat.localhost'
const opened: PostgresMucStore[] = []
const leases: Lease[] = []
afterAll(async () => {
  for (const l of leases) await l.release().catch(() => {})
  for (const s of opened) await s.close()
})

let schemas = 0
async function store(): Promise<PostgresMucStore> {
  const s = await PostgresMucStore.open(PG_URL, {
    schema: `muc_fence_${process.pid}_${Date.now()}_${schemas++}`,
    max: 4,
  })
  opened.push(s)
  return s
}
async function acquire(
  db: PostgresDb,
  instance: string,
  extra: Partial<Parameters<typeof Lease.acquire>[1]> = {},
) {
  const lease = await Lease.acquire(db.sql, { group: GROUP, instance, ttl: 1000, ...extra })
  leases.push(lease)
  return lease
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const LEASE_ERROR = { code: 'SAT_ERR_POSTGRES_LEASE' }
const room = (subject: string) => ({ jid: 'r@c', config: { persistent: true }, subject, created: 1 })

/** The room, its affiliations and its archive's ids, as the database holds them. */
async function snapshot(s: PostgresMucStore) {
  return {
    room: await s.loadRoom('r@c'),
    affiliations: await s.affiliations('r@c'),
    archive: (await s.query('r@c', { max: 50 }))?.messages.map((m) => m.id),
  }
}

/** Every kind of write, called at once (queued one after another on the room's queue). */
function everyWrite(s: PostgresMucStore): Promise<unknown>[] {
  return [
    Promise.resolve(s.saveRoom(room('stale'))),
    Promise.resolve(s.setAffiliation('r@c', 'mallory@localhost', 'owner')),
    Promise.resolve(s.setAffiliation('r@c', 'alice@localhost', 'none')),
    Promise.resolve(s.append('r@c', message(2), 1)), // keep 1: with a trim
    Promise.resolve(s.prune({ keep: 0 })),
    Promise.resolve(s.deleteRoom('r@c')),
  ]
}

storeContract('PostgresMucStore fenced by a valid lease', async () => {
  const s = await store()
  s.fence(await acquire(s.db, `contract-${schemas}`, { ttl: 60_000 }))
  return s
})

describe('PostgresMucStore fenced by a lease', () => {
  it('refuses every write once another instance took the lease over; the rows are unchanged; unfenced it writes again', async () => {
    const s = await store()
    let clock = 0
    // No heartbeat, a clock that moves only when the test says: a paused instance.
    const a = await acquire(s.db, 'a', { heartbeat: false, now: () => clock })
    const b = await acquire(s.db, 'b', { ttl: 60_000 })
    s.fence(a)
    expect(s.fenced).toBe(true)
    await s.saveRoom(room('fresh'))
    await s.setAffiliation('r@c', 'alice@localhost', 'owner')
    await s.append('r@c', message(1), 10)
    const before = await snapshot(s)
    expect(before).toEqual({
      room: { ...room('fresh'), subjectNick: undefined },
      affiliations: [{ jid: 'alice@localhost', affiliation: 'owner' }],
      archive: ['id-1'],
    })
    await sleep(1100) // a's lease expires in the database; b takes it over
    clock += 1100
    const row = (await b.peers()).find((p) => p.instance === 'a')
    expect(await b.takeOver(row as { instance: string; generation: number })).toBe(true)
    const results = await Promise.allSettled(everyWrite(s))
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('rejected'))
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject(LEASE_ERROR)
    expect(await snapshot(s)).toEqual(before)
    // The same store unfenced (as without a cluster): its writes land.
    s.fence(undefined)
    expect(s.fenced).toBe(false)
    await s.saveRoom(room('unfenced'))
    expect((await s.loadRoom('r@c'))?.subject).toBe('unfenced')
  })

  it('a write in flight when the lease changes hands (its check waiting on the new holder’s lock) and the writes queued behind it are rolled back', async () => {
    const s = await store()
    const a = await acquire(s.db, 'a', { ttl: 60_000 })
    s.fence(a)
    await s.saveRoom(room('fresh'))
    await s.append('r@c', message(1), 10)
    const before = await snapshot(s)
    // The lease changes hands without a handover window (a new generation, as a takeover or a new
    // process that ended the handover make it), inside a transaction held open: its row lock on the
    // lease while the writes start.
    const taker = await s.db.sql.reserve()
    try {
      await taker`BEGIN`
      const taken = await taker`UPDATE satellite_leases SET generation = generation + 1
        WHERE grp = ${GROUP} AND instance = 'a' RETURNING 1`
      expect(taken).toHaveLength(1)
      const writes = everyWrite(s)
      for (const w of writes) w.catch(() => {})
      // The first write is in flight: its lease check waits for the new holder's lock.
      await expect
        .poll(
          async () =>
            // (From another connection: the taker's transaction would see a cached snapshot.)
            (
              await s.db.sql`SELECT count(*)::int AS n FROM pg_stat_activity
                WHERE wait_event_type = 'Lock' AND query LIKE '%satellite_lease%' AND pid <> pg_backend_pid()`
            )[0]?.n,
        )
        .toBeGreaterThanOrEqual(1)
      await taker`COMMIT`
      const results = await Promise.allSettled(writes)
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('rejected'))
      for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject(LEASE_ERROR)
    } finally {
      taker.release()
    }
    expect(await snapshot(s)).toEqual(before)
  })

  it('a write whose check passed before the lease changes hands lands first: the change of hands waits for it', async () => {
    const s = await store()
    s.fence(await acquire(s.db, 'a', { ttl: 60_000 }))
    await s.saveRoom(room('fresh'))
    const waiting = async (like: string) =>
      (
        await s.db.sql`SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE wait_event_type = 'Lock' AND query LIKE ${like} AND pid <> pg_backend_pid()`
      )[0]?.n
    // Another transaction holds the room's row: the next save passes its check, then waits for it.
    const blocker = await s.db.sql.reserve()
    try {
      await blocker`BEGIN`
      await blocker`SELECT 1 FROM muc_rooms WHERE jid = 'r@c' FOR UPDATE`
      const save = Promise.resolve(s.saveRoom(room('passed')))
      await expect.poll(() => waiting('%INSERT INTO muc_rooms%')).toBe(1)
      // The lease changes hands meanwhile (a new generation): it waits for the save's share lock.
      const bump = s.db.sql`UPDATE satellite_leases SET generation = generation + 1
        WHERE grp = ${GROUP} AND instance = 'a'`.execute()
      await expect.poll(() => waiting('%UPDATE satellite_leases%')).toBe(1)
      await blocker`COMMIT`
      await expect(save).resolves.toBeUndefined()
      await bump
    } finally {
      blocker.release()
    }
    expect((await s.loadRoom('r@c'))?.subject).toBe('passed')
    await expect(s.saveRoom(room('after'))).rejects.toMatchObject(LEASE_ERROR)
  })

  it('a new process of the same instance (a new generation): the old process’s last writes land until it lets go or the handover ends, then they are refused', async () => {
    const old = await store()
    const oldLease = await acquire(old.db, 'a', { ttl: 60_000 })
    old.fence(oldLease)
    await old.saveRoom(room('old'))
    const fresh = new PostgresMucStore(old.db) // the new process's store on the same database
    const freshLease = await acquire(old.db, 'a', { ttl: 60_000 })
    fresh.fence(freshLease)
    expect(freshLease.generation).toBe(oldLease.generation + 1)
    // The handover: the old process drains its last writes (acknowledged before it stopped serving).
    await old.append('r@c', message(1), 10)
    await oldLease.markLeft() // it has let go
    await expect(old.saveRoom(room('stale'))).rejects.toMatchObject(LEASE_ERROR)
    await expect(old.append('r@c', message(2), 10)).rejects.toMatchObject(LEASE_ERROR)
    await fresh.saveRoom(room('new'))
    await fresh.append('r@c', message(3), 10)
    expect((await old.loadRoom('r@c'))?.subject).toBe('new') // reads are not fenced
    expect((await old.query('r@c', { max: 5 }))?.messages.map((m) => m.id)).toEqual(['id-1', 'id-3'])

    // Another restart whose old process does not let go (paused): the new one ends the handover.
    const third = new PostgresMucStore(old.db)
    const thirdLease = await acquire(old.db, 'a', { ttl: 60_000 })
    third.fence(thirdLease)
    await fresh.saveRoom(room('draining')) // accepted: the handover is not over
    await thirdLease.endHandover()
    expect(freshLease.valid).toBe(true) // its local view does not know yet: only the store's check does
    await expect(fresh.saveRoom(room('stale'))).rejects.toMatchObject(LEASE_ERROR)
    await third.saveRoom(room('third'))
    expect((await old.loadRoom('r@c'))?.subject).toBe('third')
  })

  it('the engine reports a refused write as SAT_ERR_MUC_STORE (its cause SAT_ERR_POSTGRES_LEASE)', async () => {
    const s = await store()
    s.fence(await acquire(s.db, 'a', { ttl: 60_000 }))
    const { xmpp, service, client } = await setup({ store: s, defaults: { persistent: true } })
    const errors: unknown[] = []
    xmpp.on('error', (err) => errors.push(err))
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(groupchat('kept'))
    await nextStanzas(alice, 1, a0)
    await expect.poll(async () => (await s.query(ROOM, { max: 10 }))?.count).toBe(1)
    // A new process of the instance took the lease, and did not wait for this one to let go.
    await (await acquire(s.db, 'a', { ttl: 60_000 })).endHandover()
    alice.send(groupchat('refused'))
    await nextStanzas(alice, 1, a0 + 1)
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]).toBeInstanceOf(MucError)
    expect(errors[0]).toMatchObject({ code: 'SAT_ERR_MUC_STORE', cause: LEASE_ERROR })
    expect((await s.query(ROOM, { max: 10 }))?.messages.map((m) => m.message.getChildText('body'))).toEqual([
      'kept',
    ])
    service.close()
  })

  it('measures the cost: writes/s with and without the fence', async () => {
    const N = 2000
    const messages = Array.from({ length: N }, (_, i) => message(i + 1))
    const rate = (ms: number) => Math.round((N / ms) * 1000)
    const run = async (s: PostgresMucStore, parallel: boolean) => {
      const t = performance.now()
      if (parallel) {
        for (let i = 0; i < N; i += 8) {
          await Promise.all(messages.slice(i, i + 8).map((m, k) => s.append(`bench${k}@c`, m, 100_000)))
        }
      } else for (const m of messages) await s.append('bench@c', m, 100_000)
      return rate(performance.now() - t)
    }
    const plain = await store()
    const fenced = await store()
    fenced.fence(await acquire(fenced.db, 'bench', { ttl: 60_000 }))
    // Warm-up (connections opened, statements prepared), then each measured twice, interleaved.
    await run(plain, true)
    await run(fenced, true)
    const serial = { plain: [] as number[], fenced: [] as number[] }
    const parallel = { plain: [] as number[], fenced: [] as number[] }
    for (let i = 0; i < 2; i++) {
      serial.plain.push(await run(plain, false))
      serial.fenced.push(await run(fenced, false))
      parallel.plain.push(await run(plain, true))
      parallel.fenced.push(await run(fenced, true))
    }
    expect((await fenced.query('bench@c', { max: 1 }))?.count).toBe(N)
    const best = (xs: number[]) => Math.max(...xs)
    process.stderr.write(
      `archive appends/s, ${N} messages: one at a time ${best(serial.plain)} unfenced, ` +
        `${best(serial.fenced)} fenced; eight in flight ${best(parallel.plain)} unfenced, ${best(parallel.fenced)} fenced\n`,
    )
  })
})
