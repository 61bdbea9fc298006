// The legacy bridge program. Run the simulated network, then the bridge:
//   node dist/network/server.js --port 5299 --users alice:pw,zed:pw2
//   XMPP_DOMAIN=bridge.localhost XMPP_SECRET=bridge-secret BRIDGE_KEY=$(openssl rand -base64 32) \
//     LEGACY_PORT=5299 BRIDGE_DB=bridge.db node dist/main.js
// BRIDGE_DB may be a postgres:// URL (instances sharing one database).
import type { Bridge } from '@satellite/bridge'
import { keyFromEnv } from '@satellite/bridge'
import { component, configFromEnv } from '@satellite/core'
import { legacyBridge, openBridgeStore } from './bot.js'

const xmpp = component({ ...configFromEnv(), name: 'Legacy IM gateway' })
let store: Awaited<ReturnType<typeof openBridgeStore>>
let gateway: Bridge
try {
  store = await openBridgeStore(process.env.BRIDGE_DB ?? 'bridge.db', keyFromEnv())
} catch (err) {
  console.error(`[legacy-bridge] ${(err as Error).message}`)
  process.exit(1)
}
try {
  gateway = legacyBridge(xmpp, { store })
} catch (err) {
  console.error(`[legacy-bridge] ${(err as Error).message}`)
  await store.close()
  process.exit(1)
}

xmpp.on('status', (status, info) =>
  console.log(`[legacy-bridge] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
)
// Also the bridge's reports (BridgeError, code SAT_ERR_BRIDGE_*): adapter failures, dropped input,
// bounds reached, unreadable credentials; at most limits.reportsPerMinute (60) a minute.
xmpp.on('error', (err) => console.error(`[legacy-bridge] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(
    signal,
    () =>
      void gateway
        .close()
        .finally(() => xmpp.stop())
        .finally(() => store.close()),
  )
}

try {
  await xmpp.start()
  console.log(`[legacy-bridge] online as ${xmpp.domain}`)
} catch (err) {
  console.error(`[legacy-bridge] could not start: ${(err as Error).message}`)
  process.exitCode = 1
}
