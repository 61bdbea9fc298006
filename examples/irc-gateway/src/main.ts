// The IRC gateway (first slice): one-to-one messages nick%server@gateway <-> IRC.
// Run: XMPP_DOMAIN=irc.localhost XMPP_SECRET=... IRC_SERVERS=local=127.0.0.1:6667 pnpm --filter irc-gateway start
import { component, configFromEnv, isSatelliteError } from '@satellite/core'
import { ircGateway } from './gateway.js'
import { type ServerList, serversFromEnv } from './servers.js'

let config: ReturnType<typeof configFromEnv>
let servers: ServerList
try {
  config = configFromEnv()
  servers = serversFromEnv()
} catch (err) {
  if (!isSatelliteError(err)) throw err
  console.error(`[irc-gateway] ${err.message}`)
  process.exit(2)
}

const xmpp = component({ ...config, name: 'IRC gateway' })
const gateway = ircGateway(xmpp, { servers })

xmpp.on('status', (status) => console.log(`[irc-gateway] ${status}`))
xmpp.on('error', (err) => console.error(`[irc-gateway] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close()
    void xmpp.stop()
  })
}

try {
  await xmpp.start()
  console.log(`[irc-gateway] online as ${xmpp.domain}: ${[...servers.servers.keys()].join(', ')}`)
} catch (err) {
  console.error(`[irc-gateway] could not start: ${(err as Error).message}`)
  process.exitCode = 1
}
