// Subject "xmppjs": @xmpp/component 0.13.1 used as its README shows (component(), on('stanza'), await send()).
// BENCH_MODE=echo echoes messages; BENCH_MODE=iq keeps BENCH_IQ_WINDOW iqCaller.request() pings in flight.
// BENCH_SLOW_US busy-waits that many µs in the handler (flood scenario).
import { component, xml } from '@xmpp/component'

const mode = process.env.BENCH_MODE ?? 'echo'
const slowUs = Number(process.env.BENCH_SLOW_US ?? 0)
const iqWindow = Number(process.env.BENCH_IQ_WINDOW ?? 100)
const iqTarget = process.env.BENCH_IQ_TARGET ?? 'blaster.localhost'

function spin(us) {
  const end = performance.now() + us / 1000
  while (performance.now() < end) {}
}

const xmpp = component({
  service: process.env.XMPP_SERVICE,
  domain: process.env.XMPP_DOMAIN,
  password: process.env.XMPP_SECRET,
})

xmpp.on('error', (err) => {
  console.error('xmpp.js error:', err)
})

if (mode === 'echo') {
  xmpp.on('stanza', async (stanza) => {
    if (!stanza.is('message')) return
    const { to, from, id, type } = stanza.attrs
    if (slowUs > 0) spin(slowUs)
    const body = stanza.getChildText('body')
    await xmpp.send(xml('message', { from: to, to: from, id, type }, xml('body', {}, body)))
  })
}

async function requester() {
  for (;;) {
    const res = await xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: iqTarget }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      10_000,
    )
    if (res.attrs.type !== 'result') throw new Error(`unexpected iq response: ${res}`)
  }
}

await xmpp.start()

if (mode === 'iq') {
  for (let i = 0; i < iqWindow; i++) {
    requester().catch((err) => {
      console.error('iq request failed:', err)
      process.exit(1)
    })
  }
}
