// TestServer, ServerConnection and SimulatedClient take only their own events, with their
// arguments (events.ts): `pnpm typecheck` checks the @ts-expect-error lines below; the test checks
// that the typed methods are EventEmitter's, unchanged at run time.
import { EventEmitter, once } from 'node:events'
import {
  createServer,
  type ServerConnection,
  type SimulatedClient,
  type TestServer,
  type TestServerEvents,
  type TypedListener,
} from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { rawComponent } from './helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('typed events', () => {
  it('on/once/off take the events of the event map with their arguments', async () => {
    server = await createServer({ components: { 'echo.localhost': 's3cret' } })
    expect(server).toBeInstanceOf(EventEmitter)
    const seen: string[] = []
    const onAuthenticated: TypedListener<TestServerEvents, 'authenticated'> = (conn) => {
      seen.push(`authenticated ${conn.domain}`)
    }
    expect(server.on('authenticated', onAuthenticated)).toBe(server)
    const connection = once(server, 'connection') as Promise<[ServerConnection]>
    const component = await rawComponent(server.port, 'echo.localhost', 's3cret')
    const [conn] = await connection
    expect(conn).toBeInstanceOf(EventEmitter)
    const stanzas: string[] = []
    conn.on('stanza', (stanza) => stanzas.push(stanza.name))
    // @ts-expect-error: no such event (it is 'close')
    conn.on('closed', (x: unknown) => stanzas.push(String(x)))
    // @ts-expect-error: 'authenticated' has no argument
    conn.once('authenticated', (x: string) => stanzas.push(x))
    await server.waitForComponent('echo.localhost')
    expect(server.listenerCount('authenticated')).toBe(1)
    expect(server.listeners('authenticated')).toEqual([onAuthenticated])
    server.off('authenticated', onAuthenticated)
    expect(server.listenerCount('authenticated')).toBe(0)
    expect(seen).toEqual(['authenticated echo.localhost'])

    const alice: SimulatedClient = server.client('alice@localhost/a')
    expect(alice).toBeInstanceOf(EventEmitter)
    const got = new Promise<string>((resolve) => alice.once('stanza', (stanza) => resolve(stanza.attrs.from)))
    component.write("<message from='echo.localhost' to='alice@localhost/a'><body>hi</body></message>")
    expect(await got).toBe('echo.localhost')
    expect(stanzas).toEqual(['message'])
    expect(conn.eventNames().sort()).toEqual(['authenticated', 'closed', 'stanza'])
    component.destroy()
  })

  it('refuses an unknown event name and a wrong listener at compile time', async () => {
    server = await createServer({ components: { 'echo.localhost': 's3cret' } })
    const calls: unknown[] = []
    // @ts-expect-error: no such event
    server.on('nonsense', (x: unknown) => calls.push(x))
    // @ts-expect-error: 'connection' gives a ServerConnection, not a number
    server.on('connection', (n: number) => calls.push(n.toFixed()))
    // @ts-expect-error: emit checks the arguments too
    server.emit('routed', 'nope')
    const alice = server.client('alice@localhost/a')
    // @ts-expect-error: a client has only 'stanza'
    alice.on('online', () => calls.push('online'))
    // @ts-expect-error: 'stanza' gives an element, not a string
    alice.once('stanza', (s: string) => calls.push(s.length))
    server.on('listening', () => calls.push('listening'))
    server.emit('listening')
    expect(calls).toEqual(['listening'])
    expect(server.eventNames().sort()).toEqual(['connection', 'listening', 'nonsense'].sort())
    expect(alice.eventNames()).toEqual(['online', 'stanza'])
    server.removeAllListeners()
    alice.removeAllListeners()
  })
})
