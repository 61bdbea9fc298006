// The Satellite hello world: an external component that echoes chat messages.
// Run: XMPP_DOMAIN=echo.localhost XMPP_SECRET=secret pnpm --filter echo-bot start
import { component, configFromEnv, xml } from '@satellite/core'

const xmpp = component({ ...configFromEnv(), name: 'Echo bot' })

// Any user@domain (or the domain itself) gets its chat messages echoed back.
xmpp.message({ type: ['chat', 'normal'] }, (msg) => {
  const body = msg.getChildText('body')
  if (body === null) return // chat states, receipts...: nothing to echo
  const { from, to, id, type } = msg.attrs
  return xmpp.send(xml('message', { from: to, to: from, id, type }, xml('body', {}, body)))
})

// Accept presence subscriptions so the bot can sit in a roster.
xmpp.presence({ type: 'subscribe' }, (p) =>
  xmpp.send(xml('presence', { from: p.attrs.to, to: p.attrs.from, type: 'subscribed' })),
)

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
