// prom-client's classes, taken from its lib/ files rather than its main entry. The main entry
// also loads what satellite run never uses: the push gateway (node:http, node:https), cluster
// aggregation (node:cluster), every default metric, summaries (tdigest) and @opentelemetry/api,
// about 4.5 MiB of idle RSS and 1 MiB of heap (docs/cli.md, "Metrics"). These are the very
// classes the main entry exports (test/metrics.test.ts checks it), so a metric made with
// `import { Counter } from 'prom-client'` works in the same registry. prom-client is pinned to
// an exact version in package.json: its lib/ layout is not a public interface.
import { createRequire } from 'node:module'
import type * as PromClient from 'prom-client'

const require = createRequire(import.meta.url)

export const Registry = require('prom-client/lib/registry.js') as typeof PromClient.Registry
export const Counter = require('prom-client/lib/counter.js') as typeof PromClient.Counter
export const Gauge = require('prom-client/lib/gauge.js') as typeof PromClient.Gauge

/** prom-client's `collectDefaultMetrics`, loaded on first use (it loads every process metric). */
export function collectDefaultMetrics(registry: PromClient.Registry): void {
  const collect = require('prom-client/lib/defaultMetrics.js') as typeof PromClient.collectDefaultMetrics
  collect({ register: registry })
}
