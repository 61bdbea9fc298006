// The directory service: wires registration (XEP-0077), search (XEP-0055 + XEP-0059) and
// ad-hoc commands (XEP-0050) onto a Satellite component, over a DirectoryStore. The parts:
// options.ts (the options and their check), access.ts (who may do what), entries.ts (the
// entry's forms and limits), context.ts (what the parts share), registrar.ts, finder.ts and
// commands.ts (one protocol each).
import type { CommandRegistry } from '@satellite/adhoc'
import type { Component, Identity, PluginHandle } from '@satellite/core'
import { directoryCommands } from './commands.js'
import { directoryContext } from './context.js'
import { directorySearch } from './finder.js'
import { type Directory, type DirectoryOptions, POSTGRES, resolveOptions } from './options.js'
import type { PostgresStoreOptions } from './postgres-store.js'
import { directoryRegistration } from './registrar.js'
import { sqliteStore } from './sqlite-store.js'
import type { DirectoryStore } from './store.js'

export { parentDomain } from './access.js'
export { checkEntry, DEFAULT_PUBLISHED, entryForm, entryFromForm, MAX_ABOUT_LINES } from './entries.js'
export { type RateLimit, RateLimiter } from './limits.js'
export type { Directory, DirectoryOptions } from './options.js'
export type { PostgresStoreOptions } from './postgres-store.js'
export { type SqliteStoreOptions, sqliteStore } from './sqlite-store.js'
export type { DirectoryEntry, DirectoryQuery, DirectoryStore, Match, PublicEntry } from './store.js'

/**
 * Opens the store `db` names: a `postgres://` URL (PostgreSQL, its tables migrated; the client is
 * loaded only then) or a SQLite file (`':memory:'` for none). Throws what `openPostgres` throws
 * (`SAT_ERR_POSTGRES_*`, never showing the URL's password).
 *
 * @example
 * ```ts
 * const store = await openDirectoryStore(process.env.DIRECTORY_DB ?? 'directory.db')
 * const dir = directory(xmpp, { store })
 * xmpp.once('stopped', async () => { await dir.close(); await store.close() })
 * ```
 */
export async function openDirectoryStore(
  db: string,
  options: PostgresStoreOptions = {},
): Promise<DirectoryStore> {
  if (!POSTGRES.test(db)) return sqliteStore({ path: db })
  const { postgresStore } = await import('./postgres-store.js')
  return postgresStore(db, options)
}

/**
 * Makes `xmpp` a user directory: a plugin (docs/plugins.md) whose handle holds the store and
 * `close()`. A bad option is a fatal `SAT_ERR_CONFIG` naming it (`directory.pageSize: ...`),
 * thrown before the store is opened or anything installed.
 *
 * @example
 * ```ts
 * const xmpp = component(configFromEnv())
 * const dir = directory(xmpp, { dbPath: 'directory.db', admins: ['alice@localhost'] })
 * xmpp.once('stopped', () => void dir.close())
 * await xmpp.start()
 * ```
 */
export function directory(xmpp: Component, options: DirectoryOptions = {}): Directory {
  const settings = resolveOptions(options, xmpp.domain)
  const ownStore = options.store === undefined
  const store = options.store ?? sqliteStore({ path: options.dbPath ?? ':memory:' })
  const ctx = directoryContext(store, settings)
  const identity: Identity = { category: 'directory', type: 'user', name: settings.name }
  const installed: PluginHandle[] = []
  let registry: CommandRegistry
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    if (closed !== undefined) return closed
    // The routes, the identity and the sessions go at once; then the store, if it is ours.
    const parts = installed
      .splice(0)
      .reverse()
      .map((part) => part.close())
    xmpp.disco.removeIdentity(identity)
    closed = Promise.all(parts).then(async () => {
      if (ownStore) await store.close()
    })
    return closed
  }
  try {
    xmpp.disco.identity(identity)
    installed.push(directoryRegistration(xmpp, ctx))
    installed.push(directorySearch(xmpp, ctx))
    registry = directoryCommands(xmpp, ctx, options.sessions) // may refuse a `sessions` option
    installed.push(registry)
  } catch (err) {
    void close()
    throw err
  }
  return {
    store,
    commands: registry,
    limiters: { searches: settings.searches, writes: settings.writes },
    close,
  }
}
