import { sleep } from '@satellite/test-support/wait'
import { StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { connected, echoServer, header, rawComponent, rawConnect } from './helpers.js'

describe('scripted behaviour', () => {
  it('noHeader: the server never answers the header', async () => {
    const server = await echoServer()
    server.behave({ noHeader: true })
    const c = await rawConnect(server.port)
    c.write(header('echo.localhost'))
    await sleep(100)
    expect(c.text).toBe('')
    expect(server.connections).toHaveLength(1)
    c.destroy()
  })

  it('headerDelayMs delays the header reply', async () => {
    const server = await echoServer()
    server.behave({ headerDelayMs: 150 })
    const c = await rawConnect(server.port)
    const start = Date.now()
    c.write(header('echo.localhost'))
    await c.waitFor('<stream:stream')
    expect(Date.now() - start).toBeGreaterThanOrEqual(140)
    c.destroy()
  })

  it('noHandshakeReply: the handshake is swallowed', async () => {
    const server = await echoServer()
    server.behave({ noHandshakeReply: true })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret', { expectSuccess: false })
    await sleep(100)
    expect(c.text).not.toContain('<handshake/>')
    expect(c.text).not.toContain('stream:error')
    expect(server.connections[0]!.authenticated).toBe(false)
    c.destroy()
  })

  it('rejectHandshake with times: only the next connection is rejected', async () => {
    const server = await echoServer()
    server.behave({ rejectHandshake: { condition: 'conflict', text: 'busy' }, times: 1 })
    const first = await rawComponent(server.port, 'echo.localhost', 'secret', { expectSuccess: false })
    await first.closed
    expect(first.text).toContain('<conflict')
    expect(first.text).toContain('busy')
    const second = await rawComponent(server.port, 'echo.localhost', 'secret')
    expect(second.text).toContain('<handshake/>')
    second.destroy()
  })

  it('streamErrorAfterHandshake and dropAfterHandshake, until behave(null)', async () => {
    const server = await echoServer()
    server.behave({ streamErrorAfterHandshake: { condition: 'reset', delayMs: 30 } })
    const a = await rawComponent(server.port, 'echo.localhost', 'secret')
    await a.closed
    expect(a.text).toMatch(/<handshake\/><stream:error><reset /)
    const b = await rawComponent(server.port, 'echo.localhost', 'secret')
    await b.closed
    expect(b.text).toContain('<reset ')
    server.behave({ dropAfterHandshake: 'rst' })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    expect((await c.closed).hadError).toBe(true)
    server.behave(null)
    const d = await rawComponent(server.port, 'echo.localhost', 'secret')
    await sleep(50)
    expect(d.socket.destroyed).toBe(false)
    d.destroy()
  })

  it("conn.behave() from the 'connection' event scripts one connection", async () => {
    const server = await echoServer()
    server.on('connection', (conn) => {
      if (conn.id % 2 === 1) conn.behave({ rejectHandshake: 'not-authorized' })
    })
    const results: boolean[] = []
    for (let i = 0; i < 2; i++) {
      const c = await rawComponent(server.port, 'echo.localhost', 'secret', { expectSuccess: false })
      await Promise.race([c.waitFor('<handshake/>').catch(() => {}), c.closed])
      results.push(c.text.includes('<handshake/>'))
      c.destroy()
    }
    expect(results.sort()).toEqual([false, true])
  })

  it("refuseConnections() 'reset' mode accepts and resets, then recovers", async () => {
    const server = await echoServer()
    await server.refuseConnections(300)
    const c = await rawConnect(server.port).catch((e: NodeJS.ErrnoException) => e)
    if (!(c instanceof Error)) {
      c.write(header('echo.localhost'))
      const closed = await c.closed
      expect(closed.hadError || c.text === '').toBe(true)
      expect(c.text).toBe('')
    }
    expect(server.connections).toHaveLength(0)
    await sleep(350)
    const ok = await rawComponent(server.port, 'echo.localhost', 'secret')
    ok.destroy()
  })

  it("refuseConnections() 'unlisten' mode gives ECONNREFUSED, then listens again", async () => {
    const server = await echoServer()
    const port = server.port
    await server.refuseConnections(300, { mode: 'unlisten' })
    const refused = await rawConnect(port).catch((e: NodeJS.ErrnoException) => e)
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    await expect.poll(() => server.listening, { timeout: 2000 }).toBe(true)
    const ok = await rawComponent(port, 'echo.localhost', 'secret')
    ok.destroy()
  })

  it('restart() closes connections at TCP level, refuses while down, returns on the same port', async () => {
    const { c, server: s } = await connected()
    const alice = s.client('alice@localhost/a')
    const port = s.port
    const restarting = s.restart({ downMs: 300 })
    const closed = await c.closed
    expect(closed.hadError).toBe(false)
    expect(c.text).toMatch(/<handshake\/>$/) // no stream error, no </stream:stream>
    await sleep(20)
    const refused = await rawConnect(port).catch((e: NodeJS.ErrnoException) => e)
    expect((refused as NodeJS.ErrnoException).code).toBe('ECONNREFUSED')
    await restarting
    expect(s.port).toBe(port)
    const again = await rawComponent(port, 'echo.localhost', 'secret')
    alice.send("<message to='echo.localhost' id='after'/>")
    await again.waitFor('id="after"')
    again.destroy()
  })
})

describe('dead peers and server-side requests', () => {
  it('blackhole(): nothing is read or sent, the socket stays open', async () => {
    const { c, conn, server } = await connected()
    const alice = server.client('alice@localhost/a')
    conn.blackhole()
    alice.send("<message to='echo.localhost' id='void'/>")
    conn.streamError('system-shutdown')
    c.write("<message from='echo.localhost' to='alice@localhost/a' id='lost'/>")
    await sleep(100)
    expect(c.text).toMatch(/<handshake\/>$/)
    expect(c.socket.destroyed).toBe(false)
    expect(conn.received).toHaveLength(0)
    expect(alice.received).toHaveLength(0)
    expect(server.connectionsFor('echo.localhost')).toEqual([]) // unregistered after the stream error
    // a new connection for the domain is accepted (no conflict with the dead one)
    const again = await rawComponent(server.port, 'echo.localhost', 'secret')
    again.destroy()
    c.destroy()
  })

  it('conn.request() sends an iq as the server and resolves with the result or rejects with the error', async () => {
    const { c, conn } = await connected()
    const pending = conn.request("<iq type='get' id='s1'><ping xmlns='urn:xmpp:ping'/></iq>")
    await c.waitFor('<iq type="get" id="s1" from="localhost" to="echo.localhost">')
    c.write("<iq type='result' id='s1' from='echo.localhost' to='localhost'/>")
    expect((await pending).attrs.from).toBe('echo.localhost')
    const failing = conn
      .request("<iq type='set' id='s2'><x xmlns='urn:example'/></iq>")
      .catch((e: unknown) => e)
    await c.waitFor('id="s2"')
    c.write(
      "<iq type='error' id='s2' from='echo.localhost' to='localhost'><error type='cancel'><feature-not-implemented xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>",
    )
    expect(await failing).toBeInstanceOf(StanzaErrorResponse)
    c.destroy()
  })

  it('recordLimit bounds the received lists', async () => {
    const { c, conn, server } = await connected({ recordLimit: 3 })
    const alice = server.client('alice@localhost/a')
    for (let i = 0; i < 6; i++) c.write(`<message from='echo.localhost' to='alice@localhost/a' id='n${i}'/>`)
    await alice.expectStanza({ id: 'n5' })
    expect(alice.received.map((s) => s.attrs.id)).toEqual(['n3', 'n4', 'n5'])
    expect(conn.received).toHaveLength(3)
    c.destroy()
  })

  it('a header that is not stream:stream gets invalid-namespace', async () => {
    const server = await echoServer()
    const c = await rawConnect(server.port)
    c.write("<stream xmlns='jabber:component:accept' to='echo.localhost'>")
    await c.closed
    expect(c.text).toContain("<invalid-namespace xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
  })
})
