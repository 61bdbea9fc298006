// The adapter is hostile input (#13): what it reports becomes no XML name, condition or JID
// without a check; an adapter that throws ends at most that user's session; users get stable
// texts while the details go to the log.
import { BridgeErrorCodes, type NetworkAdapter, NS_CHATSTATES, NS_MUC, NS_VCARD } from '@satellite/bridge'
import { type Element, StanzaError, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { fails } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'
import {
  barrier,
  DOMAIN,
  errorOf,
  gateway,
  noUncaught,
  problems,
  register,
  validResource,
} from './support.js'

const CHAT_STATES = ['active', 'composing', 'paused', 'inactive', 'gone']
const INJECTION =
  'active/></message><message\tto="bob@localhost"\tfrom="it-support@bridge.localhost"\ttype="chat"><body>Your\tpassword\texpired</body></message><message\tfrom="bridge.localhost"\tto="alice@localhost"><x'

const chat = (to: string, body: string, id: string, ...extra: Element[]) =>
  xml('message', { to, type: 'chat', id }, xml('body', {}, body), ...extra)

/** Every element of a stanza tree. */
function* elements(el: Element): Generator<Element> {
  yield el
  for (const c of el.getChildElements()) yield* elements(c)
}

describe('bridge: what the adapter reports is checked', () => {
  it('a chat state is one of the five of XEP-0085: an injected one is dropped and reported, nothing forged goes out, the stream stays up', async () => {
    const net = new FakeNetwork()
    const g = await gateway({ adapter: net.adapter({ typing: { sendTyping: async () => {} } }) }, net)
    const alice = g.srv.client('alice@localhost/phone')
    const bob = g.srv.client('bob@localhost/pc')
    await register(alice)
    const events = (net.live as FakeSession).events
    for (const state of [INJECTION, 'a><b', 'body', 'composingx', '', 42, undefined]) {
      events.typing?.('zed', state as 'active')
    }
    events.typing?.('zed', 'paused')
    await alice.expectStanza((s) => s.getChild('paused', NS_CHATSTATES) !== undefined)
    await barrier(alice)
    expect(bob.received).toEqual([])
    const states = g.written.flatMap((s) => [...elements(s)]).filter((e) => e.attrs.xmlns === NS_CHATSTATES)
    expect(states.map((e) => e.name).every((n) => CHAT_STATES.includes(n))).toBe(true)
    expect(
      g.written.every((s) => s.attrs.to === undefined || String(s.attrs.to).startsWith('alice@localhost')),
    ).toBe(true)
    const reported = g.errors.filter((e) => (e as { code?: string }).code === BridgeErrorCodes.ADAPTER)
    expect(reported.filter((e) => e.message.includes('chat states'))).toHaveLength(7)
    expect(g.conn.isClosed).toBe(false)
    expect(g.conn.streamErrorSent).toBeUndefined()
  })

  it('nicks become valid, unique occupant resources (controls, bidi, NFKC, empty, huge, lone surrogates)', async () => {
    const nicks = [
      'Ann\u0000',
      '\u202Eevil',
      '',
      '  ',
      'x'.repeat(5000),
      'علي bob',
      'ﬁsh',
      '\ud800',
      'Zed',
      'Zed',
      'a\u200Db',
    ]
    const members = nicks.map((nick, i) => ({ id: `m${i}`, nick }))
    const net = new FakeNetwork()
    const g = await gateway(
      {
        adapter: net.adapter({
          groups: {
            listGroups: async () => [{ id: '#general', nick: 'al\u0007ice' }],
            members: async () => members,
            sendGroupText: async () => 'G1',
          },
        }),
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    const room = toJid('#general', DOMAIN)
    alice.send(xml('presence', { to: `${room}/alice` }, xml('x', { xmlns: NS_MUC })))
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: room })
    const occupants = alice.received
      .filter((s) => s.name === 'presence' && String(s.attrs.from).startsWith(`${room}/`))
      .map((s) => String(s.attrs.from).slice(room.length + 1))
    expect(occupants).toHaveLength(nicks.length + 1) // the members and the user
    expect(occupants.filter((r) => !validResource(r))).toEqual([])
    expect(new Set(occupants).size).toBe(occupants.length)
    expect(occupants.at(-1)).toBe('alice') // the group's nick had a control: dropped from it
    // A message from someone who is no member: a valid resource too.
    ;(net.live as FakeSession).events.groupMessage?.({
      group: '#general',
      from: 'x\u0001\u202E',
      id: 'g1',
      text: 'hi',
    })
    const m = await alice.expectStanza({ name: 'message', id: 'g1' })
    expect(validResource(String(m.attrs.from).slice(room.length + 1))).toBe(true)
  })

  it('a JID whose local part unescapes to a lone surrogate is jid-malformed, and the adapter never sees it', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const seen: string[] = []
    // As the reference adapter did: the id percent-encoded for the wire (URIError on a lone surrogate).
    adapter.sendText = async (_s, to) => {
      seen.push(to)
      return encodeURIComponent(to)
    }
    const g = await gateway({ adapter }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    const lone = `\\u{d800}@${DOMAIN}`
    alice.send(chat(lone, 'hi', 'l1'))
    const err = await alice.expectStanza({ name: 'message', type: 'error', id: 'l1' })
    expect(errorOf(err).condition).toBe('jid-malformed')
    expect(errorOf(err).text).not.toMatch(/URI/)
    const card = await fails(alice, xml('iq', { type: 'get', to: lone }, xml('vCard', { xmlns: NS_VCARD })))
    expect(card.condition).toBe('jid-malformed')
    alice.send(xml('presence', { to: lone, type: 'subscribe', id: 's1' }))
    const sub = await alice.expectStanza({ name: 'presence', type: 'error', id: 's1' })
    expect(errorOf(sub).condition).toBe('jid-malformed')
    expect(seen).toEqual([])
  })

  it('stanza errors: a valid condition always; the network answer text is kept, infrastructure details and exception messages go to the log only', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const throwing: Record<string, unknown> = {
      zed: new StanzaError('recipient-unavailable', { text: 'zed is offline' }),
      olga: new StanzaError('service-unavailable', { text: 'read ECONNRESET 10.1.2.3:5299' }),
      yan: new URIError('URI malformed'),
      ann: new StanzaError('a><b' as 'bad-request', { text: 'x' }),
    }
    adapter.sendText = async (_s, to) => {
      throw throwing[to]
    }
    const g = await gateway({ adapter }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    const answer = async (to: string) => {
      alice.send(chat(toJid(to, DOMAIN), 'hi', `m-${to}`))
      return errorOf(await alice.expectStanza({ name: 'message', type: 'error', id: `m-${to}` }))
    }
    expect(await answer('zed')).toEqual({ condition: 'recipient-unavailable', text: 'zed is offline' })
    expect(await answer('olga')).toEqual({
      condition: 'service-unavailable',
      text: 'FakeNet cannot be reached right now',
    })
    expect(await answer('yan')).toEqual({
      condition: 'undefined-condition',
      text: 'FakeNet could not do this',
    })
    expect((await answer('ann')).condition).toBe('undefined-condition')
    const log = g.errors.map((e) => e.message).join('\n')
    expect(log).toMatch(/ECONNRESET 10\.1\.2\.3/)
    expect(log).toMatch(/URIError: URI malformed/)
    expect(alice.received.some((s) => /10\.1\.2\.3|URI malformed/.test(s.toString()))).toBe(false)
  })

  it('a failed login (registration and re-login) tells the user a stable text; the network address is in the log only', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const login = adapter.login
    let down = false
    adapter.login = (credentials, events) => {
      if (!down) return login(credentials, events)
      throw new StanzaError('service-unavailable', {
        text: 'legacy network unreachable: connect ECONNREFUSED 127.0.0.1:32853',
      })
    }
    const g = await gateway({ adapter }, net)
    const alice = g.srv.client('alice@localhost/phone')
    down = true
    const refused = await fails(
      alice,
      xml(
        'iq',
        { type: 'set', to: DOMAIN },
        xml(
          'query',
          { xmlns: 'jabber:iq:register' },
          xml('username', {}, 'alice'),
          xml('password', {}, 'pw'),
        ),
      ),
    )
    expect([refused.condition, refused.text]).toEqual([
      'service-unavailable',
      'FakeNet cannot be reached right now',
    ])
    down = false
    await register(alice)
    down = true
    ;(net.live as FakeSession).events.disconnected('gone')
    await alice.expectStanza({
      name: 'message',
      from: DOMAIN,
      body: /FakeNet cannot be reached right now\. Reconnecting/,
    })
    expect(alice.received.some((s) => s.toString().includes('127.0.0.1'))).toBe(false)
    expect(g.errors.some((e) => e.message.includes('ECONNREFUSED 127.0.0.1:32853'))).toBe(true)
  })
})

/**
 * The fake network's adapter, with every callback throwing (synchronously or as a rejection):
 * `login` for the users in `refuse`, the others for the sessions of the users in `victims`.
 */
function hostile(
  net: FakeNetwork,
  mode: 'sync' | 'async',
  refuse: ReadonlySet<string>,
  victims: ReadonlySet<string>,
): NetworkAdapter<FakeSession> {
  // biome-ignore lint/suspicious/noExplicitAny: wraps functions of every signature
  type Fn = (...args: any[]) => any
  const guard =
    <F extends Fn>(what: string, hit: (first: never) => boolean, fn: F) =>
    (...args: Parameters<F>): ReturnType<F> => {
      if (!hit(args[0] as never)) return fn(...args)
      if (mode === 'sync') throw new Error(`boom in ${what}`)
      return Promise.reject(new Error(`boom in ${what}`)) as ReturnType<F>
    }
  const base = net.adapter()
  const session = (s: FakeSession) => victims.has(s.user)
  return {
    ...base,
    login: guard('login', (c: { username?: unknown }) => refuse.has(String(c.username)), base.login),
    logout: guard('logout', session, base.logout),
    sendText: guard('sendText', session, base.sendText),
    listContacts: guard('listContacts', session, base.listContacts),
    normalizeId: guard(
      'normalizeId',
      () => true,
      (input: string) => input,
    ),
    capabilities: {
      typing: { sendTyping: guard('sendTyping', session, async () => {}) },
      receipts: { sendReceipt: guard('sendReceipt', session, async () => {}) },
      corrections: { correct: guard('correct', session, async () => 'c1') },
      reactions: { react: guard('react', session, async () => {}) },
      avatars: { avatar: guard('avatar', session, async () => null) },
      status: { setStatus: guard('setStatus', session, async () => {}) },
      groups: {
        listGroups: guard('listGroups', session, async () => [{ id: '#general' }]),
        members: guard('members', session, async () => []),
        sendGroupText: guard('sendGroupText', session, async () => 'g1'),
      },
    },
  }
}

describe('bridge: an adapter that hangs', () => {
  it('a call that never answers is given up after limits.adapterTimeout (remote-server-timeout); a session that comes late is logged out', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const login = adapter.login
    let late: (() => void) | undefined
    adapter.login = (credentials, events) =>
      late === undefined
        ? new Promise((resolve) => {
            late = () => resolve(login(credentials, events))
          })
        : login(credentials, events)
    const g = await gateway({ adapter, limits: { adapterTimeout: 50 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    const e = await fails(
      alice,
      xml(
        'iq',
        { type: 'set', to: DOMAIN },
        xml(
          'query',
          { xmlns: 'jabber:iq:register' },
          xml('username', {}, 'alice'),
          xml('password', {}, 'pw'),
        ),
      ),
    )
    expect([e.condition, e.text]).toEqual(['remote-server-timeout', 'FakeNet did not answer in time'])
    expect(g.gw.sizes().sessions).toBe(0)
    late?.()
    await expect
      .poll(() => net.log.includes('logout alice'), {
        message: 'the late session logged out',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // The next registration is not stuck behind the one that hung.
    await register(alice)
    expect(g.gw.state('alice@localhost')).toBe('online')
  })
})

describe('bridge: an adapter that throws', () => {
  it.each(['sync', 'async'] as const)(
    "from every callback (%s) ends at most that user's session: no crash, no unhandled rejection, the stream and other users go on",
    async (mode) => {
      const uncaught = noUncaught()
      const net = new FakeNetwork()
      net.accounts.set('bob', 'pw2').set('carol', 'pw3')
      const g = await gateway({ adapter: hostile(net, mode, new Set(['carol']), new Set(['alice'])) }, net)
      // carol's login throws: a stable answer, nothing kept.
      const carol = g.srv.client('carol@localhost/r')
      const c = await fails(
        carol,
        xml(
          'iq',
          { type: 'set', to: DOMAIN },
          xml(
            'query',
            { xmlns: 'jabber:iq:register' },
            xml('username', {}, 'carol'),
            xml('password', {}, 'pw3'),
          ),
        ),
      )
      expect([c.condition, c.text]).toEqual(['service-unavailable', 'FakeNet cannot be reached right now'])
      expect(g.store.users()).toEqual([])
      expect(g.gw.sizes().sessions).toBe(0)
      // alice logs in, then every call of her session throws.
      const alice = g.srv.client('alice@localhost/phone')
      await register(alice)
      expect(g.gw.state('alice@localhost')).toBe('online')
      g.store.putContact('alice@localhost', { legacyId: 'zed', subscribed: true })
      g.store.putMessage('alice@localhost', { contact: 'zed', xmppId: 'x0', legacyId: 'L0' })
      const zed = toJid('zed', DOMAIN)
      const asks: Element[] = [
        chat(zed, 'hi', 'a1'),
        chat(zed, 'fix', 'a2', xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id: 'x0' })),
        xml('message', { to: zed, type: 'chat', id: 'a3' }, xml('composing', { xmlns: NS_CHATSTATES })),
        xml('message', { to: zed, id: 'a4' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'x0' })),
        xml(
          'message',
          { to: zed, type: 'chat', id: 'a5' },
          xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id: 'x0' }, xml('reaction', {}, '👍')),
        ),
      ]
      for (const ask of asks) {
        alice.send(ask)
        const e = errorOf(await alice.expectStanza({ name: 'message', type: 'error', id: ask.attrs.id }))
        expect(e.condition).toBe('undefined-condition')
        expect(e.text).not.toMatch(/boom/)
      }
      alice.send(xml('presence', { to: DOMAIN }, xml('status', {}, 'here'))) // setStatus throws
      const card = await alice.request(xml('iq', { type: 'get', to: zed }, xml('vCard', { xmlns: NS_VCARD })))
      expect(card.getChild('vCard')?.getChild('PHOTO')).toBeUndefined() // avatar threw
      const gw = await fails(
        alice,
        xml(
          'iq',
          { type: 'set', to: DOMAIN },
          xml('query', { xmlns: 'jabber:iq:gateway' }, xml('prompt', {}, 'zed')),
        ),
      )
      expect(gw.text).not.toMatch(/boom/)
      alice.send(
        xml('presence', { to: `${toJid('#general', DOMAIN)}/alice`, id: 'j1' }, xml('x', { xmlns: NS_MUC })),
      )
      expect(errorOf(await alice.expectStanza({ name: 'presence', type: 'error', id: 'j1' })).condition).toBe(
        'service-unavailable',
      )
      alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' })) // logout throws
      await expect
        .poll(() => g.gw.state('alice@localhost') === 'offline', {
          message: 'alice logged out',
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      // bob is not touched.
      const bob = g.srv.client('bob@localhost/pc')
      await register(bob, 'bob', 'pw2')
      bob.send(chat(zed, 'still here', 'b1'))
      await expect
        .poll(() => net.log.includes('send bob→zed L1: still here'), {
          message: "bob's message",
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      expect(uncaught()).toEqual([])
      expect(g.conn.isClosed).toBe(false)
      expect(g.errors.filter((e) => /boom in/.test(e.message)).length).toBeGreaterThanOrEqual(10)
    },
  )

  it('garbage of every type in every event is dropped and reported: what reaches the user is well-formed; events after the logout are ignored', async () => {
    const uncaught = noUncaught()
    const net = new FakeNetwork()
    const g = await gateway(
      {
        adapter: net.adapter({
          typing: { sendTyping: async () => {} },
          receipts: { sendReceipt: async () => {} },
          reactions: { react: async () => {} },
          avatars: { avatar: async () => null },
        }),
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    alice.send(xml('presence', { to: DOMAIN }))
    const events = (net.live as FakeSession).events as unknown as Record<string, (...args: unknown[]) => void>
    const garbage = [
      undefined,
      null,
      42,
      true,
      '',
      'composing',
      'zed',
      { x: 1 },
      { from: 'zed', id: 'huge', text: 'x'.repeat(200_000) },
      [],
      Symbol('s'),
      'x'.repeat(200_000),
      '\ud800',
      () => 1,
    ]
    for (const name of Object.keys(events)) {
      if (name === 'disconnected') continue
      for (const a of garbage) for (const b of garbage) events[name]?.(a, b, 'y'.repeat(200_000))
    }
    events.message?.({ from: 'zed', id: 'ok1', text: 'still works' })
    await alice.expectStanza({ name: 'message', id: 'ok1' })
    await barrier(alice)
    expect(g.written.flatMap((s) => problems(s, 'alice@localhost'))).toEqual([])
    // Strings are bounded (limits.textLength, limits.fieldLength): the 200,000-character ones were dropped or cut.
    expect(g.written.filter((s) => s.toString().length > 70_000)).toEqual([])
    expect(
      g.errors.filter((e) => (e as { code?: string }).code === BridgeErrorCodes.ADAPTER).length,
    ).toBeGreaterThan(0)
    // After the logout: nothing at all.
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    await expect
      .poll(() => g.gw.state('alice@localhost') === 'offline', {
        message: 'the logout',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await barrier(alice)
    const before = g.written.length
    events.message?.({ from: 'zed', id: 'late', text: 'after the logout' })
    events.presence?.('zed', true)
    events.typing?.('zed', 'composing')
    events.contacts?.([{ id: 'new' }])
    events.disconnected?.('late')
    await barrier(alice)
    expect(g.written.slice(before).filter((s) => s.name !== 'iq')).toEqual([])
    expect(uncaught()).toEqual([])
    expect(g.conn.isClosed).toBe(false)
  })
})
