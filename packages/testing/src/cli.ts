#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SimulatedClient } from './client.js'
import type { ConflictPolicy, Flavour } from './options.js'
import type { RoutedEvent } from './router.js'
import { createServer, type TestServer } from './server.js'
import { truncate, xml } from './xml.js'

const USAGE = `Usage: satellite-dev-server --component DOMAIN=SECRET [--component DOMAIN[=SECRET] ...]
  [--port 5347] [--host 127.0.0.1] [--domain localhost] [--flavour prosody|ejabberd]
  [--conflict kick_new|kick_old|balance] [--client alice@localhost/cli ...] [--quiet]

A --component without "=SECRET" takes its secret from the environment variable SATELLITE_DEV_SECRET.
Routed stanzas are logged to stdout. Lines typed on stdin:
  <message to='echo.localhost'><body>hi</body></message>   send as the first --client
  /msg TO TEXT                                             send a chat message as the first --client
  /quit                                                    stop the server`

/**
 * Where the CLI reads and writes (for tests), plus its environment.
 * @example
 * await runCli(['--component', 'echo.localhost=s'], { stdout: process.stdout, stderr: process.stderr, env: {} })
 */
export interface CliIo {
  stdout: Writable
  stderr: Writable
  stdin?: Readable
  env: Record<string, string | undefined>
}

/**
 * A running dev server started by {@link runCli}.
 * @example
 * const cli = await runCli(argv, io); await cli.close()
 */
export interface RunningCli {
  server: TestServer
  clients: SimulatedClient[]
  close(): Promise<void>
}

/**
 * Parses `satellite-dev-server` arguments, starts the server, prints its URL and logs routed
 * stanzas. Throws a `TypeError` with the usage on bad arguments.
 * @example
 * const cli = await runCli(['--port', '0', '--component', 'echo.localhost=secret'], { stdout, stderr, env: process.env })
 * await cli.close()
 */
export async function runCli(argv: string[], io: CliIo): Promise<RunningCli> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      port: { type: 'string', default: '5347' },
      host: { type: 'string', default: '127.0.0.1' },
      domain: { type: 'string', default: 'localhost' },
      component: { type: 'string', multiple: true },
      client: { type: 'string', multiple: true },
      flavour: { type: 'string', default: 'prosody' },
      conflict: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (values.help) {
    io.stdout.write(`${USAGE}\n`)
    throw new TypeError('help requested')
  }
  const components: Record<string, string> = {}
  for (const spec of values.component ?? []) {
    const eq = spec.indexOf('=')
    const domain = eq === -1 ? spec : spec.slice(0, eq)
    const secret = eq === -1 ? io.env.SATELLITE_DEV_SECRET : spec.slice(eq + 1)
    if (!domain || !secret) {
      throw new TypeError(
        `--component ${domain}: no secret (use DOMAIN=SECRET or set SATELLITE_DEV_SECRET)\n${USAGE}`,
      )
    }
    components[domain] = secret
  }
  if (Object.keys(components).length === 0)
    throw new TypeError(`at least one --component is needed\n${USAGE}`)
  const port = Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`bad --port ${values.port}`)
  if (values.flavour !== 'prosody' && values.flavour !== 'ejabberd')
    throw new TypeError(`bad --flavour ${values.flavour}`)
  const conflict = values.conflict
  if (conflict !== undefined && !['kick_new', 'kick_old', 'balance'].includes(conflict)) {
    throw new TypeError(`bad --conflict ${conflict}`)
  }

  const server = await createServer({
    host: values.host,
    port,
    domain: values.domain,
    components,
    flavour: values.flavour as Flavour,
    recordLimit: 1000,
    ...(conflict ? { conflict: conflict as ConflictPolicy } : {}),
  })
  const print = (line: string) => io.stdout.write(`${new Date().toISOString().slice(11, 23)} ${line}\n`)
  const clients = (values.client ?? [`user@${server.domain}/cli`]).map((jid) => server.client(jid))

  server.on('connection', (conn) => print(`connection #${conn.id} from ${conn.remote}`))
  server.on('authenticated', (conn) => print(`component ${conn.domain} authenticated (#${conn.id})`))
  server.on('disconnect', (conn) => {
    const error = conn.streamErrorSent ? ` after stream error <${conn.streamErrorSent.condition}/>` : ''
    print(`connection #${conn.id} (${conn.domain ?? 'no header'}) closed${error}`)
  })
  if (!values.quiet) server.on('routed', (event) => print(describeRoute(event)))

  io.stdout.write(
    `satellite-dev-server (${server.options.flavour}) listening on ${server.url}\n` +
      `  components: ${Object.keys(components).join(', ')}\n` +
      `  clients: ${clients.map((c) => c.jid).join(', ')}\n`,
  )

  const lines = io.stdin ? createInterface({ input: io.stdin, terminal: false }) : undefined
  const running: RunningCli = {
    server,
    clients,
    close: async () => {
      lines?.close()
      await server.close()
    },
  }
  lines?.on('line', (line) => {
    const input = line.trim()
    if (!input) return
    try {
      if (input === '/quit') {
        void running.close()
      } else if (input.startsWith('/msg ')) {
        const [, to = '', ...words] = input.split(/\s+/)
        clients[0]?.send(xml('message', { to, type: 'chat' }, xml('body', {}, words.join(' '))))
      } else if (input.startsWith('<')) {
        clients[0]?.send(input)
      } else {
        io.stderr.write('type an XML stanza, /msg TO TEXT or /quit\n')
      }
    } catch (err) {
      io.stderr.write(`error: ${(err as Error).message}\n`)
    }
  })
  return running
}

function describeRoute(event: RoutedEvent): string {
  const { stanza } = event
  const kind = `${stanza.name}${stanza.attrs.type ? `(${stanza.attrs.type})` : ''}`
  const body = stanza.getChildText('body')
  const summary = body === null ? truncate(stanza.toString(), 400) : JSON.stringify(body)
  return `${event.source} -> ${event.target} ${kind} ${event.outcome}: ${summary}`
}

async function main(): Promise<void> {
  let cli: RunningCli
  try {
    cli = await runCli(process.argv.slice(2), {
      stdout: process.stdout,
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
    })
  } catch (err) {
    if ((err as Error).message !== 'help requested') {
      process.stderr.write(`satellite-dev-server: ${(err as Error).message}\n`)
      process.exitCode = 2
    }
    return
  }
  const stop = (signal: string) => {
    process.stdout.write(`${signal}: closing\n`)
    cli.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
  cli.server.once('close', () => process.stdin.pause())
}

function isMain(): boolean {
  const entry = process.argv[1]
  if (!entry) return false
  try {
    return realpathSync(entry) === fileURLToPath(import.meta.url)
  } catch {
    return false
  }
}

if (isMain()) void main()
