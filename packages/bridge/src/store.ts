import { optionError } from '@satellite/core'
import { type Db, openDatabase } from '@satellite/sqlite'
import type { Credentials } from './adapter.js'
import { decrypt, encrypt } from './crypto.js'
import { BridgeKeyError } from './errors.js'

/** A value, or a promise of it: stores may be synchronous (SQLite) or not. */
export type MaybePromise<T> = T | Promise<T>

/** A legacy contact as the bridge remembers it for one user. */
export interface StoredContact {
  legacyId: string
  name?: string
  /** The contact's subscription request was sent to the user. */
  subscribed: boolean
}

/** One relayed message: its XMPP id and its legacy id. */
export interface MessageMapping {
  contact: string
  xmppId: string
  legacyId: string
}

/**
 * Where the bridge keeps its state; `user` is always a bare JID. Credentials are given and
 * returned in clear: the implementation encrypts them at rest.
 */
export interface BridgeStore {
  getRegistration(user: string): MaybePromise<Credentials | null>
  putRegistration(user: string, credentials: Credentials): MaybePromise<void>
  /** Every registered user. */
  users(): MaybePromise<string[]>
  /** Removes every trace of `user`: registration, contacts, message ids. */
  removeUser(user: string): MaybePromise<void>
  contacts(user: string): MaybePromise<StoredContact[]>
  putContact(user: string, contact: StoredContact): MaybePromise<void>
  removeContact(user: string, legacyId: string): MaybePromise<void>
  putMessage(user: string, mapping: MessageMapping): MaybePromise<void>
  /** The legacy id of the message the user knows as `xmppId`, sent to or received from `contact`. */
  legacyIdOf(user: string, contact: string, xmppId: string): MaybePromise<string | null>
  /** The XMPP id of a legacy message. */
  xmppIdOf(user: string, contact: string, legacyId: string): MaybePromise<string | null>
  close?(): MaybePromise<void>
}

/** Schema of {@link SqliteStore} (numbered migrations of `@satellite/sqlite`). */
export const BRIDGE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE bridge_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
   CREATE TABLE registrations (user TEXT PRIMARY KEY, credentials TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE TABLE contacts (user TEXT NOT NULL REFERENCES registrations(user) ON DELETE CASCADE,
     legacy_id TEXT NOT NULL, name TEXT, subscribed INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (user, legacy_id));
   CREATE TABLE messages (user TEXT NOT NULL REFERENCES registrations(user) ON DELETE CASCADE,
     contact TEXT NOT NULL, xmpp_id TEXT NOT NULL, legacy_id TEXT NOT NULL, created INTEGER NOT NULL);
   CREATE INDEX messages_xmpp ON messages (user, contact, xmpp_id);
   CREATE INDEX messages_legacy ON messages (user, contact, legacy_id);`,
  // Pruning the id map walks a user's rows newest first.
  `CREATE INDEX messages_user ON messages (user);`,
]

const CHECK = 'satellite-bridge-key-check'

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Database file, or `':memory:'` (the default). */
  path?: string
  /** The 32-byte AES-256-GCM key of the credentials ({@link keyFromEnv}). */
  key: Buffer
  /**
   * Message id mappings kept per user, newest first (default 10,000; `Infinity`: keep all).
   * Older ones are pruned as new ones come (in batches of 1% of the limit), so receipts,
   * corrections and reactions to older messages are answered `item-not-found`.
   */
  maxMessages?: number
  /**
   * Users whose inserts since their last prune are counted (default 10,000): beyond, the least
   * recently written user is pruned at once and forgotten, so the counters stay bounded.
   */
  trackedUsers?: number
}

/**
 * The SQLite {@link BridgeStore}: credentials are sealed with AES-256-GCM (bound to the user's
 * JID). Opening a database with another key than the one that created it throws a
 * {@link BridgeKeyError} at once, rather than failing later on each user.
 *
 * @example
 * ```ts
 * const store = new SqliteStore({ path: process.env.BRIDGE_DB ?? 'bridge.db', key: keyFromEnv() })
 * ```
 */
export class SqliteStore implements BridgeStore {
  readonly db: Db
  /** Message id mappings kept per user ({@link SqliteStoreOptions.maxMessages}). */
  readonly maxMessages: number
  readonly #key: Buffer
  readonly #pruneEvery: number
  readonly #tracked: number
  /** Inserts per user since its last prune (at most `trackedUsers`, least recently written first). */
  readonly #inserts = new Map<string, number>()

  constructor(options: SqliteStoreOptions) {
    if (options.key.length !== 32) throw new BridgeKeyError('the bridge key must be 32 bytes')
    const max = options.maxMessages ?? 10_000
    if (!(max >= 1)) throw optionError('SqliteStore', 'maxMessages', `must be at least 1, got ${String(max)}`)
    this.maxMessages = max
    const tracked = options.trackedUsers ?? 10_000
    if (!Number.isInteger(tracked) || tracked < 1) {
      throw optionError(
        'SqliteStore',
        'trackedUsers',
        `must be an integer >= 1, got ${String(options.trackedUsers)}`,
      )
    }
    this.#tracked = tracked
    this.#pruneEvery = Number.isFinite(max) ? Math.max(1, Math.ceil(max / 100)) : 0
    this.#key = options.key
    this.db = openDatabase({ path: options.path ?? ':memory:', migrations: BRIDGE_MIGRATIONS })
    const row = this.db.prepare('SELECT value FROM bridge_meta WHERE name = ?').get('key-check') as
      | { value: string }
      | undefined
    if (row === undefined) {
      this.db
        .prepare('INSERT INTO bridge_meta (name, value) VALUES (?, ?)')
        .run('key-check', encrypt(this.#key, CHECK))
    } else {
      let ok = false
      try {
        ok = decrypt(this.#key, row.value) === CHECK
      } catch {}
      if (!ok) {
        this.db.close()
        throw new BridgeKeyError(
          `the database ${options.path ?? ':memory:'} was created with another BRIDGE_KEY; refusing to use it`,
        )
      }
    }
  }

  /** The user's credentials; a row that cannot be read (altered, another key) throws a {@link BridgeKeyError}. */
  getRegistration(user: string): Credentials | null {
    const row = this.db.prepare('SELECT credentials FROM registrations WHERE user = ?').get(user) as
      | { credentials: unknown }
      | undefined
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
  }

  putRegistration(user: string, credentials: Credentials): void {
    this.db
      .prepare(
        `INSERT INTO registrations (user, credentials, created) VALUES (?, ?, ?)
         ON CONFLICT(user) DO UPDATE SET credentials = excluded.credentials`,
      )
      .run(user, encrypt(this.#key, JSON.stringify(credentials), user), Date.now())
  }

  users(): string[] {
    return (this.db.prepare('SELECT user FROM registrations ORDER BY user').all() as { user: string }[]).map(
      (r) => r.user,
    )
  }

  removeUser(user: string): void {
    this.#inserts.delete(user)
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM messages WHERE user = ?').run(user)
      this.db.prepare('DELETE FROM contacts WHERE user = ?').run(user)
      this.db.prepare('DELETE FROM registrations WHERE user = ?').run(user)
    })()
  }

  contacts(user: string): StoredContact[] {
    const rows = this.db
      .prepare('SELECT legacy_id, name, subscribed FROM contacts WHERE user = ? ORDER BY legacy_id')
      .all(user) as { legacy_id: string; name: string | null; subscribed: number }[]
    return rows.map((r) => ({
      legacyId: r.legacy_id,
      ...(r.name === null ? {} : { name: r.name }),
      subscribed: r.subscribed === 1,
    }))
  }

  putContact(user: string, contact: StoredContact): void {
    this.db
      .prepare(
        `INSERT INTO contacts (user, legacy_id, name, subscribed) VALUES (?, ?, ?, ?)
         ON CONFLICT(user, legacy_id) DO UPDATE SET name = excluded.name, subscribed = excluded.subscribed`,
      )
      .run(user, contact.legacyId, contact.name ?? null, contact.subscribed ? 1 : 0)
  }

  removeContact(user: string, legacyId: string): void {
    this.db.prepare('DELETE FROM contacts WHERE user = ? AND legacy_id = ?').run(user, legacyId)
  }

  putMessage(user: string, m: MessageMapping): void {
    this.db
      .prepare('INSERT INTO messages (user, contact, xmpp_id, legacy_id, created) VALUES (?, ?, ?, ?, ?)')
      .run(user, m.contact, m.xmppId, m.legacyId, Date.now())
    if (this.#pruneEvery === 0) return
    const n = (this.#inserts.get(user) ?? 0) + 1
    this.#inserts.delete(user)
    if (n < this.#pruneEvery) {
      this.#inserts.set(user, n)
      for (const [oldest] of this.#inserts) {
        if (this.#inserts.size <= this.#tracked) break
        this.#inserts.delete(oldest)
        this.pruneMessages(oldest)
      }
      return
    }
    this.pruneMessages(user)
  }

  /** Users whose inserts since their last prune are counted (at most `trackedUsers`). */
  get counted(): number {
    return this.#inserts.size
  }

  /** Drops `user`'s message id mappings beyond the newest {@link maxMessages}; returns how many. */
  pruneMessages(user: string): number {
    if (!Number.isFinite(this.maxMessages)) return 0
    return this.db
      .prepare(
        `DELETE FROM messages WHERE user = ? AND rowid <= (
           SELECT rowid FROM messages WHERE user = ? ORDER BY rowid DESC LIMIT 1 OFFSET ?)`,
      )
      .run(user, user, this.maxMessages).changes as number
  }

  legacyIdOf(user: string, contact: string, xmppId: string): string | null {
    const row = this.db
      .prepare(
        'SELECT legacy_id FROM messages WHERE user = ? AND contact = ? AND xmpp_id = ? ORDER BY rowid DESC LIMIT 1',
      )
      .get(user, contact, xmppId) as { legacy_id: string } | undefined
    return row?.legacy_id ?? null
  }

  xmppIdOf(user: string, contact: string, legacyId: string): string | null {
    const row = this.db
      .prepare(
        'SELECT xmpp_id FROM messages WHERE user = ? AND contact = ? AND legacy_id = ? ORDER BY rowid DESC LIMIT 1',
      )
      .get(user, contact, legacyId) as { xmpp_id: string } | undefined
    return row?.xmpp_id ?? null
  }

  /** Rows per table (for tests and `removeUser` checks). */
  counts(user: string): { registrations: number; contacts: number; messages: number } {
    const n = (table: string) =>
      (this.db.prepare(`SELECT count(*) AS n FROM ${table} WHERE user = ?`).get(user) as { n: number }).n
    return { registrations: n('registrations'), contacts: n('contacts'), messages: n('messages') }
  }

  close(): void {
    this.db.close()
  }
}
