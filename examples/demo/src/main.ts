// The Satellite demo: starts an XMPP server — the embedded XEP-0114 server by default, or a
// real Prosody with `--server prosody` — runs the example components as real programs
// (child processes configured through XMPP_SERVICE / XMPP_DOMAIN / XMPP_SECRET_FILE), and
// plays a scripted conversation with clients, printing a transcript and a summary.
// Exit code 0 when every check passed.
import { randomBytes } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type Element, xml } from '@satellite/core'
import { demo as bridgeDemo, DEMO_USERS } from 'legacy-bridge/dist/demo.js'
import { demo as directoryDemo } from 'user-directory/demo'
import { chatroomDemo } from './chatroom.js'
import { Checks, section } from './report.js'
import { startComponent, startProgram } from './run-component.js'
import { embeddedStage, prosodyStage, type Stage } from './stage.js'

const { values } = parseArgs({
  options: {
    quiet: { type: 'boolean', default: false },
    server: { type: 'string', default: 'embedded' },
  },
})
if (values.server !== 'embedded' && values.server !== 'prosody') {
  console.error(`--server must be 'embedded' or 'prosody', got '${values.server}'`)
  process.exit(2)
}

const checks = new Checks()
const stage: Stage =
  values.server === 'prosody' ? await prosodyStage(values.quiet) : await embeddedStage(values.quiet)
section(stage.description)

const ECHO = stage.component('echo')
let echo = await startComponent('echo-bot', ECHO)
try {
  await stage.waitForComponent(ECHO.domain, 15_000)
  checks.ok('echo-bot connected and completed the handshake')
  let alice = await stage.client('alice', 'laptop')

  section('echo bot: a chat message comes back')
  alice.send(
    xml(
      'message',
      { to: `bot@${ECHO.domain}`, type: 'chat', id: 'hello-1' },
      xml('body', {}, 'Hello, Satellite! 🛰️'),
    ),
  )
  const echoed = await alice.expectStanza({ name: 'message', id: 'hello-1' }, 5000)
  checks.equal('the echo carries the same body', echoed.getChildText('body'), 'Hello, Satellite! 🛰️')

  section('echo bot: service discovery, ping, version (built-in responders)')
  const info = await alice.request(
    xml(
      'iq',
      { type: 'get', to: ECHO.domain },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
    ),
  )
  const features = (info.getChild('query') as Element)
    .getChildren('feature')
    .map((f) => f.attrs.var as string)
  checks.ok(`disco#info lists ${features.length} features`, features.includes('urn:xmpp:ping'))
  const pong = await alice.request(
    xml('iq', { type: 'get', to: ECHO.domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  checks.equal('ping answered', pong.attrs.type, 'result')
  const unknown = await alice
    .request(xml('iq', { type: 'get', to: ECHO.domain }, xml('query', { xmlns: 'jabber:iq:roster' })))
    .then(
      () => 'result',
      (e: unknown) => String((e as { condition?: string }).condition ?? e),
    )
  checks.ok('an iq nobody handles gets service-unavailable', /service-unavailable/.test(unknown))

  section('echo bot stopped: the server bounces messages to it')
  await echo.stop()
  alice.send(
    xml('message', { to: `bot@${ECHO.domain}`, type: 'chat', id: 'lost-1' }, xml('body', {}, 'Anyone home?')),
  )
  const bounce = await alice.expectStanza({ name: 'message', id: 'lost-1' }, 5000)
  checks.ok(
    'the message comes back as an error (remote-server-timeout)',
    bounce.attrs.type === 'error' &&
      bounce.getChild('error')?.getChild('remote-server-timeout') !== undefined,
  )
  echo = await startComponent('echo-bot', ECHO)
  await stage.waitForComponent(ECHO.domain, 15_000)
  checks.ok('echo-bot started again')

  section('the server restarts; the bot reconnects on its own')
  const t0 = Date.now()
  await stage.restart(500)
  await stage.waitForComponent(ECHO.domain, 15_000)
  checks.ok(`back online ${Date.now() - t0} ms after the restart began`)
  alice = await stage.client('alice', 'laptop')
  alice.send(
    xml(
      'message',
      { to: `bot@${ECHO.domain}`, type: 'chat', id: 'hello-2' },
      xml('body', {}, 'Still there?'),
    ),
  )
  const again = await alice.expectStanza({ name: 'message', id: 'hello-2' }, 5000)
  checks.equal('messages flow again', again.getChildText('body'), 'Still there?')
} catch (err) {
  checks.fail(`the script stopped: ${(err as Error).message}`)
} finally {
  await echo.stop()
}

// The user directory (XEP-0077 registration, XEP-0055 search, SQLite FTS5), as its own process.
const DIRECTORY = stage.component('directory')
const directory = await startComponent('user-directory', DIRECTORY)
try {
  await stage.waitForComponent(DIRECTORY.domain, 15_000)
  await directoryDemo({
    domain: DIRECTORY.domain,
    client: (user, resource) => stage.client(user, resource),
    check: (what, ok) => checks.ok(what, ok),
    section,
  })
} catch (err) {
  checks.fail(`the directory script stopped: ${(err as Error).message}`)
} finally {
  await directory.stop()
}

// The chatroom service (XEP-0045 rooms on @satellite/muc, MAM archive), its rooms in memory.
const CHAT = stage.component('chat')
const chatMain = fileURLToPath(new URL('../../chatroom/dist/main.js', import.meta.url))
const chat = await startComponent('chatroom', CHAT, { CHATROOM_DB: ':memory:' }, chatMain)
try {
  await stage.waitForComponent(CHAT.domain, 15_000)
  await chatroomDemo({
    domain: CHAT.domain,
    client: (user, resource) => stage.client(user, resource),
    check: (what, ok) => checks.ok(what, ok),
    section,
  })
} catch (err) {
  checks.fail(`the chatroom script stopped: ${(err as Error).message}`)
} finally {
  await chat.stop()
}

// The legacy-IM bridge (XEP-0100 gateway) with its simulated legacy network, both as processes.
const BRIDGE = stage.component('bridge')
const network = await startProgram(
  'legacy-bridge',
  'network/server.js',
  ['--port', '0', '--users', DEMO_USERS],
  /listening on port \d+/,
)
const legacyPort = network.output.match(/listening on port (\d+)/)?.[1] as string
process.env.LEGACY_HOST = '127.0.0.1'
process.env.LEGACY_PORT = legacyPort
let bridge: Awaited<ReturnType<typeof startComponent>> | undefined
try {
  bridge = await startComponent('legacy-bridge', BRIDGE, {
    LEGACY_HOST: '127.0.0.1',
    LEGACY_PORT: legacyPort,
    BRIDGE_KEY: randomBytes(32).toString('hex'),
    BRIDGE_DB: ':memory:',
  })
  await stage.waitForComponent(BRIDGE.domain, 15_000)
  await bridgeDemo({
    domain: BRIDGE.domain,
    client: (user, resource) => stage.client(user, resource),
    check: (what, ok) => checks.ok(what, ok),
    section,
  })
} catch (err) {
  checks.fail(`the bridge script stopped: ${(err as Error).message}`)
} finally {
  await bridge?.stop()
  await network.stop()
  await stage.close()
}

section('summary')
checks.print()
process.exitCode = checks.failed === 0 ? 0 : 1
