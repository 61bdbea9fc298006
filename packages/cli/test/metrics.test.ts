// satellite run's /metrics: one prom-client registry, one set of names (the table of docs/cli.md),
// the module's own metrics in the same registry, process metrics only when asked for.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadConfig, prometheusMetrics, runModule } from '@satellite/cli'
import { component, xml } from '@satellite/core'
import { testServer } from '@satellite/test-support/component'
import type { OpenMetricsContentType } from 'prom-client'
import * as promClient from 'prom-client'
import { describe, expect, it } from 'vitest'
import { Counter, collectDefaultMetrics, Gauge, Registry } from '../src/prom.js'

const DOMAIN = 'echo.localhost'
const SECRET = 'metrics-secret'
const doc = fileURLToPath(new URL('../../../docs/cli.md', import.meta.url))
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url))

/** The metrics table of docs/cli.md: name -> { type, labels }. */
function documentedMetrics(): Map<string, { type: string; labels: string[] }> {
  const text = readFileSync(doc, 'utf8')
  const table = /<!-- metrics:start -->\n([\s\S]*?)<!-- metrics:end -->/.exec(text)?.[1]
  expect(table, 'docs/cli.md has no metrics table').toBeDefined()
  const out = new Map<string, { type: string; labels: string[] }>()
  for (const row of (table as string).split('\n').slice(2)) {
    const cells = row.split('|').map((c) => c.trim())
    if (cells.length < 5) continue
    const name = /^`(\w+)`$/.exec(cells[1] as string)?.[1]
    expect(name, `a metric name in backquotes: ${row}`).toBeDefined()
    const labels = (cells[3] as string).split(',').flatMap((l) => /`(\w+)`/.exec(l)?.[1] ?? [])
    out.set(name as string, { type: cells[2] as string, labels })
  }
  return out
}

/** What a Prometheus exposition serves: name -> { type, labels } (a histogram's `le` left out). */
function servedMetrics(text: string): Map<string, { type: string; labels: string[] }> {
  const out = new Map<string, { type: string; labels: Set<string> }>()
  for (const [, name, type] of text.matchAll(/^# TYPE (\w+) (\w+)$/gm)) {
    out.set(name as string, { type: type as string, labels: new Set() })
  }
  for (const [, sample, labels] of text.matchAll(/^(\w+)(?:\{([^}]*)\})? \S+$/gm)) {
    const family = [...out.keys()].find(
      (n) =>
        sample === n ||
        (out.get(n)?.type === 'histogram' &&
          /^_(bucket|sum|count)$/.test((sample as string).slice(n.length)) &&
          (sample as string).startsWith(n)),
    )
    expect(family, `a sample of no declared metric: ${sample}`).toBeDefined()
    for (const [, label] of (labels ?? '').matchAll(/(\w+)="/g)) {
      if (label !== 'le') out.get(family as string)?.labels.add(label as string)
    }
  }
  return new Map([...out].map(([n, m]) => [n, { type: m.type, labels: [...m.labels].sort() }]))
}

describe('satellite run /metrics', () => {
  it('serves exactly the metrics docs/cli.md lists, with their types and labels', async () => {
    const srv = await testServer(DOMAIN, SECRET, { strict: true })
    const running = await runModule({
      module: fixture('echo'),
      env: { XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET },
      healthPort: 0,
      log: () => {},
    })
    try {
      // every labelled series present: a reconnect reason, an answered iq
      running.xmpp.stats.reconnect('system-shutdown')
      await running.xmpp.request(
        xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      )
      const res = await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
      const served = servedMetrics(await res.text())
      const documented = documentedMetrics()
      expect(Object.fromEntries(served)).toEqual(Object.fromEntries(documented))
      expect(documented.size).toBe(10)
      // the health endpoint is as it was
      const health = await fetch(`http://127.0.0.1:${running.healthPort}/health`)
      expect(health.status).toBe(200)
      expect(await health.json()).toMatchObject({ status: 'online', online: true, domain: DOMAIN })
    } finally {
      await running.stop()
    }
  })

  it("gives the module the registry it serves: the module's own metrics are on /metrics", async () => {
    const srv = await testServer(DOMAIN, SECRET, { strict: true })
    const running = await runModule({
      module: fixture('counting'),
      env: { XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET },
      healthPort: 0,
      log: () => {},
    })
    try {
      const mod = await import('./fixtures/counting.js')
      expect(mod.registry).toBe(running.registry)
      const alice = srv.client('alice@localhost/a')
      alice.send(xml('message', { to: DOMAIN }, xml('body', {}, 'one')))
      alice.send(xml('message', { to: DOMAIN }, xml('body', {}, 'two')))
      await expect
        .poll(async () => (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text())
        .toMatch(/^bot_messages_total 2$/m)
      const text = await running.registry.metrics()
      expect(text).toMatch(/^satellite_stanzas_in_total 2$/m)
      expect(text).not.toMatch(/^process_/m) // default process metrics are off
    } finally {
      await running.stop()
    }
  })

  it('adds the default process metrics with SATELLITE_PROCESS_METRICS=on (or processMetrics)', async () => {
    const srv = await testServer(DOMAIN, SECRET, { strict: true })
    const env = { XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET }
    expect(loadConfig(env).processMetrics).toBe(false)
    expect(loadConfig({ ...env, SATELLITE_PROCESS_METRICS: 'on' }).processMetrics).toBe(true)
    expect(() => loadConfig({ ...env, SATELLITE_PROCESS_METRICS: 'maybe' })).toThrow(
      'SATELLITE_PROCESS_METRICS: expected "on" or "off", got "maybe"',
    )
    const on = await runModule({
      module: fixture('echo'),
      env: { ...env, SATELLITE_PROCESS_METRICS: 'on' },
      log: () => {},
    })
    try {
      const text = await on.registry.metrics()
      expect(text).toMatch(/^# TYPE process_cpu_user_seconds_total counter$/m)
      expect(text).toMatch(/^# TYPE nodejs_eventloop_lag_seconds gauge$/m)
      expect(text).toMatch(/^satellite_up 1$/m)
    } finally {
      await on.stop()
    }
    const off = await runModule({
      module: fixture('echo'),
      env: { ...env, SATELLITE_PROCESS_METRICS: 'on' },
      processMetrics: false,
      log: () => {},
    })
    try {
      expect(await off.registry.metrics()).not.toMatch(/process_cpu_user_seconds_total/)
    } finally {
      await off.stop()
    }
  })
})

describe('prometheusMetrics', () => {
  it('exposes the iq latency as a histogram in seconds: cumulative buckets, +Inf, sum and count', async () => {
    const srv = await testServer(DOMAIN, SECRET, { strict: true })
    const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
    const registry = new Registry()
    prometheusMetrics(xmpp, registry)
    const openMetrics = new Registry<OpenMetricsContentType>()
    openMetrics.setContentType(Registry.OPENMETRICS_CONTENT_TYPE)
    prometheusMetrics(xmpp, openMetrics)
    await xmpp.start()
    try {
      const ping = () =>
        xmpp.request(xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })))
      await Promise.all([ping(), ping(), ping()])
      const [json] = (await registry.getMetricsAsJSON()).filter(
        (m) => m.name === 'satellite_iq_latency_seconds',
      )
      expect(json?.type).toBe('histogram')
      const values = (json?.values ?? []) as Array<{ metricName?: string; labels: object; value: number }>
      const buckets = values.filter((v) => v.metricName === 'satellite_iq_latency_seconds_bucket')
      expect(buckets.map((b) => (b.labels as { le: unknown }).le)).toEqual([
        0.001,
        0.005,
        0.01,
        0.025,
        0.05,
        0.1,
        0.25,
        0.5,
        1,
        2.5,
        5,
        10,
        '+Inf',
      ])
      const counts = buckets.map((b) => b.value)
      expect(counts).toEqual([...counts].sort((a, b) => a - b)) // cumulative
      expect(counts.at(-1)).toBe(3)
      const value = (name: string) => values.find((v) => v.metricName === name)?.value
      expect(value('satellite_iq_latency_seconds_count')).toBe(3)
      const sum = value('satellite_iq_latency_seconds_sum') as number
      const { meanMs, count } = xmpp.stats.iqLatency
      expect(sum).toBeCloseTo((meanMs * count) / 1000, 9) // seconds, not milliseconds
      expect(sum).toBeGreaterThan(0)
      expect(sum).toBeLessThan(3)
      // the same histogram in the OpenMetrics format
      const om = await openMetrics.metrics()
      expect(om).toMatch(/^satellite_iq_latency_seconds_count 3$/m)
      expect(om).toMatch(/^satellite_stanzas_in_total \d+$/m)
      expect(om.endsWith('# EOF\n')).toBe(true)
    } finally {
      await xmpp.stop()
    }
  })

  it("uses prom-client's own classes (a Counter from 'prom-client' fits the same registry)", () => {
    expect(Registry).toBe(promClient.Registry)
    expect(Counter).toBe(promClient.Counter)
    expect(Gauge).toBe(promClient.Gauge)
    const registry = new Registry()
    collectDefaultMetrics(registry)
    expect(registry.getSingleMetric('process_cpu_user_seconds_total')).toBeDefined()
  })
})
