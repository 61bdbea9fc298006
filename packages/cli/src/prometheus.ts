import { type Component, optionError } from '@satellite/core'
import type { Metric, OpenMetricsContentType, Registry } from 'prom-client'
import { Counter, Gauge } from './prom.js'

/**
 * The default most distinct `reason` labels of `satellite_reconnects_total`. The reasons are
 * stream error conditions, socket error codes and the like, some of them named by the server:
 * past this many, the counts of new reasons are added up under `reason="other"`, so a server
 * inventing a condition per connection cannot grow the metrics without bound.
 * @example
 * prometheusMetrics(xmpp, registry, 'satellite_', { maxReasonLabels: MAX_REASON_LABELS * 2 })
 */
export const MAX_REASON_LABELS = 64

/** Options of {@link prometheusMetrics} and `satellite run`'s metrics. */
export interface MetricsOptions {
  /** Most distinct `reason` labels of the reconnect counter, `other` included (default {@link MAX_REASON_LABELS}). */
  maxReasonLabels?: number
}

/**
 * Reconnect counts by reason label: the first `max - 1` reasons (in the order they first
 * happened, so labels never move between scrapes) keep their name, the rest count as `other`.
 * `max` is at least 1 (checked by {@link prometheusMetrics}).
 * @internal
 */
export function reasonCounts(byReason: Record<string, number>, max = MAX_REASON_LABELS): Map<string, number> {
  const out = new Map<string, number>()
  let named = 0
  for (const [reason, n] of Object.entries(byReason)) {
    const label = reason !== 'other' && named < max - 1 ? reason : 'other'
    if (label !== 'other') named++
    out.set(label, (out.get(label) ?? 0) + n)
  }
  return out
}

/** One sample of a metric, as prom-client's registry formats it. */
interface Sample {
  metricName: string
  labels: Record<string, string | number>
  value: number
}

/**
 * A Prometheus histogram whose buckets, sum and count are read at scrape time from a
 * cumulative histogram kept elsewhere (`xmpp.stats.iqLatency`, in ms): prom-client's own
 * `Histogram` can only observe one value at a time, and the component already counts every
 * answer in its buckets. It has what prom-client's registry reads of a metric (`name`, `help`,
 * `type`, `aggregator`, `get()`, `reset()`), so `registry.metrics()` and
 * `registry.getMetricsAsJSON()` serve it like any other.
 */
function scrapedHistogram(
  registry: Registry | Registry<OpenMetricsContentType>,
  name: string,
  help: string,
  read: () => { buckets: Array<{ le: number; count: number }>; count: number; sumMs: number },
): void {
  const base = { name, help, type: 'histogram', aggregator: 'sum' } as const
  const metric = {
    ...base,
    collect() {},
    reset() {},
    async get() {
      const h = read()
      const values: Sample[] = h.buckets.map((b) => ({
        metricName: `${name}_bucket`,
        labels: { le: b.le / 1000 },
        value: b.count,
      }))
      values.push(
        { metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: h.count },
        { metricName: `${name}_sum`, labels: {}, value: h.sumMs / 1000 },
        { metricName: `${name}_count`, labels: {}, value: h.count },
      )
      return { ...base, values }
    },
  }
  registry.registerMetric(metric as unknown as Metric)
}

/**
 * Registers a component's metrics in a prom-client registry (yours, or prom-client's default
 * `register`; Prometheus text or OpenMetrics). Every value is read from `xmpp.stats` at scrape time: nothing is counted twice
 * and nothing runs per stanza. The names follow Prometheus conventions (`_total` counters,
 * seconds, a histogram with `le` buckets); docs/cli.md lists each with its type and meaning.
 * `satellite run` serves exactly these on `/metrics`. The reconnect counter has at most
 * `options.maxReasonLabels` reason labels (see {@link MAX_REASON_LABELS}); a bad one is a fatal
 * `SAT_ERR_CONFIG` (`prometheusMetrics.maxReasonLabels: …`), thrown before anything is registered.
 *
 * @example
 * ```ts
 * import { Registry, collectDefaultMetrics } from 'prom-client'
 * const registry = new Registry()
 * collectDefaultMetrics({ register: registry })
 * prometheusMetrics(xmpp, registry)
 * // serve await registry.metrics() on /metrics
 * ```
 */
export function prometheusMetrics(
  xmpp: Component,
  registry: Registry | Registry<OpenMetricsContentType>,
  prefix = 'satellite_',
  options: MetricsOptions = {},
): void {
  const maxReasons = options.maxReasonLabels ?? MAX_REASON_LABELS
  if (!(maxReasons >= 1)) {
    throw optionError('prometheusMetrics', 'maxReasonLabels', `must be at least 1, got ${String(maxReasons)}`)
  }
  const s = xmpp.stats
  const registers = [registry]
  /** A counter that follows a cumulative value read at scrape time. */
  const follow = (name: string, help: string, read: () => number) => {
    let seen = 0
    new Counter({
      name: prefix + name,
      help,
      registers,
      collect() {
        const now = read()
        if (now > seen) this.inc(now - seen)
        seen = now
      },
    })
  }
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name: prefix + name,
      help,
      registers,
      collect() {
        this.set(read())
      },
    })
  gauge('up', '1 while the component is online, else 0.', () => (xmpp.online ? 1 : 0))
  follow('stanzas_in_total', 'Stanzas received.', () => s.stanzasIn)
  follow('stanzas_out_total', 'Stanzas written to the socket.', () => s.stanzasOut)
  const seenReasons = new Map<string, number>()
  new Counter({
    name: `${prefix}reconnects_total`,
    help: 'Reconnects, by reason (stream error condition, socket error code...).',
    labelNames: ['reason'],
    registers,
    collect() {
      for (const [reason, n] of reasonCounts(s.reconnectsByReason, maxReasons)) {
        const before = seenReasons.get(reason) ?? 0
        if (n > before) this.inc({ reason }, n - before)
        seenReasons.set(reason, n)
      }
    },
  })
  gauge('queue_depth', 'Stanzas waiting in the outbound queue.', () => s.queueDepth)
  gauge('handlers_inflight', 'Handlers running.', () => s.inflight)
  gauge('inbound_backlog', 'Received stanzas waiting for a free handler slot.', () => s.inboundBacklog)
  gauge('iq_pending', 'iq requests waiting for answers.', () => s.pendingRequests)
  scrapedHistogram(
    registry,
    `${prefix}iq_latency_seconds`,
    'Latency of answered iq requests, in seconds.',
    () => {
      const l = s.iqLatency
      return { buckets: l.buckets, count: l.count, sumMs: l.meanMs * l.count }
    },
  )
  follow('iq_timeouts_total', 'iq requests that got no answer in time.', () => s.iqLatency.timeouts)
}
