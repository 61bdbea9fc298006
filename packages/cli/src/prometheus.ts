import type { Component } from '@satellite/core'
import type { Registry } from 'prom-client'
import { Counter, Gauge } from 'prom-client'

/**
 * The default most distinct `reason` labels of `satellite_reconnects_total`. The reasons are
 * stream error conditions, socket error codes and the like, some of them named by the server:
 * past this many, the counts of new reasons are added up under `reason="other"`, so a server
 * inventing a condition per connection cannot grow the metrics without bound.
 * @example
 * prometheusMetrics(xmpp, registry, 'satellite_', { maxReasonLabels: MAX_REASON_LABELS * 2 })
 */
export const MAX_REASON_LABELS = 64

/** Options of {@link prometheusMetrics} and `metrics()`. */
export interface MetricsOptions {
  /** Most distinct `reason` labels of the reconnect counter, `other` included (default {@link MAX_REASON_LABELS}). */
  maxReasonLabels?: number
}

/**
 * Reconnect counts by reason label: the first `max - 1` reasons (in the order they first
 * happened, so labels never move between scrapes) keep their name, the rest count as `other`.
 * @internal
 */
export function reasonCounts(byReason: Record<string, number>, max = MAX_REASON_LABELS): Map<string, number> {
  if (!(max >= 1)) throw new RangeError('maxReasonLabels must be at least 1')
  const out = new Map<string, number>()
  let named = 0
  for (const [reason, n] of Object.entries(byReason)) {
    const label = reason !== 'other' && named < max - 1 ? reason : 'other'
    if (label !== 'other') named++
    out.set(label, (out.get(label) ?? 0) + n)
  }
  return out
}

/**
 * Registers a component's counters in a prom-client registry (yours, or prom-client's default
 * `register`), read from `xmpp.stats` at scrape time: nothing is counted twice and nothing runs
 * per stanza. Counters are real Prometheus counters (use `rate()`), gauges are gauges; the iq
 * latency histogram is exposed as cumulative bucket gauges `satellite_iq_latency_le_ms{le}`.
 * The reconnect counter has at most `options.maxReasonLabels` reason labels (see
 * {@link MAX_REASON_LABELS}).
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
  registry: Registry,
  prefix = 'satellite_',
  options: MetricsOptions = {},
): void {
  const maxReasons = options.maxReasonLabels ?? MAX_REASON_LABELS
  reasonCounts({}, maxReasons) // checks the option
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
  gauge('up', '1 while the component is online.', () => (xmpp.online ? 1 : 0))
  follow('stanzas_in_total', 'Stanzas received.', () => s.stanzasIn)
  follow('stanzas_out_total', 'Stanzas written.', () => s.stanzasOut)
  const seenReasons = new Map<string, number>()
  new Counter({
    name: `${prefix}reconnects_total`,
    help: 'Reconnects, by reason.',
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
  gauge('iq_pending', 'iq requests waiting for answers.', () => s.pendingRequests)
  follow('iq_answered_total', 'iq requests answered.', () => s.iqLatency.count)
  follow('iq_timeouts_total', 'iq requests that timed out.', () => s.iqLatency.timeouts)
  new Gauge({
    name: `${prefix}iq_latency_le_ms`,
    help: 'Answered iq requests with latency at most `le` milliseconds (cumulative).',
    labelNames: ['le'],
    registers,
    collect() {
      for (const b of s.iqLatency.buckets) this.set({ le: String(b.le) }, b.count)
    },
  })
}
