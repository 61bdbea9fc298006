// The plugin contract of bridge() (docs/plugins.md): a bad option is a fatal SAT_ERR_CONFIG thrown
// before anything is installed; close() takes away everything the bridge installed (routes,
// disco identities and features, listeners, its own privileges handle) and logs every session out,
// so that a stanza after close() gets what a component without the bridge gives. Also the
// codes of the errors the bridge raises.
import { type Bridge, BridgeError, BridgeKeyError, bridge, parseKey, SqliteStore } from '@satellite/bridge'
import { type Component, component, type Element, isSatelliteError, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { NS_PRIVILEGE_2, privileges } from '@satellite/privilege'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import { createServer, type SimulatedClient, type TestServer } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { QueueFullError } from '../src/errors.js'
import { KeyedQueue } from '../src/limits.js'
import { FakeNetwork } from './fake.js'
import { optionErrorOf } from './support.js'

const DOMAIN = 'bridge.localhost'
const SECRET = 'bridge-secret'
const KEY = Buffer.alloc(32, 7)
const ROOM = toJid('#general', DOMAIN)
const CONTACT = toJid('zed', DOMAIN)
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'

let srv: TestServer
let xmpp: Component
let net: FakeNetwork
let store: SqliteStore

beforeEach(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  net = new FakeNetwork()
  store = new SqliteStore({ key: KEY })
  xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  afterTest(
    async () => {
      await xmpp.stop()
      await srv.close()
      store.close()
    },
    { strict: true },
  )
  await xmpp.start()
})

/** Every capability, groups included: the bridge installs all its routes and disco entries. */
const adapter = () =>
  net.adapter({
    typing: { sendTyping: async () => {} },
    receipts: { sendReceipt: async () => {} },
    corrections: { correct: async () => 'c1' },
    reactions: { react: async () => {} },
    status: { setStatus: async () => {} },
    avatars: { avatar: async () => null },
    groups: {
      listGroups: async () => [{ id: '#general', name: 'General' }],
      members: async () => [{ id: 'zed', nick: 'Zed' }],
      sendGroupText: async () => 'G1',
    },
  })

/**
 * One stanza of each kind the bridge routes (disco, registration, jabber:iq:gateway, vCards,
 * roster pushes, presences to the gateway, contacts and rooms, chat and groupchat messages),
 * sent by `c`; resolves with what the component answered to each, in the order sent.
 */
async function answers(c: SimulatedClient, round: string, iqsOnly = false): Promise<string[]> {
  const iq = (type: string, to: string, child: Element) => xml('iq', { type, to }, child)
  const probes: Element[] = [
    iq('get', DOMAIN, xml('query', { xmlns: NS_DISCO_INFO })),
    iq('get', CONTACT, xml('query', { xmlns: NS_DISCO_INFO })),
    iq('get', ROOM, xml('query', { xmlns: NS_DISCO_INFO })),
    iq('get', DOMAIN, xml('query', { xmlns: NS_DISCO_ITEMS })),
    iq('get', DOMAIN, xml('query', { xmlns: 'jabber:iq:register' })),
    registerIq(DOMAIN, 'alice', 'pw'),
    iq('get', DOMAIN, xml('query', { xmlns: 'jabber:iq:gateway' })),
    iq('set', DOMAIN, xml('query', { xmlns: 'jabber:iq:gateway' }, xml('prompt', {}, 'zed'))),
    iq('get', CONTACT, xml('vCard', { xmlns: 'vcard-temp' })),
    xml('presence', { to: DOMAIN, type: 'probe' }),
    xml('presence', { to: CONTACT, type: 'probe' }),
    xml('presence', { to: CONTACT, type: 'subscribe' }),
    xml('presence', { to: `${ROOM}/alice` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    // A contact the legacy network does not know: the bridge answers item-not-found.
    xml('message', { to: toJid('nobody', DOMAIN), type: 'chat' }, xml('body', {}, 'hi')),
    xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'hi all')),
    xml('message', { to: `${ROOM}/Zed`, type: 'chat' }, xml('body', {}, 'psst')),
  ]
  const out: string[] = []
  for (const [i, probe] of probes.entries()) {
    if (iqsOnly && probe.name !== 'iq') continue
    const id = `${round}-${i}`
    probe.attrs.id = id
    const seen = c.received.length
    c.send(probe)
    // An iq is always answered; the answer to another stanza (or its absence) shows within 150 ms.
    if (probe.name === 'iq') await c.expectStanza({ name: 'iq', id })
    else await sleep(150)
    out.push(
      c.received
        .slice(seen)
        .map((s) => s.toString().replaceAll(`"${id}"`, '"ID"'))
        .join('\n'),
    )
  }
  return out
}

/** The component's event listeners: how many on each event. */
const listening = () =>
  Object.fromEntries(xmpp.eventNames().map((e) => [e, xmpp.listenerCount(e as 'online')]))

describe('bridge: close()', () => {
  it('takes away every route, disco entry and listener: each stanza then gets what a component without the bridge gives; every session logs out', async () => {
    const alice = srv.client('alice@localhost/phone')
    const without = await answers(alice, 'a')
    const listeners = listening()

    const gw: Bridge = bridge(xmpp, { adapter: adapter(), store })
    afterTest(() => gw.close())
    await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
    alice.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'alice online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await alice.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_ITEMS })))
    const withBridge = await answers(alice, 'b')
    // Every probe is one the bridge answers otherwise (so that the comparison below means something).
    for (const [i, answer] of withBridge.entries()) expect(answer, `probe ${i}`).not.toBe(without[i])

    await gw.close()
    // The bridge's privileges handle is closed too (the last one: its stanza and offline listeners).
    expect(listening()).toEqual(listeners)
    expect(net.log.filter((l) => l === 'logout alice')).toHaveLength(1)
    expect(gw.state('alice@localhost')).toBe('offline')
    expect(gw.sizes().sessions).toBe(0)
    await sleep(100) // the gateway's unavailable presences to alice
    expect(await answers(alice, 'c')).toEqual(without)
    // Idempotent.
    await gw.close()
    await gw.close()
    expect(net.log.filter((l) => l === 'logout alice')).toHaveLength(1)
    // A reconnect of the component after close() logs nobody in.
    const logins = net.log.filter((l) => l.startsWith('login')).length
    ;(srv.connectionsFor(DOMAIN)[0] as { drop(): void }).drop()
    await expect
      .poll(() => srv.connectionsFor(DOMAIN).length === 1 && xmpp.online, {
        message: 'the component back',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await sleep(100)
    expect(net.log.filter((l) => l.startsWith('login')).length).toBe(logins)
  })

  it('a second bridge on the component after close() works as the first did', async () => {
    const first = bridge(xmpp, { adapter: adapter(), store })
    await first.close()
    const gw = bridge(xmpp, { adapter: adapter(), store })
    afterTest(() => gw.close())
    const alice = srv.client('alice@localhost/phone')
    await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
    const info = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_INFO })),
    )
    const gateways = (info.getChild('query') as Element)
      .getChildren('identity')
      .filter((i) => i.attrs.category === 'gateway')
    expect(gateways).toHaveLength(1)
    expect(gw.state('alice@localhost')).toBe('online')
  })
})

describe("bridge: close() and the application's privileges", () => {
  it("closes only the bridge's own privileges handle: the application's handles keep working", async () => {
    const baseline = listening()
    const before = privileges(xmpp) // the application's, made before the bridge
    const withPrivileges = listening()
    const gw = bridge(xmpp, { adapter: adapter(), store })
    afterTest(() => gw.close())
    const after = privileges(xmpp) // and one made after it
    await gw.close()
    expect(listening()).toEqual(withPrivileges)
    const conn = await srv.waitForComponent(DOMAIN)
    const granted = Promise.all([before.waitForGrant('localhost'), after.waitForGrant('localhost')])
    conn.send(
      xml(
        'message',
        { from: 'localhost', to: DOMAIN },
        xml('privilege', { xmlns: NS_PRIVILEGE_2 }, xml('perm', { access: 'roster', type: 'both' })),
      ),
    )
    for (const grant of await granted) expect(grant.roster).toBe('both')
    expect(before.can('localhost', 'roster', 'set')).toBe(true)
    expect(after.can('localhost', 'roster', 'set')).toBe(true)
    before.close()
    expect(after.granted('localhost')?.roster).toBe('both')
    after.close()
    expect(listening()).toEqual(baseline)
  })
})

describe('bridge: option errors', () => {
  const cases: [string, () => unknown, string][] = [
    ['groupHistory', () => ({ groupHistory: -1 }), 'bridge.groupHistory: must be an integer >= 0, got -1'],
    ['retry.cap', () => ({ retry: { cap: -5 } }), 'bridge.retry.cap: must be a number of ms > 0, got -5'],
    [
      'retry.maxAttempts',
      () => ({ retry: { maxAttempts: -1 } }),
      'bridge.retry.maxAttempts: must be a number >= 0, got -1',
    ],
    ['retry.random', () => ({ retry: { random: 1 } }), 'bridge.retry.random: must be a function'],
    [
      'allowedDomains',
      () => ({ allowedDomains: ['localhost', ''] }),
      'bridge.allowedDomains: must be a list of domains (or ["*"])',
    ],
    [
      'limits.pendingJoins',
      () => ({ limits: { pendingJoins: 0 } }),
      'bridge.limits.pendingJoins: must be an integer > 0 (or Infinity), got 0',
    ],
    [
      'loginLimits.global.burst',
      () => ({ loginLimits: { global: { burst: -1 } } }),
      'bridge.loginLimits.global.burst: must be an integer > 0 (or Infinity), got -1',
    ],
    [
      'loginLimits.tracked',
      () => ({ loginLimits: { tracked: 2.5 } }),
      'bridge.loginLimits.tracked: must be an integer > 0 (or Infinity), got 2.5',
    ],
  ]
  it.each(cases)(
    '%s: a fatal SAT_ERR_CONFIG naming it, thrown before anything is installed',
    async (_, bad, message) => {
      const alice = srv.client('alice@localhost/phone')
      const before = await answers(alice, 'a', true)
      const listeners = listening()
      expect(optionErrorOf(() => bridge(xmpp, { adapter: adapter(), store, ...(bad() as object) }))).toBe(
        message,
      )
      expect(listening()).toEqual(listeners)
      expect(await answers(alice, 'b', true)).toEqual(before)
    },
  )

  it('registration fields the adapter declares must be known ones', () => {
    const a = adapter()
    a.registration = { fields: ['username', 'shoe-size' as 'username'] }
    expect(optionErrorOf(() => bridge(xmpp, { adapter: a, store }))).toMatch(
      /^bridge\.adapter\.registration\.fields: must be among username, .*password.*, got 'shoe-size'$/,
    )
  })
})

describe('bridge: its errors are catalogued SatelliteErrors', () => {
  it('BridgeKeyError: SAT_ERR_BRIDGE_KEY, a BridgeError', () => {
    let err: unknown
    try {
      parseKey('abc')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(BridgeKeyError)
    expect(err).toBeInstanceOf(BridgeError)
    expect(isSatelliteError(err, 'SAT_ERR_BRIDGE_KEY')).toBe(true)
    expect(err).toMatchObject({ name: 'BridgeKeyError', fatal: false })
    expect(() => new SqliteStore({ key: Buffer.alloc(16) })).toThrow(BridgeKeyError)
  })

  it('a full per-key queue rejects with QueueFullError: SAT_ERR_BRIDGE_LIMIT', async () => {
    const q = new KeyedQueue(1)
    let release = () => {}
    const running = q.run('k', () => new Promise<void>((r) => (release = r)))
    const waiting = q.run('k', async () => {})
    const refused = q.run('k', async () => {}).catch((e: unknown) => e)
    const err = await refused
    expect(err).toBeInstanceOf(QueueFullError)
    expect(err).toBeInstanceOf(BridgeError)
    expect(isSatelliteError(err, 'SAT_ERR_BRIDGE_LIMIT')).toBe(true)
    release()
    await Promise.all([running, waiting])
    expect(q.size).toBe(0)
  })
})
