// Leases in PostgreSQL: each instance of a service holds one, renewed by a heartbeat; a lease
// that was not renewed in time expires (by the database's clock), and exactly one survivor can
// take it over (a conditional UPDATE), which bumps its generation. The holder's own view is
// fenced by its local monotonic clock: `valid` turns false `ttl` after the start of the last
// renewal that succeeded, before the database can give the lease away, so an instance that was
// paused (SIGSTOP, a long GC, a VM migration) knows on waking that it must not act on what it
// holds. Writes that must never come from a stale holder check the lease in their transaction
// (`check(tx)`). See docs/scaling.md.
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { numberOption, optionError } from '@satellite/core'
import type postgres from 'postgres'
import { migrate, type Sql, type TransactionSql } from './database.js'
import { PostgresError, PostgresErrorCodes } from './errors.js'

/** The SQLSTATE `satellite_lease_check()` raises when the lease is not held. */
const LEASE_SQLSTATE = 'SATLS'

/** The lease table (migrations named `leases`). */
export const LEASE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE satellite_leases (grp TEXT NOT NULL, instance TEXT NOT NULL, generation BIGINT NOT NULL,
     expires_at TIMESTAMPTZ NOT NULL, taken_by TEXT, PRIMARY KEY (grp, instance))`,
  // When an instance that lost its lease has closed its connections (markLeft()).
  'ALTER TABLE satellite_leases ADD COLUMN left_at TIMESTAMPTZ',
  // Lease.check: the lease's row share-locked (a takeover waits for the transaction, or the check
  // waits for the takeover and then fails), or an error that aborts the transaction.
  `CREATE FUNCTION satellite_lease_check(g TEXT, i TEXT, gen BIGINT) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM 1 FROM satellite_leases WHERE grp = g AND instance = i AND generation = gen
       AND taken_by IS NULL AND expires_at > now() FOR SHARE;
     IF NOT FOUND THEN
       RAISE EXCEPTION 'the lease of % in % (generation %) is not held', i, g, gen USING ERRCODE = '${LEASE_SQLSTATE}';
     END IF;
   END $$`,
  // A restart's handover: the generation a new process of the instance took the lease from while
  // it was live; its old process may still write (its last writes, draining) until it has let go
  // (left_at) or the new process ends the handover (Lease.endHandover).
  `ALTER TABLE satellite_leases ADD COLUMN handing_over BIGINT;
   CREATE OR REPLACE FUNCTION satellite_lease_check(g TEXT, i TEXT, gen BIGINT) RETURNS void LANGUAGE plpgsql AS $$
   BEGIN
     PERFORM 1 FROM satellite_leases WHERE grp = g AND instance = i AND ((generation = gen
       AND taken_by IS NULL AND expires_at > now()) OR (handing_over = gen AND left_at IS NULL)) FOR SHARE;
     IF NOT FOUND THEN
       RAISE EXCEPTION 'the lease of % in % (generation %) is not held', i, g, gen USING ERRCODE = '${LEASE_SQLSTATE}';
     END IF;
   END $$`,
]

/**
 * Options of {@link Lease.acquire}.
 *
 * @example
 * ```ts
 * const options: LeaseOptions = { group: 'chat.example.org', ttl: 15_000 }
 * ```
 */
export interface LeaseOptions {
  /** What the instances share (e.g. the component domain); 1 to 200 characters. */
  group: string
  /** This instance's id (default: a random UUID); 1 to 200 characters. */
  instance?: string
  /** How long a renewal keeps the lease, in ms (default 3,000; at least 1,000). */
  ttl?: number
  /** How often the heartbeat renews, in ms (default ttl / 3; less than ttl). */
  renewEvery?: number
  /** Renew on a timer every `renewEvery` (default true); false: the caller calls `renew()` itself. */
  heartbeat?: boolean
  /** A monotonic clock in ms (default `performance.now`), for tests. */
  now?: () => number
}

/**
 * A lease of the group as {@link Lease.peers} lists it.
 *
 * @example
 * ```ts
 * const dead = (await lease.peers()).filter((p: LeaseRow) => p.expired && p.takenBy === null)
 * ```
 */
export interface LeaseRow {
  instance: string
  generation: number
  /** By the database's clock. */
  expired: boolean
  /** The instance that took it over, if one did. */
  takenBy: string | null
  /**
   * When the instance said it had closed its connections after losing its lease (ms since the
   * epoch, the database's clock), or null: the holder of the takeover may now reconnect a stream
   * that landed as a spare while the lost instance still held its slot.
   */
  leftAt: number | null
}

/**
 * The lease's state: `held` (renewed; valid until `validUntil` on the local monotonic clock),
 * `lost` (expired or taken over: the instance must stop acting on what it holds), `released`.
 *
 * @example
 * ```ts
 * if (lease.state.kind === 'lost') console.error(lease.state.reason)
 * ```
 */
export type LeaseState =
  | { kind: 'held'; generation: number; validUntil: number }
  | { kind: 'lost'; generation: number; reason: string }
  | { kind: 'released' }

/**
 * Events of a {@link Lease}.
 *
 * @example
 * ```ts
 * lease.on('lost', (reason) => { console.error(reason); process.exit(1) })
 * ```
 */
export interface LeaseEvents {
  /** The lease was lost: a renewal found it expired or taken over. */
  lost: [reason: string]
  /** A renewal failed for another reason (the database unreachable); the lease may still be held. */
  error: [err: Error]
}

const NAME = /^[\x21-\x7e]{1,200}$/

/**
 * One instance's lease in a group. See the module comment and docs/scaling.md.
 *
 * @example
 * ```ts
 * const lease = await Lease.acquire(db.sql, { group: 'chat.example.org' })
 * for (const p of await lease.peers()) if (p.expired && p.takenBy === null && (await lease.takeOver(p))) claimSlotOf(p)
 * await lease.release()
 * ```
 */
export class Lease extends EventEmitter<LeaseEvents> {
  state: LeaseState
  readonly group: string
  readonly instance: string
  readonly ttl: number
  readonly #sql: Sql
  readonly #now: () => number
  readonly #timer: NodeJS.Timeout | undefined

  private constructor(sql: Sql, o: Required<LeaseOptions>, generation: number, started: number) {
    super()
    this.#sql = sql
    this.group = o.group
    this.instance = o.instance
    this.ttl = o.ttl
    this.#now = o.now
    this.state = { kind: 'held', generation, validUntil: started + o.ttl }
    this.#timer = o.heartbeat ? setInterval(() => void this.renew(), o.renewEvery) : undefined
    this.#timer?.unref()
  }

  /**
   * Takes this instance's lease in the group (a new generation if it had one: a restart), with
   * the table created if needed, and starts the heartbeat.
   */
  static async acquire(sql: Sql, options: LeaseOptions): Promise<Lease> {
    const o = leaseOptions(options)
    await migrate(sql, LEASE_MIGRATIONS, { name: 'leases' })
    const started = o.now()
    const [row] = await sql<{ generation: string }[]>`
      INSERT INTO satellite_leases (grp, instance, generation, expires_at)
      VALUES (${o.group}, ${o.instance}, 1, now() + ${`${o.ttl} milliseconds`}::interval)
      ON CONFLICT (grp, instance) DO UPDATE SET generation = satellite_leases.generation + 1,
        expires_at = excluded.expires_at, taken_by = NULL, left_at = NULL,
        handing_over = CASE WHEN satellite_leases.taken_by IS NULL AND satellite_leases.expires_at > now()
          THEN satellite_leases.generation END
      RETURNING generation`
    return new Lease(sql, o, Number(row?.generation), started)
  }

  /** The generation held (or last held). */
  get generation(): number {
    return this.state.kind === 'released' ? 0 : this.state.generation
  }

  /** True while the lease is held and its last renewal is younger than `ttl` by the local clock. */
  get valid(): boolean {
    return this.state.kind === 'held' && this.#now() < this.state.validUntil
  }

  /** Renews now (the heartbeat calls it); resolves to whether the lease is still held. */
  async renew(): Promise<boolean> {
    const s = this.state
    if (s.kind !== 'held') return false
    const started = this.#now()
    let rows: readonly unknown[]
    try {
      rows = await this.#sql`
        UPDATE satellite_leases SET expires_at = now() + ${`${this.ttl} milliseconds`}::interval
        WHERE grp = ${this.group} AND instance = ${this.instance} AND generation = ${s.generation}
          AND taken_by IS NULL AND expires_at > now()
        RETURNING 1`
    } catch (err) {
      if (this.listenerCount('error') > 0) this.emit('error', err as Error)
      return this.valid
    }
    if (this.state !== s) return this.state.kind === 'held'
    if (rows.length === 0) {
      const reason = `the lease of ${this.instance} in ${this.group} expired or was taken over`
      this.state = { kind: 'lost', generation: s.generation, reason }
      clearInterval(this.#timer)
      this.emit('lost', reason)
      return false
    }
    this.state = { kind: 'held', generation: s.generation, validUntil: started + this.ttl }
    return true
  }

  /** Every lease of the group, this one included, by instance. */
  async peers(): Promise<LeaseRow[]> {
    const rows = await this.#sql<
      {
        instance: string
        generation: string
        expired: boolean
        taken_by: string | null
        left_ms: string | null
      }[]
    >`
      SELECT instance, generation, expires_at <= now() AS expired, taken_by,
        (extract(epoch FROM left_at) * 1000)::bigint AS left_ms
      FROM satellite_leases WHERE grp = ${this.group} ORDER BY instance`
    return rows.map((r) => ({
      instance: r.instance,
      generation: Number(r.generation),
      expired: r.expired,
      takenBy: r.taken_by,
      leftAt: r.left_ms === null ? null : Number(r.left_ms),
    }))
  }

  /**
   * Takes over `peer`'s expired lease (its generation as listed): true for exactly one caller
   * among instances that try at once, false when it was renewed, taken or re-acquired meanwhile.
   * Refused (false) when this instance's own lease is not valid.
   */
  async takeOver(peer: Pick<LeaseRow, 'instance' | 'generation'>): Promise<boolean> {
    if (!this.valid || peer.instance === this.instance) return false
    const rows = await this.#sql`
      UPDATE satellite_leases SET taken_by = ${this.instance}, generation = generation + 1, handing_over = NULL
      WHERE grp = ${this.group} AND instance = ${peer.instance} AND generation = ${peer.generation}
        AND taken_by IS NULL AND expires_at <= now()
      RETURNING 1`
    return rows.length === 1
  }

  /**
   * Inside a transaction: rejects with {@link PostgresError} `SAT_ERR_POSTGRES_LEASE` unless this
   * lease is still held in the database (this generation, not expired, not taken over; or a new
   * process of the instance took it and the handover is not over, {@link Lease.endHandover}), so a
   * write from an instance that lost its lease is rolled back. The lease's row stays share-locked
   * until the transaction ends (a takeover waits for it); when the lease is not held, the check
   * fails in the database, so the transaction is aborted there too (its later statements fail,
   * its COMMIT rolls back). The query is sent before this returns: statements called after it
   * on the same connection (pipelined, without waiting) run after it.
   */
  check(tx: TransactionSql | Sql): Promise<void> {
    let query: Promise<unknown>
    try {
      query = this.held(tx).execute()
    } catch (err) {
      return Promise.reject(err)
    }
    return query.then(
      () => undefined,
      (err: unknown) => {
        throw this.refused(err)
      },
    )
  }

  /**
   * The check as a query to embed in one statement, so that the statement is fenced without a
   * transaction of its own (one round-trip): `WITH held AS (${lease.held(sql)}) INSERT INTO t
   * SELECT $1::text FROM held`, `DELETE FROM t USING held WHERE …` (one row when the lease is
   * held, its row then share-locked until the statement's transaction ends; else the statement
   * fails in the database). {@link Lease.refused} turns that failure into
   * `SAT_ERR_POSTGRES_LEASE`.
   */
  held(sql: TransactionSql | Sql): postgres.PendingQuery<postgres.Row[]> {
    return sql`SELECT satellite_lease_check(${this.group}, ${this.instance}, ${this.generation})`
  }

  /**
   * `err` as a {@link PostgresError} `SAT_ERR_POSTGRES_LEASE` when it is the failure of this
   * lease's check in the database ({@link Lease.held}); any other error as it is.
   */
  refused(err: unknown): unknown {
    if ((err as { code?: unknown } | null)?.code !== LEASE_SQLSTATE) return err
    return new PostgresError(PostgresErrorCodes.LEASE, (err as Error).message, { cause: err })
  }

  /**
   * A restart's handover, for the new process: when it took the lease from a live old process of
   * the same instance, that process's fenced writes ({@link Lease.check}, {@link Lease.held}) are
   * still accepted until it has let go (`markLeft()`, after its last writes) so that nothing it
   * acknowledged is refused; this ends that now (call it when done waiting for the old process, in
   * particular when it did not let go in time: it may be paused, and must write nothing after).
   */
  async endHandover(): Promise<void> {
    await this.#sql`
      UPDATE satellite_leases SET handing_over = NULL
      WHERE grp = ${this.group} AND instance = ${this.instance} AND generation = ${this.generation}`
  }

  /**
   * After losing the lease: tells the group this instance has closed its connections (call it once
   * they are closed), so the instance that took the lease over can take the freed slot.
   */
  async markLeft(): Promise<void> {
    clearInterval(this.#timer)
    await this.#sql`
      UPDATE satellite_leases SET left_at = now() WHERE grp = ${this.group} AND instance = ${this.instance}`
  }

  /** Stops the heartbeat and gives the lease up (it expires at once); idempotent. */
  async release(): Promise<void> {
    clearInterval(this.#timer)
    const s = this.state
    this.state = { kind: 'released' }
    if (s.kind !== 'held') return
    await this.#sql`
      UPDATE satellite_leases SET expires_at = now() - interval '1 millisecond'
      WHERE grp = ${this.group} AND instance = ${this.instance} AND generation = ${s.generation}`
  }
}

function leaseOptions(options: LeaseOptions): Required<LeaseOptions> {
  const o = options ?? ({} as LeaseOptions)
  if (typeof o.group !== 'string' || !NAME.test(o.group)) {
    throw optionError('lease', 'group', 'must be 1 to 200 printable characters without spaces')
  }
  const instance = o.instance ?? randomUUID()
  if (typeof instance !== 'string' || !NAME.test(instance)) {
    throw optionError('lease', 'instance', 'must be 1 to 200 printable characters without spaces')
  }
  const ttl = numberOption('lease', 'ttl', o.ttl, 3000, { min: 1000, max: 3_600_000 })
  const renewEvery = numberOption('lease', 'renewEvery', o.renewEvery, Math.floor(ttl / 3), {
    min: 10,
    max: ttl - 1,
  })
  if (o.now !== undefined && typeof o.now !== 'function')
    throw optionError('lease', 'now', 'must be a function')
  if (o.heartbeat !== undefined && typeof o.heartbeat !== 'boolean') {
    throw optionError('lease', 'heartbeat', 'must be true or false')
  }
  return {
    group: o.group,
    instance,
    ttl,
    renewEvery,
    heartbeat: o.heartbeat ?? true,
    now: o.now ?? (() => performance.now()),
  }
}
