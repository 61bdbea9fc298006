// The user directory as a program.
// Run: XMPP_DOMAIN=directory.localhost XMPP_SECRET=directory-secret DIRECTORY_DB=./directory.db pnpm --filter user-directory start
// On PostgreSQL (instances may share it): DIRECTORY_DB=postgres://user:password@host/db
import { component, configFromEnv } from '@satellite/core'
import { directoryFromEnv } from './bot.js'
import { POSTGRES } from './options.js'

const xmpp = component({ ...configFromEnv(), name: process.env.DIRECTORY_NAME || 'User directory' })
const db = process.env.DIRECTORY_DB || ':memory:'
// Never the password of a URL; the PostgreSQL client is loaded only for a URL.
const where = POSTGRES.test(db) ? (await import('@satellite/postgres')).redactUrl(db) : db

let dir: Awaited<ReturnType<typeof directoryFromEnv>>
try {
  dir = await directoryFromEnv(xmpp)
} catch (err) {
  console.error(`[user-directory] could not open ${where}: ${(err as Error).message}`)
  process.exit(1)
}
xmpp.once('stopped', () => void dir.close()) // closes the database (a WAL checkpoint on SQLite)

xmpp.on('status', (status, info) =>
  console.log(`[user-directory] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
)
xmpp.on('error', (err) => console.error(`[user-directory] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())

try {
  await xmpp.start()
  console.log(`[user-directory] online as ${xmpp.domain} (${await dir.store.count()} entries in ${where})`)
} catch (err) {
  console.error(`[user-directory] could not start: ${(err as Error).message}`)
  await dir.close()
  process.exitCode = 1
}
