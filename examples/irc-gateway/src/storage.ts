// IRC_GATEWAY_DB: one SQLite file for the rooms' archive (SqliteMucStore: history on join, MAM)
// and each user's settings (settings.ts), the passwords in it sealed with IRC_GATEWAY_KEY (or
// IRC_GATEWAY_KEY_FILE). Without IRC_GATEWAY_DB both live in memory and no key is needed.
import { SqliteMucStore } from '@satellite/muc'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import { keyFromEnv, SettingsStore } from './settings.js'

export interface Storage {
  /** The rooms' archive, for ircGateway's `store`. */
  store: SqliteMucStore
  /** The users' settings, for ircGateway's `settings`. */
  settings: SettingsStore
  /** Closes the file (after the gateway's close()). */
  close(): void
}

/**
 * Opens IRC_GATEWAY_DB with its key; undefined when IRC_GATEWAY_DB is not set. Every problem is a
 * fatal IrcGatewayError: SAT_ERR_IRC_KEY (no key, a malformed key, not the key the file was first
 * used with), SAT_ERR_IRC_STORE (the file cannot be opened, or is newer than this code).
 */
export function storageFromEnv(env: NodeJS.ProcessEnv = process.env): Storage | undefined {
  const path = env.IRC_GATEWAY_DB?.trim() ?? ''
  if (path === '') return undefined
  const key = keyFromEnv(env)
  if (key === undefined) {
    throw new IrcGatewayError(
      IrcGatewayErrorCodes.KEY,
      'IRC_GATEWAY_DB is set: set IRC_GATEWAY_KEY (32 bytes, hex or base64: openssl rand -base64 32) or IRC_GATEWAY_KEY_FILE to seal the stored IRC passwords',
      { fatal: true },
    )
  }
  let store: SqliteMucStore
  try {
    store = new SqliteMucStore({ path })
  } catch (err) {
    throw new IrcGatewayError(
      IrcGatewayErrorCodes.STORE,
      `IRC_GATEWAY_DB: cannot open ${path}: ${(err as Error).message}`,
      { fatal: true, cause: err },
    )
  }
  try {
    const settings = new SettingsStore({ db: store.db, key })
    return { store, settings, close: () => store.close() }
  } catch (err) {
    store.close()
    throw err
  }
}
