// A restart of one instance in a cluster without waiting for a lease to expire (docs/scaling.md,
// "A rolling restart"). The new process starts with the same CHATROOM_INSTANCE as the one it
// replaces. Before taking its lease it reads who holds its slot now: the old process of the same
// instance (its lease live), or a survivor that took the slot over after the instance died (the
// lease taken). Taking the lease (a new generation) makes the old process's lease lost and the
// survivor's claim stale; a NOTIFY on the lease table's channel tells them at once (they would
// find it on their next renewal or watch anyway, within ttl / 3). The old process stops and marks
// itself left; the survivor closes its stream for the slot and marks it left; either way the
// lease row's left_at is set, and the new process, polling it every 20 ms, connects only then: on
// ejabberd its connection takes the slot just freed (a connection made while every slot is
// taken would receive nothing and never take a slot that frees later). A newcomer (a new id) takes
// over, the same way, one slot a survivor holds for a dead instance (rebalancing).
import type { Component, ExtraStream } from '@satellite/core'
import { LEASE_MIGRATIONS, type Lease, migrate, type PostgresDb } from '@satellite/postgres'
import createDebug from 'debug'

const log: (formatter: string, ...args: unknown[]) => void = createDebug('satellite:chatroom:handover')

/** The PostgreSQL channel of handover requests (payload: `{"group":…,"instance":…}`). */
export const HANDOVER_CHANNEL = 'satellite_handover'
/** A payload longer than this is ignored (PostgreSQL caps payloads at 8,000 bytes). */
const MAX_PAYLOAD = 1000

/**
 * Who holds an instance's slot before its new process takes the lease: its old process, a survivor,
 * nobody (`undefined`: the lease expired or was given up), or the group has never seen the
 * instance (`new`: a newcomer, which may take a survivor's extra slot, {@link claimExtraSlot}).
 */
export type SlotHolder =
  | { kind: 'process'; instance: string }
  | { kind: 'survivor'; instance: string }
  | { kind: 'new' }
  | undefined

/** Reads who holds `instance`'s slot now (call it before taking the lease). */
export async function slotHolder(db: PostgresDb, group: string, instance: string): Promise<SlotHolder> {
  await migrate(db.sql, LEASE_MIGRATIONS, { name: 'leases' })
  const [row] = await db.sql<{ live: boolean; taken_by: string | null }[]>`
    SELECT expires_at > now() AS live, taken_by FROM satellite_leases
    WHERE grp = ${group} AND instance = ${instance}`
  if (row === undefined) return { kind: 'new' }
  if (row.taken_by !== null) return { kind: 'survivor', instance: row.taken_by }
  return row.live ? { kind: 'process', instance } : undefined
}

/** What {@link awaitSlot} saw. */
export interface SlotWait {
  /** True when the holder let the slot go; false: the wait timed out (the holder may be dead). */
  handed: boolean
  /** How long the wait took, in ms. */
  ms: number
}

/**
 * After taking the lease: tells the holder (NOTIFY), then waits until it has let the slot go (the
 * lease row's `left_at` set in this generation) or `timeout` ms have passed.
 */
export async function awaitSlot(db: PostgresDb, lease: Lease, timeout: number): Promise<SlotWait> {
  const started = performance.now()
  await db.sql.notify(HANDOVER_CHANNEL, JSON.stringify({ group: lease.group, instance: lease.instance }))
  while (performance.now() - started < timeout) {
    const [row] = await db.sql<{ left: boolean }[]>`
      SELECT left_at IS NOT NULL AS left FROM satellite_leases
      WHERE grp = ${lease.group} AND instance = ${lease.instance} AND generation = ${lease.generation}`
    if (row?.left === true) return { handed: true, ms: Math.round(performance.now() - started) }
    await new Promise((r) => setTimeout(r, 20))
  }
  return { handed: false, ms: Math.round(performance.now() - started) }
}

/**
 * Listens for handover requests in `group`: `onRequest(instance)` for each (a new process of
 * `instance` took its lease). Payloads are checked (size, JSON, types); others are ignored.
 * Resolves with a function that stops listening.
 */
export async function listenForHandovers(
  db: PostgresDb,
  group: string,
  onRequest: (instance: string) => void,
): Promise<() => Promise<void>> {
  const { unlisten } = await db.sql.listen(HANDOVER_CHANNEL, (payload) => {
    if (payload.length > MAX_PAYLOAD) return
    let message: unknown
    try {
      message = JSON.parse(payload)
    } catch {
      return
    }
    if (typeof message !== 'object' || message === null) return
    const { group: g, instance } = message as Record<string, unknown>
    if (g !== group || typeof instance !== 'string' || instance.length > 200) return
    log('handover request for %s in %s', instance, group)
    onRequest(instance)
  })
  return unlisten
}

/**
 * After this instance's lease was lost: whether a new process of the same instance took it (a
 * restart's handover: a later generation, not taken over by another instance).
 */
export async function replacedByNewProcess(db: PostgresDb, lease: Lease): Promise<boolean> {
  const [row] = await db.sql<{ generation: string; taken_by: string | null }[]>`
    SELECT generation, taken_by FROM satellite_leases WHERE grp = ${lease.group} AND instance = ${lease.instance}`
  return row !== undefined && row.taken_by === null && Number(row.generation) > lease.generation
}

/** A slot {@link claimExtraSlot} took: the dead instance whose slot it was, and the survivor that held it. */
export interface ExtraSlot {
  instance: string
  from: string
  generation: number
}

/**
 * Rebalancing for a newcomer (an instance id the group has never seen): takes over, from a live
 * survivor, one slot the survivor holds for a dead instance (that lease's `taken_by` set to this
 * instance, a new generation, unexpired for a ttl: no longer a candidate for other newcomers nor
 * for takeovers), so the survivor hands it over as to the dead instance's new process. At most one; undefined when no survivor holds an extra slot. Two newcomers at once get
 * different slots (`FOR UPDATE SKIP LOCKED`). A dead instance that had itself taken others over is
 * left alone (its slots stay with the survivor).
 */
export async function claimExtraSlot(db: PostgresDb, lease: Lease): Promise<ExtraSlot | undefined> {
  const [row] = await db.sql<{ instance: string; generation: string; from: string }[]>`
    WITH pick AS (
      SELECT d.instance, d.taken_by FROM satellite_leases d
      JOIN satellite_leases s ON s.grp = d.grp AND s.instance = d.taken_by
      WHERE d.grp = ${lease.group} AND d.taken_by IS NOT NULL AND d.taken_by <> ${lease.instance}
        AND d.instance <> ${lease.instance} AND d.expires_at <= now()
        AND s.taken_by IS NULL AND s.expires_at > now()
        AND NOT EXISTS (SELECT 1 FROM satellite_leases c WHERE c.grp = d.grp AND c.taken_by = d.instance)
      ORDER BY d.instance LIMIT 1 FOR UPDATE OF d SKIP LOCKED)
    UPDATE satellite_leases t SET taken_by = ${lease.instance}, generation = t.generation + 1, left_at = NULL,
      expires_at = now() + ${`${lease.ttl} milliseconds`}::interval
    FROM pick WHERE t.grp = ${lease.group} AND t.instance = pick.instance
    RETURNING t.instance, t.generation, pick.taken_by AS "from"`
  return row === undefined
    ? undefined
    : { instance: row.instance, from: row.from, generation: Number(row.generation) }
}

/**
 * After {@link claimExtraSlot}: tells the survivor (NOTIFY), waits until it has closed its stream for
 * the slot (the lease marked left in that generation) or `timeout` ms, then deletes that dead
 * instance's lease (this instance's own connection serves the slot from now on; a process of that
 * instance coming back later starts afresh).
 */
export async function awaitExtraSlot(
  db: PostgresDb,
  lease: Lease,
  slot: ExtraSlot,
  timeout: number,
): Promise<SlotWait> {
  const started = performance.now()
  await db.sql.notify(HANDOVER_CHANNEL, JSON.stringify({ group: lease.group, instance: slot.instance }))
  let handed = false
  while (!handed && performance.now() - started < timeout) {
    const [row] = await db.sql<{ left: boolean }[]>`
      SELECT left_at IS NOT NULL AS left FROM satellite_leases
      WHERE grp = ${lease.group} AND instance = ${slot.instance} AND generation = ${slot.generation}`
    handed = row?.left === true
    if (!handed) await new Promise((r) => setTimeout(r, 20))
  }
  await db.sql`
    DELETE FROM satellite_leases
    WHERE grp = ${lease.group} AND instance = ${slot.instance} AND taken_by = ${lease.instance}`
  return { handed, ms: Math.round(performance.now() - started) }
}

/** What {@link slotKeeper} needs of the cluster membership. */
export interface Claims {
  readonly lease: Lease
  /** The streams this instance opened for other instances' slots (joinCluster's `claimed`). */
  readonly claimed: ReadonlyMap<string, ExtraStream>
}

/** A survivor's side of a restart: see {@link slotKeeper}. */
export interface SlotKeeper {
  /** Streams opened for the slots the previous process of this instance had claimed. */
  readonly inherited: ReadonlyMap<string, ExtraStream>
  /** Opens a stream for each slot the previous process of this instance had claimed (after the handover). */
  inherit(): Promise<void>
  /** Hands over, now, each claimed slot that has a live owner again; resolves with their instances. */
  handBack(): Promise<string[]>
  /** Stops the periodic check. */
  stop(): void
}

/**
 * The slots this instance holds for others: `handBack()` closes the stream of each slot that has
 * a live owner again (a new process of its instance, or a newcomer that took its lease over) and
 * marks that lease left, so the new owner connects and takes the slot; it runs on a handover
 * request and every `ttl / 3` (a missed notification). `inherit()` re-claims, after a restart's
 * handover, the slots the previous process of this instance had taken over.
 */
export function slotKeeper(xmpp: Component, db: PostgresDb, claims: Claims): SlotKeeper {
  const { lease } = claims
  const inherited = new Map<string, ExtraStream>()
  const handedBack = new WeakSet<ExtraStream>()
  let running: Promise<string[]> | undefined
  const streamOf = (instance: string) => {
    const s = claims.claimed.get(instance) ?? inherited.get(instance)
    return s === undefined || handedBack.has(s) ? undefined : s
  }
  const check = async (): Promise<string[]> => {
    const mine = [...new Set([...claims.claimed.keys(), ...inherited.keys()])].filter((i) => streamOf(i))
    if (mine.length === 0) return []
    // A slot goes to a live owner other than this instance: a new process of its instance (the
    // lease held again, not taken), or a newcomer that took the lease over (its own lease live). A
    // lease still taken by a dead instance whose lease this one took over in turn stays ours.
    const rows = await db.sql<{ instance: string; generation: string; give: boolean }[]>`
      SELECT d.instance, d.generation,
        (d.taken_by IS NULL AND d.expires_at > now())
          OR (d.taken_by <> ${lease.instance} AND t.taken_by IS NULL AND t.expires_at > now()) AS give
      FROM satellite_leases d LEFT JOIN satellite_leases t ON t.grp = d.grp AND t.instance = d.taken_by
      WHERE d.grp = ${lease.group} AND d.instance IN ${db.sql(mine)}`
    const give = rows.filter((row) => row.give === true && streamOf(row.instance) !== undefined)
    if (give.length === 0) return []
    // Every stream closed before any lease is marked left: the new owner, on seeing its own lease
    // left, also re-claims the others it inherits (their slots must be free by then).
    await Promise.all(
      give.map((row) => {
        const stream = streamOf(row.instance) as ExtraStream
        handedBack.add(stream)
        inherited.delete(row.instance)
        return stream.close()
      }),
    )
    for (const row of give) {
      await db.sql`
        UPDATE satellite_leases SET left_at = now()
        WHERE grp = ${lease.group} AND instance = ${row.instance} AND generation = ${Number(row.generation)}`
      log('%s: handed the slot of %s over', lease.instance, row.instance)
    }
    return give.map((row) => row.instance)
  }
  const handBack = () => {
    running ??= check()
      .catch((err: Error) => {
        log('%s: handing back failed: %s', lease.instance, err.message)
        return []
      })
      .finally(() => {
        running = undefined
      })
    return running
  }
  const timer = setInterval(() => void handBack(), Math.max(100, Math.floor(lease.ttl / 3)))
  timer.unref()
  return {
    inherited,
    handBack,
    async inherit() {
      const rows = await db.sql<{ instance: string }[]>`
        SELECT instance FROM satellite_leases
        WHERE grp = ${lease.group} AND taken_by = ${lease.instance} AND instance <> ${lease.instance}`
      for (const { instance } of rows) {
        if (claims.claimed.has(instance) || inherited.has(instance)) continue
        log('%s: claiming again the slot of %s (taken by the previous process)', lease.instance, instance)
        const stream = xmpp.openStream()
        inherited.set(instance, stream)
        stream.start().catch((err: Error) => log('stream for %s: %s', instance, err.message))
      }
    },
    stop: () => clearInterval(timer),
  }
}
