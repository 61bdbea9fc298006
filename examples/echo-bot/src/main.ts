// The Satellite hello world: an external component that echoes chat messages.
// Run: XMPP_DOMAIN=echo.localhost XMPP_SECRET=echo-secret pnpm --filter echo-bot start
import { component, configFromEnv } from '@satellite/core'
import echoBot from './bot.js'

const xmpp = component({ ...configFromEnv(), name: 'Echo bot' })
echoBot(xmpp)

xmpp.on('status', (status, info) =>
  console.log(`[echo-bot] ${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`),
)
xmpp.on('error', (err) => console.error(`[echo-bot] ${err.message}`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void xmpp.stop())

try {
  await xmpp.start()
  console.log(`[echo-bot] online as ${xmpp.domain}`)
} catch (err) {
  console.error(`[echo-bot] could not start: ${(err as Error).message}`)
  process.exitCode = 1
}
