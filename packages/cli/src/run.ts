import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Component, component } from '@satellite/core'
import { type LogFormat, loadConfig } from './config.js'
import { type LifecycleLog, lifecycleLog, logLifecycle } from './log.js'
import { MAX_REASON_LABELS, type MetricsOptions, reasonCounts } from './prometheus.js'

/**
 * What `satellite run` loads: a module whose default export sets up a component
 * (routes, disco, ...). It may return a cleanup function, called on stop.
 *
 * @example
 * ```ts
 * export default function echo(xmpp: Component) {
 *   xmpp.message((m) => xmpp.send(xml('message', { to: m.attrs.from, from: m.attrs.to }, xml('body', {}, 'hi'))))
 * }
 * ```
 */
export type ComponentModule = (
  xmpp: Component,
  // biome-ignore lint/suspicious/noConfusingVoidType: a module may return nothing
) => void | (() => unknown) | Promise<void | (() => unknown)>

/** Options of {@link runModule}. */
export interface RunOptions {
  /** Path of the module (default export: a {@link ComponentModule}). */
  module: string
  /** A .env file to load first (default `.env` in the working directory, if present). */
  envFile?: string
  /** Serve `GET /health` (JSON) and `GET /metrics` (Prometheus text format) on this port. */
  healthPort?: number
  /** Host for the health endpoint (default 127.0.0.1). */
  healthHost?: string
  /** Settings (see {@link settingsSchema}); default `process.env`, after loading the .env file. */
  env?: NodeJS.ProcessEnv
  /** Format of the lifecycle log; default `SATELLITE_LOG`, else `text`. */
  logFormat?: LogFormat
  /** Where log lines go (default `console.log`). */
  log?: (line: string) => void
}

/** A running component started by {@link runModule}. */
export interface RunningComponent {
  xmpp: Component
  /** Port of the health endpoint, if enabled. */
  healthPort: number | undefined
  /** Writes a line to the lifecycle log, in its format (secret fields redacted). */
  log: LifecycleLog
  stop(): Promise<void>
}

/**
 * Loads a component module, connects it with the settings from the environment (or a
 * .env file) and keeps it running; `stop()` closes the stream, the health endpoint and
 * calls the module's cleanup.
 *
 * @example
 * ```ts
 * const running = await runModule({ module: './dist/bot.js', healthPort: 9464 })
 * process.once('SIGTERM', () => running.stop())
 * ```
 */
export async function runModule(options: RunOptions): Promise<RunningComponent> {
  const write = options.log ?? ((line: string) => console.log(line))
  const envFile = options.envFile ?? (existsSync('.env') ? '.env' : undefined)
  const env = options.env ?? process.env
  if (envFile !== undefined) {
    if (!existsSync(envFile)) throw new Error(`--env-file: ${envFile} does not exist`)
    process.loadEnvFile(envFile)
  }
  const config = loadConfig(env)
  const format = options.logFormat ?? config.logFormat
  const log = lifecycleLog(format, write)
  const mod = (await import(pathToFileURL(resolve(options.module)).href)) as { default?: unknown }
  if (typeof mod.default !== 'function') {
    throw new Error(
      `${options.module} must default-export a function (xmpp) => void that sets up the component`,
    )
  }
  const xmpp = component(config.options)
  const cleanup = await (mod.default as ComponentModule)(xmpp)
  logLifecycle(xmpp, log, format)
  let server: Server | undefined
  let healthPort: number | undefined
  if (options.healthPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url === '/health') {
        const ok = xmpp.online
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({
            status: xmpp.status,
            online: ok,
            domain: xmpp.domain,
            stats: xmpp.stats.toJSON(),
          }),
        )
      } else if (req.url === '/metrics') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        res.end(metrics(xmpp))
      } else {
        res.writeHead(404).end()
      }
    })
    await new Promise<void>((r) => server?.listen(options.healthPort, options.healthHost ?? '127.0.0.1', r))
    const addr = server.address()
    healthPort = typeof addr === 'object' && addr ? addr.port : undefined
    const url = `http://${options.healthHost ?? '127.0.0.1'}:${healthPort}`
    if (format === 'json') log('info', 'health', { url: `${url}/health`, metrics: `${url}/metrics` })
    else log('info', `health on ${url}/health and /metrics`)
  }
  await xmpp.start()
  let stopping: Promise<void> | undefined
  return {
    xmpp,
    healthPort,
    log,
    stop: () => {
      stopping ??= (async () => {
        await xmpp.stop()
        if (typeof cleanup === 'function') await cleanup()
        await new Promise<void>((r) => (server ? server.close(() => r()) : r()))
      })()
      return stopping
    },
  }
}

/**
 * Prometheus text exposition of a component's counters (at most `options.maxReasonLabels`
 * reason labels on the reconnect counter, default {@link MAX_REASON_LABELS}).
 */
export function metrics(xmpp: Component, options: MetricsOptions = {}): string {
  const s = xmpp.stats
  const lat = s.iqLatency
  const lines = [
    '# HELP satellite_up 1 while the component is online.',
    '# TYPE satellite_up gauge',
    `satellite_up ${xmpp.online ? 1 : 0}`,
    '# HELP satellite_stanzas_in_total Stanzas received.',
    '# TYPE satellite_stanzas_in_total counter',
    `satellite_stanzas_in_total ${s.stanzasIn}`,
    '# HELP satellite_stanzas_out_total Stanzas written.',
    '# TYPE satellite_stanzas_out_total counter',
    `satellite_stanzas_out_total ${s.stanzasOut}`,
    '# HELP satellite_reconnects_total Reconnects, by reason.',
    '# TYPE satellite_reconnects_total counter',
    ...[...reasonCounts(s.reconnectsByReason, options.maxReasonLabels)].map(
      ([reason, n]) => `satellite_reconnects_total{reason="${reason.replace(/["\\\n]/g, '_')}"} ${n}`,
    ),
    '# HELP satellite_queue_depth Stanzas waiting in the outbound queue.',
    '# TYPE satellite_queue_depth gauge',
    `satellite_queue_depth ${s.queueDepth}`,
    '# HELP satellite_handlers_inflight Handlers running.',
    '# TYPE satellite_handlers_inflight gauge',
    `satellite_handlers_inflight ${s.inflight}`,
    '# HELP satellite_iq_pending iq requests waiting for answers.',
    '# TYPE satellite_iq_pending gauge',
    `satellite_iq_pending ${s.pendingRequests}`,
    '# HELP satellite_iq_latency_seconds Latency of answered iq requests.',
    '# TYPE satellite_iq_latency_seconds histogram',
    ...lat.buckets.map((b) => `satellite_iq_latency_seconds_bucket{le="${b.le / 1000}"} ${b.count}`),
    `satellite_iq_latency_seconds_bucket{le="+Inf"} ${lat.count}`,
    `satellite_iq_latency_seconds_count ${lat.count}`,
    `satellite_iq_latency_seconds_sum ${((lat.meanMs * lat.count) / 1000).toFixed(6)}`,
    '# HELP satellite_iq_timeouts_total iq requests that timed out.',
    '# TYPE satellite_iq_timeouts_total counter',
    `satellite_iq_timeouts_total ${lat.timeouts}`,
  ]
  return `${lines.join('\n')}\n`
}
