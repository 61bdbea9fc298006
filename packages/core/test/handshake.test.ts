import { createHash } from 'node:crypto'
import { isSatelliteError, type SatelliteError, StreamError, xml } from '@satellite/core'
import { handshakeDigest, streamHeader } from '@satellite/core/internal'
import { greetWith } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, once, server, sleep } from './helpers.js'

describe('handshake', () => {
  it('is lowercase hex SHA-1 over the UTF-8 bytes of id + secret', () => {
    const d = handshakeDigest('id-1', 'sécret')
    expect(d).toBe(createHash('sha1').update(Buffer.from('id-1sécret', 'utf8')).digest('hex'))
    expect(d).not.toBe(createHash('sha1').update(Buffer.from('id-1sécret', 'latin1')).digest('hex'))
    expect(d).toMatch(/^[0-9a-f]{40}$/)
    expect(streamHeader(DOMAIN)).toContain(`to='${DOMAIN}'`)
    expect(streamHeader(DOMAIN)).toContain("xmlns='jabber:component:accept'")
  })

  it('uses the stream id after XML unescaping', async () => {
    const srv = await server({ streamId: () => `a&b'<"${Math.random()}` })
    const xmpp = make(srv)
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    expect(conn.streamId).toMatch(/^a&b'<"/)
    expect(conn.authenticated).toBe(true)
  })

  it('accepts ejabberd-style numeric stream ids', async () => {
    const srv = await server({ flavour: 'ejabberd' })
    const xmpp = make(srv)
    await xmpp.start()
    expect(xmpp.online).toBe(true)
  })

  it('fails fast and for good on a wrong secret: no retry storm, a message that says what to fix', async () => {
    const srv = await server()
    let connections = 0
    srv.on('connection', () => connections++)
    const xmpp = make(srv, { secret: 'wrong-secret' })
    const stopped = once<{ error: Error }>(xmpp, 'stopped')
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_AUTH')).toBe(true)
    expect((err as SatelliteError).fatal).toBe(true)
    expect((err as StreamError).condition).toBe('not-authorized')
    expect((err as Error).message).toMatch(/component_secret/)
    expect((err as Error).message).not.toContain('wrong-secret')
    expect((await stopped).error).toBe(err)
    await sleep(300)
    expect(connections).toBe(1)
    expect(xmpp.status).toBe('stopped')
  })

  it('treats host-unknown as fatal', async () => {
    const srv = await server()
    const xmpp = make(srv, { domain: 'nope.localhost' })
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StreamError)
    expect((err as StreamError).condition).toBe('host-unknown')
    expect((err as Error).message).toMatch(/Component "nope.localhost"/)
  })

  for (const condition of ['invalid-namespace', 'improper-addressing', 'invalid-from', 'bad-format']) {
    it(`treats ${condition} after the handshake as fatal`, async () => {
      const srv = await server()
      srv.behave({ streamErrorAfterHandshake: condition as never })
      const xmpp = make(srv)
      const stopped = once<{ error: StreamError }>(xmpp, 'stopped')
      await xmpp.start().catch(() => {})
      const { error } = await stopped
      expect(error.condition).toBe(condition)
      expect(error.fatal).toBe(true)
    })
  }

  it('times out a server that never sends its header, then retries with backoff', async () => {
    const srv = await server()
    srv.behave({ noHeader: true, times: 1 })
    const xmpp = make(srv, { handshakeTimeout: 200 })
    const reconnecting = once<{ reason: string; error: Error }>(xmpp, 'reconnecting')
    const started = xmpp.start()
    const info = await reconnecting
    expect(info.reason).toBe('timeout')
    expect(isSatelliteError(info.error, 'SAT_ERR_HANDSHAKE_TIMEOUT')).toBe(true)
    expect(info.error.message).toMatch(/stream header/)
    await started
    expect(xmpp.online).toBe(true)
  })

  it('times out a server that never answers the handshake', async () => {
    const srv = await server()
    srv.behave({ noHandshakeReply: true, times: 1 })
    const xmpp = make(srv, { handshakeTimeout: 200 })
    const info = await Promise.all([once<{ error: Error }>(xmpp, 'reconnecting'), xmpp.start()]).then(
      ([i]) => i,
    )
    expect(info.error.message).toMatch(/handshake answer/)
  })

  it('retries a conflict no sooner than the conflict floor, never in a storm', async () => {
    const srv = await server()
    srv.behave({ rejectHandshake: 'conflict', times: 2 })
    let connections = 0
    srv.on('connection', () => connections++)
    const xmpp = make(srv, { reconnect: { base: 10, cap: 50, conflictFloor: 250 } })
    const delays: number[] = []
    xmpp.on('reconnecting', (i) => delays.push(i.delay))
    const t0 = Date.now()
    await xmpp.start()
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500)
    expect(delays).toHaveLength(2)
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(250)
    expect(connections).toBe(3)
  })

  it('retries system-shutdown with backoff and comes back online', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const info = once<{ reason: string }>(xmpp, 'reconnecting')
    conn.streamError('system-shutdown')
    expect((await info).reason).toBe('system-shutdown')
    await once(xmpp, 'online')
    expect(xmpp.stats.reconnectsByReason['system-shutdown']).toBe(1)
  })

  it('answers the server closing the stream and reconnects', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const offline = once<{ reason: string }>(xmpp, 'offline')
    conn.closeStream()
    expect((await offline).reason).toBe('stream-closed')
    await once(xmpp, 'online')
    expect(conn.peerClosedStream).toBe(true)
  })

  it('recognises a client port (stream features) as a fatal misconfiguration', async () => {
    const srv = await server()
    greetWith(
      srv,
      "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='x'><stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'/></stream:features>",
      20,
    )
    const xmpp = make(srv)
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_PROTOCOL')).toBe(true)
    expect((err as Error).message).toMatch(/not a XEP-0114 component port/)
  })

  it('recognises a jabber:client stream as invalid-namespace, fatal', async () => {
    const srv = await server()
    greetWith(
      srv,
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>",
      20,
    )
    const xmpp = make(srv)
    const err = await xmpp.start().catch((e: unknown) => e)
    expect((err as StreamError).condition).toBe('invalid-namespace')
    expect((err as Error).message).toMatch(/component port/)
  })

  it('does not send before the handshake: stanzas wait in the queue', async () => {
    const srv = await server()
    srv.behave({ handshakeDelayMs: 150, times: 1 })
    const xmpp = make(srv)
    const alice = srv.client('alice@localhost/a')
    const started = xmpp.start()
    const sent = xmpp.send(xml('message', { to: alice.jid }, xml('body', {}, 'early')))
    await started
    await sent
    expect((await alice.expectStanza({ name: 'message' })).getChildText('body')).toBe('early')
  })
})
