import { type Element, StanzaError, xml } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, server } from './helpers.js'

describe('component: happy path and routing', () => {
  it('connects, handshakes (UTF-8 secret) and echoes through the server', async () => {
    const srv = await server()
    const xmpp = make(srv)
    xmpp.message({ type: 'chat' }, (msg) =>
      xmpp.send(
        xml(
          'message',
          { from: msg.attrs.to, to: msg.attrs.from, type: 'chat', id: msg.attrs.id },
          xml('body', {}, msg.getChildText('body') ?? ''),
        ),
      ),
    )
    const address = await xmpp.start()
    expect(address.toString()).toBe(DOMAIN)
    expect(xmpp.status).toBe('online')
    const alice = srv.client('alice@localhost/phone')
    alice.send(xml('message', { to: `bot@${DOMAIN}`, type: 'chat', id: 'm1' }, xml('body', {}, 'héllo 😀')))
    const reply = await alice.expectStanza({ name: 'message', id: 'm1' })
    expect(reply.attrs.from).toBe(`bot@${DOMAIN}`)
    expect(reply.getChildText('body')).toBe('héllo 😀')
    expect(xmpp.stats.stanzasIn).toBe(1)
    expect(xmpp.stats.stanzasOut).toBe(1)
  })

  it('routes by type, local part of to and payload; first match wins', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const seen: string[] = []
    xmpp.message({ to: 'bot', payload: { xmlns: 'urn:x' } }, () => void seen.push('bot+x'))
    xmpp.message({ to: 'bot' }, () => void seen.push('bot'))
    xmpp.message({ to: '' }, () => void seen.push('domain'))
    xmpp.message({ to: '*', type: 'groupchat' }, () => void seen.push('any-groupchat'))
    xmpp.message({ to: '*' }, (m) => void seen.push(`any:${m.toLocal}`))
    xmpp.presence({ type: 'available' }, () => void seen.push('presence'))
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    alice.send(xml('message', { to: `BOT@${DOMAIN}` }, xml('x', { xmlns: 'urn:x' })))
    alice.send(xml('message', { to: `bot@${DOMAIN}/res` }, xml('body', {}, '1')))
    alice.send(xml('message', { to: DOMAIN }, xml('body', {}, '2')))
    alice.send(xml('message', { to: `room@${DOMAIN}`, type: 'groupchat' }, xml('body', {}, '3')))
    alice.send(xml('message', { to: `carol@${DOMAIN}` }, xml('body', {}, '4')))
    alice.send(xml('presence', { to: `carol@${DOMAIN}` }))
    await new Promise((r) => setTimeout(r, 100))
    expect(seen).toEqual(['bot+x', 'bot', 'domain', 'any-groupchat', 'any:carol', 'presence'])
  })

  it('removes a route with the returned function', async () => {
    const srv = await server()
    const xmpp = make(srv)
    let n = 0
    const off = xmpp.message(() => void n++)
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    alice.send(xml('message', { to: DOMAIN }, xml('body', {}, '1')))
    await new Promise((r) => setTimeout(r, 50))
    off()
    alice.send(xml('message', { to: DOMAIN }, xml('body', {}, '2')))
    await new Promise((r) => setTimeout(r, 50))
    expect(n).toBe(1)
  })

  it('emits every stanza on the stanza event, with lazy JIDs', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    const got = new Promise<string>((resolve) =>
      xmpp.once('stanza', (s) => resolve(`${s.fromJid?.bare().toString()}|${s.toJid?.local}`)),
    )
    srv.client('alice@localhost/a').send(xml('message', { to: `bob@${DOMAIN}` }))
    expect(await got).toBe('alice@localhost|bob')
  })
})

describe('component: iq callee answers exactly once', () => {
  async function setup() {
    const srv = await server()
    const xmpp = make(srv, {
      name: 'Test service',
      responders: { version: { name: 'TestBot', version: '9.9' } },
    })
    const alice = srv.client('alice@localhost/a')
    return { srv, xmpp, alice }
  }

  it('answers disco#info with identity and features of registered routes', async () => {
    const { xmpp, alice } = await setup()
    xmpp.iqGet({ xmlns: 'jabber:iq:search', name: 'query' }, () =>
      xml('query', { xmlns: 'jabber:iq:search' }),
    )
    xmpp.iqSet({ xmlns: 'urn:bot', to: '*' }, () => undefined)
    xmpp.disco.feature('urn:extra')
    await xmpp.start()
    const res = await alice.request(
      xml(
        'iq',
        { type: 'get', to: DOMAIN, id: 'd1' },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    )
    const q = res.getChild('query') as Element
    expect(q.getChild('identity')?.attrs).toMatchObject({
      category: 'component',
      type: 'generic',
      name: 'Test service',
    })
    const features = q.getChildren('feature').map((f) => f.attrs.var)
    expect(features).toEqual(
      expect.arrayContaining([
        'http://jabber.org/protocol/disco#info',
        'http://jabber.org/protocol/disco#items',
        'urn:xmpp:ping',
        'jabber:iq:version',
        'urn:xmpp:time',
        'jabber:iq:search',
        'urn:extra',
      ]),
    )
    expect(features).not.toContain('urn:bot') // only for users
    expect([...features].sort()).toEqual(features)
    // a user JID has no identity registered: item-not-found
    const err = await alice
      .request(
        xml(
          'iq',
          { type: 'get', to: `u@${DOMAIN}` },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
        ),
      )
      .catch((e: unknown) => e)
    expect(String((err as Error).message ?? err)).toMatch(/item-not-found/)
    xmpp.disco.identity({ category: 'client', type: 'bot' }, { to: '*' })
    const user = await alice.request(
      xml(
        'iq',
        { type: 'get', to: `u@${DOMAIN}` },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    )
    const uf = (user.getChild('query') as Element).getChildren('feature').map((f) => f.attrs.var)
    expect(uf).toContain('urn:bot')
    expect(uf).not.toContain('jabber:iq:version')
  })

  it('answers ping, version and time', async () => {
    const { xmpp, alice } = await setup()
    await xmpp.start()
    const ping = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(ping.attrs.type).toBe('result')
    const ver = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: 'jabber:iq:version' })),
    )
    expect(ver.getChild('query')?.getChildText('name')).toBe('TestBot')
    expect(ver.getChild('query')?.getChildText('version')).toBe('9.9')
    const time = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('time', { xmlns: 'urn:xmpp:time' })),
    )
    expect(time.getChild('time')?.getChildText('utc')).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(time.getChild('time')?.getChildText('tzo')).toMatch(/^[+-]\d\d:\d\d$/)
  })

  it('turns responders off on request', async () => {
    const srv = await server()
    const xmpp = make(srv, { responders: { ping: false, disco: false, version: false, time: false } })
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    for (const payload of [
      xml('ping', { xmlns: 'urn:xmpp:ping' }),
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      xml('query', { xmlns: 'jabber:iq:version' }),
    ]) {
      const err = await alice
        .request(xml('iq', { type: 'get', to: DOMAIN }, payload))
        .catch((e: unknown) => e)
      expect(String(err)).toMatch(/service-unavailable/)
    }
  })

  it('answers service-unavailable, bad-request, internal-server-error and thrown StanzaErrors', async () => {
    const { xmpp, alice } = await setup()
    xmpp.iqGet({ xmlns: 'urn:throws' }, () => {
      throw new Error('boom')
    })
    xmpp.iqGet({ xmlns: 'urn:async-throws' }, async () => {
      throw new StanzaError('not-allowed', { text: 'no' })
    })
    xmpp.iqSet({ xmlns: 'urn:async' }, async (_iq, q) => xml('done', { xmlns: 'urn:async', n: q.attrs.n }))
    const errors: Error[] = []
    xmpp.on('error', (e) => errors.push(e))
    await xmpp.start()
    const ask = (payloads: Element[], type = 'get') =>
      new Promise<Element>((resolve) => {
        const iq = xml('iq', { type, to: DOMAIN, id: `q${Math.random()}` }, ...payloads)
        alice.send(iq)
        alice.expectStanza({ name: 'iq', id: iq.attrs.id }).then(resolve)
      })
    const cond = (el: Element) => (el.getChild('error')?.children[0] as Element | undefined)?.name
    expect(cond(await ask([xml('query', { xmlns: 'jabber:iq:roster' })]))).toBe('service-unavailable')
    expect(cond(await ask([]))).toBe('bad-request')
    expect(cond(await ask([xml('a', { xmlns: 'urn:a' }), xml('b', { xmlns: 'urn:b' })]))).toBe('bad-request')
    expect(cond(await ask([xml('x', { xmlns: 'urn:throws' })]))).toBe('internal-server-error')
    const na = await ask([xml('x', { xmlns: 'urn:async-throws' })])
    expect(cond(na)).toBe('not-allowed')
    expect(na.getChild('error')?.attrs.type).toBe('cancel')
    expect(na.getChild('error')?.getChildText('text')).toBe('no')
    const ok = await ask([xml('go', { xmlns: 'urn:async', n: '7' })], 'set')
    expect(ok.attrs.type).toBe('result')
    expect(ok.getChild('done')?.attrs.n).toBe('7')
    expect(errors.map((e) => e.message)).toEqual(['boom'])
    // exactly one reply per request
    await new Promise((r) => setTimeout(r, 50))
    const replies = alice.received.filter((s) => s.name === 'iq')
    expect(new Set(replies.map((r) => r.attrs.id)).size).toBe(replies.length)
  })

  it('never answers a result or error iq', async () => {
    const { xmpp, alice } = await setup()
    await xmpp.start()
    alice.send(xml('iq', { type: 'result', to: DOMAIN, id: 'r1' }))
    alice.send(xml('iq', { type: 'error', to: DOMAIN, id: 'r2' }))
    await new Promise((r) => setTimeout(r, 100))
    expect(alice.received).toHaveLength(0)
  })

  it('adds an XEP-0115 caps element to the presence it sends, matching disco#info', async () => {
    const { xmpp, alice } = await setup()
    await xmpp.start()
    await xmpp.send(xml('presence', { to: 'alice@localhost', from: DOMAIN }))
    const p = await alice.expectStanza({ name: 'presence' })
    const c = p.getChild('c', 'http://jabber.org/protocol/caps') as Element
    expect(c.attrs.hash).toBe('sha-1')
    const res = await alice.request(
      xml(
        'iq',
        { type: 'get', to: DOMAIN },
        xml('query', {
          xmlns: 'http://jabber.org/protocol/disco#info',
          node: `${c.attrs.node}#${c.attrs.ver}`,
        }),
      ),
    )
    expect(res.getChild('query')?.getChildren('feature').length).toBeGreaterThan(3)
  })
})
