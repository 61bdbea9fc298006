// The bridge's contact sync with XEP-0356: when the user's server granted the gateway roster
// `set`, contacts are added, renamed and removed with roster sets (group: the network name)
// instead of presence subscriptions; otherwise, and when the server refuses, as before.
import { bridge, SqliteStore } from '@satellite/bridge'
import { component, type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { NS_PRIVILEGE_2, NS_ROSTER } from '@satellite/privilege'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import { createServer, type ServerConnection, type TestServer } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'

const DOMAIN = 'bridge.localhost'
const SECRET = 'bridge-secret'

let srv: TestServer
let net: FakeNetwork
let store: SqliteStore

beforeEach(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  net = new FakeNetwork()
  store = new SqliteStore({ key: Buffer.alloc(32, 7) })
  afterTest(
    async () => {
      await srv.close()
      store.close()
    },
    { strict: true },
  )
})

type Answer = 'ok' | 'forbidden'

/**
 * Starts the bridge; the server side (the test) announces `roster` (if given) and answers
 * roster sets to alice's bare JID like a server with mod_privilege, keeping her roster.
 */
async function start(
  roster: string | undefined,
  options: { answer?: Answer; privilegedRoster?: boolean } = {},
) {
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  const gw = bridge(xmpp, {
    adapter: net.adapter(),
    store,
    ...(options.privilegedRoster === undefined ? {} : { privilegedRoster: options.privilegedRoster }),
  })
  afterTest(() => xmpp.stop())
  afterTest(() => gw.close())
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  const sets: Element[] = []
  const rosterOf = new Map<string, { name?: string; groups: string[]; subscription?: string }>()
  serve(conn, options.answer ?? 'ok', sets, rosterOf)
  if (roster !== undefined) {
    announce(conn, roster)
    await sleep(30)
  }
  const alice = srv.client('alice@localhost/phone')
  await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
  await expect
    .poll(() => gw.state('alice@localhost') === 'online', {
      message: 'the legacy login',
      timeout: 3000,
      interval: 5,
    })
    .toBe(true)
  return { alice, sets, rosterOf, conn }
}

/** The server's XEP-0356 announcement of roster access `roster` to the gateway. */
function announce(conn: ServerConnection, roster: string) {
  conn.send(
    xml(
      'message',
      { from: 'localhost', to: DOMAIN },
      xml('privilege', { xmlns: NS_PRIVILEGE_2 }, xml('perm', { access: 'roster', type: roster })),
    ),
  )
}

function serve(
  conn: ServerConnection,
  answer: Answer,
  sets: Element[],
  rosterOf: Map<string, { name?: string; groups: string[]; subscription?: string }>,
) {
  conn.on('stanza', (iq) => {
    if (iq.name !== 'iq' || iq.attrs.type !== 'set' || iq.getChild('query', NS_ROSTER) === undefined) return
    sets.push(iq)
    const base = { from: iq.attrs.to, to: iq.attrs.from, id: iq.attrs.id }
    if (answer === 'forbidden') {
      conn.send(
        xml(
          'iq',
          { ...base, type: 'error' },
          xml('error', { type: 'auth' }, xml('forbidden', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
        ),
      )
      return
    }
    const item = iq.getChild('query', NS_ROSTER)?.getChild('item') as Element
    if (item.attrs.subscription === 'remove') rosterOf.delete(item.attrs.jid as string)
    else {
      rosterOf.set(item.attrs.jid as string, {
        ...(item.attrs.name === undefined ? {} : { name: item.attrs.name as string }),
        groups: item.getChildren('group').map((g) => g.getText()),
        subscription: item.attrs.subscription as string,
      })
    }
    conn.send(xml('iq', { ...base, type: 'result' }))
  })
}

const subscriptions = (alice: { received: Element[] }, type: string) =>
  alice.received
    .filter((p) => p.name === 'presence' && p.attrs.type === type && p.attrs.from !== DOMAIN)
    .map((p) => p.attrs.from)

describe('bridge: contacts with XEP-0356 roster permission', () => {
  it('adds contacts with roster sets (names, group = network name), no subscription requests', async () => {
    const { alice, sets, rosterOf } = await start('both')
    await expect
      .poll(() => rosterOf.size === 3, { message: 'three roster items', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(sets.every((iq) => iq.attrs.to === 'alice@localhost' && iq.attrs.from === DOMAIN)).toBe(true)
    expect(rosterOf.get(toJid('zed', DOMAIN))).toEqual({
      name: 'Zed',
      groups: ['FakeNet'],
      subscription: 'both',
    })
    expect(rosterOf.get(toJid('Ann Lee@work', DOMAIN))).toEqual({
      name: 'Ann',
      groups: ['FakeNet'],
      subscription: 'both',
    })
    expect(rosterOf.get(toJid('olga', DOMAIN))).toEqual({ groups: ['FakeNet'], subscription: 'both' })
    // contacts' presence still flows
    await alice.expectStanza((p) => p.name === 'presence' && p.attrs.from === toJid('zed', DOMAIN))
    await sleep(50)
    expect(subscriptions(alice, 'subscribe')).toEqual([])
    expect(store.contacts('alice@localhost').map((c) => c.legacyId)).toEqual(['Ann Lee@work', 'olga', 'zed'])
  })

  it('renames and removes with roster sets, no unsubscribe presences', async () => {
    const { alice, rosterOf } = await start('set')
    await expect
      .poll(() => rosterOf.size === 3, { message: 'three roster items', timeout: 3000, interval: 5 })
      .toBe(true)
    const s = net.live as FakeSession
    s.events.contacts([
      { id: 'zed', name: 'Zed Z', online: true },
      { id: 'Ann Lee@work', name: 'Ann', online: true },
      { id: 'yan', name: 'Yan', online: false },
    ])
    await expect
      .poll(() => rosterOf.has(toJid('yan', DOMAIN)) && !rosterOf.has(toJid('olga', DOMAIN)), {
        message: 'the new list',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await expect
      .poll(() => rosterOf.get(toJid('zed', DOMAIN))?.name === 'Zed Z', {
        message: 'the rename',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect([...rosterOf.keys()].sort()).toEqual(
      [toJid('Ann Lee@work', DOMAIN), toJid('yan', DOMAIN), toJid('zed', DOMAIN)].sort(),
    )
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('olga', DOMAIN) })
    await sleep(50)
    expect(subscriptions(alice, 'unsubscribe')).toEqual([])
    expect(subscriptions(alice, 'unsubscribed')).toEqual([])
    expect(subscriptions(alice, 'subscribe')).toEqual([])
  })
})

describe('bridge: roster permission granted after the contact sync', () => {
  // Grants are forgotten when the component goes offline and announced again after the
  // handshake, while sessions log in at once (onOnline, loginAtStart): the sync may come first.
  it('sets the contacts that were sent a subscribe, removes those that were unsubscribed, once granted', async () => {
    const { alice, sets, rosterOf, conn } = await start(undefined)
    for (const id of ['zed', 'Ann Lee@work', 'olga']) {
      await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid(id, DOMAIN) })
    }
    // still no grant: a rename is not sent, a removal is an unsubscribe
    const s = net.live as FakeSession
    s.events.contacts([
      { id: 'zed', name: 'Zed Z', online: true },
      { id: 'Ann Lee@work', name: 'Ann', online: true },
    ])
    await alice.expectStanza({ name: 'presence', type: 'unsubscribe', from: toJid('olga', DOMAIN) })
    expect(sets).toEqual([])
    // the user had olga in the roster (she answered the subscription request)
    rosterOf.set(toJid('olga', DOMAIN), { groups: [], subscription: 'both' })
    announce(conn, 'both')
    await expect
      .poll(() => rosterOf.size === 2 && rosterOf.get(toJid('zed', DOMAIN))?.name === 'Zed Z', {
        message: 'the contacts set, olga removed',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(rosterOf.get(toJid('Ann Lee@work', DOMAIN))).toEqual({
      name: 'Ann',
      groups: ['FakeNet'],
      subscription: 'both',
    })
    expect(rosterOf.has(toJid('olga', DOMAIN))).toBe(false)
    expect(sets).toHaveLength(3)
    // The rename is stored once the server has answered the roster set.
    await expect
      .poll(() => store.contacts('alice@localhost').some((c) => c.name === 'Zed Z'), {
        message: 'the rename stored',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(store.contacts('alice@localhost')).toEqual([
      { legacyId: 'Ann Lee@work', name: 'Ann', subscribed: true },
      { legacyId: 'zed', name: 'Zed Z', subscribed: true },
    ])
    // done once: a re-announcement (e.g. after a reconnect) sets nothing again
    announce(conn, 'both')
    await sleep(50)
    expect(sets).toHaveLength(3)
  })

  it('after a component reconnect, a contact synced before the new announcement is set once it comes', async () => {
    const { alice, sets, rosterOf, conn } = await start('both')
    await expect
      .poll(() => rosterOf.size === 3, { message: 'three roster items', timeout: 3000, interval: 5 })
      .toBe(true)
    net.contacts.push({ id: 'yan', name: 'Yan', online: true })
    const next = srv.waitForComponent(DOMAIN, { fresh: true, timeout: 15_000 })
    conn.drop('fin')
    const again = await next
    serve(again, 'ok', sets, rosterOf)
    // the session logs in again at once; no grant yet: yan gets a subscription request
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('yan', DOMAIN) }, 15_000)
    expect(rosterOf.has(toJid('yan', DOMAIN))).toBe(false)
    announce(again, 'both')
    await expect
      .poll(() => rosterOf.get(toJid('yan', DOMAIN))?.name === 'Yan', {
        message: 'yan in the roster',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(rosterOf.size).toBe(4)
  })

  it('a contact added while granted only roster get is set when set is granted', async () => {
    const { alice, rosterOf, conn } = await start('get')
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('olga', DOMAIN) })
    expect(rosterOf.size).toBe(0)
    announce(conn, 'set')
    await expect
      .poll(() => rosterOf.size === 3, { message: 'three roster items', timeout: 3000, interval: 5 })
      .toBe(true)
  })

  it('a contact first seen by its message gets a roster set when granted', async () => {
    const { alice, rosterOf } = await start('both')
    await expect
      .poll(() => rosterOf.size === 3, { message: 'three roster items', timeout: 3000, interval: 5 })
      .toBe(true)
    ;(net.live as FakeSession).events.message({ from: 'newbie', id: 'L1', text: 'hello' })
    await alice.expectStanza({ name: 'message', from: toJid('newbie', DOMAIN) })
    await expect
      .poll(() => rosterOf.has(toJid('newbie', DOMAIN)), {
        message: 'the roster set',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await sleep(50)
    expect(subscriptions(alice, 'subscribe')).toEqual([])
  })
})

describe('bridge: contacts without roster permission', () => {
  const old = async (
    roster: string | undefined,
    options: { answer?: Answer; privilegedRoster?: boolean },
  ) => {
    const { alice, sets } = await start(roster, options)
    for (const id of ['zed', 'Ann Lee@work', 'olga']) {
      await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid(id, DOMAIN) })
    }
    return { alice, sets }
  }

  it('no announcement: presence subscription requests, no roster iq', async () => {
    const { sets } = await old(undefined, {})
    expect(sets).toEqual([])
  })

  it('roster get only: presence subscription requests, no roster iq', async () => {
    const { sets } = await old('get', {})
    expect(sets).toEqual([])
  })

  it('granted but the server refuses the roster set: falls back to subscription requests', async () => {
    const { sets } = await old('both', { answer: 'forbidden' })
    expect(sets.length).toBe(3)
  })

  it('privilegedRoster: false keeps subscriptions even when granted', async () => {
    const { sets } = await old('both', { privilegedRoster: false })
    expect(sets).toEqual([])
  })
})
