import { SqliteStore } from '@satellite/bridge'
import { component } from '@satellite/core'
import { createServer } from '@satellite/testing'
import { expect, it } from 'vitest'
import { legacyBridge } from '../src/bot.js'
import { DEMO_USERS, demo } from '../src/demo.js'
import { parseUsers, startNetwork } from '../src/network/server.js'

it('the demo passes against the bridge and the simulated network', async () => {
  const DOMAIN = 'bridge.localhost'
  const net = await startNetwork({ port: 0, users: parseUsers(DEMO_USERS) })
  const srv = await createServer({ components: { [DOMAIN]: 's' } })
  const store = new SqliteStore({ key: Buffer.alloc(32, 1) })
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 's' })
  const gw = legacyBridge(xmpp, { legacyPort: net.port, store })
  await xmpp.start()
  const checks: Array<[string, boolean]> = []
  process.env.LEGACY_PORT = String(net.port)
  try {
    await demo({
      domain: DOMAIN,
      client: async (user, resource) => {
        const c = srv.client(`${user}@localhost/${resource}`)
        return {
          jid: c.jid,
          send: (el) => void c.send(el),
          request: (iq) => c.request(iq),
          expectStanza: (m, timeout) => c.expectStanza(m, timeout),
        }
      },
      check: (what, ok) => void checks.push([what, ok]),
      section: () => {},
    })
  } finally {
    delete process.env.LEGACY_PORT
    await gw.close()
    await xmpp.stop()
    await srv.close()
    await net.close()
    store.close()
  }
  expect(checks.filter(([, ok]) => !ok)).toEqual([])
  expect(checks).toHaveLength(11)
})
