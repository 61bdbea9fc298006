// The @xmpp/component echo of docs/testing.md ("Testing an @xmpp/component component"), kept
// runnable. Its first test, a @satellite/core component, is packages/core/test/testing-docs.test.ts.

import {
  createServer,
  type Element,
  garbage,
  StanzaErrorResponse,
  splitUtf8Message,
  type TestServer,
  xml,
} from '@satellite/testing'
import { component, xml as xmppXml } from '@xmpp/component'
import { afterEach, beforeEach, expect, it } from 'vitest'

interface Echo {
  start(): Promise<unknown>
  stop(): Promise<unknown>
  send(el: Element): Promise<unknown>
  on(event: 'stanza', fn: (stanza: Element) => void): void
  on(event: 'error', fn: (error: Error) => void): void
  reconnect: { stop(): void; delay: number }
  iqCallee: { get(ns: string, name: string, fn: () => unknown): void }
}

async function startEcho(options: { service: string; domain: string; password: string }): Promise<Echo> {
  const xmpp = (component as (o: typeof options) => Echo)(options)
  const build = xmppXml as typeof xml
  xmpp.on('error', () => {})
  xmpp.on('stanza', (stanza) => {
    if (stanza.is('message') && stanza.attrs.type !== 'error') {
      const body = stanza.getChildText('body')
      void xmpp.send(
        build(
          'message',
          { from: stanza.attrs.to, to: stanza.attrs.from, type: 'chat' },
          build('body', {}, `echo: ${body}`),
        ),
      )
    }
  })
  xmpp.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}))
  xmpp.reconnect.delay = 50
  await xmpp.start()
  return xmpp
}

let server: TestServer
let echo: Echo

beforeEach(async () => {
  server = await createServer({ components: { 'echo.localhost': 'secret' } })
  echo = await startEcho({ service: server.url, domain: 'echo.localhost', password: 'secret' })
  await server.waitForComponent('echo.localhost')
})

afterEach(async () => {
  echo.reconnect.stop()
  await echo.stop().catch(() => {})
  await server.close()
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
    .request(xml('iq', { type: 'get', to: 'echo.localhost' }, xml('query', { xmlns: 'jabber:iq:version' })))
    .catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StanzaErrorResponse)
  expect((error as StanzaErrorResponse).condition).toBe('service-unavailable')
})

it('detects that @xmpp/component mangles UTF-8 split across reads (known xmpp.js bug)', async () => {
  const conn = await server.waitForComponent('echo.localhost')
  const alice = server.client('alice@localhost/phone')
  const { xml: payload, splitAt, body } = splitUtf8Message({ from: alice.jid, to: 'echo.localhost' })
  await conn.write(payload, { splitAt, delayMs: 5 })
  const reply = await alice.expectStanza({ name: 'message' })
  // @xmpp/connection decodes each chunk on its own (anchors.md §1), so the body is corrupted:
  // exactly what this fault is there to catch in a component.
  expect(reply.getChildText('body')).not.toBe(`echo: ${body}`)
  expect(reply.getChildText('body')).toContain('\uFFFD')
})

it('reconnects after a server restart', async () => {
  const next = server.waitForComponent('echo.localhost', { fresh: true, timeout: 5000 })
  await server.restart({ downMs: 100 })
  await next
})

it('a component fed an entity bomb: xmpp.js (lenient ltx) keeps the stream open', async () => {
  const conn = await server.waitForComponent('echo.localhost')
  await conn.write(garbage.entityBomb({ from: 'alice@localhost/x', to: 'echo.localhost' }))
  await new Promise((r) => setTimeout(r, 100))
  // a correct component would close the stream; ltx ignores the DOCTYPE and throws on &lol9;
  expect(conn.isClosed).toBe(false)
  // its parser is wedged now, so it would not see a graceful close: reset instead
  echo.reconnect.stop()
  conn.drop('rst')
  await conn.closed
})
