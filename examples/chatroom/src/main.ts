// The chatroom service as a program.
// Run: XMPP_DOMAIN=chat.localhost XMPP_SECRET=chat-secret CHATROOM_OCCUPANT_SECRET=… pnpm --filter chatroom start
// Several instances on one ejabberd domain: CHATROOM_DB=postgres://… CHATROOM_LEASE_TTL=3000 (docs/scaling.md).
// A deploy on Prosody (kick_old): start the new instance after `kill -USR2 <old pid>`; the old one stops when replaced.
// A restart in a cluster: start the new process with the old one's CHATROOM_INSTANCE; it takes the slot over.
import { component } from '@satellite/core'
import { PostgresMucStore } from '@satellite/muc/postgres'
import { type Cluster, isPostgresUrl, joinCluster, redactUrl } from '@satellite/postgres'
import {
  awaitExtraSlot,
  awaitSlot,
  claimExtraSlot,
  listenForHandovers,
  replacedByNewProcess,
  type SlotKeeper,
  slotHolder,
  slotKeeper,
} from './handover.js'
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
  let unlisten: (() => Promise<void>) | undefined
  let keeper: SlotKeeper | undefined
  /** When the previous holder of this instance's slot let it go (a restart's handover). */
  let handedAt: number | undefined
  if (clustered && rooms.store instanceof PostgresMucStore) {
    const db = rooms.store.db
    // A restart of a named instance (a rolling restart, docs/scaling.md): who holds its slot now,
    // read before the new lease makes the old process's lease lost.
    const holder =
      options.instance === undefined
        ? ({ kind: 'new' } as const)
        : await slotHolder(db, xmpp.domain, options.instance)
    cluster = await joinCluster(xmpp, db, {
      ...(options.leaseTtl === undefined ? {} : { ttl: options.leaseTtl }),
      ...(options.instance === undefined ? {} : { instance: options.instance }),
      onLost(reason) {
        const lease = cluster?.lease
        const replaced = lease === undefined ? Promise.resolve(false) : replacedByNewProcess(db, lease)
        void replaced
          .catch(() => false)
          .then((isNew) => {
            if (isNew) {
              // A restart's handover: the new process of this instance connects once we are gone.
              console.log(`[chatroom] handover: a new process of ${lease?.instance} took the lease, stopping`)
            } else {
              // Another instance serves this one's rooms now: stop, and let the supervisor restart
              // us (a new generation of the lease).
              console.error(`[chatroom] ${reason}: stopping`)
              process.exitCode = 75
            }
            void xmpp.stop()
          })
      },
    })
    // The store-level fence (docs/scaling.md, "Fencing"): every write of the store checks this
    // process's lease (its generation) in its transaction, so a write still in flight or queued
    // when the lease is taken over, or re-acquired by a new process of this instance, is rolled
    // back (reported as SAT_ERR_MUC_STORE), never applied.
    rooms.store.fence(cluster.lease)
    const slots = slotKeeper(xmpp, db, cluster)
    keeper = slots
    const lease = cluster.lease
    unlisten = await listenForHandovers(db, xmpp.domain, (instance) => {
      // A new process of this instance: the renewal finds the lease lost (onLost above).
      if (instance === lease.instance) void lease.renew()
      // A new process of an instance whose slot this one claimed: hand the slot back now.
      else void slots.handBack()
    })
    console.log(`[chatroom] instance ${cluster.lease.instance}, generation ${cluster.lease.generation}`)
    if (holder?.kind === 'process' || holder?.kind === 'survivor') {
      const wait = await awaitSlot(db, cluster.lease, Math.floor(cluster.lease.ttl / 3) + 1000)
      handedAt = performance.now()
      // The old process's last writes were accepted until it let go; from now on none is (it may
      // be paused rather than gone).
      await cluster.lease.endHandover()
      console.log(
        wait.handed
          ? `[chatroom] handover: ${holder.kind} ${holder.instance} let the slot go in ${wait.ms} ms`
          : `[chatroom] handover: ${holder.kind} ${holder.instance} did not let the slot go in ${wait.ms} ms, connecting anyway`,
      )
    } else if (holder?.kind === 'new') {
      // A newcomer: if a survivor holds a dead instance's slot, that slot is for us (rebalancing).
      const extra = await claimExtraSlot(db, cluster.lease)
      if (extra !== undefined) {
        const wait = await awaitExtraSlot(db, cluster.lease, extra, Math.floor(cluster.lease.ttl / 3) + 1000)
        handedAt = performance.now()
        console.log(
          wait.handed
            ? `[chatroom] rebalance: ${extra.from} let the slot of ${extra.instance} go in ${wait.ms} ms`
            : `[chatroom] rebalance: ${extra.from} did not let the slot of ${extra.instance} go in ${wait.ms} ms, connecting anyway`,
        )
      }
    }
    // The slots the previous process of this instance had claimed for dead instances: ours now.
    await slots.inherit()
  }
  // Occupants told and the store's last writes done, then the lease given up or marked left (a
  // fenced write after that would be refused), then the database closed.
  xmpp.once('stopped', () => {
    keeper?.stop()
    void unlisten?.().catch(() => {})
    rooms.rooms.close()
    const drained = rooms.store instanceof PostgresMucStore ? rooms.store.idle() : Promise.resolve()
    void drained
      .then(() => cluster?.close())
      .catch((err: Error) => console.error(`[chatroom] leaving the cluster: ${err.message}`))
      .finally(() => rooms.close())
  })
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
  if (handedAt !== undefined) {
    console.log(
      `[chatroom] handover: online ${Math.round(performance.now() - handedAt)} ms after the slot was let go`,
    )
  }
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
