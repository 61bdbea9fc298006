// The BridgeStore on PostgreSQL (@satellite/postgres): the same tables, semantics, encryption and
// pruning as SqliteStore, for bridges whose instances share one database. Its own entry point
// (`@satellite/bridge/postgres`), so that a bridge on SQLite never loads the PostgreSQL client.
/// <reference types="node" preserve="true" />
import { optionError } from '@satellite/core'
import {
  KeyedQueue,
  type Migration,
  openPostgres,
  type PostgresDb,
  type PostgresOptions,
  type Sql,
} from '@satellite/postgres'
import type { Credentials } from './adapter.js'
import { decrypt, encrypt } from './crypto.js'
import { BridgeKeyError } from './errors.js'
import type { BridgeStore, MessageMapping, StoredContact } from './store.js'

export type { Credentials } from './adapter.js'
export type { BridgeStore, MaybePromise, MessageMapping, StoredContact } from './store.js'

/**
 * Schema of {@link PostgresBridgeStore} (numbered migrations of `@satellite/postgres`, recorded
 * under the name `'bridge'`; append, never edit). The tables of `SqliteStore` with a `bridge_`
 * prefix (they may share a database with other stores) and `jid` for the user's bare JID (`user`
 * is reserved in PostgreSQL); `seq` orders a user's id mappings, as SQLite's rowid does.
 */
export const BRIDGE_POSTGRES_MIGRATIONS: readonly Migration[] = [
  `CREATE TABLE bridge_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE bridge_registrations (jid TEXT PRIMARY KEY, credentials TEXT NOT NULL,
     created BIGINT NOT NULL);
   CREATE TABLE bridge_contacts (jid TEXT NOT NULL REFERENCES bridge_registrations (jid) ON DELETE CASCADE,
     legacy_id TEXT NOT NULL, name TEXT, subscribed BOOLEAN NOT NULL DEFAULT false,
     PRIMARY KEY (jid, legacy_id));
   CREATE TABLE bridge_messages (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     jid TEXT NOT NULL REFERENCES bridge_registrations (jid) ON DELETE CASCADE,
     contact TEXT NOT NULL, xmpp_id TEXT NOT NULL, legacy_id TEXT NOT NULL, created BIGINT NOT NULL);
   CREATE INDEX bridge_messages_xmpp ON bridge_messages (jid, contact, xmpp_id);
   CREATE INDEX bridge_messages_legacy ON bridge_messages (jid, contact, legacy_id);
   CREATE INDEX bridge_messages_user ON bridge_messages (jid, seq);`,
]

const CHECK = 'satellite-bridge-key-check'

/**
 * Options of {@link PostgresBridgeStore.open}: the key and id-map bounds of `SqliteStore`, and
 * those of `openPostgres` (pool size, timeouts, schema) except the migrations, which are the store's.
 *
 * @example
 * ```ts
 * const options: PostgresBridgeStoreOptions = { key: keyFromEnv(), maxMessages: 5_000, max: 20 }
 * ```
 */
export interface PostgresBridgeStoreOptions extends Omit<PostgresOptions, 'migrations' | 'name'> {
  /** The 32-byte AES-256-GCM key of the credentials (`keyFromEnv()`). */
  key: Buffer
  /** Message id mappings kept per user, newest first (default 10,000; `Infinity`: keep all). */
  maxMessages?: number
  /** Users whose inserts since their last prune are counted (default 10,000). */
  trackedUsers?: number
}

/**
 * The {@link BridgeStore} on PostgreSQL (through `@satellite/postgres`: a pool with limits,
 * migrations under an advisory lock, so instances may start at once). Same semantics as
 * `SqliteStore`: credentials sealed with AES-256-GCM bound to the user's JID, a database created
 * with another key refused at once ({@link BridgeKeyError}), each user's id map pruned to the
 * newest `maxMessages` (counted per instance, so with several instances a user may briefly hold
 * 1% more per instance). The writes of one user run in the order they were called, and a read of
 * a user sees the writes called before it.
 *
 * @example
 * ```ts
 * const store = await PostgresBridgeStore.open(process.env.BRIDGE_DB ?? 'postgres://127.0.0.1/bridge', {
 *   key: keyFromEnv(),
 * })
 * bridge(xmpp, { adapter, store })
 * // on shutdown, after the bridge's close(): await store.close()
 * ```
 */
export class PostgresBridgeStore implements BridgeStore {
  /** The database (its pool); closed by {@link PostgresBridgeStore.close}. */
  readonly db: PostgresDb
  /** Message id mappings kept per user ({@link PostgresBridgeStoreOptions.maxMessages}). */
  readonly maxMessages: number
  readonly #sql: Sql
  readonly #key: Buffer
  readonly #pruneEvery: number
  readonly #tracked: number
  /** Inserts per user since its last prune (at most `trackedUsers`, least recently written first). */
  readonly #inserts = new Map<string, number>()
  /** Operations per user, in call order (see {@link KeyedQueue}). */
  readonly #queue = new KeyedQueue()

  private constructor(db: PostgresDb, key: Buffer, maxMessages: number, tracked: number) {
    this.db = db
    this.#sql = db.sql
    this.#key = key
    this.maxMessages = maxMessages
    this.#tracked = tracked
    this.#pruneEvery = Number.isFinite(maxMessages) ? Math.max(1, Math.ceil(maxMessages / 100)) : 0
  }

  /**
   * Opens the database at `url`, brings the store's tables up to date
   * ({@link BRIDGE_POSTGRES_MIGRATIONS}), checks the key and returns the store. The first
   * instance to open an empty database records its key check; another, at the same time or
   * later, with another key gets a {@link BridgeKeyError} (the pool closed). Throws what
   * `openPostgres` throws (`SAT_ERR_POSTGRES_*`, the URL's password never shown).
   */
  static async open(url: string, options: PostgresBridgeStoreOptions): Promise<PostgresBridgeStore> {
    const { key, maxMessages, trackedUsers, ...pg } = options
    if (!Buffer.isBuffer(key) || key.length !== 32)
      throw new BridgeKeyError('the bridge key must be 32 bytes')
    const max = maxMessages ?? 10_000
    if (!(max >= 1)) {
      throw optionError('PostgresBridgeStore', 'maxMessages', `must be at least 1, got ${String(max)}`)
    }
    const tracked = trackedUsers ?? 10_000
    if (!Number.isInteger(tracked) || tracked < 1) {
      throw optionError(
        'PostgresBridgeStore',
        'trackedUsers',
        `must be an integer >= 1, got ${String(trackedUsers)}`,
      )
    }
    const db = await openPostgres(url, { ...pg, migrations: BRIDGE_POSTGRES_MIGRATIONS, name: 'bridge' })
    try {
      // Two instances opening an empty database at once: one insert wins, both read the winner's.
      await db.sql`INSERT INTO bridge_meta (name, value) VALUES ('key-check', ${encrypt(key, CHECK)})
        ON CONFLICT (name) DO NOTHING`
      const [row] = await db.sql`SELECT value FROM bridge_meta WHERE name = 'key-check'`
      let ok = false
      try {
        ok = decrypt(key, String(row?.value)) === CHECK
      } catch {}
      if (!ok) {
        throw new BridgeKeyError(
          `the database ${db.url} was created with another BRIDGE_KEY; refusing to use it`,
        )
      }
    } catch (err) {
      await db.close(0)
      throw err
    }
    return new PostgresBridgeStore(db, key, max, tracked)
  }

  /** Runs a write of `user` after the writes of that user called before it. */
  #write<T>(user: string, op: () => Promise<T>): Promise<T> {
    return this.#queue.run(user, op)
  }

  /** Runs a read of `user` once the writes called before it are done (it sees them). */
  #read<T>(user: string, op: () => Promise<T>): Promise<T> {
    // In the same queue as the writes: a write called after this read must not overtake it (the
    // read would see what was written after it was called, e.g. a user already removed).
    return this.#write(user, op)
  }

  /** The user's credentials; a row that cannot be read (altered, another key) throws a {@link BridgeKeyError}. */
  getRegistration(user: string): Promise<Credentials | null> {
    return this.#read(user, async () => {
      const [row] = await this.#sql`SELECT credentials FROM bridge_registrations WHERE jid = ${user}`
      if (row === undefined) return null
      let credentials: unknown
      try {
        credentials = JSON.parse(decrypt(this.#key, String(row.credentials), user))
      } catch (err) {
        throw new BridgeKeyError(
          err instanceof BridgeKeyError ? err.message : 'the stored credentials do not decode (altered data)',
        )
      }
      if (typeof credentials !== 'object' || credentials === null || Array.isArray(credentials)) {
        throw new BridgeKeyError('the stored credentials do not decode (altered data)')
      }
      return credentials as Credentials
    })
  }

  putRegistration(user: string, credentials: Credentials): Promise<void> {
    const sealed = encrypt(this.#key, JSON.stringify(credentials), user)
    const now = Date.now()
    return this.#write(user, async () => {
      await this
        .#sql`INSERT INTO bridge_registrations (jid, credentials, created) VALUES (${user}, ${sealed}, ${now})
        ON CONFLICT (jid) DO UPDATE SET credentials = excluded.credentials`
    })
  }

  async users(): Promise<string[]> {
    // COLLATE "C": the byte order of SqliteStore.
    const rows = await this.#sql`SELECT jid FROM bridge_registrations ORDER BY jid COLLATE "C"`
    return rows.map((r) => r.jid as string)
  }

  removeUser(user: string): Promise<void> {
    this.#inserts.delete(user)
    return this.#write(user, async () => {
      await this.#sql.begin(async (tx) => {
        await tx`DELETE FROM bridge_messages WHERE jid = ${user}`
        await tx`DELETE FROM bridge_contacts WHERE jid = ${user}`
        await tx`DELETE FROM bridge_registrations WHERE jid = ${user}`
      })
    })
  }

  contacts(user: string): Promise<StoredContact[]> {
    return this.#read(user, async () => {
      const rows = await this.#sql`SELECT legacy_id, name, subscribed FROM bridge_contacts WHERE jid = ${user}
        ORDER BY legacy_id COLLATE "C"`
      return rows.map((r) => ({
        legacyId: r.legacy_id as string,
        ...(r.name === null ? {} : { name: r.name as string }),
        subscribed: r.subscribed === true,
      }))
    })
  }

  putContact(user: string, contact: StoredContact): Promise<void> {
    const { legacyId, name, subscribed } = contact
    return this.#write(user, async () => {
      await this.#sql`INSERT INTO bridge_contacts (jid, legacy_id, name, subscribed)
        VALUES (${user}, ${legacyId}, ${name ?? null}, ${subscribed === true})
        ON CONFLICT (jid, legacy_id) DO UPDATE SET name = excluded.name, subscribed = excluded.subscribed`
    })
  }

  removeContact(user: string, legacyId: string): Promise<void> {
    return this.#write(user, async () => {
      await this.#sql`DELETE FROM bridge_contacts WHERE jid = ${user} AND legacy_id = ${legacyId}`
    })
  }

  putMessage(user: string, m: MessageMapping): Promise<void> {
    const { contact, xmppId, legacyId } = m
    const now = Date.now()
    let pruneSelf = false
    // Forgotten users are pruned at once, each in its own order (as SqliteStore does).
    const others: Promise<number>[] = []
    if (this.#pruneEvery !== 0) {
      const n = (this.#inserts.get(user) ?? 0) + 1
      this.#inserts.delete(user)
      if (n < this.#pruneEvery) {
        this.#inserts.set(user, n)
        for (const [oldest] of this.#inserts) {
          if (this.#inserts.size <= this.#tracked) break
          this.#inserts.delete(oldest)
          others.push(this.pruneMessages(oldest))
        }
      } else pruneSelf = true
    }
    const own = this.#write(user, async () => {
      await this.#sql`INSERT INTO bridge_messages (jid, contact, xmpp_id, legacy_id, created)
        VALUES (${user}, ${contact}, ${xmppId}, ${legacyId}, ${now})`
      if (pruneSelf) await this.#prune(user)
    })
    return Promise.all([own, ...others]).then(() => {})
  }

  /** Users whose inserts since their last prune are counted (at most `trackedUsers`). */
  get counted(): number {
    return this.#inserts.size
  }

  /** Drops `user`'s message id mappings beyond the newest {@link maxMessages}; returns how many. */
  pruneMessages(user: string): Promise<number> {
    return this.#write(user, () => this.#prune(user))
  }

  async #prune(user: string): Promise<number> {
    if (!Number.isFinite(this.maxMessages)) return 0
    const r = await this.#sql`DELETE FROM bridge_messages WHERE jid = ${user} AND seq <= (
      SELECT seq FROM bridge_messages WHERE jid = ${user} ORDER BY seq DESC LIMIT 1 OFFSET ${this.maxMessages})`
    return r.count
  }

  legacyIdOf(user: string, contact: string, xmppId: string): Promise<string | null> {
    return this.#read(user, async () => {
      const [row] = await this.#sql`SELECT legacy_id FROM bridge_messages
        WHERE jid = ${user} AND contact = ${contact} AND xmpp_id = ${xmppId} ORDER BY seq DESC LIMIT 1`
      return (row?.legacy_id as string | undefined) ?? null
    })
  }

  xmppIdOf(user: string, contact: string, legacyId: string): Promise<string | null> {
    return this.#read(user, async () => {
      const [row] = await this.#sql`SELECT xmpp_id FROM bridge_messages
        WHERE jid = ${user} AND contact = ${contact} AND legacy_id = ${legacyId} ORDER BY seq DESC LIMIT 1`
      return (row?.xmpp_id as string | undefined) ?? null
    })
  }

  /** Rows per table of `user` (for tests and `removeUser` checks). */
  counts(user: string): Promise<{ registrations: number; contacts: number; messages: number }> {
    return this.#read(user, async () => {
      const [row] = await this.#sql`SELECT
        (SELECT count(*)::int FROM bridge_registrations WHERE jid = ${user}) AS registrations,
        (SELECT count(*)::int FROM bridge_contacts WHERE jid = ${user}) AS contacts,
        (SELECT count(*)::int FROM bridge_messages WHERE jid = ${user}) AS messages`
      return {
        registrations: Number(row?.registrations),
        contacts: Number(row?.contacts),
        messages: Number(row?.messages),
      }
    })
  }

  /**
   * Closes the pool (after the bridge's `close()`), once the writes already called have
   * finished; idempotent.
   */
  async close(): Promise<void> {
    await this.#queue.idle()
    return this.db.close()
  }
}
