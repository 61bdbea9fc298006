// The chatroom service as a program.
// Run: XMPP_DOMAIN=chat.localhost XMPP_SECRET=chat-secret CHATROOM_OCCUPANT_SECRET=… pnpm --filter chatroom start
import { component } from '@satellite/core'
import { chatroomConfigFromEnv } from './options.js'
import { type Chatroom, chatroom } from './service.js'

let service: Chatroom | undefined
try {
  const { connection, options } = chatroomConfigFromEnv()
  const xmpp = component({ ...connection, name: options.name ?? 'Chatrooms' })
  const rooms = chatroom(xmpp, options)
  service = rooms
  xmpp.once('stopped', () => rooms.close()) // occupants told, the database closed (WAL checkpoint)
  xmpp.on('status', (status, info) =>
    console.log(`[chatroom] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
  )
  xmpp.on('error', (err) => console.error(`[chatroom] ${err.message}`))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())
  await xmpp.start()
  console.log(
    `[chatroom] online as ${xmpp.domain} (${rooms.store.rooms().length} persistent rooms, ${options.db})`,
  )
} catch (err) {
  console.error(`[chatroom] could not start:\n${(err as Error).message}`)
  service?.close()
  process.exitCode = 1
}
