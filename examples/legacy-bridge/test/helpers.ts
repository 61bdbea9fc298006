// Shared setup of this example's tests: the simulated network, the embedded server, and the
// legacy bridge on it.
import { type Bridge, SqliteStore } from '@satellite/bridge'
import { type Component, component } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer, type TestServer } from '@satellite/testing'
import { legacyBridge } from '../src/bot.js'
import { type Network, parseUsers, startNetwork } from '../src/network/server.js'

export const DOMAIN = 'bridge.localhost'
export const SECRET = 'bridge-secret'

/** One test's bridge and what it runs on. A test may replace `gw` or `net`. */
export interface Setup {
  net: Network
  srv: TestServer
  store: SqliteStore
  xmpp: Component
  gw: Bridge
}

/**
 * The network (alice, zed, yan, Ann Lee), an embedded server, an in-memory store, and the
 * bridge on DOMAIN, started. After the test (and after the cleanups the test registers, as
 * it registers them later), the bridge, the component, the server and the network then in
 * the setup are stopped and the store closed; an error doing so fails the test.
 */
export async function startBridge(): Promise<Setup> {
  const net = await startNetwork({ port: 0, users: parseUsers('alice:pw,zed:pw2,yan:pw3,Ann Lee:pw4') })
  const srv = await createServer({ components: { [DOMAIN]: SECRET } })
  const store = new SqliteStore({ key: Buffer.alloc(32, 3) })
  const xmpp = component({
    service: srv.url,
    domain: DOMAIN,
    secret: SECRET,
    reconnect: { base: 20, cap: 100 },
  })
  const gw = legacyBridge(xmpp, { legacyPort: net.port, store, retry: { base: 50, cap: 200 } })
  const t: Setup = { net, srv, store, xmpp, gw }
  afterTest(
    async () => {
      await t.gw.close()
      await t.xmpp.stop()
      await t.srv.close()
      await t.net.close()
      t.store.close()
    },
    { strict: true },
  )
  await xmpp.start()
  return t
}
