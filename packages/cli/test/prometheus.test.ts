import { prometheusMetrics } from '@satellite/cli'
import { component, isSatelliteError, xml } from '@satellite/core'
import { testServer } from '@satellite/test-support/component'
import { Registry } from 'prom-client'
import { expect, it } from 'vitest'

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
  expect(first).toMatch(/^# TYPE satellite_iq_latency_seconds histogram$/m)
  expect(first).toMatch(/^satellite_iq_latency_seconds_bucket\{le="10"\} 1$/m)
  expect(first).toMatch(/^satellite_iq_latency_seconds_bucket\{le="\+Inf"\} 1$/m)
  expect(first).toMatch(/^satellite_iq_latency_seconds_count 1$/m)
  // a reconnect shows up by reason; scraping twice does not count anything twice
  ;(await srv.waitForComponent('echo.localhost')).drop('rst')
  await new Promise((r) => xmpp.once('online', r))
  const second = await registry.metrics()
  expect(second).toMatch(/^satellite_reconnects_total\{reason="(ECONNRESET|closed)"\} 1$/m)
  expect(await registry.metrics()).toMatch(/^satellite_stanzas_in_total 3$/m)
  await xmpp.stop()
})

it('bounds the reason labels of the reconnect counter: past the limit they add up as "other"', async () => {
  const { MAX_REASON_LABELS } = await import('@satellite/cli')
  const xmpp = component({
    service: 'xmpp://127.0.0.1:1',
    domain: 'echo.localhost',
    secret: 'long-enough-secret',
  })
  // a server can name a new stream error condition on every connection
  for (let i = 0; i < 1000; i++) xmpp.stats.reconnect(`made-up-condition-${i}`)
  const byDefault = new Registry()
  prometheusMetrics(xmpp, byDefault)
  const lines = (await byDefault.metrics())
    .split('\n')
    .filter((l) => l.startsWith('satellite_reconnects_total{'))
  expect(lines).toHaveLength(MAX_REASON_LABELS)
  expect(lines[0]).toBe('satellite_reconnects_total{reason="made-up-condition-0"} 1')
  expect(lines.at(-1)).toBe(`satellite_reconnects_total{reason="other"} ${1000 - (MAX_REASON_LABELS - 1)}`)
  const registry = new Registry()
  prometheusMetrics(xmpp, registry, 'satellite_', { maxReasonLabels: 10 })
  const scraped = (await registry.metrics())
    .split('\n')
    .filter((l) => l.startsWith('satellite_reconnects_total{'))
  expect(scraped).toHaveLength(10)
  expect(scraped).toContain('satellite_reconnects_total{reason="other"} 991')
  // the labels stay put as counts grow: a new reason after the limit adds to "other"
  xmpp.stats.reconnect('made-up-condition-0')
  xmpp.stats.reconnect('yet-another')
  const again = await registry.metrics()
  expect(again).toContain('satellite_reconnects_total{reason="made-up-condition-0"} 2')
  expect(again).toContain('satellite_reconnects_total{reason="other"} 992')
})

it('a bad maxReasonLabels is a fatal SAT_ERR_CONFIG naming the option, thrown before anything is registered', () => {
  const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: 'bot.localhost', secret: 's' })
  for (const [value, got] of [
    [0, '0'],
    [-3, '-3'],
    [Number.NaN, 'NaN'],
  ] as const) {
    const registry = new Registry()
    let err: unknown
    try {
      prometheusMetrics(xmpp, registry, 'x_', { maxReasonLabels: value })
    } catch (e) {
      err = e
    }
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect(err).toMatchObject({
      fatal: true,
      message: `prometheusMetrics.maxReasonLabels: must be at least 1, got ${got}`,
    })
    expect(registry.getMetricsAsArray()).toEqual([])
  }
  const registry = new Registry()
  prometheusMetrics(xmpp, registry, 'x_', { maxReasonLabels: 1 })
  expect(registry.getSingleMetric('x_reconnects_total')).toBeDefined()
})
