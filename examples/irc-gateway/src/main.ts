// The IRC gateway: channels as rooms, one-to-one messages, server@gateway (ad-hoc commands, /quote).
// Run: XMPP_DOMAIN=irc.localhost XMPP_SECRET=... IRC_SERVERS=local=127.0.0.1:6667 \
//      IRC_GATEWAY_DB=irc-gateway.db IRC_GATEWAY_KEY=$(openssl rand -base64 32) pnpm --filter irc-gateway start
import { component, configFromEnv, isSatelliteError } from '@satellite/core'
import { ircGateway } from './gateway.js'
import { type ServerList, serversFromEnv } from './servers.js'
import { type Storage, storageFromEnv } from './storage.js'

let config: ReturnType<typeof configFromEnv>
let servers: ServerList
let storage: Storage | undefined
try {
  config = configFromEnv()
  servers = serversFromEnv()
  // IRC_GATEWAY_DB (and IRC_GATEWAY_KEY / IRC_GATEWAY_KEY_FILE): the archive and the users'
  // settings in one SQLite file; without it both live in memory.
  storage = storageFromEnv()
} catch (err) {
  if (!isSatelliteError(err)) throw err
  console.error(`[irc-gateway] ${err.message}`)
  process.exit(2)
}

const xmpp = component({ ...config, name: 'IRC gateway' })
const gateway = ircGateway(xmpp, {
  servers,
  ...(storage === undefined ? {} : { store: storage.store, settings: storage.settings }),
})

xmpp.on('status', (status) => console.log(`[irc-gateway] ${status}`))
xmpp.on('error', (err) => console.error(`[irc-gateway] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close()
    storage?.close()
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
