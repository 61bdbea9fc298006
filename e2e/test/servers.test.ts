// Satellite components through real Prosody 0.12 and ejabberd 23.01, with real clients:
// @xmpp/client 0.14 and Debian's slixmpp (written by others).

import { isSatelliteError, type StreamError, xml } from '@satellite/core'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { echo, info, KINDS, realClient, satellite, slixmpp } from './helpers.js'

describe.each(KINDS)('%s: happy path with real clients', (kind) => {
  it('message round trip: @xmpp/client → component → client', async () => {
    const xmpp = echo(satellite(kind))
    await xmpp.start()
    const alice = await realClient(kind)
    const domain = info(kind).XMPP_ECHO_DOMAIN
    await alice.send(
      clientXml(
        'message',
        { to: `bot@${domain}`, type: 'chat', id: 'e2e-1' },
        clientXml('body', {}, 'héllo 😀'),
      ),
    )
    const reply = await alice.expect((s: { attrs: Record<string, string> }) => s.attrs.id === 'e2e-1')
    expect(reply.attrs.type).toBe('chat')
    expect(reply.attrs.from).toBe(`bot@${domain}`)
    expect(reply.getChildText('body')).toBe('echo: héllo 😀')
  })

  it('a second, independent client (slixmpp) gets its echo too', async () => {
    const xmpp = echo(satellite(kind))
    await xmpp.start()
    const report = await slixmpp(kind, ['message', `bot@${info(kind).XMPP_ECHO_DOMAIN}`, 'from slixmpp ✓'])
    expect(report).toMatchObject({ ok: true, type: 'chat', body: 'echo: from slixmpp ✓' })
    expect(String(report.from)).toBe(`bot@${info(kind).XMPP_ECHO_DOMAIN}`)
  })

  it('slixmpp pings the component and reads its disco#info', async () => {
    const xmpp = echo(satellite(kind))
    await xmpp.start()
    const report = await slixmpp(kind, ['ping', info(kind).XMPP_ECHO_DOMAIN as string])
    expect(report.ok).toBe(true)
    expect(report.features).toEqual(
      expect.arrayContaining(['urn:xmpp:ping', 'jabber:iq:version', 'http://jabber.org/protocol/disco#info']),
    )
  })

  it('iq from a client: disco#info, ping, version; errors reach the client', async () => {
    const xmpp = echo(satellite(kind, { responders: { version: { name: 'E2E', version: '1.2.3' } } }))
    await xmpp.start()
    const alice = await realClient(kind)
    const to = info(kind).XMPP_ECHO_DOMAIN
    const disco = await alice.request(
      clientXml(
        'iq',
        { type: 'get', to },
        clientXml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    )
    expect(disco.getChild('query').getChild('identity').attrs.category).toBe('component')
    const ping = await alice.request(
      clientXml('iq', { type: 'get', to }, clientXml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(ping.attrs.type).toBe('result')
    const ver = await alice.request(
      clientXml('iq', { type: 'get', to }, clientXml('query', { xmlns: 'jabber:iq:version' })),
    )
    expect(ver.getChild('query').getChildText('version')).toBe('1.2.3')
    const err = await alice
      .request(clientXml('iq', { type: 'get', to }, clientXml('query', { xmlns: 'jabber:iq:roster' })))
      .catch((e: Error & { condition?: string }) => e)
    expect(String((err as { condition?: string }).condition ?? err)).toMatch(/service-unavailable/)
  })

  it('presence both ways: subscription answered, component presence delivered', async () => {
    const xmpp = echo(satellite(kind))
    await xmpp.start()
    const alice = await realClient(kind)
    const domain = info(kind).XMPP_ECHO_DOMAIN
    await alice.send(clientXml('presence', { to: `bot@${domain}`, type: 'subscribe' }))
    // The server turns the component's 'subscribed' into a roster push with subscription 'to'
    // (ejabberd also forwards the presence itself).
    const push = await alice.expect(
      (s: {
        name: string
        attrs: Record<string, string>
        getChild(n: string): { getChild(n: string): { attrs: Record<string, string> } } | undefined
      }) =>
        s.name === 'iq' &&
        s.attrs.type === 'set' &&
        s.getChild('query')?.getChild('item')?.attrs.subscription === 'to',
    )
    expect(push.getChild('query').getChild('item').attrs.jid).toBe(`bot@${domain}`)
    await xmpp.send(xml('presence', { from: `bot@${domain}`, to: alice.jid }, xml('status', {}, 'ready')))
    const p = await alice.expect(
      (s: { name: string; attrs: Record<string, string> }) =>
        s.name === 'presence' && s.attrs.from === `bot@${domain}` && !s.attrs.type,
    )
    expect(p.getChildText('status')).toBe('ready')
    expect(p.getChild('c', 'http://jabber.org/protocol/caps')).toBeTruthy()
  })

  it('the component asks a client (request() through the server)', async () => {
    const xmpp = satellite(kind)
    await xmpp.start()
    const alice = await realClient(kind)
    const res = await xmpp.request(
      xml('iq', { type: 'get', to: alice.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      { timeout: 5000 },
    )
    expect(res.attrs.type).toBe('result')
  })

  it('direct TLS component port (xmpps://), certificate verified against the CA', async () => {
    const xmpp = echo(satellite(kind, { tls: true }))
    await xmpp.start()
    const alice = await realClient(kind)
    await alice.send(
      clientXml(
        'message',
        { to: `tls@${info(kind).XMPP_ECHO_DOMAIN}`, type: 'chat', id: 'tls-1' },
        clientXml('body', {}, 'secure'),
      ),
    )
    const reply = await alice.expect((s: { attrs: Record<string, string> }) => s.attrs.id === 'tls-1')
    expect(reply.getChildText('body')).toBe('echo: secure')
  })
})

describe.each(KINDS)('%s: failures', (kind) => {
  it('wrong secret: fatal at once, clear message, no retry storm', async () => {
    const xmpp = satellite(kind, { secret: 'not-the-secret' })
    let attempts = 0
    xmpp.on('status', (s) => {
      if (s === 'connecting') attempts++
    })
    const t0 = Date.now()
    const err = (await xmpp.start().catch((e: unknown) => e)) as StreamError
    expect(isSatelliteError(err, 'SAT_ERR_AUTH')).toBe(true)
    expect(err.fatal).toBe(true)
    expect(err.message).toMatch(/component_secret/)
    expect(Date.now() - t0).toBeLessThan(3000)
    await new Promise((r) => setTimeout(r, 1500))
    expect(attempts).toBe(1)
    expect(xmpp.status).toBe('stopped')
  })

  it('unknown domain: fatal (Prosody says host-unknown, ejabberd says not-authorized)', async () => {
    const xmpp = satellite(kind, { domain: 'nobody.localhost' })
    const err = (await xmpp.start().catch((e: unknown) => e)) as StreamError
    expect(err.fatal).toBe(true)
    expect(err.condition).toBe(kind === 'prosody' ? 'host-unknown' : 'not-authorized')
  })

  it('a from outside the domain is refused locally, the stream survives', async () => {
    const xmpp = satellite(kind)
    await xmpp.start()
    const alice = await realClient(kind)
    const err = await xmpp
      .send(xml('message', { from: 'mallory@localhost', to: alice.jid }, xml('body', {}, 'x')))
      .catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_ADDRESS')).toBe(true)
    await xmpp.send(
      xml(
        'message',
        { from: `ok@${info(kind).XMPP_ECHO_DOMAIN}`, to: alice.jid, id: 'still' },
        xml('body', {}, 'still here'),
      ),
    )
    await alice.expect((s: { attrs: Record<string, string> }) => s.attrs.id === 'still')
    expect(xmpp.stats.reconnects).toBe(0)
  })
})
