// Hostile legacy users against the whole gateway (the network, the reference adapter, the bridge
// and the embedded server): the chat-state injection of issue #13, malformed lines, and internal
// details in what users are told.
import { xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { fails, registerIq } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { legacyBridge } from '../src/bot.js'
import { DOMAIN, type Setup, startBridge } from './helpers.js'
import { noUncaught } from './uncaught.js'
import { type RawClient, rawClient } from './wire.js'

const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
const ZED = toJid('zed', DOMAIN)

let t: Setup
let disconnects: number
/** What the component reports (the bridge reports adapter events it cannot use there). */
let errors: string[]
beforeEach(async () => {
  t = await startBridge()
  disconnects = 0
  t.srv.on('disconnect', () => void disconnects++)
  errors = []
  t.xmpp.on('error', (err) => void errors.push(String(err)))
})

/** alice registered and online on the network; zed a raw client of the network (a hostile legacy user). */
async function aliceAndZed(): Promise<{ alice: SimulatedClient; zed: RawClient }> {
  const alice = t.srv.client('alice@localhost/phone')
  await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
  await expect
    .poll(() => t.gw.state('alice@localhost') === 'online', {
      message: 'alice online',
      timeout: 3000,
      interval: 5,
    })
    .toBe(true)
  const zed = await rawClient(t.net.port)
  expect(await zed.ask('z0', 'LOGIN zed pw2')).toBe('z0 OK')
  return { alice, zed }
}

/** zed says `text` to alice; resolves when it reached her (so every earlier line was handled). */
let markers = 0
async function marker(alice: SimulatedClient, zed: RawClient, text: string): Promise<void> {
  const tag = `mark${++markers}`
  expect(await zed.ask(tag, `SEND alice ${encodeURIComponent(text)}`)).toMatch(/ OK m\d+$/)
  await alice.expectStanza({ name: 'message', from: ZED, body: text })
}

describe('hostile legacy users against the gateway', () => {
  it('the chat-state injection of #13: no forged message reaches bob, the component stays connected', async () => {
    const uncaught = noUncaught()
    const bob = t.srv.client('bob@localhost/pc')
    const { alice, zed } = await aliceAndZed()
    const forged =
      'active/></message><message\tto="bob@localhost"\tfrom="it-support@bridge.localhost"\ttype="chat"><body>Your\tpassword\texpired</body></message><message\tfrom="bridge.localhost"\tto="alice@localhost"><x'
    expect(await zed.ask('z1', `TYPING alice ${forged}`)).toBe('z1 OK')
    expect(await zed.ask('z2', 'TYPING alice a><b')).toBe('z2 OK') // not-well-formed: would close the stream
    await marker(alice, zed, 'after the attack')

    expect(bob.received).toEqual([])
    const fromZed = alice.received.filter((s) => s.attrs.from === ZED && s.name === 'message')
    expect(fromZed.map((s) => s.getChildText('body'))).toEqual(['after the attack'])
    expect(alice.received.some((s) => String(s.attrs.from).startsWith('it-support'))).toBe(false)
    expect([disconnects, t.xmpp.status, t.gw.state('alice@localhost')]).toEqual([0, 'online', 'online'])
    // The adapter dropped the lines: the bridge never saw those states (nothing to refuse or report).
    expect(errors).toEqual([])
    // A real chat state still comes through.
    expect(await zed.ask('z3', 'TYPING alice composing')).toBe('z3 OK')
    await alice.expectStanza(
      (s) => s.attrs.from === ZED && s.getChild('composing', NS_CHATSTATES) !== undefined,
    )
    expect(uncaught()).toEqual([])
  })

  it("the malformed lines of #13 (SEND %E0%A4%A, RECEIPT %, AVATAR %zz AAAA) are dropped; alice's session goes on", async () => {
    const uncaught = noUncaught()
    const { alice, zed } = await aliceAndZed()
    const sent = await zed.ask('z1', 'SEND alice %E0%A4%A')
    expect(sent).toMatch(/^z1 OK m\d+$/)
    expect(await zed.ask('z2', 'RECEIPT alice %')).toBe('z2 OK')
    expect(await zed.ask('z3', 'AVATAR %zz AAAA')).toBe('z3 OK')
    expect(await zed.ask('z4', `REACT alice ${sent.split(' ')[2]} %`)).toBe('z4 OK')
    await marker(alice, zed, 'still here')
    expect(t.gw.state('alice@localhost')).toBe('online')
    expect(t.net.online()).toContain('alice')
    expect(disconnects).toBe(0)
    expect(errors).toEqual([])
    expect(uncaught()).toEqual([])
  })
})

describe('legacyLimits', () => {
  it('reach the adapter: a message too long for the network is not-acceptable; bad limits are refused', async () => {
    expect(() => legacyBridge(t.xmpp, { store: t.store, legacyLimits: { maxPending: 0 } })).toThrow(
      /maxPending/,
    )
    await t.gw.close()
    t.gw = legacyBridge(t.xmpp, {
      legacyPort: t.net.port,
      store: t.store,
      legacyLimits: { maxLineLength: 300 },
    })
    const { alice, zed } = await aliceAndZed()
    alice.send(xml('message', { to: ZED, type: 'chat', id: 'long' }, xml('body', {}, 'x'.repeat(400))))
    const err = await alice.expectStanza({ name: 'message', type: 'error', id: 'long' })
    expect(err.getChild('error')?.getChild('not-acceptable')).toBeDefined()
    await marker(alice, zed, 'short is fine')
  })
})

describe('BRIDGE_ALLOWED_DOMAINS', () => {
  const withEnv = (value: string) => {
    const saved = process.env.BRIDGE_ALLOWED_DOMAINS
    process.env.BRIDGE_ALLOWED_DOMAINS = value
    try {
      return legacyBridge(t.xmpp, { legacyPort: t.net.port, store: t.store })
    } finally {
      if (saved === undefined) delete process.env.BRIDGE_ALLOWED_DOMAINS
      else process.env.BRIDGE_ALLOWED_DOMAINS = saved
    }
  }

  it('replaces the default allow-list (the parent domain); * lets anybody register', async () => {
    await t.gw.close()
    t.gw = withEnv(' elsewhere.example , ')
    const refused = await fails(t.srv.client('alice@localhost/phone'), registerIq(DOMAIN, 'alice', 'pw'))
    expect(refused.condition).toBe('not-allowed')
    expect(t.gw.state('alice@localhost')).toBe('offline')
    await t.gw.close()
    t.gw = withEnv('*')
    await t.srv.client('alice@localhost/laptop').request(registerIq(DOMAIN, 'alice', 'pw'))
    await expect
      .poll(() => t.gw.state('alice@localhost') === 'online', {
        message: 'alice online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })
})

describe('what users are told carries no internal detail', () => {
  const INTERNAL = /127\.0\.0\.1|ECONN|EPIPE|:\d{2,5}\b/

  it("a registration while the network is down: service-unavailable, without the network's address", async () => {
    await t.net.close()
    const alice = t.srv.client('alice@localhost/phone')
    const err = await fails(alice, registerIq(DOMAIN, 'alice', 'pw'))
    expect(err.condition).toBe('service-unavailable')
    expect(err.text ?? '').not.toMatch(INTERNAL)
  })

  it('the network going away and staying down: the notices carry no address or socket error', async () => {
    await t.gw.close()
    t.gw = legacyBridge(t.xmpp, {
      legacyPort: t.net.port,
      store: t.store,
      retry: { base: 10, cap: 20, maxAttempts: 2 },
    })
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
    await expect
      .poll(() => t.gw.state('alice@localhost') === 'online', {
        message: 'alice online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await t.net.close()
    await expect
      .poll(() => t.gw.state('alice@localhost') === 'offline', {
        message: 'the bridge to give up',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    const notices = alice.received
      .filter((s) => s.name === 'message' && s.attrs.from === DOMAIN)
      .map((s) => s.getChildText('body') ?? '')
    expect(notices.length).toBeGreaterThanOrEqual(2)
    expect(notices.filter((n) => INTERNAL.test(n))).toEqual([])
  })
})
