// The chatroom's handover and rebalancing queries (examples/chatroom/src/handover.ts) on a real
// PostgreSQL 15: handover requests over NOTIFY with hostile payloads ignored, who holds a slot
// before a restart, and newcomers taking a survivor's extra slots (one each when they ask at once;
// never a slot of a dead survivor or of a dead instance that had taken others over).
import { Lease, openPostgres, type PostgresDb } from '@satellite/postgres'
import { afterAll, describe, expect, inject, it } from 'vitest'
import {
  claimExtraSlot,
  HANDOVER_CHANNEL,
  listenForHandovers,
  slotHolder,
} from '../../examples/chatroom/src/handover.js'

const PG_URL = inject('postgres').PG_URL as string
const GROUP = `handover-${process.pid}.localhost`
const opened: PostgresDb[] = []
const leases: Lease[] = []
afterAll(async () => {
  for (const l of leases) await l.release().catch(() => {})
  for (const db of opened) await db.close()
})

let n = 0
async function database(): Promise<PostgresDb> {
  const db = await openPostgres(PG_URL, { schema: `handover_${process.pid}_${Date.now()}_${n++}`, max: 4 })
  opened.push(db)
  return db
}
async function acquire(db: PostgresDb, instance: string, group = GROUP) {
  const lease = await Lease.acquire(db.sql, { group, instance, ttl: 60_000, heartbeat: false })
  leases.push(lease)
  return lease
}
/** A lease row as a dead instance leaves it: expired, maybe taken over by `takenBy`. */
async function dead(db: PostgresDb, instance: string, takenBy: string | null) {
  await db.sql`
    INSERT INTO satellite_leases (grp, instance, generation, expires_at, taken_by)
    VALUES (${GROUP}, ${instance}, 2, now() - interval '1 second', ${takenBy})`
}

describe('chatroom handover queries (PostgreSQL)', () => {
  it('a handover request reaches the listeners of its group; malformed, foreign or oversized payloads are ignored', async () => {
    const db = await database()
    const got: string[] = []
    const unlisten = await listenForHandovers(db, GROUP, (instance) => got.push(instance))
    try {
      for (const payload of [
        'not json',
        '"a string"',
        'null',
        JSON.stringify({ group: 'other.localhost', instance: 'x' }),
        JSON.stringify({ group: GROUP, instance: 5 }),
        JSON.stringify({ group: GROUP, instance: 'x'.repeat(201) }),
        JSON.stringify({ group: GROUP, instance: 'y', pad: 'z'.repeat(2000) }),
        JSON.stringify({ group: GROUP, instance: 'c2' }),
      ])
        await db.sql.notify(HANDOVER_CHANNEL, payload)
      await expect.poll(() => got.length).toBe(1)
      await new Promise((r) => setTimeout(r, 200))
      expect(got).toEqual(['c2'])
    } finally {
      await unlisten()
    }
  })

  it('slotHolder: a new id, a live old process, a survivor holding the slot, or nobody', async () => {
    const db = await database()
    expect(await slotHolder(db, GROUP, 'c1')).toEqual({ kind: 'new' })
    const c1 = await acquire(db, 'c1')
    expect(await slotHolder(db, GROUP, 'c1')).toEqual({ kind: 'process', instance: 'c1' })
    await dead(db, 'c2', 'c1')
    expect(await slotHolder(db, GROUP, 'c2')).toEqual({ kind: 'survivor', instance: 'c1' })
    await c1.release()
    expect(await slotHolder(db, GROUP, 'c1')).toBeUndefined()
  })

  it('newcomers asking at once each take a different extra slot of a live survivor; none of a dead survivor or of a chain', async () => {
    const db = await database()
    await acquire(db, 's')
    await dead(db, 'z1', 's')
    await dead(db, 'z2', 's')
    // x died after taking z3 over, then s took x over: x and z3 stay with s.
    await dead(db, 'x', 's')
    await dead(db, 'z3', 'x')
    // d took z4 over, then died itself (nobody took d over yet): z4's slot is free, not s's.
    await dead(db, 'd', null)
    await dead(db, 'z4', 'd')
    const [n1, n2, n3] = [await acquire(db, 'n1'), await acquire(db, 'n2'), await acquire(db, 'n3')]
    const [a, b] = await Promise.all([claimExtraSlot(db, n1), claimExtraSlot(db, n2)])
    expect([a?.instance, b?.instance].sort()).toEqual(['z1', 'z2'])
    expect([a?.from, b?.from]).toEqual(['s', 's'])
    expect(await claimExtraSlot(db, n3)).toBeUndefined()
    const rows = await db.sql<{ instance: string; taken_by: string | null; generation: string }[]>`
      SELECT instance, taken_by, generation FROM satellite_leases WHERE grp = ${GROUP} AND instance IN ('z1', 'z2')
      ORDER BY instance`
    expect(rows.map((r) => [r.instance, r.generation])).toEqual([
      ['z1', '3'],
      ['z2', '3'],
    ])
    expect(rows.map((r) => r.taken_by).sort()).toEqual(['n1', 'n2'])
  })
})
