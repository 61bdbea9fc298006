// The consumer check's run of a project made by create-satellite (scripts/check-packages), in that
// project once it is built: `satellite run dist/bot.js` (the installed binary) connects the generated
// bot to the embedded server of @satellite/testing with the settings from the environment, the bot
// echoes, and SIGTERM stops it cleanly (exit code 0).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createServer, xml } from '@satellite/testing'

const DOMAIN = process.env.CHECK_DOMAIN ?? 'my-bot.localhost'
const SECRET = 'run-secret-1'
const timer = setTimeout(() => {
  console.error('satellite run check: timed out after 60 s')
  process.exit(1)
}, 60_000)
timer.unref()

assert.equal(process.version, process.env.CHECK_NODE_VERSION, 'the Node running the test')
const server = await createServer({ components: { [DOMAIN]: SECRET } })
const child = spawn(join('node_modules', '.bin', 'satellite'), ['run', 'dist/bot.js'], {
  env: { ...process.env, XMPP_SERVICE: server.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET },
  stdio: ['ignore', 'pipe', 'pipe'],
})
let output = ''
child.stdout.on('data', (d) => (output += d))
child.stderr.on('data', (d) => (output += d))
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
try {
  await Promise.race([
    server.waitForComponent(DOMAIN, { timeout: 20_000 }),
    exited.then(({ code }) => assert.fail(`satellite run exited (${code}) before connecting:\n${output}`)),
  ])
  const alice = server.client('alice@localhost/phone')
  alice.send(xml('message', { to: DOMAIN, type: 'chat' }, xml('body', {}, 'ping')))
  const reply = await alice.expectStanza({ name: 'message', from: DOMAIN }, 10_000)
  assert.equal(reply.getChildText('body'), 'echo: ping')
  child.kill('SIGTERM')
  const { code, signal } = await exited
  assert.equal(signal, null, `satellite run was killed by ${signal}:\n${output}`)
  assert.equal(code, 0, `satellite run exited with ${code}:\n${output}`)
  assert.match(output, /SIGTERM: stopping/)
  assert.doesNotMatch(output, new RegExp(SECRET))
} finally {
  child.kill('SIGKILL')
  await server.close()
}
console.log(`satellite run dist/bot.js passed on Node ${process.version}`)
