// docs/testing.md, kept runnable: its first test (a @satellite/core echo bot against
// @satellite/testing's embedded server) as written, and its fault examples run against the same
// bot with the short timers the page gives.

import { type Component, component, xml as coreXml } from '@satellite/core'
import {
  createServer,
  garbage,
  StanzaErrorResponse,
  splitUtf8Message,
  type TestServer,
  xml,
} from '@satellite/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// bot.ts of the page
function echoBot(xmpp: Component): void {
  xmpp.message({ type: ['chat', 'normal'] }, (msg) => {
    const body = msg.getChildText('body')
    if (body === null) return // chat states, receipts…: nothing to echo
    const { from, to, id, type } = msg.attrs
    return xmpp.send(
      coreXml('message', { from: to, to: from, id, type }, coreXml('body', {}, `echo: ${body}`)),
    )
  })
}

let server: TestServer
let xmpp: Component

afterEach(async () => {
  await xmpp.stop() // first the component (no reconnect attempts), then the server
  await server.close()
})

describe('docs/testing.md: a first test', () => {
  beforeEach(async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    xmpp = component({ service: server.url, domain: 'echo.localhost', secret: 'secret' })
    echoBot(xmpp)
    await xmpp.start() // resolves once the server accepted the handshake
  })

  it('echoes messages', async () => {
    const alice = server.client('alice@localhost/phone')
    alice.send(xml('message', { to: 'echo.localhost', type: 'chat' }, xml('body', {}, 'hello 😀')))
    const reply = await alice.expectStanza({ name: 'message', from: 'echo.localhost' })
    expect(reply.getChildText('body')).toBe('echo: hello 😀')
  })

  it('answers pings and refuses unknown iqs', async () => {
    const alice = server.client('alice@localhost')
    const pong = await alice.request(
      xml('iq', { type: 'get', to: 'echo.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(pong.attrs.type).toBe('result')

    const error = await alice
      .request(
        xml('iq', { type: 'get', to: 'echo.localhost' }, xml('query', { xmlns: 'urn:example:nothing' })),
      )
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StanzaErrorResponse)
    expect((error as StanzaErrorResponse).condition).toBe('service-unavailable')
  })

  it('echo with an XML string (the node:test version)', async () => {
    const bob = server.client('bob@localhost/desk')
    bob.send("<message to='echo.localhost' type='chat'><body>hi</body></message>")
    const reply = await bob.expectStanza({ name: 'message', body: 'echo: hi' })
    expect(reply.attrs.to).toBe('bob@localhost/desk')
  })

  it('stop() then close() leaves no connection behind', async () => {
    await xmpp.stop()
    expect(xmpp.status).toBe('stopped')
    await server.close()
    expect(server.connections).toHaveLength(0)
  })
})

describe('docs/testing.md: the fault examples pass with the Satellite echo bot', () => {
  beforeEach(async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' }, conflict: 'kick_old' })
    xmpp = component({
      service: server.url,
      domain: 'echo.localhost',
      secret: 'secret',
      reconnect: { base: 50, conflictFloor: 200 },
      ping: { interval: 500, timeout: 500 },
    })
    echoBot(xmpp)
    await xmpp.start()
  })

  it('decodes UTF-8 split across reads', async () => {
    const conn = await server.waitForComponent('echo.localhost')
    const alice = server.client('alice@localhost/phone') // exists before the echo comes back
    const { xml, splitAt, body } = splitUtf8Message({ from: alice.jid, to: 'echo.localhost' })
    await conn.write(xml, { splitAt }) // every multi-byte character arrives in two or more reads
    const reply = await alice.expectStanza({ name: 'message' })
    expect(reply.getChildText('body')).toBe(`echo: ${body}`)
  })

  it('gives up a stream with an entity bomb and reconnects', async () => {
    const first = await server.waitForComponent('echo.localhost')
    const next = server.waitForComponent('echo.localhost', { fresh: true })
    await first.write(garbage.entityBomb())
    await first.closed
    await next
  })

  it('notices a dead server link and reconnects', async () => {
    const conn = await server.waitForComponent('echo.localhost')
    const next = server.waitForComponent('echo.localhost', { fresh: true, timeout: 10_000 })
    conn.blackhole() // the component's keepalive/ping must time out
    await next
  })

  it('reconnects after a server restart', async () => {
    const next = server.waitForComponent('echo.localhost', { fresh: true, timeout: 5000 })
    await server.restart({ downMs: 300 }) // like a SIGTERM'd Prosody: TCP close, no stream error
    await next
  })

  it('backs off on conflict', async () => {
    const conn = await server.waitForComponent('echo.localhost')
    server.behave({ rejectHandshake: 'conflict', times: 3 })
    conn.drop('rst')
    await server.waitForComponent('echo.localhost', { fresh: true, timeout: 10_000 })
  })
})
