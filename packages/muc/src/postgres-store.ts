// The MucStore on PostgreSQL (@satellite/postgres): the same tables, semantics and retention as
// SqliteMucStore, for services whose instances share one database. Its own entry point
// (`@satellite/muc/postgres`), so that a service on SQLite never loads the PostgreSQL client.
import {
  KeyedQueue,
  type Lease,
  type Migration,
  openPostgres,
  type PostgresDb,
  type PostgresOptions,
  type Sql,
} from '@satellite/postgres'
import { parseStanza } from './sqlite-store.js'
import type {
  ArchivedMessage,
  ArchivePage,
  ArchiveQuery,
  MucStore,
  Retention,
  StoredAffiliation,
  StoredRoom,
} from './store.js'

export type {
  ArchivedMessage,
  ArchivePage,
  ArchiveQuery,
  MaybePromise,
  MucStore,
  Retention,
  StoredAffiliation,
  StoredRoom,
} from './store.js'

/**
 * Schema of {@link PostgresMucStore} (numbered migrations of `@satellite/postgres`, recorded under
 * the name `'muc'`; append, never edit). `seq` orders the archive; stanza-ids are looked up per room.
 */
export const MUC_POSTGRES_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE muc_rooms (jid TEXT PRIMARY KEY, config JSONB NOT NULL, subject TEXT NOT NULL,
     subject_nick TEXT, created BIGINT NOT NULL);
   CREATE TABLE muc_affiliations (room TEXT NOT NULL, jid TEXT NOT NULL, affiliation TEXT NOT NULL,
     reason TEXT, PRIMARY KEY (room, jid));
   CREATE TABLE muc_archive (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, room TEXT NOT NULL,
     id TEXT NOT NULL, at BIGINT NOT NULL, nick TEXT NOT NULL, occupant_id TEXT NOT NULL, jid TEXT NOT NULL,
     message TEXT NOT NULL);
   CREATE UNIQUE INDEX muc_archive_id ON muc_archive (room, id);
   CREATE INDEX muc_archive_room ON muc_archive (room, seq);
   CREATE INDEX muc_archive_at ON muc_archive (at);`,
  // The number of archived messages per room, kept by a trigger: a MAM page's <count/> without
  // count(*) over the room's rows.
  `CREATE TABLE muc_archive_counts (room TEXT PRIMARY KEY, n BIGINT NOT NULL);
   INSERT INTO muc_archive_counts (room, n) SELECT room, count(*) FROM muc_archive GROUP BY room;
   CREATE FUNCTION muc_archive_count() RETURNS trigger LANGUAGE plpgsql AS $$
   BEGIN
     IF TG_OP = 'INSERT' THEN
       INSERT INTO muc_archive_counts (room, n) VALUES (NEW.room, 1)
         ON CONFLICT (room) DO UPDATE SET n = muc_archive_counts.n + 1;
       RETURN NEW;
     END IF;
     UPDATE muc_archive_counts SET n = n - 1 WHERE room = OLD.room;
     RETURN OLD;
   END $$;
   CREATE TRIGGER muc_archive_counted AFTER INSERT OR DELETE ON muc_archive
     FOR EACH ROW EXECUTE FUNCTION muc_archive_count();`,
]

/**
 * Options of {@link PostgresMucStore.open}: those of `openPostgres` (pool size, timeouts,
 * schema), except the migrations, which are the store's.
 *
 * @example
 * ```ts
 * const options: PostgresMucStoreOptions = { max: 20, schema: 'chat' }
 * ```
 */
export type PostgresMucStoreOptions = Omit<PostgresOptions, 'migrations' | 'name'>

/** A query not sent yet (postgres's PendingQuery): `execute()` sends it. */
type Pending = PromiseLike<unknown> & { execute(): unknown }

/** The statements of one write, all sent at once (pipelined) on one connection. */
type Statements = (sql: Sql) => readonly Pending[]

/** A query of one row when the lease is held (`Lease.held`), to use as `WITH held AS (${held})`. */
type Held = ReturnType<Lease['held']>

/** One write statement, fenced by `held`. */
type Statement = (sql: Sql, held: Held) => Pending

interface Row {
  seq: string
  id: string
  at: string
  nick: string
  occupant_id: string
  jid: string
  message: string
}

/**
 * The {@link MucStore} on PostgreSQL (through `@satellite/postgres`: a pool with limits,
 * migrations under an advisory lock, so instances may start at once). Asynchronous: the engine
 * waits for it. The writes of a room run in the order they were called (the engine does not wait
 * for one before the next), and a read of a room sees the writes called before it. Same
 * semantics as `SqliteMucStore`: each room's archive is trimmed to the `keep`
 * the engine gives every `keep / 10` appends of this instance (so it may briefly hold 10% more per
 * instance), and by {@link PostgresMucStore.prune}.
 *
 * @example
 * ```ts
 * const store = await PostgresMucStore.open(process.env.CHATROOM_DB ?? 'postgres://127.0.0.1/chat')
 * muc(xmpp, { store })
 * // on shutdown, after the service's close(): await store.close()
 * ```
 */
export class PostgresMucStore implements MucStore {
  /** The database (its pool); closed by {@link PostgresMucStore.close}. */
  readonly db: PostgresDb
  readonly #sql: Sql
  /** Appends per room since its last trim (bounded: cleared past 10,000 rooms). */
  readonly #appends = new Map<string, number>()
  /** Operations per room, in call order (see {@link KeyedQueue}). */
  readonly #queue = new KeyedQueue()
  /** The lease every write checks in its transaction, if fenced. */
  #fence: Lease | undefined

  /** Wraps an open database whose schema is up to date (see {@link PostgresMucStore.open}). */
  constructor(db: PostgresDb) {
    this.db = db
    this.#sql = db.sql
  }

  /**
   * Opens the database at `url`, brings the store's tables up to date
   * ({@link MUC_POSTGRES_MIGRATIONS}) and returns the store. Throws what `openPostgres` throws.
   */
  static async open(url: string, options: PostgresMucStoreOptions = {}): Promise<PostgresMucStore> {
    const db = await openPostgres(url, { ...options, migrations: MUC_POSTGRES_MIGRATIONS, name: 'muc' })
    return new PostgresMucStore(db)
  }

  /**
   * Fences every write from now on with `lease` (see docs/scaling.md, "Fencing"): each write
   * (`saveRoom`, `deleteRoom`, `setAffiliation`, `append`, `prune`) checks in its own transaction,
   * with a share lock on the lease's row, that this instance still holds it at its generation
   * (`Lease.held` in the statement, or `Lease.check` first in a pipelined transaction); a write
   * from an instance whose lease expired, was taken over or re-acquired by a new process is rolled
   * back and rejects with `SAT_ERR_POSTGRES_LEASE` (the engine reports it as
   * `SAT_ERR_MUC_STORE`), also when it was already queued or in flight when the lease was lost.
   * Reads are not fenced. `undefined` removes the fence.
   */
  fence(lease: Lease | undefined): void {
    this.#fence = lease
  }

  /** Whether the writes are fenced (see {@link PostgresMucStore.fence}). */
  get fenced(): boolean {
    return this.#fence !== undefined
  }

  /**
   * Runs one write statement: with the lease's check in it when fenced (`WITH held AS (…)`, no
   * transaction of its own: one round-trip), else with a `held` of one row.
   */
  async #one(statement: Statement): Promise<unknown> {
    const fence = this.#fence
    const sql = this.#sql
    if (fence === undefined) return statement(sql, sql`SELECT 1`)
    try {
      return await statement(sql, fence.held(sql))
    } catch (err) {
      throw fence.refused(err)
    }
  }

  /**
   * Runs `statements` in order on one connection and resolves to their results: in a transaction
   * when fenced (the lease's check first) or when there are several. The transaction is pipelined
   * (BEGIN, the check, the statements and COMMIT sent at once: one round-trip); a failed check
   * or statement aborts it in the database, so its COMMIT rolls back.
   */
  async #run(statements: Statements): Promise<unknown[]> {
    const fence = this.#fence
    if (fence === undefined) {
      const one = statements(this.#sql)
      if (one.length === 1) return [await one[0]]
    }
    const tx = await this.#sql.reserve()
    try {
      // execute() sends each query now, in this order (on the reserved connection).
      const begin = tx`BEGIN`.execute()
      const checked = fence?.check(tx)
      const sent = statements(tx).map((q) => {
        q.execute()
        return q
      })
      const commit = tx`COMMIT`.execute()
      const [b, c, ...rest] = await Promise.allSettled([begin, checked, ...sent, commit])
      // The first failure is the cause (a statement after a failed check fails only because the
      // transaction was aborted).
      for (const r of [b, c, ...rest]) if (r?.status === 'rejected') throw r.reason
      return rest.slice(0, -1).map((r) => (r as PromiseFulfilledResult<unknown>).value)
    } finally {
      tx.release()
    }
  }

  /**
   * Runs a write of `room` after the writes of that room called before it: the engine does not
   * wait for one write before the next, and the pool would otherwise run them on several
   * connections in any order (messages archived out of order, an older setting saved last).
   */
  #write<T>(room: string, op: () => Promise<T>): Promise<T> {
    return this.#queue.run(room, op)
  }

  /** Runs a read of `room` once the writes called before it are done (it sees them). */
  #read<T>(room: string, op: () => Promise<T>): Promise<T> {
    // In the same queue as the writes: a write called after this read must not overtake it (the
    // read would see what was written after it was called, e.g. a user already removed).
    return this.#write(room, op)
  }

  loadRoom(jid: string): Promise<StoredRoom | undefined> {
    return this.#read(jid, () => this.#loadRoom(jid))
  }

  async #loadRoom(jid: string): Promise<StoredRoom | undefined> {
    const [row] = await this
      .#sql`SELECT jid, config, subject, subject_nick, created FROM muc_rooms WHERE jid = ${jid}`
    if (row === undefined) return undefined
    return {
      jid: row.jid as string,
      config: row.config as Record<string, unknown>,
      subject: row.subject as string,
      subjectNick: (row.subject_nick as string | null) ?? undefined,
      created: Number(row.created),
    }
  }

  saveRoom(room: StoredRoom): Promise<void> {
    const config = structuredClone(room.config) as Parameters<Sql['json']>[0]
    return this.#write(room.jid, () => this.#saveRoom(room, config))
  }

  async #saveRoom(room: StoredRoom, config: Parameters<Sql['json']>[0]): Promise<void> {
    await this.#one(
      (
        sql,
        held,
      ) => sql`WITH held AS (${held}) INSERT INTO muc_rooms (jid, config, subject, subject_nick, created)
      SELECT ${room.jid}::text, ${sql.json(config)}::jsonb, ${room.subject}::text, ${room.subjectNick ?? null}::text,
        ${room.created}::bigint FROM held
      ON CONFLICT (jid) DO UPDATE SET config = excluded.config, subject = excluded.subject,
        subject_nick = excluded.subject_nick`,
    )
  }

  deleteRoom(jid: string): Promise<void> {
    return this.#write(jid, () => this.#deleteRoom(jid))
  }

  async #deleteRoom(jid: string): Promise<void> {
    await this.#run((tx) => [
      tx`DELETE FROM muc_rooms WHERE jid = ${jid}`,
      tx`DELETE FROM muc_affiliations WHERE room = ${jid}`,
      tx`DELETE FROM muc_archive WHERE room = ${jid}`,
    ])
    this.#appends.delete(jid)
  }

  async rooms(): Promise<string[]> {
    // COLLATE "C": the same byte order as SQLite and as JavaScript's sort() on ASCII.
    const rows = await this.#sql`SELECT jid FROM muc_rooms ORDER BY jid COLLATE "C"`
    return rows.map((r) => r.jid as string)
  }

  affiliations(room: string): Promise<StoredAffiliation[]> {
    return this.#read(room, () => this.#affiliations(room))
  }

  async #affiliations(room: string): Promise<StoredAffiliation[]> {
    const rows = await this.#sql`SELECT jid, affiliation, reason FROM muc_affiliations WHERE room = ${room}
      ORDER BY jid COLLATE "C"`
    return rows.map((r) => {
      const a: StoredAffiliation = {
        jid: r.jid as string,
        affiliation: r.affiliation as StoredAffiliation['affiliation'],
      }
      if (r.reason !== null) a.reason = r.reason as string
      return a
    })
  }

  setAffiliation(
    room: string,
    jid: string,
    affiliation: StoredAffiliation['affiliation'] | 'none',
    reason?: string,
  ): Promise<void> {
    return this.#write(room, () => this.#setAffiliation(room, jid, affiliation, reason))
  }

  async #setAffiliation(
    room: string,
    jid: string,
    affiliation: StoredAffiliation['affiliation'] | 'none',
    reason: string | undefined,
  ): Promise<void> {
    if (affiliation === 'none') {
      // In a transaction (the check first): a DELETE … USING held would check only when a row matches.
      await this.#run((sql) => [sql`DELETE FROM muc_affiliations WHERE room = ${room} AND jid = ${jid}`])
      return
    }
    await this.#one(
      (sql, held) => sql`WITH held AS (${held}) INSERT INTO muc_affiliations (room, jid, affiliation, reason)
      SELECT ${room}::text, ${jid}::text, ${affiliation}::text, ${reason ?? null}::text FROM held
      ON CONFLICT (room, jid) DO UPDATE SET affiliation = excluded.affiliation, reason = excluded.reason`,
    )
  }

  append(room: string, m: ArchivedMessage, keep: number): Promise<void> {
    if (keep <= 0) return Promise.resolve()
    const text = m.message.toString()
    return this.#write(room, () => this.#append(room, m, text, keep))
  }

  async #append(room: string, m: ArchivedMessage, text: string, keep: number): Promise<void> {
    const n = (this.#appends.get(room) ?? 0) + 1
    const trim = n >= Math.max(1, Math.floor(keep / 10))
    if (trim) this.#appends.delete(room)
    else {
      if (this.#appends.size >= 10_000) this.#appends.clear()
      this.#appends.set(room, n)
    }
    const insert = (sql: Sql, held: Held) => sql`WITH held AS (${held})
      INSERT INTO muc_archive (room, id, at, nick, occupant_id, jid, message)
      SELECT ${room}::text, ${m.id}::text, ${m.at}::bigint, ${m.nick}::text, ${m.occupantId}::text, ${m.jid}::text,
        ${text}::text FROM held
      ON CONFLICT (room, id) DO NOTHING`
    if (!trim) {
      await this.#one(insert)
      return
    }
    // With the trim (all but the newest `keep` messages of the room, every `keep / 10` appends).
    await this.#run((sql) => [
      insert(sql, sql`SELECT 1`),
      sql`DELETE FROM muc_archive WHERE room = ${room} AND seq <= (SELECT seq FROM muc_archive
      WHERE room = ${room} ORDER BY seq DESC LIMIT 1 OFFSET ${keep})`,
    ])
  }

  query(room: string, q: ArchiveQuery): Promise<ArchivePage | null> {
    return this.#read(room, () => this.#query(room, q))
  }

  async #query(room: string, q: ArchiveQuery): Promise<ArchivePage | null> {
    const sql = this.#sql
    const max = Math.max(0, Math.floor(q.max))
    const filter = sql`room = ${room}
      ${q.start === undefined ? sql`` : sql`AND at >= ${q.start}`}
      ${q.end === undefined ? sql`` : sql`AND at <= ${q.end}`}
      ${q.nick === undefined ? sql`` : sql`AND nick = ${q.nick}`}`
    const id = q.after ?? q.before
    let anchor: string | undefined
    if (id !== undefined && id !== '') {
      const [row] = await sql`SELECT seq FROM muc_archive WHERE room = ${room} AND id = ${id}`
      if (row === undefined) return null
      anchor = row.seq as string
    }
    const backwards = q.before !== undefined
    const paging =
      anchor === undefined ? sql`` : backwards ? sql`AND seq < ${anchor}` : sql`AND seq > ${anchor}`
    // Without filters the count is the room's counter; with them, counted over the matching rows.
    const filtered = q.start !== undefined || q.end !== undefined || q.nick !== undefined
    const [counted, rows] = await Promise.all([
      filtered
        ? sql`SELECT count(*)::int AS n FROM muc_archive WHERE ${filter}`
        : sql`SELECT n::int AS n FROM muc_archive_counts WHERE room = ${room}`,
      sql<
        Row[]
      >`SELECT seq, id, at, nick, occupant_id, jid, message FROM muc_archive WHERE ${filter} ${paging}
        ORDER BY seq ${backwards ? sql`DESC` : sql`ASC`} LIMIT ${max + 1}`,
    ])
    const page = [...rows]
    const complete = page.length <= max
    if (!complete) page.pop()
    if (backwards) page.reverse()
    const messages = page.map((r) => ({
      id: r.id,
      at: Number(r.at),
      nick: r.nick,
      occupantId: r.occupant_id,
      jid: r.jid,
      message: parseStanza(r.message),
    }))
    return { messages, complete, count: Number(counted[0]?.n ?? 0) }
  }

  async prune(retention: Retention): Promise<number> {
    const results = await this.#run((tx) => [
      ...(retention.before === undefined ? [] : [tx`DELETE FROM muc_archive WHERE at < ${retention.before}`]),
      ...(retention.keep === undefined
        ? []
        : [
            tx`DELETE FROM muc_archive a USING (SELECT seq, row_number() OVER
            (PARTITION BY room ORDER BY seq DESC) AS n FROM muc_archive) old
          WHERE a.seq = old.seq AND old.n > ${Math.max(0, retention.keep)}`,
          ]),
    ])
    return results.reduce<number>((sum, r) => sum + ((r as { count: number }).count ?? 0), 0)
  }

  /**
   * Resolves once the writes already called have finished (without closing): e.g. before a fenced
   * instance lets its lease go, so that its last writes are not refused.
   */
  idle(): Promise<void> {
    return this.#queue.idle()
  }

  /**
   * Closes the pool (after the service's `close()`), once the writes already called have
   * finished (the engine does not wait for its archive writes: a message reflected just before a
   * stop is still kept); idempotent.
   */
  async close(): Promise<void> {
    await this.#queue.idle()
    return this.db.close()
  }
}
