import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Component, component } from '@satellite/core'
import type { Registry } from 'prom-client'
import { type LogFormat, loadConfig } from './config.js'
import { type LifecycleLog, lifecycleLog, logLifecycle } from './log.js'
import * as prom from './prom.js'
import { prometheusMetrics } from './prometheus.js'

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
  context: RunContext,
  // biome-ignore lint/suspicious/noConfusingVoidType: a module may return nothing
) => void | (() => unknown) | Promise<void | (() => unknown)>

/**
 * What `satellite run` gives a component module besides the component.
 * @example
 * ```ts
 * import { Counter } from 'prom-client'
 * export default function bot(xmpp: Component, { registry }: RunContext) {
 *   const greeted = new Counter({ name: 'bot_greetings_total', help: 'Greetings sent.', registers: [registry] })
 *   xmpp.message((m) => { greeted.inc() })
 * }
 * ```
 */
export interface RunContext {
  /**
   * The prom-client registry served on `/metrics` (with `--health-port`), where the component's
   * own metrics are registered: add yours to it (`registers: [registry]`).
   */
  registry: Registry
}

/** Options of {@link runModule}. */
export interface RunOptions {
  /** Path of the module (default export: a {@link ComponentModule}). */
  module: string
  /** A .env file to load first (default `.env` in the working directory, if present). */
  envFile?: string
  /**
   * Serve `GET /health` (JSON) and `GET /metrics` (Prometheus text format, from
   * {@link RunningComponent.registry}) on this port.
   */
  healthPort?: number
  /** Host for the health endpoint (default 127.0.0.1). */
  healthHost?: string
  /** Settings (see {@link settingsSchema}); default `process.env`, after loading the .env file. */
  env?: NodeJS.ProcessEnv
  /** Format of the lifecycle log; default `SATELLITE_LOG`, else `text`. */
  logFormat?: LogFormat
  /** Where log lines go (default `console.log`). */
  log?: (line: string) => void
  /**
   * Also collect prom-client's default process metrics (`process_*`, `nodejs_*`: CPU, memory,
   * event loop lag, GC) in the registry; default `SATELLITE_PROCESS_METRICS`, else off.
   */
  processMetrics?: boolean
}

/** A running component started by {@link runModule}. */
export interface RunningComponent {
  xmpp: Component
  /** Port of the health endpoint, if enabled. */
  healthPort: number | undefined
  /** Writes a line to the lifecycle log, in its format (secret fields redacted). */
  log: LifecycleLog
  /**
   * The prom-client registry `/metrics` serves: the component's metrics (docs/cli.md lists
   * them), and any you register in it.
   */
  registry: Registry
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
  const registry = new prom.Registry()
  prometheusMetrics(xmpp, registry)
  if (options.processMetrics ?? config.processMetrics) prom.collectDefaultMetrics(registry)
  const cleanup = await (mod.default as ComponentModule)(xmpp, { registry })
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
        registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
          (err: Error) => {
            log('error', `/metrics: ${err.message}`)
            res.writeHead(500).end()
          },
        )
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
    registry,
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
