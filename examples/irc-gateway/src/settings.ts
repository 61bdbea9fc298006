// What each XMPP user (bare JID) set for each IRC server: the nick, the password (sealed with
// AES-256-GCM by @satellite/bridge's crypto helpers, bound to the user and the server) and whether
// to use SASL. Kept in IRC_GATEWAY_DB, the SQLite file that also holds the rooms' archive
// (SqliteMucStore): the archive's schema is versioned by SQLite's user_version, so this store keeps
// its own version in its own table (irc_gateway_meta) and both live in one file.
import { readFileSync } from 'node:fs'
import { decrypt, encrypt, parseKey } from '@satellite/bridge'
import { optionError } from '@satellite/core'
import type { Db } from '@satellite/sqlite'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'

/** One user's settings for one server. The password is in clear here, sealed at rest. */
export interface UserSettings {
  /** The nick to use on that server (else the JID's local part). */
  nick?: string
  /** The IRC password: SASL PLAIN over TLS when the server offers it, else NickServ IDENTIFY. */
  password?: string
  /** Use SASL when the server offers it over TLS (default true). */
  sasl: boolean
}

/**
 * The settings store's schema, one step a version (append, never edit): the version is kept in
 * irc_gateway_meta, not in user_version, which SqliteMucStore uses in the same file.
 */
export const SETTINGS_MIGRATIONS: readonly string[] = [
  `CREATE TABLE irc_settings (user TEXT NOT NULL, server TEXT NOT NULL, nick TEXT,
     password TEXT, sasl INTEGER NOT NULL DEFAULT 1, updated INTEGER NOT NULL,
     PRIMARY KEY (user, server));`,
]

const CHECK = 'satellite-irc-gateway-key-check'

export interface SettingsStoreOptions {
  /** The database (the archive's: `new SqliteMucStore({ path }).db`). */
  db: Db
  /** The 32-byte key that seals passwords ({@link keyFromEnv}). */
  key: Buffer
  /** Servers one user may have settings for (default 10). */
  maxRowsPerUser?: number
  /** For messages: where the key came from (default IRC_GATEWAY_KEY). */
  keyName?: string
}

/**
 * The key from the environment: IRC_GATEWAY_KEY (64 hex digits or base64 of 32 bytes), or the
 * file named by IRC_GATEWAY_KEY_FILE (the same text, or 32 raw bytes). Throws a fatal
 * SAT_ERR_IRC_KEY when it is malformed or the file cannot be read; returns undefined when neither
 * is set. The key itself is never part of a message.
 */
export function keyFromEnv(env: NodeJS.ProcessEnv = process.env): Buffer | undefined {
  const text = env.IRC_GATEWAY_KEY
  if (text !== undefined && text !== '') return readKey(text, 'IRC_GATEWAY_KEY')
  const file = env.IRC_GATEWAY_KEY_FILE
  if (file === undefined || file === '') return undefined
  let raw: Buffer
  try {
    raw = readFileSync(file)
  } catch (err) {
    throw keyError(
      `IRC_GATEWAY_KEY_FILE: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`,
    )
  }
  if (raw.length === 32) return raw
  return readKey(raw.toString('utf8'), `IRC_GATEWAY_KEY_FILE (${file})`)
}

function readKey(text: string, where: string): Buffer {
  try {
    return parseKey(text, where)
  } catch {
    throw keyError(`${where} must be 32 bytes, as 64 hex digits or base64 (openssl rand -base64 32)`)
  }
}

function keyError(message: string): IrcGatewayError {
  return new IrcGatewayError(IrcGatewayErrorCodes.KEY, message, { fatal: true })
}

interface Row {
  nick: string | null
  password: string | null
  sasl: number
}

/**
 * Per (bare JID, server) settings in SQLite, passwords sealed. Opening a database with another
 * key than the one that first used it throws a fatal SAT_ERR_IRC_KEY at once.
 */
export class SettingsStore {
  readonly maxRowsPerUser: number
  readonly #db: Db
  readonly #key: Buffer
  readonly #keyName: string

  constructor(options: SettingsStoreOptions) {
    if (options.key.length !== 32) throw keyError('the key must be 32 bytes')
    const max = options.maxRowsPerUser ?? 10
    if (!Number.isInteger(max) || max < 1 || max > 1000) {
      throw optionError(
        'irc-gateway',
        'settings.maxRowsPerUser',
        `must be an integer 1-1000, got ${String(max)}`,
      )
    }
    this.maxRowsPerUser = max
    this.#db = options.db
    this.#key = options.key
    this.#keyName = options.keyName ?? 'IRC_GATEWAY_KEY'
    this.#migrate()
    this.#checkKey()
  }

  #migrate(): void {
    const db = this.#db
    db.exec('CREATE TABLE IF NOT EXISTS irc_gateway_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)')
    const row = db.prepare("SELECT value FROM irc_gateway_meta WHERE name = 'schema'").get() as
      | { value: string }
      | undefined
    const current = row === undefined ? 0 : Number(row.value)
    if (current > SETTINGS_MIGRATIONS.length) {
      throw new IrcGatewayError(
        IrcGatewayErrorCodes.STORE,
        `the settings are at schema version ${current}, newer than this code knows (${SETTINGS_MIGRATIONS.length})`,
        { fatal: true },
      )
    }
    for (let v = current; v < SETTINGS_MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(SETTINGS_MIGRATIONS[v] as string)
        db.prepare(
          `INSERT INTO irc_gateway_meta (name, value) VALUES ('schema', ?)
           ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
        ).run(String(v + 1))
      })()
    }
  }

  #checkKey(): void {
    const row = this.#db.prepare("SELECT value FROM irc_gateway_meta WHERE name = 'key-check'").get() as
      | { value: string }
      | undefined
    if (row === undefined) {
      this.#db
        .prepare("INSERT INTO irc_gateway_meta (name, value) VALUES ('key-check', ?)")
        .run(encrypt(this.#key, CHECK))
      return
    }
    let ok = false
    try {
      ok = decrypt(this.#key, row.value) === CHECK
    } catch {}
    if (!ok) {
      throw keyError(`the database was first used with another ${this.#keyName}; refusing to use it`)
    }
  }

  /**
   * The settings of `user` for `server`, or undefined. A password that does not decrypt (an
   * altered row) throws SAT_ERR_IRC_KEY: the user has to configure it again.
   */
  get(user: string, server: string): UserSettings | undefined {
    const row = this.#db
      .prepare('SELECT nick, password, sasl FROM irc_settings WHERE user = ? AND server = ?')
      .get(user, server) as Row | undefined
    if (row === undefined) return undefined
    const out: UserSettings = { sasl: row.sasl !== 0 }
    if (row.nick !== null) out.nick = row.nick
    if (row.password !== null) {
      try {
        out.password = decrypt(this.#key, row.password, aad(user, server))
      } catch {
        throw new IrcGatewayError(
          IrcGatewayErrorCodes.KEY,
          `the stored password of ${user} for ${server} cannot be read: configure it again`,
        )
      }
    }
    return out
  }

  /** Saves the settings of `user` for `server`; SAT_ERR_IRC_LIMIT past `maxRowsPerUser` servers. */
  put(user: string, server: string, settings: UserSettings): void {
    const db = this.#db
    db.transaction(() => {
      const exists = db.prepare('SELECT 1 FROM irc_settings WHERE user = ? AND server = ?').get(user, server)
      if (exists === undefined) {
        const { n } = db.prepare('SELECT count(*) AS n FROM irc_settings WHERE user = ?').get(user) as {
          n: number
        }
        if (n >= this.maxRowsPerUser) {
          throw new IrcGatewayError(
            IrcGatewayErrorCodes.LIMIT,
            `settings for at most ${this.maxRowsPerUser} servers per user`,
          )
        }
      }
      const sealed =
        settings.password === undefined || settings.password === ''
          ? null
          : encrypt(this.#key, settings.password, aad(user, server))
      db.prepare(
        `INSERT INTO irc_settings (user, server, nick, password, sasl, updated) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (user, server) DO UPDATE SET nick = excluded.nick, password = excluded.password,
           sasl = excluded.sasl, updated = excluded.updated`,
      ).run(user, server, settings.nick ?? null, sealed, settings.sasl ? 1 : 0, Date.now())
    })()
  }

  /** Forgets the settings of `user` for `server`; true if there were some. */
  remove(user: string, server: string): boolean {
    return (
      this.#db.prepare('DELETE FROM irc_settings WHERE user = ? AND server = ?').run(user, server).changes > 0
    )
  }

  /** How many servers `user` has settings for. */
  count(user: string): number {
    return (
      this.#db.prepare('SELECT count(*) AS n FROM irc_settings WHERE user = ?').get(user) as { n: number }
    ).n
  }
}

/** Binds a sealed password to its owner and server: a row copied to another user does not decrypt. */
function aad(user: string, server: string): string {
  return `${user}\n${server}`
}
