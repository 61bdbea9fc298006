#!/usr/bin/env node
import { realpathSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable, Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { SimulatedClient } from './client.js'
import type { ConflictPolicy, Flavour } from './options.js'
import { printable } from './redact.js'
import type { RoutedEvent } from './router.js'
import { createServer, type TestServer } from './server.js'
import { type Element, xml } from './xml.js'

const CONSOLE_HELP = `  <message to='echo.localhost'><body>hi</body></message>   send a stanza (an <iq/> waits for and prints its answer)
  /msg TO TEXT                                             send a chat message
  /iq TO XMLNS [NAME]                                      send an iq get with an empty <NAME xmlns=XMLNS/> (default query), print the answer
  /disco TO                                                the disco#info of TO (identities and features)
  /presence TO [TYPE]                                      send a presence (TYPE: unavailable, subscribe, probe...)
  /join ROOM@DOMAIN/NICK                                   join a XEP-0045 room
  /say ROOM@DOMAIN TEXT                                    send a groupchat message
  /as JID                                                  act as JID from now on (a new client if needed)
  /clients                                                 list the clients, the current one first
  /help                                                    this list
  /quit                                                    stop the server`

const USAGE = `Usage: satellite-dev-server --component DOMAIN=SECRET [--component DOMAIN[=SECRET] ...]
  [--port 5347] [--host 127.0.0.1] [--domain localhost] [--flavour prosody|ejabberd]
  [--conflict kick_new|kick_old|balance] [--client alice@localhost/cli ...] [--quiet]

A --component without "=SECRET" takes its secret from the environment variable SATELLITE_DEV_SECRET.
Routed stanzas are logged to stdout. Lines typed on stdin act as a simulated client:
${CONSOLE_HELP}`

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
  const onLine = devConsole(
    server,
    clients,
    print,
    (text) => io.stderr.write(text),
    () => running.close(),
  )
  lines?.on('line', (line) => {
    onLine(line).catch((err: Error) => io.stderr.write(`error: ${err.message}\n`))
  })
  return running
}

/**
 * The dev server's console: one line → one action of the current simulated client (the first
 * `--client` until `/as` picks another). Answers to iq requests are printed; everything routed is
 * logged by the `routed` listener anyway.
 */
function devConsole(
  server: TestServer,
  clients: SimulatedClient[],
  print: (line: string) => void,
  complain: (text: string) => void,
  quit: () => Promise<void>,
): (line: string) => Promise<void> {
  const current = () => clients[0] as SimulatedClient
  const request = async (iq: Element | string) => {
    const answer = await current()
      .request(iq, 5000)
      .catch((err: Error) => {
        throw new Error(err.message)
      })
    print(`answer: ${printable(answer, 4000)}`)
    return answer
  }
  return async (line) => {
    const input = line.trim()
    if (!input) return
    const [cmd = '', a = '', ...rest] = input.split(/\s+/)
    if (input.startsWith('<')) {
      if (/^<iq[\s>]/.test(input) && /type=['"](get|set)['"]/.test(input)) await request(input)
      else current().send(input)
      return
    }
    switch (cmd) {
      case '/quit':
        return quit()
      case '/help':
        return void complain(`${CONSOLE_HELP}\n`)
      case '/msg':
        if (!a) break
        return void current().send(xml('message', { to: a, type: 'chat' }, xml('body', {}, rest.join(' '))))
      case '/say':
        if (!a) break
        return void current().send(
          xml('message', { to: a, type: 'groupchat' }, xml('body', {}, rest.join(' '))),
        )
      case '/presence':
        if (!a) break
        return void current().send(xml('presence', rest[0] ? { to: a, type: rest[0] } : { to: a }))
      case '/join':
        if (!a.includes('/')) return void complain('/join ROOM@DOMAIN/NICK: the nick is the resource\n')
        return void current().send(
          xml('presence', { to: a }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
        )
      case '/iq':
        if (!a || !rest[0]) break
        await request(xml('iq', { type: 'get', to: a }, xml(rest[1] ?? 'query', { xmlns: rest[0] })))
        return
      case '/disco': {
        if (!a) break
        const answer = await request(
          xml('iq', { type: 'get', to: a }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
        )
        const q = answer.getChild('query')
        for (const i of q?.getChildren('identity') ?? []) {
          print(`  identity ${i.attrs.category}/${i.attrs.type}${i.attrs.name ? ` "${i.attrs.name}"` : ''}`)
        }
        for (const f of q?.getChildren('feature') ?? []) print(`  feature ${f.attrs.var}`)
        return
      }
      case '/as': {
        if (!a) break
        let i = clients.findIndex((c) => c.jid === a)
        if (i < 0) i = clients.push(server.client(a)) - 1
        clients.unshift(...clients.splice(i, 1))
        return void print(`acting as ${current().jid}`)
      }
      case '/clients':
        return void print(`clients: ${clients.map((c) => c.jid).join(', ')}`)
      default:
        return void complain(`unknown input; /help lists the commands\n`)
    }
    complain(`missing arguments; /help lists the commands\n`)
  }
}

function describeRoute(event: RoutedEvent): string {
  const { stanza } = event
  const kind = `${stanza.name}${stanza.attrs.type ? `(${stanza.attrs.type})` : ''}`
  const body = stanza.getChildText('body')
  const summary = body === null ? printable(stanza, 400) : JSON.stringify(body)
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
