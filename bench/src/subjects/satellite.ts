// Subject "satellite": the Satellite echo bot through the public API of @satellite/core.
// BENCH_MODE=echo echoes chat messages (BENCH_ROUTE=wildcard routes them with `to: '*'` instead of by type);
// BENCH_MODE=iq keeps BENCH_IQ_WINDOW `request()` pings in flight.
// BENCH_SLOW_US busy-waits that many µs in the handler (flood scenario).
import { component, configFromEnv, type Stanza, xml } from '@satellite/core'

const mode = process.env.BENCH_MODE ?? 'echo'
const route = process.env.BENCH_ROUTE ?? 'type'
const slowUs = Number(process.env.BENCH_SLOW_US ?? 0)
const iqWindow = Number(process.env.BENCH_IQ_WINDOW ?? 100)
const iqTarget = process.env.BENCH_IQ_TARGET ?? 'blaster.localhost'

function spin(us: number): void {
  const end = performance.now() + us / 1000
  while (performance.now() < end) {
    // busy-wait: an artificially slow handler
  }
}

const xmpp = component(configFromEnv())

function echo(msg: Stanza): void {
  if (slowUs > 0) spin(slowUs)
  void xmpp.send(
    xml(
      'message',
      { from: msg.attrs.to ?? '', to: msg.attrs.from ?? '', type: 'chat', id: msg.attrs.id ?? '' },
      xml('body', {}, msg.getChildText('body') ?? ''),
    ),
  )
}

if (mode === 'echo') {
  if (route === 'wildcard') xmpp.message({ to: '*' }, echo)
  else xmpp.message({ type: 'chat' }, echo)
}

async function requester(): Promise<void> {
  for (;;) {
    const res: Stanza = await xmpp.request(
      xml('iq', { type: 'get', to: iqTarget }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      { timeout: 10_000 },
    )
    if (res.attrs.type !== 'result') throw new Error(`unexpected iq response: ${res.toString()}`)
  }
}

await xmpp.start()

if (mode === 'iq') {
  for (let i = 0; i < iqWindow; i++) {
    requester().catch((err: unknown) => {
      console.error('iq request failed:', err)
      process.exit(1)
    })
  }
}
