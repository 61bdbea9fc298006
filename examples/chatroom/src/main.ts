// The chatroom service as a program.
// Run: XMPP_DOMAIN=chat.localhost XMPP_SECRET=chat-secret CHATROOM_OCCUPANT_SECRET=… pnpm --filter chatroom start
import { component } from '@satellite/core'
import { isPostgresUrl, redactUrl } from '@satellite/postgres'
import { chatroomConfigFromEnv } from './options.js'
import { type Chatroom, chatroom } from './service.js'

let service: Chatroom | undefined
try {
  const { connection, options } = chatroomConfigFromEnv()
  const xmpp = component({ ...connection, name: options.name ?? 'Chatrooms' })
  const rooms = await chatroom(xmpp, options)
  service = rooms
  // Occupants told, then the database closed (SQLite: WAL checkpoint; PostgreSQL: the pool ended).
  xmpp.once('stopped', () => void rooms.close())
  xmpp.on('status', (status, info) =>
    console.log(`[chatroom] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
  )
  xmpp.on('error', (err) => console.error(`[chatroom] ${err.message}`))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())
  await xmpp.start()
  const where = isPostgresUrl(options.db) ? redactUrl(options.db) : options.db // never the password
  console.log(
    `[chatroom] online as ${xmpp.domain} (${(await rooms.store.rooms()).length} persistent rooms, ${where})`,
  )
} catch (err) {
  console.error(`[chatroom] could not start:\n${(err as Error).message}`)
  await service?.close()
  process.exitCode = 1
}
