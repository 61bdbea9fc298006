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
import { type Directory, type DirectoryOptions, resolveOptions } from './options.js'
import { directoryRegistration } from './registrar.js'
import { sqliteStore } from './store.js'

export { parentDomain } from './access.js'
export { checkEntry, DEFAULT_PUBLISHED, entryForm, entryFromForm, MAX_ABOUT_LINES } from './entries.js'
export { type RateLimit, RateLimiter } from './limits.js'
export type { Directory, DirectoryOptions } from './options.js'

/**
 * Makes `xmpp` a user directory: a plugin (docs/plugins.md) whose handle holds the store and
 * `close()`. A bad option is a fatal `SAT_ERR_CONFIG` naming it (`directory.pageSize: ...`),
 * thrown before the store is opened or anything installed.
 *
 * @example
 * ```ts
 * const xmpp = component(configFromEnv())
 * const dir = directory(xmpp, { dbPath: 'directory.db', admins: ['alice@localhost'] })
 * xmpp.once('stopped', () => dir.close())
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
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    for (const part of installed.splice(0).reverse()) part.close()
    xmpp.disco.removeIdentity(identity)
    if (ownStore) store.close()
  }
  try {
    xmpp.disco.identity(identity)
    installed.push(directoryRegistration(xmpp, ctx))
    installed.push(directorySearch(xmpp, ctx))
    registry = directoryCommands(xmpp, ctx, options.sessions) // may refuse a `sessions` option
    installed.push(registry)
  } catch (err) {
    close()
    throw err
  }
  return {
    store,
    commands: registry,
    limiters: { searches: settings.searches, writes: settings.writes },
    close,
  }
}
