import { existsSync, readFileSync } from 'node:fs'
import { parseArgs, parseEnv } from 'node:util'
import { configFromEnv, ErrorCodes, isSatelliteError } from '@satellite/core'
import { checkConnection } from './check.js'
import {
  formatConfig,
  type LogFormat,
  loadConfig,
  redactedConfig,
  secretMinLength,
  secretTooShort,
} from './config.js'
import { runModule } from './run.js'

const USAGE = `usage: satellite <command> [options]

  check [--service URL] [--domain D] [--secret-file F] [--ca F] [--timeout MS] [--json]
        [--env-file F]
        connect as a component and report each step (TCP/TLS, stream header, handshake,
        round trip) with the server config to fix; settings default to XMPP_SERVICE,
        XMPP_DOMAIN, XMPP_SECRET / XMPP_SECRET_FILE, read from the environment or a .env
        file as satellite run does
  dev   [satellite-dev-server options]
        run the embedded XEP-0114 server for development (see satellite dev --help)
  run <module> [--env-file F] [--health-port N] [--log-format text|json]
        run a component module (default export: (xmpp, { registry }) => void) with settings from the
        environment or a .env file; SIGINT/SIGTERM stop it cleanly; --log-format json
        (or SATELLITE_LOG=json) prints one JSON object per lifecycle event
  config [--env-file F] [--json]
        validate the settings satellite run reads and print the effective configuration,
        secret redacted (every setting: docs/configuration.md)`

/**
 * `env` with the settings of a .env file added (`file`, or `.env` in the working directory if
 * present), as `satellite run` loads them: what the environment already sets wins.
 */
function withEnvFile(env: NodeJS.ProcessEnv, file: string | undefined): NodeJS.ProcessEnv {
  const path = file ?? (existsSync('.env') ? '.env' : undefined)
  if (path === undefined) return env
  if (!existsSync(path)) throw new Error(`--env-file: ${path} does not exist`)
  return { ...parseEnv(readFileSync(path, 'utf8')), ...env }
}

/** Where a command reads its settings and writes its output (the process's, by default). */
export interface CommandIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  env: NodeJS.ProcessEnv
}

const processIo: CommandIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }

/**
 * Runs one `satellite` command line and resolves with its exit code: 0 done, 1 failed (an
 * invalid configuration, a check that did not pass), 2 bad arguments. Errors are written to
 * `stderr` as `satellite: <message>`, never thrown.
 * @example
 * process.exitCode = await runCommand(process.argv.slice(2))
 */
export async function runCommand(argv: string[], io: CommandIo = processIo): Promise<number> {
  try {
    return await command(argv, io)
  } catch (err) {
    io.stderr.write(`satellite: ${(err as Error).message}\n`)
    return 1
  }
}

async function command(argv: string[], io: CommandIo): Promise<number> {
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
        'env-file': { type: 'string' },
      },
    })
    const env = withEnvFile(io.env, values['env-file'])
    // the options override the environment; then core's configFromEnv reads it, as for satellite run
    const settings: NodeJS.ProcessEnv = { ...env }
    if (values.service !== undefined) settings.XMPP_SERVICE = values.service
    if (values.domain !== undefined) settings.XMPP_DOMAIN = values.domain
    if (values['secret-file'] !== undefined) {
      settings.XMPP_SECRET_FILE = values['secret-file']
      delete settings.XMPP_SECRET
    }
    let connection: ReturnType<typeof configFromEnv>
    try {
      connection = configFromEnv(settings)
    } catch (err) {
      if (!isSatelliteError(err, ErrorCodes.CONFIG)) throw err
      for (const line of err.message.split('\n')) io.stderr.write(`satellite check: ${line}\n`)
      io.stderr.write('satellite check: --service, --domain and --secret-file override these variables\n')
      return 2
    }
    const { service, domain, secret } = connection
    const from = settings.XMPP_SECRET_FILE?.trim() ? 'XMPP_SECRET_FILE' : 'XMPP_SECRET'
    const short = secretTooShort(secret, secretMinLength(env), from)
    if (short) {
      io.stderr.write(`satellite check: ${short}\n`)
      return 2
    }
    const report = await checkConnection({
      service,
      domain,
      secret,
      timeout: Number(values.timeout),
      ...(values.ca ? { ca: readFileSync(values.ca) } : {}),
    })
    if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`)
    else {
      io.stdout.write(`satellite check: ${domain} at ${service}\n`)
      for (const s of report.steps) {
        io.stdout.write(`  ${s.ok ? '✔' : '✘'} ${s.name}: ${s.detail} (${s.ms} ms)\n`)
        if (s.fix) io.stdout.write(`      fix: ${s.fix}\n`)
      }
      io.stdout.write(report.ok ? 'all checks passed\n' : 'the connection does not work (see above)\n')
    }
    return report.ok ? 0 : 1
  }
  if (command === 'dev') {
    // loaded here only: the embedded server costs satellite run ~3 MiB of idle RSS (docs/cli.md)
    const { runCli } = await import('@satellite/testing')
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
    const config = loadConfig(io.env)
    io.stdout.write(
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
      io.stderr.write(
        `satellite run: --log-format: expected "text" or "json", got ${JSON.stringify(logFormat)}\n`,
      )
      return 2
    }
    const module = positionals[0]
    if (!module) {
      io.stderr.write(`${USAGE}\n`)
      return 2
    }
    const running = await runModule({
      module,
      env: io.env,
      log: (line) => io.stdout.write(`${line}\n`),
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
  io.stderr.write(`${USAGE}\n`)
  return command === undefined || command === '--help' || command === 'help' ? 0 : 2
}
