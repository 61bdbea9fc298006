// Shared setup of the bridge tests: the legacy-bridge example on the real server's bridge domain.
import type { Component } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { legacyBridge } from '../../examples/legacy-bridge/src/bot.js'
import { type Network, startNetwork } from '../../examples/legacy-bridge/src/network/server.js'
import { SqliteStore } from '../../packages/bridge/src/index.js'
import { info, type Kind, satellite } from './helpers.js'

/**
 * A simulated legacy network with `users` (name → password), an in-memory store, and the
 * legacy bridge on `kind`'s bridge domain, started; all stopped after the test.
 */
export async function startBridge(
  kind: Kind,
  users: Record<string, string>,
): Promise<{ domain: string; net: Network; store: SqliteStore; xmpp: Component }> {
  const s = info(kind)
  const domain = s.XMPP_BRIDGE_DOMAIN as string
  const net = await startNetwork({ port: 0, users })
  afterTest(() => net.close())
  const store = new SqliteStore({ key: Buffer.alloc(32, 5) })
  afterTest(() => store.close())
  const xmpp = satellite(kind, { domain, secret: s.XMPP_BRIDGE_SECRET as string })
  const gw = legacyBridge(xmpp, { legacyPort: net.port, store, retry: { base: 100, cap: 500 } })
  afterTest(() => gw.close())
  await xmpp.start()
  return { domain, net, store, xmpp }
}

/** A jabber:iq:register set to `domain` with the username and password fields (XEP-0077). */
export const registerIq = (domain: string, username: string, password: string) =>
  clientXml(
    'iq',
    { type: 'set', to: domain },
    clientXml(
      'query',
      { xmlns: 'jabber:iq:register' },
      clientXml('username', {}, username),
      clientXml('password', {}, password),
    ),
  )
