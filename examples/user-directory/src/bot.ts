// The user directory as a component module: `satellite run dist/bot.js` runs it too.
// Configured through the environment (see README): DIRECTORY_DB (a SQLite file, or a
// postgres:// URL for PostgreSQL), DIRECTORY_NAME,
// DIRECTORY_ADMINS, DIRECTORY_ALLOWED_DOMAINS, DIRECTORY_ALLOW_FEDERATED,
// DIRECTORY_SEARCH_BURST, DIRECTORY_SEARCH_PER_MINUTE, DIRECTORY_WRITE_BURST,
// DIRECTORY_WRITE_PER_MINUTE, DIRECTORY_PAGE_SIZE.
import type { Component } from '@satellite/core'
import type { RateLimit } from './limits.js'
import { type Directory, type DirectoryOptions, directory, openDirectoryStore } from './service.js'

const list = (v: string | undefined): string[] | undefined => {
  const items = (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
  return items.length === 0 ? undefined : items
}

function positive(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const v = env[name]
  if (v === undefined || v === '') return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got '${v}'`)
  return n
}

/** A rate limit from `<prefix>_BURST` and `<prefix>_PER_MINUTE`, or undefined when neither is set. */
function rateLimit(env: NodeJS.ProcessEnv, prefix: string): RateLimit | undefined {
  const burst = positive(env, `${prefix}_BURST`)
  const perMinute = positive(env, `${prefix}_PER_MINUTE`)
  if (burst === undefined && perMinute === undefined) return undefined
  return { ...(burst !== undefined ? { burst } : {}), ...(perMinute !== undefined ? { perMinute } : {}) }
}

/** Directory options from the environment; `dbPath` is DIRECTORY_DB (a file or a `postgres://` URL). */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): DirectoryOptions {
  const options: DirectoryOptions = { dbPath: env.DIRECTORY_DB || ':memory:' }
  if (env.DIRECTORY_NAME) options.name = env.DIRECTORY_NAME
  const admins = list(env.DIRECTORY_ADMINS)
  if (admins) options.admins = admins
  const domains = list(env.DIRECTORY_ALLOWED_DOMAINS)
  if (domains) options.allowedDomains = domains
  if (/^(1|true|yes)$/i.test(env.DIRECTORY_ALLOW_FEDERATED ?? '')) options.allowFederated = true
  const searches = rateLimit(env, 'DIRECTORY_SEARCH')
  if (searches) options.rateLimit = searches
  const writes = rateLimit(env, 'DIRECTORY_WRITE')
  if (writes) options.writeLimit = writes
  const pageSize = positive(env, 'DIRECTORY_PAGE_SIZE')
  if (pageSize !== undefined) options.pageSize = pageSize
  return options
}

/**
 * Opens the database of DIRECTORY_DB (SQLite, or PostgreSQL for a `postgres://` URL, its tables
 * migrated) and starts the directory on `xmpp` with the options of the environment. The
 * directory's `close()` closes the database too.
 */
export async function directoryFromEnv(
  xmpp: Component,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Directory> {
  const { dbPath = ':memory:', ...options } = optionsFromEnv(env)
  const store = await openDirectoryStore(dbPath)
  let dir: Directory
  try {
    dir = directory(xmpp, { ...options, store })
  } catch (err) {
    await store.close()
    throw err
  }
  let closed: Promise<void> | undefined
  return {
    ...dir,
    close: () => {
      closed ??= dir.close().then(() => store.close())
      return closed
    },
  }
}

/** The component module: `satellite run` calls the returned cleanup on stop (it closes the database). */
export default async function userDirectory(xmpp: Component): Promise<() => Promise<void>> {
  const dir = await directoryFromEnv(xmpp)
  return () => dir.close()
}
