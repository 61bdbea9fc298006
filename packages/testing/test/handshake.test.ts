import { createServer, type TestServer } from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { digest, header, rawComponent, rawConnect } from './helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const NS_STREAMS = "xmlns='urn:ietf:params:xml:ns:xmpp-streams'"

describe('stream header and handshake (prosody flavour)', () => {
  it('accepts a correct handshake and reports the authenticated connection', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    expect(server.url).toBe(`xmpp://127.0.0.1:${server.port}`)
    const authenticated = new Promise((resolve) => server!.once('authenticated', resolve))
    const waiting = server.waitForComponent('echo.localhost')
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const conn = await waiting
    expect(await authenticated).toBe(conn)
    expect(conn.authenticated).toBe(true)
    expect(conn.domain).toBe('echo.localhost')
    expect(conn.streamId).toBe(c.streamId())
    expect(c.text).toMatch(/^<\?xml version='1.0'\?><stream:stream [^>]*from='echo.localhost'/)
    expect(server.connections).toEqual([conn])
    c.destroy()
  })

  it('escapes the stream id in the header; the handshake is over the unescaped id', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' }, streamId: () => `a&b'<"x` })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    expect(c.text).toContain("id='a&amp;b&apos;&lt;&quot;x'")
    expect(c.streamId()).toBe(`a&b'<"x`)
    c.destroy()
  })

  it("rejects a wrong secret with not-authorized and Prosody's text, then closes", async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawComponent(server.port, 'echo.localhost', 'wrong', { expectSuccess: false })
    await c.closed
    expect(c.text).toContain(`<stream:error><not-authorized ${NS_STREAMS}/>`)
    expect(c.text).toContain('Given token does not match calculated token')
    expect(c.text).toMatch(/<\/stream:error><\/stream:stream>$/)
    expect(c.text).not.toContain('<handshake/>')
  })

  it('accepts upper-case hex like Prosody', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret', { upper: true })
    expect(c.text).toContain('<handshake/>')
    c.destroy()
  })

  it("answers an unknown domain with a header with id='' and host-unknown", async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header('nope.localhost'))
    await c.closed
    expect(c.text).toMatch(/<stream:stream[^>]* id=''/)
    expect(c.text).toContain(`<host-unknown ${NS_STREAMS}/>`)
    expect(c.text).toContain('does not match any configured external components')
  })

  it('answers a header without to with improper-addressing', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header(undefined))
    await c.closed
    expect(c.text).toContain(`<improper-addressing ${NS_STREAMS}/>`)
  })

  it('answers a wrong namespace with invalid-namespace', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header('echo.localhost', 'jabber:client'))
    await c.closed
    expect(c.text).toContain(`<invalid-namespace ${NS_STREAMS}/>`)
  })

  it('answers a stanza before the handshake with service-unavailable, stream stays open', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header('echo.localhost'))
    await c.waitFor(/<stream:stream[^>]*>/)
    c.write(
      "<iq type='get' id='early' from='echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
    )
    await c.waitFor(/id=["']early["']/)
    expect(c.text).toMatch(/<iq [^>]*type=["']error["'][^>]*>.*<service-unavailable/)
    c.write(`<handshake>${digest(c.streamId(), 'secret')}</handshake>`)
    await c.waitFor('<handshake/>')
    c.destroy()
  })

  it('closes with connection-timeout when no handshake comes in time', async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' }, handshakeTimeout: 100 })
    const c = await rawConnect(server.port)
    c.write(header('echo.localhost'))
    await c.closed
    expect(c.text).toContain(`<connection-timeout ${NS_STREAMS}/>`)
  })

  it("answers the component's </stream:stream> with </stream:stream> and a close", async () => {
    server = await createServer({ components: { 'echo.localhost': 'secret' } })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const conn = await server.waitForComponent('echo.localhost')
    c.write('</stream:stream>')
    await c.closed
    await conn.closed
    expect(c.text).toMatch(/<handshake\/><\/stream:stream>$/)
    expect(conn.peerClosedStream).toBe(true)
    expect(server.connections).toEqual([])
  })
})

describe('stream header and handshake (ejabberd flavour)', () => {
  it('uses decimal stream ids and rejects upper-case hex', async () => {
    server = await createServer({ flavour: 'ejabberd', components: { 'echo.localhost': 'secret' } })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret', {
      upper: true,
      expectSuccess: false,
    })
    await c.closed
    expect(c.streamId()).toMatch(/^\d+$/)
    expect(c.text).toContain(`<stream:error><not-authorized ${NS_STREAMS}/></stream:error>`)
  })

  it('answers an unknown domain with a normal header, then not-authorized after the handshake', async () => {
    server = await createServer({ flavour: 'ejabberd', components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header('nope.localhost'))
    await c.waitFor(/<stream:stream[^>]*>/)
    expect(c.streamId()).toMatch(/^\d+$/)
    expect(c.text).not.toContain('stream:error')
    c.write(`<handshake>${digest(c.streamId(), 'secret')}</handshake>`)
    await c.closed
    expect(c.text).toContain(`<not-authorized ${NS_STREAMS}/>`)
  })

  it('answers a stanza before the handshake with a not-authorized stream error', async () => {
    server = await createServer({ flavour: 'ejabberd', components: { 'echo.localhost': 'secret' } })
    const c = await rawConnect(server.port)
    c.write(header('echo.localhost'))
    await c.waitFor(/<stream:stream[^>]*>/)
    c.write("<message from='echo.localhost' to='alice@localhost'/>")
    await c.closed
    expect(c.text).toContain(`<not-authorized ${NS_STREAMS}/>`)
  })
})
