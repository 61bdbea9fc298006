import { createServer, StanzaErrorResponse, type TestServer, xml } from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { rawComponent } from './helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const components = { 'echo.localhost': 'secret', 'other.localhost': 'secret2' }

describe('routing', () => {
  it('routes client -> component and component -> client (full and bare JIDs)', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/phone')
    const alice2 = server.client('alice@localhost/laptop')
    expect(server.client('alice@localhost/phone')).toBe(alice)

    alice.send(xml('message', { to: 'user@echo.localhost', type: 'chat', id: 'm1' }, xml('body', {}, 'hi')))
    await c.waitFor(
      '<message to="user@echo.localhost" type="chat" id="m1" from="alice@localhost/phone"><body>hi</body></message>',
    )

    c.write(
      "<message from='user@echo.localhost' to='alice@localhost/phone' id='r1'><body>full</body></message>",
    )
    const full = await alice.expectStanza({ name: 'message', id: 'r1', from: 'user@echo.localhost' })
    expect(full.getChildText('body')).toBe('full')

    c.write("<message from='echo.localhost' to='alice@localhost' id='r2'><body>bare</body></message>")
    await alice.expectStanza({ id: 'r2' })
    await alice2.expectStanza({ id: 'r2' })
    expect(alice2.received.map((s) => s.attrs.id)).toEqual(['r2'])
    c.destroy()
  })

  it('bounces iq get/set to a nonexistent client and records other stanzas as undelivered', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const conn = await server.waitForComponent('echo.localhost')
    c.write(
      "<iq type='get' id='q1' from='echo.localhost' to='ghost@localhost/x'><query xmlns='jabber:iq:version'/></iq>",
    )
    await c.waitFor(/<service-unavailable/)
    expect(c.text).toMatch(/<iq type="error" from="ghost@localhost\/x" to="echo.localhost" id="q1">/)
    c.write("<message from='echo.localhost' to='ghost@localhost' id='lost'><body>x</body></message>")
    await expect.poll(() => server!.undelivered.length).toBe(1)
    expect(server.undelivered[0]!.stanza.attrs.id).toBe('lost')
    expect(server.undelivered[0]!.source).toBe('component echo.localhost')
    expect(conn.received.map((s) => s.attrs.id)).toEqual(['q1', 'lost'])
    c.destroy()
  })

  it('answers ping and disco#info for the server domain itself, service-unavailable otherwise', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    c.write("<iq type='get' id='p1' from='echo.localhost' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    await c.waitFor(/<iq type="result" id="p1" from="localhost" to="echo.localhost"\/>/)
    c.write(
      "<iq type='get' id='d1' from='echo.localhost' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>",
    )
    await c.waitFor(/<identity category="server" type="im"/)
    c.write(
      "<iq type='get' id='v1' from='echo.localhost' to='localhost'><query xmlns='jabber:iq:version'/></iq>",
    )
    await c.waitFor(/id="v1"><error type="cancel"><service-unavailable/)

    const alice = server.client('alice@localhost')
    const pong = await alice.request(
      xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(pong.attrs.type).toBe('result')
    expect(pong.attrs.to).toBe(alice.jid)
    c.destroy()
  })

  it('request() resolves with the component result and rejects with the error element', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    const pending = alice.request(
      "<iq type='get' id='q1' to='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
    )
    await c.waitFor(/<iq type="get" id="q1" to="echo.localhost" from="alice@localhost\/a">/)
    // a reply from the wrong JID is not taken as the answer
    c.write("<iq type='result' id='q1' from='evil@echo.localhost' to='alice@localhost/a'/>")
    c.write("<iq type='result' id='q1' from='echo.localhost' to='alice@localhost/a'/>")
    const result = await pending
    expect(result.attrs.from).toBe('echo.localhost')

    const failing = alice
      .request("<iq type='get' id='q2' to='echo.localhost'><query xmlns='jabber:iq:version'/></iq>")
      .catch((e: unknown) => e)
    await c.waitFor(/id="q2"/)
    c.write(
      "<iq type='error' id='q2' from='echo.localhost' to='alice@localhost/a'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/><text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'>nope</text></error></iq>",
    )
    const failure = await failing
    expect(failure).toBeInstanceOf(StanzaErrorResponse)
    expect((failure as StanzaErrorResponse).condition).toBe('item-not-found')
    expect((failure as StanzaErrorResponse).text).toBe('nope')
    expect((failure as StanzaErrorResponse).error?.attrs.type).toBe('cancel')
    c.destroy()
  })

  it('delivers component -> another component domain', async () => {
    server = await createServer({ components })
    const a = await rawComponent(server.port, 'echo.localhost', 'secret')
    const b = await rawComponent(server.port, 'other.localhost', 'secret2')
    a.write("<message from='bot@echo.localhost' to='other.localhost' id='x1'><body>hey</body></message>")
    await b.waitFor(/<message from="bot@echo.localhost" to="other.localhost" id="x1">/)
    a.destroy()
    b.destroy()
  })

  it('bounces client stanzas to an offline component like Prosody, but not errors/results', async () => {
    server = await createServer({ components })
    const alice = server.client('alice@localhost/a')
    alice.send("<message to='echo.localhost' id='off1'><body>anyone?</body></message>")
    const bounce = await alice.expectStanza({ name: 'message', type: 'error', id: 'off1' })
    const error = bounce.getChild('error')!
    expect(bounce.attrs.from).toBe('echo.localhost')
    expect(error.attrs.type).toBe('wait')
    expect(error.getChild('remote-server-timeout', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBeDefined()
    expect(error.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBe('Component unavailable')
    expect(error.getChild('not-connected', 'xmpp:prosody.im/protocol/component')).toBeDefined()
    alice.send("<iq to='echo.localhost' type='result' id='res1'/>")
    alice.send("<message to='echo.localhost' type='error' id='err1'/>")
    await expect(alice.expectStanza({ id: /res1|err1/ }, 100)).rejects.toThrow(/Received 1 stanza/)
  })

  it('bounces to an offline component like ejabberd with s2s_access: none', async () => {
    server = await createServer({ flavour: 'ejabberd', components })
    const alice = server.client('alice@localhost/a')
    const err = (await alice
      .request("<iq type='get' to='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
      .catch((e: unknown) => e)) as StanzaErrorResponse
    expect(err).toBeInstanceOf(StanzaErrorResponse)
    expect(err.condition).toBe('forbidden')
    expect(err.errorType).toBe('auth')
    expect(err.text).toBe('Access denied by service policy')
  })
})

describe('addressing rules', () => {
  it('prosody: missing to gives bad-request and the stream stays; missing from is stamped', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    c.write("<iq type='get' id='nt' from='echo.localhost'><ping xmlns='urn:xmpp:ping'/></iq>")
    await c.waitFor(/id="nt"><error type="modify"><bad-request/)
    c.write("<message to='alice@localhost/a' id='nf'><body>no from</body></message>")
    const m = await alice.expectStanza({ id: 'nf' })
    expect(m.attrs.from).toBe('echo.localhost')
    expect(c.socket.destroyed).toBe(false)
    c.destroy()
  })

  it('ejabberd: missing to or from is an improper-addressing stream error', async () => {
    server = await createServer({ flavour: 'ejabberd', components })
    const c1 = await rawComponent(server.port, 'echo.localhost', 'secret')
    c1.write("<message from='echo.localhost' id='nt'/>")
    await c1.closed
    expect(c1.text).toContain("<improper-addressing xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
    expect(c1.text).toContain("Missing 'to' attribute")
    const c2 = await rawComponent(server.port, 'echo.localhost', 'secret')
    c2.write("<message to='alice@localhost' id='nf'/>")
    await c2.closed
    expect(c2.text).toContain("Missing 'from' attribute")
  })

  it('a foreign from closes the stream with invalid-from; validateFrom: false lets it through', async () => {
    server = await createServer({ components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const conn = await server.waitForComponent('echo.localhost')
    c.write("<message from='mallory@evil.example' to='alice@localhost'/>")
    await conn.closed
    expect(conn.streamErrorSent?.condition).toBe('invalid-from')
    expect(c.text).toContain('Component tried to send from address &lt;mallory@evil.example&gt;')
    await server.close()

    server = await createServer({ components, validateFrom: false })
    const c2 = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    c2.write("<message from='mallory@evil.example' to='alice@localhost/a' id='ok'/>")
    expect((await alice.expectStanza({ id: 'ok' })).attrs.from).toBe('mallory@evil.example')
    c2.destroy()
  })

  it('ejabberd accepts a from in another domain of the same listener', async () => {
    server = await createServer({ flavour: 'ejabberd', components })
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    c.write("<message from='x@other.localhost' to='alice@localhost/a' id='cross'/>")
    await alice.expectStanza({ id: 'cross', from: 'x@other.localhost' })
    c.write("<message from='x@evil.example' to='alice@localhost/a'/>")
    await c.closed
    expect(c.text).toContain('<invalid-from')
  })
})
