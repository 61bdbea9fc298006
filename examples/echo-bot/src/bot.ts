// The echo bot's behaviour, as a component module: `satellite run dist/bot.js` runs it too.
import { type Component, xml } from '@satellite/core'

export default function echoBot(xmpp: Component): void {
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
}
