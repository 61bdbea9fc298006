// The Satellite demo: starts the embedded XEP-0114 server, runs the example components
// as real programs (child processes configured through XMPP_SERVICE / XMPP_DOMAIN /
// XMPP_SECRET_FILE), and plays a scripted conversation with simulated clients, printing a
// transcript and a summary. Exit code 0 when every check passed.
import { parseArgs } from 'node:util'
import { xml } from '@satellite/core'
import { createServer, type Element, type SimulatedClient } from '@satellite/testing'
import { Checks, printStanza, section } from './report.js'
import { startComponent } from './run-component.js'

const { values } = parseArgs({ options: { quiet: { type: 'boolean', default: false } } })

const ECHO = 'echo.localhost'
const checks = new Checks()

const secrets = { [ECHO]: randomSecret() }
const server = await createServer({ domain: 'localhost', components: secrets })
if (!values.quiet) server.on('routed', (e) => printStanza(e.source, e.stanza, e.outcome))
section(`embedded XEP-0114 server on ${server.url} (Prosody-like rules)`)

const echo = await startComponent('echo-bot', ECHO, secrets[ECHO] as string, server)
try {
  await server.waitForComponent(ECHO, { timeout: 15_000 })
  checks.ok('echo-bot connected and completed the handshake')

  const alice: SimulatedClient = server.client('alice@localhost/laptop')

  section('echo bot: a chat message comes back')
  alice.send(
    xml(
      'message',
      { to: `bot@${ECHO}`, type: 'chat', id: 'hello-1' },
      xml('body', {}, 'Hello, Satellite! 🛰️'),
    ),
  )
  const echoed = await alice.expectStanza({ name: 'message', id: 'hello-1' }, 3000)
  checks.equal('the echo carries the same body', echoed.getChildText('body'), 'Hello, Satellite! 🛰️')

  section('echo bot: service discovery, ping, version (built-in responders)')
  const info = await alice.request(
    xml('iq', { type: 'get', to: ECHO }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  )
  const features = (info.getChild('query') as Element)
    .getChildren('feature')
    .map((f) => f.attrs.var as string)
  checks.ok(`disco#info lists ${features.length} features`, features.includes('urn:xmpp:ping'))
  const pong = await alice.request(
    xml('iq', { type: 'get', to: ECHO }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  checks.equal('ping answered', pong.attrs.type, 'result')
  const unknown = await alice
    .request(xml('iq', { type: 'get', to: ECHO }, xml('query', { xmlns: 'jabber:iq:roster' })))
    .then(
      () => 'result',
      (e: unknown) => String(e),
    )
  checks.ok('an iq nobody handles gets service-unavailable', /service-unavailable/.test(unknown))

  section('echo bot: the server restarts; the bot reconnects on its own')
  const t0 = Date.now()
  const restarting = server.restart({ downMs: 500 })
  await new Promise((r) => setTimeout(r, 100))
  alice.send(
    xml('message', { to: `bot@${ECHO}`, type: 'chat', id: 'lost-1' }, xml('body', {}, 'Anyone home?')),
  )
  const bounce = await alice.expectStanza({ name: 'message', id: 'lost-1' }, 3000)
  checks.ok(
    'while the bot is offline, the server bounces messages (remote-server-timeout)',
    bounce.attrs.type === 'error' &&
      bounce.getChild('error')?.getChild('remote-server-timeout') !== undefined,
  )
  await restarting
  await server.waitForComponent(ECHO, { timeout: 15_000, fresh: true })
  checks.ok(`back online ${Date.now() - t0} ms after the restart began`)
  alice.send(
    xml('message', { to: `bot@${ECHO}`, type: 'chat', id: 'hello-2' }, xml('body', {}, 'Still there?')),
  )
  const again = await alice.expectStanza({ name: 'message', id: 'hello-2' }, 3000)
  checks.equal('messages flow again', again.getChildText('body'), 'Still there?')
} catch (err) {
  checks.fail(`the script stopped: ${(err as Error).message}`)
} finally {
  await echo.stop()
  await server.close()
}

section('summary')
checks.print()
process.exitCode = checks.failed === 0 ? 0 : 1

function randomSecret(): string {
  return `demo-${Math.random().toString(36).slice(2)}`
}
