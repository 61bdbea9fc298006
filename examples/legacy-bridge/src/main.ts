// The legacy bridge program. Run the simulated network, then the bridge:
//   node dist/network/server.js --port 5299 --users alice:pw,zed:pw2
//   XMPP_DOMAIN=bridge.localhost XMPP_SECRET=bridge-secret BRIDGE_KEY=$(openssl rand -base64 32) \
//     LEGACY_PORT=5299 BRIDGE_DB=bridge.db node dist/main.js
// BRIDGE_DB may be a postgres:// URL (instances sharing one database). Several instances on one
// ejabberd domain (bare_source balancing): BRIDGE_LEASE_TTL=15000 (cluster.ts, docs/scaling.md).
import type { Bridge } from '@satellite/bridge'
import { keyFromEnv } from '@satellite/bridge'
import type { PostgresBridgeStore } from '@satellite/bridge/postgres'
import { component, configFromEnv } from '@satellite/core'
import { type Cluster, joinCluster } from '@satellite/postgres'
import { legacyBridge, openBridgeStore } from './bot.js'
import { type BridgeClusterSettings, clusterFromEnv, fenceSends, probeUsers } from './cluster.js'

const xmpp = component({ ...configFromEnv(), name: 'Legacy IM gateway' })
const db = process.env.BRIDGE_DB ?? 'bridge.db'
let store: Awaited<ReturnType<typeof openBridgeStore>>
let gateway: Bridge
let settings: BridgeClusterSettings | undefined
let cluster: Cluster | undefined
try {
  settings = clusterFromEnv(process.env, db)
  store = await openBridgeStore(db, keyFromEnv())
} catch (err) {
  console.error(`[legacy-bridge] ${(err as Error).message}`)
  process.exit(1)
}
// With several instances, this one speaks and logs users in only while its lease is valid.
const serving = () => cluster?.serving() ?? false
try {
  gateway = legacyBridge(xmpp, { store, ...(settings === undefined ? {} : { serving }) })
} catch (err) {
  console.error(`[legacy-bridge] ${(err as Error).message}`)
  await store.close()
  process.exit(1)
}

/** Logs every user out of the legacy network, stops the component, then closes the store. */
let stopping: Promise<void> | undefined
const stop = (): Promise<void> => {
  stopping ??= gateway
    .close()
    .finally(() => xmpp.stop())
    .finally(() => cluster?.close())
    .finally(() => store.close())
  return stopping
}

if (settings !== undefined) {
  const fence = fenceSends(xmpp, serving)
  try {
    cluster = await joinCluster(xmpp, (store as PostgresBridgeStore).db, {
      ttl: settings.ttl,
      ...(settings.instance === undefined ? {} : { instance: settings.instance }),
      onLost(reason) {
        // Another instance took this one's lease (and takes its slot once we are gone): let the
        // users go without a word to XMPP (the fence drops it), and stop; the supervisor
        // restarts us as a new generation.
        console.error(`[legacy-bridge] ${reason}: letting the users go and stopping`)
        process.exitCode = 75
        void stop().finally(() =>
          console.error(`[legacy-bridge] stopped (${fence.dropped()} stanzas not sent)`),
        )
      },
      onStream(peer, stream) {
        // The slot of `peer` comes to this instance once the stream is online: its users answer the probes here.
        stream.on('online', () => {
          console.log(`[legacy-bridge] serving the slot of ${peer}`)
          void probeUsers(xmpp, store, serving)
        })
      },
    })
  } catch (err) {
    console.error(`[legacy-bridge] ${(err as Error).message}`)
    await gateway.close()
    await store.close()
    process.exit(1)
  }
  console.log(`[legacy-bridge] instance ${cluster.lease.instance}, generation ${cluster.lease.generation}`)
  // At start (and after a reconnect of the main stream): the users of this instance's own slot.
  xmpp.on('online', () => void probeUsers(xmpp, store, serving))
}

xmpp.on('status', (status, info) =>
  console.log(`[legacy-bridge] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
)
// Also the bridge's reports (BridgeError, code SAT_ERR_BRIDGE_*): adapter failures, dropped input,
// bounds reached, unreadable credentials; at most limits.reportsPerMinute (60) a minute.
xmpp.on('error', (err) => console.error(`[legacy-bridge] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop())

try {
  await xmpp.start()
  console.log(`[legacy-bridge] online as ${xmpp.domain}`)
} catch (err) {
  console.error(`[legacy-bridge] could not start: ${(err as Error).message}`)
  process.exitCode = 1
  await cluster?.close()
}
