import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  type Bridge,
  BridgeKeyError,
  type BridgeOptions,
  bridge,
  decrypt,
  encrypt,
  keyFromEnv,
  NS_CHATSTATES,
  NS_CORRECT,
  NS_GATEWAY,
  NS_REACTIONS,
  NS_RECEIPTS,
  NS_VCARD,
  NS_VCARD_UPDATE,
  parseKey,
  SqliteStore,
} from '@satellite/bridge'
import { type Component, component, type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { afterTest } from '@satellite/test-support/cleanup'
import { fails, registerIq } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import { createServer, type SimulatedClient, type TestServer } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'

const DOMAIN = 'bridge.localhost'
const SECRET = 'bridge-secret'
const KEY = Buffer.alloc(32, 7)
const NS_REGISTER = 'jabber:iq:register'
const DISCO = 'http://jabber.org/protocol/disco#info'

let srv: TestServer
let xmpp: Component
let net: FakeNetwork
let store: SqliteStore
let gw: Bridge

async function start(
  capabilities: Parameters<FakeNetwork['adapter']>[0] = {},
  loginAtStart = false,
  retry: BridgeOptions<FakeSession>['retry'] = { base: 30, cap: 100 },
) {
  xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET, reconnect: { base: 20, cap: 100 } })
  gw = bridge(xmpp, {
    adapter: net.adapter(capabilities),
    store,
    retry,
    loginAtStart,
  })
  await xmpp.start()
  afterTest(() => xmpp.stop())
  afterTest(() => gw.close())
}

beforeEach(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  net = new FakeNetwork()
  store = new SqliteStore({ key: KEY })
  // Runs after the test's own cleanups (the last registered runs first).
  afterTest(
    async () => {
      await srv.close()
      store.close()
    },
    { strict: true },
  )
})

const register = (username: string, password: string) => registerIq(DOMAIN, username, password)

const chat = (to: string, body: string, id = 'x1', ...extra: Element[]) =>
  xml('message', { to, type: 'chat', id }, xml('body', {}, body), ...extra)

/** Registers alice and waits for her contacts' subscriptions. */
async function registered(): Promise<SimulatedClient> {
  const alice = srv.client('alice@localhost/phone')
  await alice.request(register('alice', 'pw'))
  await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('olga', DOMAIN) })
  return alice
}

describe('bridge: gateway', () => {
  it('advertises gateway/<type>, registration, jabber:iq:gateway and only the declared capabilities', async () => {
    await start({ typing: { sendTyping: async () => {} }, corrections: { correct: async () => 'c' } })
    const c = srv.client('someone@localhost/r')
    const info = (
      await c.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    const identity = info.getChild('identity') as Element
    expect([identity.attrs.category, identity.attrs.type, identity.attrs.name]).toEqual([
      'gateway',
      'fake',
      'FakeNet',
    ])
    const features = info.getChildren('feature').map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining([NS_REGISTER, NS_GATEWAY, NS_CHATSTATES, NS_CORRECT]))
    expect(features).not.toContain(NS_RECEIPTS)
    expect(features).not.toContain(NS_REACTIONS)
    const contact = (
      await c.request(xml('iq', { type: 'get', to: toJid('zed', DOMAIN) }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(contact.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_CHATSTATES)
  })

  it('jabber:iq:gateway: prompt, legacy id → escaped contact JID, empty prompt is bad-request', async () => {
    await start()
    const c = srv.client('someone@localhost/r')
    const prompt = await c.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_GATEWAY })),
    )
    expect(prompt.getChild('query')?.getChildText('prompt')).toBe('FakeNet ID')
    const res = await c.request(
      xml(
        'iq',
        { type: 'set', to: DOMAIN },
        xml('query', { xmlns: NS_GATEWAY }, xml('prompt', {}, 'Ann Lee@work')),
      ),
    )
    expect(res.getChild('query')?.getChildText('jid')).toBe(`Ann\\20Lee\\40work@${DOMAIN}`)
    expect(res.getChild('query')?.getChildText('jid')).toBe(toJid('Ann Lee@work', DOMAIN))
    const err = await fails(
      c,
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_GATEWAY }, xml('prompt', {}, ' '))),
    )
    expect(err.condition).toBe('bad-request')
  })

  it('refuses wrong legacy credentials with not-authorized and stores nothing', async () => {
    await start()
    const alice = srv.client('alice@localhost/phone')
    expect((await fails(alice, register('alice', 'nope'))).condition).toBe('not-authorized')
    expect((await fails(alice, register('mallory', 'pw'))).condition).toBe('not-authorized')
    expect(store.users()).toEqual([])
    expect(gw.state('alice@localhost')).toBe('offline')
  })

  it('offers legacy fields and a data form', async () => {
    await start()
    const q = (
      await srv
        .client('x@localhost/r')
        .request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER })))
    ).getChild('query') as Element
    expect(q.getChild('username')).toBeDefined()
    expect(q.getChild('password')).toBeDefined()
    expect(q.getChild('x', 'jabber:x:data')).toBeDefined()
  })

  it('registers with a real login: contacts subscribe with escaped JIDs and show their presence; credentials are encrypted', async () => {
    await start()
    const alice = await registered()
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: DOMAIN })
    for (const id of ['zed', 'Ann Lee@work']) {
      await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid(id, DOMAIN) })
      await alice.expectStanza(
        (s) => s.name === 'presence' && s.attrs.from === toJid(id, DOMAIN) && s.attrs.type === undefined,
      )
    }
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('olga', DOMAIN) })
    const nick = alice.received.find(
      (s) => s.attrs.from === toJid('zed', DOMAIN) && s.attrs.type === 'subscribe',
    )
    expect(nick?.getChildText('nick', 'http://jabber.org/protocol/nick')).toBe('Zed')
    expect(gw.state('alice@localhost')).toBe('online')
    expect(store.contacts('alice@localhost').map((c) => c.legacyId)).toEqual(['Ann Lee@work', 'olga', 'zed'])
    expect(store.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })
    const raw = store.db.prepare('SELECT credentials FROM registrations').get() as { credentials: string }
    expect(raw.credentials).not.toContain('pw"')
    expect(raw.credentials.startsWith('v1:')).toBe(true)
    // The password is never sent back.
    const q = (
      await alice.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER })))
    ).getChild('query') as Element
    expect(q.getChild('registered')).toBeDefined()
    expect(q.getChildText('username')).toBe('alice')
    expect(q.getChildText('password')).toBe('')
  })

  it('unregistering logs out and removes every trace (registration, contacts, ids)', async () => {
    await start()
    const alice = await registered()
    alice.send(chat(toJid('zed', DOMAIN), 'hello'))
    await expect
      .poll(() => store.counts('alice@localhost').messages === 1, {
        message: 'the id mapping',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await alice.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
    )
    expect(store.counts('alice@localhost')).toEqual({ registrations: 0, contacts: 0, messages: 0 })
    expect(net.log).toContain('logout alice')
    await alice.expectStanza({ name: 'presence', type: 'unsubscribed', from: toJid('zed', DOMAIN) })
    await alice.expectStanza({ name: 'presence', type: 'unsubscribed', from: DOMAIN })
    // Now she is a stranger again.
    alice.send(chat(toJid('zed', DOMAIN), 'still there?', 'x9'))
    const err = await alice.expectStanza({ name: 'message', type: 'error', id: 'x9' })
    expect(err.getChild('error')?.getChild('registration-required')).toBeDefined()
  })
  it('a re-registration with wrong credentials is refused and keeps the working session and registration', async () => {
    await start()
    const alice = await registered()
    expect((await fails(alice, register('alice', 'wrong'))).condition).toBe('not-authorized')
    expect(gw.state('alice@localhost')).toBe('online')
    expect(store.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw' })
    expect(net.log).not.toContain('logout alice')
    // New valid credentials replace the session.
    net.accounts.set('alice', 'pw2')
    await alice.request(register('alice', 'pw2'))
    expect(store.getRegistration('alice@localhost')).toEqual({ username: 'alice', password: 'pw2' })
    expect(net.log).toContain('logout alice')
    expect(gw.state('alice@localhost')).toBe('online')
    alice.send(chat(toJid('zed', DOMAIN), 'new session', 'n1'))
    await expect
      .poll(() => net.log.some((l) => l.endsWith(': new session')), {
        message: 'the send on the new session',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })

  it('relays the user status to the network when the adapter declares status', async () => {
    const statuses: string[] = []
    await start({
      status: { setStatus: async (_s, online, status) => void statuses.push(`${online}:${status}`) },
    })
    const alice = await registered()
    alice.send(xml('presence', { to: DOMAIN }, xml('status', {}, 'at lunch')))
    await expect
      .poll(() => statuses.includes('true:at lunch'), { message: 'the status', timeout: 3000, interval: 5 })
      .toBe(true)
  })
})

describe('bridge: relay', () => {
  it('relays messages both ways with their ids mapped, and corrections', async () => {
    await start({ corrections: { correct: async (_s, _to, id, text) => `${id}-fixed:${text}` } })
    const alice = await registered()
    alice.send(chat(toJid('zed', DOMAIN), 'hi zed', 'x1'))
    await expect
      .poll(() => net.log.some((l) => l.startsWith('send alice→zed')), {
        message: 'the legacy send',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(net.log).toContain('send alice→zed L1: hi zed')
    await expect
      .poll(() => store.legacyIdOf('alice@localhost', 'zed', 'x1') === 'L1', {
        message: 'the mapping',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // A correction of x1 goes to the network with the legacy id.
    alice.send(chat(toJid('zed', DOMAIN), 'hi Zed', 'x2', xml('replace', { xmlns: NS_CORRECT, id: 'x1' })))
    await expect
      .poll(() => store.legacyIdOf('alice@localhost', 'zed', 'x2') === 'L1-fixed:hi Zed', {
        message: 'the correction',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // Incoming, then an incoming correction of it.
    const s = net.live as FakeSession
    s.events.message({ from: 'Ann Lee@work', id: 'A7', text: 'hey alice' })
    const m = await alice.expectStanza({ name: 'message', body: 'hey alice' })
    expect(m.attrs.from).toBe(toJid('Ann Lee@work', DOMAIN))
    expect(m.attrs.to).toBe('alice@localhost')
    expect(store.xmppIdOf('alice@localhost', 'Ann Lee@work', 'A7')).toBe(m.attrs.id)
    s.events.message({ from: 'Ann Lee@work', id: 'A8', text: 'hey Alice', replaces: 'A7' })
    const fixed = await alice.expectStanza({ name: 'message', body: 'hey Alice' })
    expect(fixed.getChild('replace', NS_CORRECT)?.attrs.id).toBe(m.attrs.id)
  })

  it('a message from someone unknown to the user adds the contact', async () => {
    await start()
    const alice = await registered()
    ;(net.live as FakeSession).events.message({ from: 'newbie', id: 'N1', text: 'hello?' })
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('newbie', DOMAIN) })
    await alice.expectStanza({ name: 'message', body: 'hello?', from: toJid('newbie', DOMAIN) })
  })

  it('answers rejected messages with stanza errors: unknown contact, offline contact, unregistered sender', async () => {
    await start()
    const alice = await registered()
    alice.send(chat(toJid('nobody', DOMAIN), 'hi', 'e1'))
    const e1 = await alice.expectStanza({ name: 'message', type: 'error', id: 'e1' })
    expect(e1.attrs.from).toBe(toJid('nobody', DOMAIN))
    expect(e1.getChild('error')?.getChild('item-not-found')).toBeDefined()
    alice.send(chat(toJid('olga', DOMAIN), 'hi', 'e2'))
    const e2 = await alice.expectStanza({ name: 'message', type: 'error', id: 'e2' })
    expect(e2.getChild('error')?.getChild('recipient-unavailable')).toBeDefined()
    const bob = srv.client('bob@localhost/pc')
    bob.send(chat(toJid('zed', DOMAIN), 'hi', 'e3'))
    const e3 = await bob.expectStanza({ name: 'message', type: 'error', id: 'e3' })
    expect(e3.getChild('error')?.getChild('registration-required')).toBeDefined()
    bob.send(xml('presence', { to: toJid('zed', DOMAIN), type: 'subscribe', id: 'p1' }))
    const e4 = await bob.expectStanza({ name: 'presence', type: 'error', id: 'p1' })
    expect(e4.getChild('error')?.getChild('registration-required')).toBeDefined()
    // Still working afterwards.
    alice.send(chat(toJid('zed', DOMAIN), 'ok?', 'e5'))
    await expect
      .poll(() => net.log.includes('send alice→zed L1: ok?'), {
        message: 'the send after errors',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })

  it('relays declared chat states and answers undeclared features with feature-not-implemented', async () => {
    const typing: string[] = []
    await start({ typing: { sendTyping: async (_s, to, state) => void typing.push(`${to}:${state}`) } })
    const alice = await registered()
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 't1' },
        xml('composing', { xmlns: NS_CHATSTATES }),
      ),
    )
    await expect
      .poll(() => typing.includes('zed:composing'), { message: 'the chat state', timeout: 3000, interval: 5 })
      .toBe(true)
    ;(net.live as FakeSession).events.typing?.('zed', 'paused')
    const st = await alice.expectStanza(
      (s) => s.name === 'message' && s.getChild('paused', NS_CHATSTATES) !== undefined,
    )
    expect(st.attrs.from).toBe(toJid('zed', DOMAIN))
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'r1' },
        xml('received', { xmlns: NS_RECEIPTS, id: 'x' }),
      ),
    )
    const r = await alice.expectStanza({ name: 'message', type: 'error', id: 'r1' })
    expect(r.getChild('error')?.getChild('feature-not-implemented')).toBeDefined()
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'r2' },
        xml('reactions', { xmlns: NS_REACTIONS, id: 'x' }, xml('reaction', {}, '👍')),
      ),
    )
    const r2 = await alice.expectStanza({ name: 'message', type: 'error', id: 'r2' })
    expect(r2.getChild('error')?.getChild('feature-not-implemented')).toBeDefined()
    alice.send(chat(toJid('zed', DOMAIN), 'fixed', 'r3', xml('replace', { xmlns: NS_CORRECT, id: 'x' })))
    const r3 = await alice.expectStanza({ name: 'message', type: 'error', id: 'r3' })
    expect(r3.getChild('error')?.getChild('feature-not-implemented')).toBeDefined()
  })

  it('maps legacy receipts back to the XMPP id and relays the user receipts when declared', async () => {
    const receipts: string[] = []
    await start({ receipts: { sendReceipt: async (_s, to, id) => void receipts.push(`${to}:${id}`) } })
    const alice = await registered()
    alice.send(chat(toJid('zed', DOMAIN), 'hi', 'mine', xml('request', { xmlns: NS_RECEIPTS })))
    await expect
      .poll(() => store.legacyIdOf('alice@localhost', 'zed', 'mine') !== null, {
        message: 'the mapping',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    ;(net.live as FakeSession).events.receipt?.('zed', 'L1')
    const rec = await alice.expectStanza((s) => s.getChild('received', NS_RECEIPTS) !== undefined)
    expect(rec.getChild('received', NS_RECEIPTS)?.attrs.id).toBe('mine')
    ;(net.live as FakeSession).events.message({ from: 'zed', id: 'Z1', text: 'yo' })
    const m = await alice.expectStanza({ name: 'message', body: 'yo' })
    expect(m.getChild('request', NS_RECEIPTS)).toBeDefined()
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), id: 'ack' },
        xml('received', { xmlns: NS_RECEIPTS, id: m.attrs.id }),
      ),
    )
    await expect
      .poll(() => receipts.includes('zed:Z1'), {
        message: 'the receipt to the network',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })

  it('reactions (declared): the user reacts with legacy ids, contacts react to mapped XMPP ids', async () => {
    const reacted: string[] = []
    await start({
      reactions: {
        react: async (_s, to, id, emojis) => void reacted.push(`${to}:${id}:${emojis.join(',')}`),
      },
    })
    const alice = await registered()
    const c = srv.client('someone@localhost/r')
    const disco = (
      await c.request(xml('iq', { type: 'get', to: toJid('zed', DOMAIN) }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(disco.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_REACTIONS)
    // alice → zed, then zed reacts to it on the legacy side.
    alice.send(chat(toJid('zed', DOMAIN), 'lunch?', 'mine'))
    await expect
      .poll(() => store.legacyIdOf('alice@localhost', 'zed', 'mine') === 'L1', {
        message: 'the mapping',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    const s = net.live as FakeSession
    s.events.reaction?.('zed', 'L1', ['👍', '🎉'])
    const r = await alice.expectStanza((x) => x.getChild('reactions', NS_REACTIONS) !== undefined)
    expect(r.attrs.from).toBe(toJid('zed', DOMAIN))
    expect(r.attrs.to).toBe('alice@localhost')
    const reactions = r.getChild('reactions', NS_REACTIONS) as Element
    expect(reactions.attrs.id).toBe('mine')
    expect(reactions.getChildren('reaction').map((e) => e.getText())).toEqual(['👍', '🎉'])
    expect(r.getChild('body')).toBeUndefined()
    // A reaction to a message the bridge never mapped is dropped.
    s.events.reaction?.('zed', 'L404', ['👎'])
    // zed → alice, then alice reacts with the XMPP id: the adapter gets the legacy id.
    s.events.message({ from: 'zed', id: 'Z1', text: 'yes!' })
    const m = await alice.expectStanza({ name: 'message', body: 'yes!' })
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'react1' },
        xml('reactions', { xmlns: NS_REACTIONS, id: m.attrs.id }, xml('reaction', {}, '❤️')),
      ),
    )
    await expect
      .poll(() => reacted.includes('zed:Z1:❤️'), {
        message: 'the reaction to the network',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // Removing every reaction is an empty set.
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'react2' },
        xml('reactions', { xmlns: NS_REACTIONS, id: m.attrs.id }),
      ),
    )
    await expect
      .poll(() => reacted.includes('zed:Z1:'), { message: 'the removal', timeout: 3000, interval: 5 })
      .toBe(true)
    // A reaction to an unknown message is item-not-found.
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'react3' },
        xml('reactions', { xmlns: NS_REACTIONS, id: 'nope' }, xml('reaction', {}, '👍')),
      ),
    )
    const e = await alice.expectStanza({ name: 'message', type: 'error', id: 'react3' })
    expect(e.getChild('error')?.getChild('item-not-found')).toBeDefined()
    expect(
      alice.received.filter((x) => x.getChild('reactions', NS_REACTIONS)?.getChildText('reaction') === '👎'),
    ).toHaveLength(0)
  })

  it('avatars (declared): XEP-0153 hash in contact presence, the picture in the contact vCard, changes relayed', async () => {
    const png = Buffer.from('\x89PNG fake picture of zed', 'latin1')
    const pics = new Map([['zed', { type: 'image/png', data: png }]])
    const asked: string[] = []
    await start({
      avatars: {
        avatar: async (_s, id) => {
          asked.push(id)
          return pics.get(id) ?? null
        },
      },
    })
    const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex')
    const alice = await registered()
    const photoOf = (p: Element) => p.getChild('x', NS_VCARD_UPDATE)?.getChildText('photo')
    const zedUp = (s: Element) =>
      s.name === 'presence' && s.attrs.from === toJid('zed', DOMAIN) && s.attrs.type === undefined
    expect(photoOf(await alice.expectStanza(zedUp))).toBe(sha1(png))
    const ann = await alice.expectStanza(
      (s) => s.name === 'presence' && s.attrs.from === toJid('Ann Lee@work', DOMAIN) && !s.attrs.type,
    )
    expect(photoOf(ann)).toBe('') // known to have none
    expect(asked.sort()).toEqual(['Ann Lee@work', 'olga', 'zed'])
    const vcardOf = async (c: SimulatedClient, id: string) =>
      (
        await c.request(xml('iq', { type: 'get', to: toJid(id, DOMAIN) }, xml('vCard', { xmlns: NS_VCARD })))
      ).getChild('vCard', NS_VCARD) as Element
    const card = await vcardOf(alice, 'zed')
    expect(card.getChildText('FN')).toBe('Zed')
    expect(card.getChild('PHOTO')?.getChildText('TYPE')).toBe('image/png')
    expect(Buffer.from(card.getChild('PHOTO')?.getChildText('BINVAL') ?? '', 'base64')).toEqual(png)
    expect((await vcardOf(alice, 'Ann Lee@work')).getChild('PHOTO')).toBeUndefined()
    expect(asked).toHaveLength(3) // cached, not asked again
    // A change on the legacy side: new hash in presence, new picture in the vCard.
    const jpeg = Buffer.from('new jpeg of zed')
    ;(net.live as FakeSession).events.avatar?.('zed', { type: 'image/jpeg', data: jpeg })
    await alice.expectStanza((s) => zedUp(s) && photoOf(s) === sha1(jpeg))
    expect((await vcardOf(alice, 'zed')).getChild('PHOTO')?.getChildText('TYPE')).toBe('image/jpeg')
    ;(net.live as FakeSession).events.avatar?.('zed', null)
    await alice.expectStanza((s) => zedUp(s) && photoOf(s) === '')
    expect((await vcardOf(alice, 'zed')).getChild('PHOTO')).toBeUndefined()
    // Not a contact; not registered.
    const missing = await fails(
      alice,
      xml('iq', { type: 'get', to: toJid('nobody', DOMAIN) }, xml('vCard', { xmlns: NS_VCARD })),
    )
    expect(missing.condition).toBe('item-not-found')
    const bob = srv.client('bob@localhost/pc')
    const stranger = await fails(
      bob,
      xml('iq', { type: 'get', to: toJid('zed', DOMAIN) }, xml('vCard', { xmlns: NS_VCARD })),
    )
    expect(stranger.condition).toBe('registration-required')
  })

  it('avatars (undeclared): contact vCards carry no PHOTO and presence no XEP-0153 hash', async () => {
    await start()
    const alice = await registered()
    const zedUp = await alice.expectStanza(
      (s) => s.name === 'presence' && s.attrs.from === toJid('zed', DOMAIN) && !s.attrs.type,
    )
    expect(zedUp.getChild('x', NS_VCARD_UPDATE)).toBeUndefined()
    ;(net.live as FakeSession).events.avatar?.('zed', { type: 'image/png', data: Buffer.from('x') })
    const card = (
      await alice.request(
        xml('iq', { type: 'get', to: toJid('zed', DOMAIN) }, xml('vCard', { xmlns: NS_VCARD })),
      )
    ).getChild('vCard', NS_VCARD) as Element
    expect(card.getChildText('FN')).toBe('Zed')
    expect(card.getChild('PHOTO')).toBeUndefined()
  })

  it('relays contact presence and contact list changes', async () => {
    await start()
    const alice = await registered()
    const s = net.live as FakeSession
    s.events.presence('olga', true, 'back')
    const p = await alice.expectStanza(
      (x) => x.name === 'presence' && x.attrs.from === toJid('olga', DOMAIN) && x.attrs.type === undefined,
    )
    expect(p.getChildText('status')).toBe('back')
    s.events.contacts([
      { id: 'zed', online: true },
      { id: 'yan', online: false },
    ])
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('yan', DOMAIN) })
    await alice.expectStanza({ name: 'presence', type: 'unsubscribed', from: toJid('olga', DOMAIN) })
    await expect
      .poll(() => store.contacts('alice@localhost').length === 2, {
        message: 'the new contact list',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(store.contacts('alice@localhost').map((c) => c.legacyId)).toEqual(['yan', 'zed'])
  })
})

describe('bridge: sessions', () => {
  it('logs out when the user goes unavailable and in again on available presence', async () => {
    await start()
    const alice = await registered()
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    await expect
      .poll(() => gw.state('alice@localhost') === 'offline', {
        message: 'the logout',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(net.log.filter((l) => l === 'logout alice')).toHaveLength(1)
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('zed', DOMAIN) })
    alice.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'the login',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(net.log.filter((l) => l === 'login alice')).toHaveLength(2)
  })

  it('a legacy disconnect marks contacts unavailable, tells the user, and logs in again with backoff', async () => {
    // The jitter at its top: the first re-login waits 29 ms, long enough to see `retrying`.
    await start({}, false, { base: 30, cap: 100, random: () => 0.99 })
    const alice = await registered()
    await alice.expectStanza(
      (x) => x.name === 'presence' && x.attrs.from === toJid('zed', DOMAIN) && !x.attrs.type,
    )
    net.down = true
    ;(net.live as FakeSession).events.disconnected('server restart')
    const note = await alice.expectStanza({
      name: 'message',
      from: DOMAIN,
      body: /Disconnected from FakeNet: server restart/,
    })
    expect(note.attrs.type).toBe('chat')
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('zed', DOMAIN) })
    expect(gw.state('alice@localhost')).toBe('retrying')
    alice.send(chat(toJid('zed', DOMAIN), 'meanwhile', 'w1'))
    const w1 = await alice.expectStanza({ name: 'message', type: 'error', id: 'w1' })
    expect(w1.getChild('error')?.getChild('service-unavailable')).toBeDefined()
    expect(w1.getChild('error')?.attrs.type).toBe('wait')
    // The next attempt fails too (network down): a stable text, not the exception's message.
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /FakeNet cannot be reached right now/ })
    net.down = false
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: 'Reconnected to FakeNet.' }, 3000)
    expect(gw.state('alice@localhost')).toBe('online')
    // Messages flow again.
    alice.send(chat(toJid('zed', DOMAIN), 'back', 'b1'))
    await expect
      .poll(() => net.log.some((l) => l.endsWith(': back')), {
        message: 'the send after reconnect',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // The exception's own message never reached the user.
    expect(alice.received.some((s) => s.toString().includes('network unreachable'))).toBe(false)
  })

  it('retry.maxAttempts: after the last failed re-login the user is told, and only available presence logs in again', async () => {
    await start({}, false, { base: 20, cap: 40, maxAttempts: 2 })
    const alice = await registered()
    const logins = () => net.log.filter((l) => l === 'login alice').length
    expect(logins()).toBe(1)
    net.down = true
    ;(net.live as FakeSession).events.disconnected('server restart')
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /server restart\. Reconnecting in/ })
    await alice.expectStanza({
      name: 'message',
      from: DOMAIN,
      body: /FakeNet cannot be reached right now\. Reconnecting in/,
    })
    const note = await alice.expectStanza({ name: 'message', from: DOMAIN, body: /Gave up after 2 attempts/ })
    expect(note.getChildText('body')).toMatch(/cannot be reached right now.*go online again/)
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: DOMAIN })
    expect(gw.state('alice@localhost')).toBe('offline')
    expect(logins()).toBe(3)
    await sleep(150)
    expect(logins()).toBe(3) // no more attempts
    // A message does not log in again: it is refused until the user comes online again.
    net.down = false
    alice.send(chat(toJid('zed', DOMAIN), 'anyone?', 'g1'))
    const g1 = await alice.expectStanza({ name: 'message', type: 'error', id: 'g1' })
    expect(g1.getChild('error')?.getChild('service-unavailable')).toBeDefined()
    expect(logins()).toBe(3)
    alice.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'the login on presence',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(logins()).toBe(4)
    alice.send(chat(toJid('zed', DOMAIN), 'back', 'g2'))
    await expect
      .poll(() => net.log.some((l) => l.endsWith(': back')), {
        message: 'the send after the new login',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(() =>
      bridge(component({ service: srv.url, domain: DOMAIN, secret: SECRET }), {
        adapter: net.adapter(),
        store,
        retry: { maxAttempts: Number.NaN },
      }),
    ).toThrow('bridge.retry.maxAttempts: must be a number >= 0, got NaN')
    // The count starts again: a new disconnect gets its two attempts.
    net.down = true
    ;(net.live as FakeSession).events.disconnected('again')
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /again\. Reconnecting in/ })
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /Gave up after 2 attempts/ })
    expect(logins()).toBe(6)
  })

  it('logs every session in again after the component reconnects', async () => {
    await start()
    await registered()
    const before = net.log.filter((l) => l === 'login alice').length
    ;(srv.connectionsFor(DOMAIN)[0] as { drop(): void }).drop()
    await expect
      .poll(() => net.log.filter((l) => l === 'login alice').length === before + 1, {
        message: 're-login',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'online again',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(net.log).toContain('logout alice')
  })

  it('loginAtStart logs every registered user in when the component comes online', async () => {
    store.putRegistration('alice@localhost', { username: 'alice', password: 'pw' })
    store.putRegistration('carol@localhost', { username: 'carol', password: 'x' })
    const carol = srv.client('carol@localhost/r')
    await start({}, true)
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'alice online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // carol's stored credentials are refused: she is told, and not retried.
    await carol.expectStanza({ name: 'message', from: DOMAIN, body: /refused the login/ })
    expect(gw.state('carol@localhost')).toBe('offline')
  })
})

describe('bridge: storage and keys', () => {
  it('parses hex and base64 keys, from BRIDGE_KEY or BRIDGE_KEY_FILE, and refuses bad ones', () => {
    const hex = KEY.toString('hex')
    expect(parseKey(hex)).toEqual(KEY)
    expect(parseKey(KEY.toString('base64'))).toEqual(KEY)
    expect(() => parseKey('abc')).toThrow(BridgeKeyError)
    expect(() => parseKey(Buffer.alloc(16).toString('base64'))).toThrow(/32 bytes/)
    const dir = mkdtempSync(join(tmpdir(), 'bridge-key-'))
    writeFileSync(join(dir, 'raw'), KEY)
    writeFileSync(join(dir, 'text'), `${KEY.toString('base64')}\n`)
    expect(keyFromEnv({ BRIDGE_KEY_FILE: join(dir, 'raw') })).toEqual(KEY)
    expect(keyFromEnv({ BRIDGE_KEY_FILE: join(dir, 'text') })).toEqual(KEY)
    expect(keyFromEnv({ BRIDGE_KEY: hex, BRIDGE_KEY_FILE: '/nonexistent' })).toEqual(KEY)
    expect(() => keyFromEnv({})).toThrow(/BRIDGE_KEY/)
    expect(() => keyFromEnv({ BRIDGE_KEY_FILE: join(dir, 'missing') })).toThrow(/cannot read/)
  })

  it('AES-256-GCM: a wrong key or altered data fails loudly', () => {
    const sealed = encrypt(KEY, 'secret', 'alice@localhost')
    expect(decrypt(KEY, sealed, 'alice@localhost')).toBe('secret')
    expect(() => decrypt(Buffer.alloc(32, 1), sealed, 'alice@localhost')).toThrow(BridgeKeyError)
    expect(() => decrypt(KEY, sealed, 'bob@localhost')).toThrow(/wrong BRIDGE_KEY/)
    expect(() => decrypt(KEY, 'v1:AAAA')).toThrow(BridgeKeyError)
  })

  // The store itself (keys, registrations, contacts, id maps and their pruning): store-contract.ts.
  it('the relay works on with a pruned id map: a receipt to a pruned message is item-not-found', async () => {
    store.close()
    store = new SqliteStore({ key: KEY, maxMessages: 2 })
    const receipts: string[] = []
    await start({ receipts: { sendReceipt: async (_s, to, id) => void receipts.push(`${to}:${id}`) } })
    const alice = await registered()
    const s = net.live as FakeSession
    for (const id of ['Z1', 'Z2', 'Z3']) s.events.message({ from: 'zed', id, text: `msg ${id}` })
    await alice.expectStanza({ name: 'message', body: 'msg Z3' })
    await expect
      .poll(() => store.xmppIdOf('alice@localhost', 'zed', 'Z3') !== null, {
        message: 'the mapping',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(store.counts('alice@localhost').messages).toBe(2)
    const receipt = (id: string, of: string) =>
      xml('message', { to: toJid('zed', DOMAIN), id }, xml('received', { xmlns: NS_RECEIPTS, id: of }))
    alice.send(receipt('k1', 'Z1'))
    const e = await alice.expectStanza({ name: 'message', type: 'error', id: 'k1' })
    expect(e.getChild('error')?.getChild('item-not-found')).toBeDefined()
    alice.send(receipt('k3', 'Z3'))
    await expect
      .poll(() => receipts.includes('zed:Z3'), {
        message: 'the receipt of a kept message',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })
})
