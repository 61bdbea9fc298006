import { classifyCondition, isSatelliteError, type StreamError, xml } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, once, server } from './helpers.js'

describe('edge cases found in review', () => {
  it('keeps honouring the AbortSignal after stop() and start()', async () => {
    const srv = await server()
    const ac = new AbortController()
    const xmpp = make(srv, { signal: ac.signal })
    await xmpp.start()
    await xmpp.stop()
    await xmpp.start()
    const stopped = once(xmpp, 'stopped')
    ac.abort()
    await stopped
    expect(xmpp.status).toBe('stopped')
  })

  it("treats ejabberd's conflict on one of its own hosts as fatal, with a fix in the message", async () => {
    expect(classifyCondition('conflict', 'Unable to register route on existing local domain')).toBe('fatal')
    expect(classifyCondition('conflict', 'Component already connected')).toBe('conflict')
    const srv = await server()
    srv.behave({
      rejectHandshake: { condition: 'conflict', text: 'Unable to register route on existing local domain' },
    })
    let connections = 0
    srv.on('connection', () => connections++)
    const xmpp = make(srv)
    const err = (await xmpp.start().catch((e: unknown) => e)) as StreamError
    expect(err.fatal).toBe(true)
    expect(err.message).toMatch(/own virtual hosts/)
    expect(connections).toBe(1)
  })

  it('with reconnect: false, start() rejects with the real cause', async () => {
    const srv = await server()
    const port = srv.port
    await srv.close()
    const xmpp = make(srv, { service: `xmpp://127.0.0.1:${port}`, reconnect: false })
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_TRANSPORT')).toBe(true)
    expect((err as Error).message).toMatch(/ECONNREFUSED/)
  })

  it('refuses to send a stanza over limits.maxOutboundStanzaBytes instead of losing the stream', async () => {
    const srv = await server()
    const xmpp = make(srv, { limits: { maxOutboundStanzaBytes: 10_000 } })
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    const big = await xmpp
      .send(xml('message', { to: alice.jid }, xml('body', {}, '世'.repeat(4000))))
      .catch((e: unknown) => e)
    expect(isSatelliteError(big, 'SAT_ERR_STANZA_TOO_BIG')).toBe(true)
    await xmpp.send(xml('message', { to: alice.jid }, xml('body', {}, '世'.repeat(3000))))
    await alice.expectStanza({ name: 'message' })
    expect(xmpp.online).toBe(true)
    expect(srv.connectionsFor(DOMAIN)).toHaveLength(1)
  })
})
