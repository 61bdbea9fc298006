// The user directory as a program.
// Run: XMPP_DOMAIN=directory.localhost XMPP_SECRET=directory-secret DIRECTORY_DB=./directory.db pnpm --filter user-directory start
import { component, configFromEnv } from '@satellite/core'
import { directoryFromEnv } from './bot.js'

const xmpp = component({ ...configFromEnv(), name: process.env.DIRECTORY_NAME || 'User directory' })
const dir = directoryFromEnv(xmpp)
xmpp.once('stopped', () => dir.close()) // closes the database (WAL checkpoint)

xmpp.on('status', (status, info) =>
  console.log(`[user-directory] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
)
xmpp.on('error', (err) => console.error(`[user-directory] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())

try {
  await xmpp.start()
  console.log(`[user-directory] online as ${xmpp.domain} (${dir.store.count()} entries)`)
} catch (err) {
  console.error(`[user-directory] could not start: ${(err as Error).message}`)
  dir.close()
  process.exitCode = 1
}
