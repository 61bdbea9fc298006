// The consumer check's runtime test (scripts/check-packages): run by each Node in a fresh project where
// the packed tarballs are installed. Every package must load; a component echoes through the embedded
// server of @satellite/testing and answers an ad-hoc command (@satellite/adhoc); checkConnection() and
// the installed `satellite` binary (node_modules/.bin) check a connection to the same server.
// Exits 0 when everything passed; an assertion error (exit 1) names what did not.
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { commands } from '@satellite/adhoc'
import { checkConnection } from '@satellite/cli'
import { component, xml } from '@satellite/core'
import { createServer } from '@satellite/testing'

const run = promisify(execFile)
const timer = setTimeout(() => {
  console.error('runtime test: timed out after 60 s')
  process.exit(1)
}, 60_000)
timer.unref()

// The Node this runs on, and the one the installed binaries run on (the first `node` on PATH).
assert.equal(process.version, process.env.CHECK_NODE_VERSION, 'the Node running the test')
assert.equal((await run('node', ['--version'])).stdout.trim(), process.version, 'the node on PATH')

// Every entry point of every package (`@satellite/core`, `@satellite/core/internal`...) loads, and exports
// something (scripts/consumer/exports.mjs compares what with the declarations).
for (const name of JSON.parse(process.env.CHECK_PACKAGES ?? '[]')) {
  const mod = await import(name)
  assert.ok(Object.keys(mod).length > 0, `${name} has no exports`)
}

const DOMAIN = 'echo.localhost'
const SECRET = 'echo-secret-1'
const CHECKED = 'check.localhost'
const CHECK_SECRET = 'check-secret-1'
const server = await createServer({ components: { [DOMAIN]: SECRET, [CHECKED]: CHECK_SECRET } })
const xmpp = component({ service: server.url, domain: DOMAIN, secret: SECRET, reconnect: false })
try {
  xmpp.message({ type: 'chat' }, (m) =>
    xmpp.send(
      xml(
        'message',
        { from: m.attrs.to, to: m.attrs.from, type: 'chat' },
        xml('body', {}, `echo: ${m.getChildText('body')}`),
      ),
    ),
  )
  commands(xmpp).register({ node: 'uptime', name: 'Uptime', complete: () => ({ notes: ['up and running'] }) })
  const statuses = []
  xmpp.on('status', (status) => statuses.push(status))
  await xmpp.start()
  assert.deepEqual(statuses, ['connecting', 'authenticating', 'online'])

  const alice = server.client('alice@localhost/phone')
  alice.send(xml('message', { to: DOMAIN, type: 'chat' }, xml('body', {}, 'héllo 😀')))
  const reply = await alice.expectStanza({ name: 'message', from: DOMAIN })
  assert.equal(reply.getChildText('body'), 'echo: héllo 😀')

  const session = await alice.command(DOMAIN, 'uptime')
  assert.equal(session.status, 'completed')
  assert.deepEqual(session.notes, [{ type: 'info', text: 'up and running' }])

  const report = await checkConnection({ service: server.url, domain: CHECKED, secret: CHECK_SECRET })
  assert.deepEqual(
    report.steps.map((s) => [s.name, s.ok]),
    [
      ['TCP connect', true],
      ['stream header', true],
      ['handshake', true],
      ['round trip', true],
    ],
  )

  const bin = join('node_modules', '.bin', 'satellite')
  const env = { ...process.env, XMPP_DOMAIN: CHECKED, XMPP_SECRET: CHECK_SECRET }
  const ok = await run(bin, ['check', '--service', server.url], { env })
  assert.match(ok.stdout, /✔ handshake.*\n.*✔ round trip.*\nall checks passed\n$/s)
  const wrong = await run(bin, ['check', '--service', server.url], {
    env: { ...env, XMPP_SECRET: 'wrong-secret' },
  }).then(
    () => assert.fail('satellite check passed with a wrong secret'),
    (err) => err,
  )
  assert.equal(wrong.code, 1)
  assert.match(wrong.stdout, /✘ handshake: <not-authorized\/>/)
  assert.doesNotMatch(wrong.stdout, /wrong-secret/)
} finally {
  await xmpp.stop()
  await server.close()
}
console.log(`runtime test passed on Node ${process.version}`)
