#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { runCli } from '@satellite/testing'
import { checkConnection } from './check.js'
import { formatConfig, type LogFormat, loadConfig, redactedConfig } from './config.js'
import { runModule } from './run.js'

const USAGE = `usage: satellite <command> [options]

  check [--service URL] [--domain D] [--secret-file F] [--ca F] [--timeout MS] [--json]
        connect as a component and report each step (TCP/TLS, stream header, handshake,
        round trip) with the server config to fix; settings default to XMPP_SERVICE,
        XMPP_DOMAIN, XMPP_SECRET / XMPP_SECRET_FILE
  dev   [satellite-dev-server options]
        run the embedded XEP-0114 server for development (see satellite dev --help)
  run <module> [--env-file F] [--health-port N] [--log-format text|json]
        run a component module (default export: (xmpp) => void) with settings from the
        environment or a .env file; SIGINT/SIGTERM stop it cleanly; --log-format json
        (or SATELLITE_LOG=json) prints one JSON object per lifecycle event
  config [--env-file F] [--json]
        validate the settings satellite run reads and print the effective configuration,
        secret redacted (every setting: docs/configuration.md)`

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  if (command === 'check') {
    const { values } = parseArgs({
      args: rest,
      options: {
        service: { type: 'string' },
        domain: { type: 'string' },
        'secret-file': { type: 'string' },
        ca: { type: 'string' },
        timeout: { type: 'string', default: '5000' },
        json: { type: 'boolean', default: false },
      },
    })
    const env = process.env
    const secretFile = values['secret-file'] ?? env.XMPP_SECRET_FILE
    const secret = secretFile ? readFileSync(secretFile, 'utf8').trim() : env.XMPP_SECRET
    const domain = values.domain ?? env.XMPP_DOMAIN
    const service = values.service ?? env.XMPP_SERVICE ?? 'xmpp://127.0.0.1:5347'
    if (!domain || !secret) {
      process.stderr.write(
        'satellite check: set --domain (or XMPP_DOMAIN) and XMPP_SECRET or --secret-file\n',
      )
      return 2
    }
    const report = await checkConnection({
      service,
      domain,
      secret,
      timeout: Number(values.timeout),
      ...(values.ca ? { ca: readFileSync(values.ca) } : {}),
    })
    if (values.json) process.stdout.write(`${JSON.stringify(report)}\n`)
    else {
      process.stdout.write(`satellite check: ${domain} at ${service}\n`)
      for (const s of report.steps) {
        process.stdout.write(`  ${s.ok ? '✔' : '✘'} ${s.name}: ${s.detail} (${s.ms} ms)\n`)
        if (s.fix) process.stdout.write(`      fix: ${s.fix}\n`)
      }
      process.stdout.write(report.ok ? 'all checks passed\n' : 'the connection does not work (see above)\n')
    }
    return report.ok ? 0 : 1
  }
  if (command === 'dev') {
    const cli = await runCli(rest, {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
    })
    await new Promise<void>((resolve) => {
      const stop = () => void cli.close().then(resolve)
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      cli.server.once('close', resolve)
    })
    process.stdin.pause()
    return 0
  }
  if (command === 'config') {
    const { values } = parseArgs({
      args: rest,
      options: { 'env-file': { type: 'string' }, json: { type: 'boolean', default: false } },
    })
    const envFile = values['env-file'] ?? (existsSync('.env') ? '.env' : undefined)
    if (envFile !== undefined) {
      if (!existsSync(envFile)) throw new Error(`--env-file: ${envFile} does not exist`)
      process.loadEnvFile(envFile)
    }
    const config = loadConfig(process.env)
    process.stdout.write(
      values.json
        ? `${JSON.stringify(redactedConfig(config), (_k, v) => (v === Number.POSITIVE_INFINITY ? 'infinity' : v))}\n`
        : formatConfig(config),
    )
    return 0
  }
  if (command === 'run') {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        'env-file': { type: 'string' },
        'health-port': { type: 'string' },
        'log-format': { type: 'string' },
      },
    })
    const logFormat = values['log-format']
    if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
      process.stderr.write(
        `satellite run: --log-format: expected "text" or "json", got ${JSON.stringify(logFormat)}\n`,
      )
      return 2
    }
    const module = positionals[0]
    if (!module) {
      process.stderr.write(`${USAGE}\n`)
      return 2
    }
    const running = await runModule({
      module,
      ...(values['env-file'] ? { envFile: values['env-file'] } : {}),
      ...(values['health-port'] ? { healthPort: Number(values['health-port']) } : {}),
      ...(logFormat ? { logFormat: logFormat as LogFormat } : {}),
    })
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        running.log('info', `${signal}: stopping`)
        process.once(signal, () => process.exit(1)) // a second signal forces the exit
        void running.stop().then(resolve)
      }
      process.once('SIGINT', () => stop('SIGINT'))
      process.once('SIGTERM', () => stop('SIGTERM'))
      running.xmpp.once('stopped', () => resolve())
    })
    return 0
  }
  process.stderr.write(`${USAGE}\n`)
  return command === undefined || command === '--help' || command === 'help' ? 0 : 2
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err: Error) => {
    process.stderr.write(`satellite: ${err.message}\n`)
    process.exitCode = 1
  },
)
