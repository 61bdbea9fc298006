// The IRC gateway: channels as rooms, one-to-one messages, server@gateway (ad-hoc commands, /quote).
// Run: XMPP_DOMAIN=irc.localhost XMPP_SECRET=... IRC_SERVERS=local=127.0.0.1:6667 \
//      IRC_GATEWAY_DB=irc-gateway.db IRC_GATEWAY_KEY=$(openssl rand -base64 32) pnpm --filter irc-gateway start
import { component, configFromEnv, isSatelliteError } from '@satellite/core'
import { SqliteMucStore } from '@satellite/muc'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import { ircGateway } from './gateway.js'
import { type ServerList, serversFromEnv } from './servers.js'
import { keyFromEnv, SettingsStore } from './settings.js'

let config: ReturnType<typeof configFromEnv>
let servers: ServerList
let store: SqliteMucStore | undefined
let settings: SettingsStore | undefined
try {
  config = configFromEnv()
  servers = serversFromEnv()
  // IRC_GATEWAY_DB: the rooms' archive (history, MAM) and each user's settings, in one SQLite
  // file; without it both live in memory. Stored passwords are sealed with IRC_GATEWAY_KEY.
  const path = process.env.IRC_GATEWAY_DB?.trim() ?? ''
  if (path !== '') {
    const key = keyFromEnv()
    if (key === undefined) {
      throw new IrcGatewayError(
        IrcGatewayErrorCodes.KEY,
        'IRC_GATEWAY_DB is set: set IRC_GATEWAY_KEY (32 bytes, hex or base64: openssl rand -base64 32) or IRC_GATEWAY_KEY_FILE to seal the stored IRC passwords',
        { fatal: true },
      )
    }
    store = new SqliteMucStore({ path })
    try {
      settings = new SettingsStore({ db: store.db, key })
    } catch (err) {
      store.close()
      throw err
    }
  }
} catch (err) {
  if (!isSatelliteError(err)) throw err
  console.error(`[irc-gateway] ${err.message}`)
  process.exit(2)
}

const xmpp = component({ ...config, name: 'IRC gateway' })
const gateway = ircGateway(xmpp, {
  servers,
  ...(store === undefined ? {} : { store }),
  ...(settings === undefined ? {} : { settings }),
})

xmpp.on('status', (status) => console.log(`[irc-gateway] ${status}`))
xmpp.on('error', (err) => console.error(`[irc-gateway] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    gateway.close()
    store?.close()
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
