import { prometheusMetrics } from '@satellite/cli'
import { component, xml } from '@satellite/core'
import { Registry } from 'prom-client'
import { expect, it } from 'vitest'
import { testServer } from '../../../test-support/component.js'

it('registers the component counters in a prom-client registry, read at scrape time', async () => {
  const srv = await testServer('echo.localhost', 's', { strict: true })
  const xmpp = component({
    service: srv.url,
    domain: 'echo.localhost',
    secret: 's',
    reconnect: { base: 10, cap: 20 },
  })
  xmpp.message((m) =>
    xmpp.send(xml('message', { from: m.attrs.to, to: m.attrs.from }, xml('body', {}, 'pong'))),
  )
  const registry = new Registry()
  prometheusMetrics(xmpp, registry)
  expect(await registry.metrics()).toMatch(/^satellite_up 0$/m)
  await xmpp.start()
  const alice = srv.client('alice@localhost/a')
  alice.send(xml('message', { to: 'echo.localhost' }, xml('body', {}, 'ping')))
  await alice.expectStanza({ name: 'message' })
  await xmpp.request(
    xml('iq', { type: 'get', to: 'echo.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  const first = await registry.metrics()
  expect(first).toMatch(/^satellite_up 1$/m)
  expect(first).toMatch(/^# TYPE satellite_stanzas_in_total counter$/m)
  expect(first).toMatch(/^satellite_stanzas_in_total 3$/m) // the message, our own ping routed back, its result
  expect(first).toMatch(/^satellite_iq_answered_total 1$/m)
  expect(first).toMatch(/^satellite_iq_latency_le_ms\{le="10000"\} 1$/m)
  // a reconnect shows up by reason; scraping twice does not count anything twice
  ;(await srv.waitForComponent('echo.localhost')).drop('rst')
  await new Promise((r) => xmpp.once('online', r))
  const second = await registry.metrics()
  expect(second).toMatch(/^satellite_reconnects_total\{reason="(ECONNRESET|closed)"\} 1$/m)
  expect(await registry.metrics()).toMatch(/^satellite_stanzas_in_total 3$/m)
  await xmpp.stop()
})
