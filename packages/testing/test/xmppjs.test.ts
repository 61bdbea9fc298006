// @xmpp/component 0.13.1 as an independent component implementation against the test server.

import { createServer, type Element, type TestServer } from '@satellite/testing'
import { component, xml } from '@xmpp/component'
import { afterEach, describe, expect, it } from 'vitest'

interface XmppComponent {
  start(): Promise<unknown>
  stop(): Promise<unknown>
  send(el: Element): Promise<unknown>
  on(event: 'stanza', fn: (stanza: Element) => void): void
  on(event: 'error', fn: (error: Error) => void): void
  reconnect: { stop(): void; delay: number }
  iqCallee: { get(ns: string, name: string, fn: (ctx: unknown) => unknown): void }
  iqCaller: { request(el: Element, timeout?: number): Promise<Element> }
}

const makeComponent = component as unknown as (o: {
  service: string
  domain: string
  password: string
}) => XmppComponent
const build = xml as unknown as (...args: unknown[]) => Element

let server: TestServer | undefined
const started: XmppComponent[] = []
afterEach(async () => {
  for (const c of started.splice(0)) {
    c.reconnect.stop()
    await c.stop().catch(() => {})
  }
  await server?.close()
  server = undefined
})

function xmppComponent(domain: string, password: string): XmppComponent {
  const c = makeComponent({ service: server!.url, domain, password })
  c.on('error', () => {}) // stream errors are emitted as 'error' too
  started.push(c)
  return c
}

const components = { 'echo.localhost': 'secret' }

describe('@xmpp/component against the test server', () => {
  it('authenticates, echoes messages, answers and sends iqs', async () => {
    server = await createServer({ components })
    const xmpp = xmppComponent('echo.localhost', 'secret')
    xmpp.on('stanza', (stanza: Element) => {
      if (stanza.is('message') && stanza.attrs.type !== 'error') {
        void xmpp.send(
          build(
            'message',
            { to: stanza.attrs.from, from: stanza.attrs.to, type: 'chat' },
            build('body', {}, `echo: ${stanza.getChildText('body')}`),
          ),
        )
      }
    })
    xmpp.iqCallee.get('urn:xmpp:ping', 'ping', () => ({}))
    await xmpp.start()
    const conn = await server.waitForComponent('echo.localhost')
    expect(conn.authenticated).toBe(true)

    const alice = server.client('alice@localhost/phone')
    alice.send(build('message', { to: 'echo.localhost', type: 'chat' }, build('body', {}, 'hello 😀')))
    const echo = await alice.expectStanza({ name: 'message', from: 'echo.localhost' })
    expect(echo.getChildText('body')).toBe('echo: hello 😀')

    const pong = await alice.request(
      build('iq', { type: 'get', to: 'echo.localhost' }, build('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(pong.attrs.type).toBe('result')

    const serverPong = await xmpp.iqCaller.request(
      build('iq', { type: 'get', to: 'localhost' }, build('ping', { xmlns: 'urn:xmpp:ping' })),
      2000,
    )
    expect(serverPong.attrs.from).toBe('localhost')
  })

  it('start() rejects on a wrong secret with not-authorized', async () => {
    server = await createServer({ components })
    const xmpp = xmppComponent('echo.localhost', 'wrong')
    xmpp.reconnect.stop()
    const error = await xmpp.start().catch((e: Error & { condition?: string; text?: string }) => e)
    expect((error as { condition?: string }).condition).toBe('not-authorized')
    expect((error as { text?: string }).text).toBe('Given token does not match calculated token')
  })

  it('start() rejects for an unknown domain with host-unknown', async () => {
    server = await createServer({ components })
    const xmpp = xmppComponent('nope.localhost', 'secret')
    xmpp.reconnect.stop()
    const error = await xmpp.start().catch((e: Error) => e)
    expect((error as { condition?: string }).condition).toBe('host-unknown')
  })

  it('a second component for the same domain gets conflict (kick_new)', async () => {
    server = await createServer({ components })
    const first = xmppComponent('echo.localhost', 'secret')
    await first.start()
    const second = xmppComponent('echo.localhost', 'secret')
    second.reconnect.stop()
    const error = await second.start().catch((e: Error) => e)
    expect((error as { condition?: string }).condition).toBe('conflict')
    expect(server.connectionsFor('echo.localhost')).toHaveLength(1)
  })

  it('reconnects after restart() on the same port', async () => {
    server = await createServer({ components })
    const xmpp = xmppComponent('echo.localhost', 'secret')
    xmpp.reconnect.delay = 50
    await xmpp.start()
    const first = await server.waitForComponent('echo.localhost')
    const back = server.waitForComponent('echo.localhost', { fresh: true, timeout: 3000 })
    await server.restart({ downMs: 100 })
    const second = await back
    expect(second).not.toBe(first)
    expect(first.isClosed).toBe(true)
    expect(first.streamErrorSent).toBeUndefined()
  })
})
