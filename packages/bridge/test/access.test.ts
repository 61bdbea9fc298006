// Who may register and how often (#13 items 3, 7, 8): the allow-list of user domains, the
// per-user and global limits on legacy logins, no state for a failed registration,
// registrations of one user one at a time, and a corrupted credentials row that never locks
// the user out.
import { BridgeErrorCodes, bridge } from '@satellite/bridge'
import { type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { fails } from '@satellite/test-support/component'
import type { StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { FakeNetwork } from './fake.js'
import { barrier, DOMAIN, errorOf, type Gateway, gateway, optionErrorOf, register } from './support.js'

const NS_REGISTER = 'jabber:iq:register'
const logins = (net: FakeNetwork) => net.log.filter((l) => l.startsWith('login ')).length
const registerAs = (username: string, password: string) =>
  xml(
    'iq',
    { type: 'set', to: DOMAIN },
    xml('query', { xmlns: NS_REGISTER }, xml('username', {}, username), xml('password', {}, password)),
  )
const codeOf = (e: Error) => (e as { code?: string }).code

/** A registration from a user of another server: the server's connection hands it to the component. */
const fromAfar = (g: Gateway, from: string, iq: Element) =>
  g.conn.request(xml(iq.name, { ...iq.attrs, from }, ...iq.getChildElements()))
const failsAfar = (g: Gateway, from: string, iq: Element) =>
  fromAfar(g, from, iq).then(
    () => {
      throw new Error('expected an error')
    },
    (e: StanzaErrorResponse) => e,
  )

describe('bridge: allowed domains', () => {
  it('by default only users of the parent domain register: others get not-allowed, with no legacy login', async () => {
    const g = await gateway()
    const err = await failsAfar(g, 'mallory@elsewhere.example/r', registerAs('alice', 'pw'))
    expect([err.condition, err.text]).toEqual([
      'not-allowed',
      'this gateway does not serve users of elsewhere.example',
    ])
    const get = await failsAfar(
      g,
      'mallory@elsewhere.example/r',
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER })),
    )
    expect(get.condition).toBe('not-allowed')
    expect(logins(g.net)).toBe(0)
    // A user of the server's own domain registers as before.
    await register(g.srv.client('alice@localhost/phone'))
    expect(g.store.users()).toEqual(['alice@localhost'])
  })

  it("a user's domain is after the first @ (as parseJid reads it): mallory@evil@localhost is of evil@localhost, not localhost", async () => {
    const g = await gateway()
    // The domain was read after the last @ before: this address counted as a user of localhost.
    const err = await failsAfar(g, 'mallory@evil@localhost/r', registerAs('alice', 'pw'))
    expect([err.condition, err.text]).toEqual([
      'not-allowed',
      'this gateway does not serve users of evil@localhost',
    ])
    expect(logins(g.net)).toBe(0)
    // The user's key is the sender's bare JID, lower-cased.
    await fromAfar(g, 'Alice@LocalHost/Phone', registerAs('alice', 'pw'))
    expect(g.store.users()).toEqual(['alice@localhost'])
  })

  it('allowedDomains: the listed domains (or * for anybody); a user registered before can still unregister', async () => {
    const g = await gateway({ allowedDomains: ['elsewhere.example'] })
    expect((await fails(g.srv.client('alice@localhost/phone'), registerAs('alice', 'pw'))).condition).toBe(
      'not-allowed',
    )
    await fromAfar(g, 'alice@elsewhere.example/r', registerAs('alice', 'pw'))
    expect(g.store.users()).toEqual(['alice@elsewhere.example'])
    g.store.putRegistration('old@localhost', { username: 'alice', password: 'pw' })
    const old = g.srv.client('old@localhost/r')
    await old.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
    )
    expect(g.store.users()).toEqual(['alice@elsewhere.example'])
    // Not logged in on presence either.
    g.store.putRegistration('old@localhost', { username: 'alice', password: 'pw' })
    old.send(xml('presence', { to: DOMAIN }))
    await barrier(old)
    expect(g.gw.state('old@localhost')).toBe('offline')
    const any = await gateway({ allowedDomains: ['*'] })
    await fromAfar(any, 'bob@far.example/r', registerAs('alice', 'pw'))
    expect(any.store.users()).toEqual(['bob@far.example'])
  })
})

describe('bridge: login limits', () => {
  it('per user: after two refused logins the next ones wait, answered policy-violation with a retry hint; the network sees 3 attempts', async () => {
    const g = await gateway()
    const alice = g.srv.client('alice@localhost/phone')
    const answers: string[] = []
    for (let i = 0; i < 10; i++) {
      const e = await fails(alice, registerAs('alice', `wrong${i}`))
      answers.push(`${e.condition}/${e.errorType}`)
      if (e.condition === 'policy-violation') expect(e.text).toMatch(/try again in \d+ s/)
    }
    expect(answers).toEqual([
      ...Array(3).fill('not-authorized/auth'),
      ...Array(7).fill('policy-violation/wait'),
    ])
    expect(logins(g.net)).toBe(3)
    expect(g.store.users()).toEqual([])
  })

  it('per user, logins on presence too: one that has to wait is made later, not refused', async () => {
    const g = await gateway({ loginLimits: { perUser: { burst: 2, perMinute: 120 } } })
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice) // 1
    const toggle = async () => {
      alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
      alice.send(xml('presence', { to: DOMAIN }))
    }
    alice.send(xml('presence', { to: DOMAIN }))
    await toggle() // 2: the last token
    await expect
      .poll(() => logins(g.net) === 2 && g.gw.state('alice@localhost') === 'online', {
        message: 'the second login',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await toggle() // 3: waits for a token
    await expect
      .poll(() => g.gw.state('alice@localhost') === 'retrying', {
        message: 'the deferred login',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(logins(g.net)).toBe(2)
    await expect
      .poll(() => g.gw.state('alice@localhost') === 'online', {
        message: 'the login once a token is back',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(logins(g.net)).toBe(3)
    expect(
      g.errors.some((e) => codeOf(e) === BridgeErrorCodes.LIMIT && /loginLimits: user/.test(e.message)),
    ).toBe(true)
  })

  it('Infinity lifts a bound (adapterTimeout, the buckets); anything not > 0 is refused at bridge()', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const login = adapter.login
    // A login that takes a moment (setTimeout would take Infinity for 1 ms).
    adapter.login = (c, e) => new Promise((r) => setTimeout(r, 20)).then(() => login(c, e))
    const g = await gateway(
      {
        adapter,
        limits: { adapterTimeout: Number.POSITIVE_INFINITY },
        loginLimits: {
          perUser: { burst: Number.POSITIVE_INFINITY, perMinute: Number.POSITIVE_INFINITY },
          backoff: { after: 100 },
          account: { after: 100 },
        },
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    for (let i = 0; i < 10; i++)
      expect((await fails(alice, registerAs('alice', 'x'))).condition).toBe('not-authorized')
    await register(alice)
    expect(g.gw.state('alice@localhost')).toBe('online')
    for (const [limits, message] of [
      [{ sessions: 0 }, 'bridge.limits.sessions: must be an integer > 0 (or Infinity), got 0'],
      [{ textLength: -1 }, 'bridge.limits.textLength: must be an integer > 0 (or Infinity), got -1'],
      [{ contacts: 1.5 }, 'bridge.limits.contacts: must be an integer > 0 (or Infinity), got 1.5'],
      [
        { adapterTimeout: Number.NaN },
        'bridge.limits.adapterTimeout: must be an integer > 0 (or Infinity), got NaN',
      ],
    ] as const) {
      expect(optionErrorOf(() => bridge(g.xmpp, { adapter: g.net.adapter(), store: g.store, limits }))).toBe(
        message,
      )
    }
    expect(
      optionErrorOf(() =>
        bridge(g.xmpp, { adapter: g.net.adapter(), store: g.store, loginLimits: { backoff: { after: -1 } } }),
      ),
    ).toBe('bridge.loginLimits.backoff.after: must be an integer >= 0, got -1')
    expect(
      optionErrorOf(() =>
        bridge(g.xmpp, {
          adapter: g.net.adapter(),
          store: g.store,
          loginLimits: { perUser: { perMinute: 0 } },
        }),
      ),
    ).toBe('bridge.loginLimits.perUser.perMinute: must be a number > 0 (or Infinity), got 0')
  })

  it('global: beyond the bucket, registrations get resource-constraint (wait) with a retry hint', async () => {
    const net = new FakeNetwork()
    net.accounts.set('bob', 'pw').set('carol', 'pw')
    const g = await gateway({ loginLimits: { global: { burst: 2, perSecond: 0.01, reserved: 0 } } }, net)
    await g.srv.client('alice@localhost/r').request(registerAs('alice', 'pw'))
    await g.srv.client('bob@localhost/r').request(registerAs('bob', 'pw'))
    const e = await fails(g.srv.client('carol@localhost/r'), registerAs('carol', 'pw'))
    expect([e.condition, e.errorType]).toEqual(['resource-constraint', 'wait'])
    expect(e.text).toMatch(/busy.*try again in \d+ s/)
    expect(logins(net)).toBe(2)
  })

  it('a failed registration keeps no state: 300 JIDs with wrong credentials leave no session, and the attempts remembered are bounded', async () => {
    const g = await gateway({
      limits: { loginWaiters: 1000 },
      loginLimits: { global: { burst: 1000, perSecond: 1000 }, tracked: 50 },
    })
    const answers = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        fails(g.srv.client(`u${i}@localhost/r`), registerAs(`u${i}`, 'x')),
      ),
    )
    expect(new Set(answers.map((a) => a.condition))).toEqual(new Set(['not-authorized']))
    expect(logins(g.net)).toBe(300)
    expect(g.gw.sizes().sessions).toBe(0)
    expect(g.gw.sizes().logins).toBeLessThanOrEqual(50)
    expect(g.store.users()).toEqual([])
  })
})

describe('bridge: guessing one legacy account from many JIDs', () => {
  it('refusals count per legacy account (case-folded), whichever JIDs try: the network sees 4 attempts (account.after 3); the owner still logs in', async () => {
    const g = await gateway()
    const owner = g.srv.client('alice@localhost/phone')
    await register(owner)
    await g.gw.logout('alice@localhost')
    const answers: string[] = []
    for (let i = 0; i < 10; i++) {
      const e = await fails(
        g.srv.client(`m${i}@localhost/r`),
        registerAs(i % 2 ? 'ALICE' : 'alice', `guess${i}`),
      )
      answers.push(String(e.condition))
      if (e.condition === 'policy-violation')
        expect(e.text).toMatch(/refused logins to this FakeNet account; try again in \d+ s/)
    }
    expect(answers).toEqual([...Array(4).fill('not-authorized'), ...Array(6).fill('policy-violation')])
    expect(logins(g.net)).toBe(1 + 4)
    expect(g.gw.sizes().accounts).toBe(1)
    // The owner's re-login with the stored credentials is not held back by the guesses.
    owner.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => g.gw.state('alice@localhost') === 'online', {
        message: 'the owner online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().accounts).toBe(0)
  })

  it('global.reserved: registrations leave part of the global bucket to re-logins with stored credentials', async () => {
    const net = new FakeNetwork()
    for (const u of ['bob', 'carol', 'dave', 'erin']) net.accounts.set(u, 'pw')
    const g = await gateway({ loginLimits: { global: { burst: 4, perSecond: 0.001, reserved: 2 } } }, net)
    g.store.putRegistration('dave@localhost', { username: 'dave', password: 'pw' })
    g.store.putRegistration('erin@localhost', { username: 'erin', password: 'pw' })
    await register(g.srv.client('alice@localhost/r'))
    await register(g.srv.client('bob@localhost/r'), 'bob')
    const e = await fails(g.srv.client('carol@localhost/r'), registerAs('carol', 'pw'))
    expect([e.condition, e.errorType]).toEqual(['resource-constraint', 'wait'])
    // Two registered users come online: the reserve logs them in at once.
    for (const u of ['dave', 'erin']) g.srv.client(`${u}@localhost/r`).send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => g.gw.state('dave@localhost') === 'online' && g.gw.state('erin@localhost') === 'online', {
        message: 'the re-logins',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(logins(net)).toBe(4)
    expect(() =>
      bridge(g.xmpp, {
        adapter: net.adapter(),
        store: g.store,
        loginLimits: { global: { burst: 4, reserved: 4 } },
      }),
    ).toThrow('bridge.loginLimits.global.reserved: must be below global.burst (4), got 4')
  })
})

describe('bridge: a legacy network whose logins never answer', () => {
  it('stalls nobody: registrations, presences and messages of many users waiting on logins are bounded (limits.loginWaiters) and another user is answered', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    adapter.login = () => new Promise(() => {}) // never answers (the adapter timeout is 30 s)
    const g = await gateway({ adapter }, net)
    const users = Array.from({ length: 80 }, (_, i) => `u${i}`)
    for (const u of users.slice(0, 40))
      g.store.putRegistration(`${u}@localhost`, { username: u, password: 'pw' })
    const answers: Array<Promise<string>> = []
    const answer = (p: Promise<Element>) =>
      answers.push(
        p.then(
          () => 'ok',
          (e: StanzaErrorResponse) => e.condition ?? 'timeout',
        ),
      )
    for (const u of users) {
      const c = g.srv.client(`${u}@localhost/r`)
      c.send(xml('presence', { to: DOMAIN }))
      for (let i = 0; i < 5; i++) answer(c.request(registerAs(u, `pw${i}`), 20_000))
      for (let i = 0; i < 5; i++) {
        c.send(
          xml('message', { to: toJid('zed', DOMAIN), type: 'chat', id: `${u}-${i}` }, xml('body', {}, 'hi')),
        )
      }
    }
    // Another user's iq goes through the same component: answered while every login hangs.
    await barrier(g.srv.client('zoe@localhost/r'))
    expect(g.gw.sizes().loginWaiters).toBeLessThanOrEqual(64)
    expect(g.errors.some((e) => /limits\.loginWaiters/.test(e.message))).toBe(true)
  })
})

describe('bridge: registrations of one user', () => {
  it('twenty at once: one legacy login, one subscription request, no notice, every one answered', async () => {
    const g = await gateway()
    const alice = g.srv.client('alice@localhost/phone')
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        alice.request(registerAs('alice', 'pw')).then(
          (r) => r.attrs.type,
          (e: Error) => e.message,
        ),
      ),
    )
    expect(answers).toEqual(Array(20).fill('result'))
    expect(logins(g.net)).toBe(1)
    const fromGateway = (s: Element) => s.attrs.from === DOMAIN
    expect(alice.received.filter((s) => fromGateway(s) && s.attrs.type === 'subscribe')).toHaveLength(1)
    expect(alice.received.filter((s) => fromGateway(s) && s.name === 'message')).toEqual([])
    expect(g.gw.state('alice@localhost')).toBe('online')
  })

  it('limits.pendingRegistrations: beyond those waiting, resource-constraint', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const login = adapter.login
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    adapter.login = async (c, e) => {
      await gate
      return login(c, e)
    }
    const g = await gateway({ adapter, limits: { pendingRegistrations: 2 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    // Six different registrations (the same one again would join the one under way).
    const answers = Array.from({ length: 6 }, (_, i) =>
      alice.request(registerAs('alice', i === 0 ? 'pw' : `other${i}`)).then(
        () => 'ok',
        (e: Error & { condition?: string }) => e.condition,
      ),
    )
    await expect
      .poll(() => g.errors.filter((e) => /pendingRegistrations/.test(e.message)).length === 3, {
        message: 'the refusals',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().registrations).toBe(1)
    release()
    expect(await Promise.all(answers)).toEqual([
      'ok',
      'not-authorized',
      'not-authorized',
      ...Array(3).fill('resource-constraint'),
    ])
  })
})

describe('bridge: a registration under way', () => {
  it('keeps its session entry while presences come and go: the registered session is the one the gateway knows', async () => {
    const net = new FakeNetwork()
    const adapter = net.adapter()
    const login = adapter.login
    let gate: Promise<void> = Promise.resolve()
    let started = 0
    adapter.login = async (c, e) => {
      started++
      await gate
      return login(c, e)
    }
    const g = await gateway({ adapter }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    alice.send(xml('presence', { to: DOMAIN }))
    await barrier(alice)
    // A new password, checked by a slow login; meanwhile the user goes offline.
    let open: () => void = () => {}
    gate = new Promise<void>((r) => {
      open = r
    })
    net.accounts.set('alice', 'pw2')
    const registered = register(alice, 'alice', 'pw2')
    await expect
      .poll(() => started === 2, { message: 'the second login under way', timeout: 3000, interval: 5 })
      .toBe(true)
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    await expect
      .poll(() => net.log.includes('logout alice'), {
        message: 'the logout of the first session',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    open()
    await registered
    expect(g.gw.state('alice@localhost')).toBe('online')
    expect(g.gw.sizes().sessions).toBe(1)
    alice.send(xml('message', { to: toJid('zed', DOMAIN), type: 'chat', id: 'm1' }, xml('body', {}, 'hi')))
    await expect
      .poll(() => net.log.includes('send alice→zed L1: hi'), {
        message: 'the message on the registered session',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(logins(net)).toBe(2)
  })
})

describe('bridge: a corrupted credentials row', () => {
  it('never locks the user out: get, messages and presence answer clearly, <remove/> and a new registration work; one log line', async () => {
    const g = await gateway()
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    await g.gw.logout('alice@localhost')
    g.store.db
      .prepare('UPDATE registrations SET credentials = ?')
      .run(`v1:${Buffer.alloc(40, 1).toString('base64')}`)
    // Registration get: registered, no values.
    const q = (
      await alice.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER })))
    ).getChild('query') as Element
    expect(q.getChild('registered')).toBeDefined()
    expect(q.getChildText('username')).toBe('')
    // Presence: told once to register again; a message: registration-required.
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    alice.send(xml('presence', { to: DOMAIN }))
    await alice.expectStanza({
      name: 'message',
      from: DOMAIN,
      body: /cannot be used any more; register again/,
    })
    alice.send(xml('message', { to: toJid('zed', DOMAIN), type: 'chat', id: 'm1' }, xml('body', {}, 'hi')))
    const m1 = errorOf(await alice.expectStanza({ name: 'message', type: 'error', id: 'm1' }))
    expect(m1).toEqual({
      condition: 'registration-required',
      text: `your stored FakeNet login cannot be used; register with ${DOMAIN} again`,
    })
    expect(
      alice.received.filter((s) => /cannot be used any more/.test(s.getChildText('body') ?? '')),
    ).toHaveLength(1)
    expect(alice.received.some((s) => /BRIDGE_KEY|decrypt/.test(s.toString()))).toBe(false)
    // A new registration over it works (and so would <remove/>: below).
    await register(alice)
    expect(g.store.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })
    expect(g.gw.state('alice@localhost')).toBe('online')
    g.store.db.prepare('UPDATE registrations SET credentials = ?').run('garbage')
    await alice.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
    )
    expect(g.store.users()).toEqual([])
    // One clear line per corruption found (two rows were altered), never one per read.
    const lines = g.errors.filter((e) => codeOf(e) === BridgeErrorCodes.CREDENTIALS)
    expect(lines).toHaveLength(2)
    expect(lines[0]?.message).toMatch(/stored credentials of alice@localhost cannot be read/)
  })
})
