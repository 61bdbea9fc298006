#!/usr/bin/env node
// examples/irc-gateway's main (examples/irc-gateway/src/main.ts, built into dist/) with the
// outbound scheduler's options from the environment, for bench/irc-gateways.mjs: IRC_FLOOD_BURST
// (1-100, default 5) and IRC_FLOOD_INTERVAL (ms, default 2000). Everything else as main: XMPP_SERVICE,
// XMPP_DOMAIN, XMPP_SECRET (or XMPP_SECRET_FILE), IRC_SERVERS. Needs `pnpm run build` first.
import { component, configFromEnv } from '@satellite/core'
import { ircGateway } from '../examples/irc-gateway/dist/gateway.js'
import { serversFromEnv } from '../examples/irc-gateway/dist/servers.js'

const config = configFromEnv()
const servers = serversFromEnv()
const num = (name) => (process.env[name] ? Number(process.env[name]) : undefined)
const xmpp = component({ ...config, name: 'IRC gateway' })
const gateway = ircGateway(xmpp, {
  servers,
  flood: { burst: num('IRC_FLOOD_BURST'), interval: num('IRC_FLOOD_INTERVAL') },
})
xmpp.on('error', (err) => console.error(`[irc-gateway] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    gateway.close()
    void xmpp.stop().then(() => process.exit(0))
  })
}
await xmpp.start()
console.log(`[irc-gateway] online as ${xmpp.domain}`)
