// The chatroom service as a program.
// Run: XMPP_DOMAIN=chat.localhost XMPP_SECRET=chat-secret CHATROOM_OCCUPANT_SECRET=… pnpm --filter chatroom start
// Several instances on one ejabberd domain: CHATROOM_DB=postgres://… CHATROOM_LEASE_TTL=15000 (docs/scaling.md).
// A deploy on Prosody (kick_old): start the new instance after `kill -USR2 <old pid>`; the old one stops when replaced.
import { component } from '@satellite/core'
import { PostgresMucStore } from '@satellite/muc/postgres'
import { type Cluster, isPostgresUrl, joinCluster, redactUrl } from '@satellite/postgres'
import { chatroomConfigFromEnv } from './options.js'
import { type Chatroom, chatroom } from './service.js'

let service: Chatroom | undefined
let cluster: Cluster | undefined
try {
  const { connection, options } = chatroomConfigFromEnv()
  const xmpp = component({ ...connection, name: options.name ?? 'Chatrooms' })
  const clustered = options.leaseTtl !== undefined
  // With several instances, rooms are answered only while this instance's lease is valid.
  const rooms = await chatroom(xmpp, options, clustered ? { serving: () => cluster?.serving() ?? false } : {})
  service = rooms
  if (clustered && rooms.store instanceof PostgresMucStore) {
    cluster = await joinCluster(xmpp, rooms.store.db, {
      ...(options.leaseTtl === undefined ? {} : { ttl: options.leaseTtl }),
      ...(options.instance === undefined ? {} : { instance: options.instance }),
      onLost(reason) {
        // Another instance serves this one's rooms now: stop, and let the supervisor restart us
        // (a new generation of the lease).
        console.error(`[chatroom] ${reason}: stopping`)
        process.exitCode = 75
        void xmpp.stop()
      },
    })
    console.log(`[chatroom] instance ${cluster.lease.instance}, generation ${cluster.lease.generation}`)
  }
  // The lease given up, occupants told, then the database closed.
  xmpp.once('stopped', () => void (cluster?.close() ?? Promise.resolve()).finally(() => rooms.close()))
  xmpp.on('status', (status, info) =>
    console.log(`[chatroom] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
  )
  xmpp.on('error', (err) => console.error(`[chatroom] ${err.message}`))
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())
  // A deploy's handover (Prosody with component_conflict_resolve = "kick_old"): SIGUSR2 tells this
  // instance it is being replaced; when the new one takes the domain (this stream gets <conflict/>),
  // it stops instead of reconnecting (which would kick the new one back).
  let handingOver = false
  process.on('SIGUSR2', () => {
    handingOver = true
    console.log('[chatroom] handover: stopping when a new instance takes the domain')
  })
  xmpp.on('offline', ({ reason }) => {
    if (!handingOver || reason !== 'conflict') return
    console.log('[chatroom] handover: replaced by a new instance, stopping')
    void xmpp.stop()
  })
  await xmpp.start()
  const where = isPostgresUrl(options.db) ? redactUrl(options.db) : options.db // never the password
  console.log(
    `[chatroom] online as ${xmpp.domain} (${(await rooms.store.rooms()).length} persistent rooms, ${where})`,
  )
} catch (err) {
  console.error(`[chatroom] could not start:\n${(err as Error).message}`)
  await cluster?.close()
  await service?.close()
  process.exitCode = 1
}
