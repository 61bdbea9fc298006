// The bridge's contact sync with XEP-0356: when the user's server granted the gateway roster
// `set`, contacts are added, renamed and removed with roster sets (group: the network name)
// instead of presence subscriptions; otherwise, and when the server refuses, as before.
import { bridge, SqliteStore } from '@satellite/bridge'
import { component, type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { NS_PRIVILEGE_2, NS_ROSTER } from '@satellite/privilege'
import { createServer, type ServerConnection, type TestServer } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { afterTest } from '../../../test-support/cleanup.js'
import { registerIq } from '../../../test-support/component.js'
import { sleep, until } from '../../../test-support/wait.js'
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
  afterTest(() => gw.stop())
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  const sets: Element[] = []
  const rosterOf = new Map<string, { name?: string; groups: string[]; subscription?: string }>()
  serve(conn, options.answer ?? 'ok', sets, rosterOf)
  if (roster !== undefined) {
    conn.send(
      xml(
        'message',
        { from: 'localhost', to: DOMAIN },
        xml('privilege', { xmlns: NS_PRIVILEGE_2 }, xml('perm', { access: 'roster', type: roster })),
      ),
    )
    await sleep(30)
  }
  const alice = srv.client('alice@localhost/phone')
  await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
  await until(() => gw.state('alice@localhost') === 'online', 'the legacy login')
  return { alice, sets, rosterOf, conn }
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
    await until(() => rosterOf.size === 3, 'three roster items')
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
    await until(() => rosterOf.size === 3, 'three roster items')
    const s = net.live as FakeSession
    s.events.contacts([
      { id: 'zed', name: 'Zed Z', online: true },
      { id: 'Ann Lee@work', name: 'Ann', online: true },
      { id: 'yan', name: 'Yan', online: false },
    ])
    await until(
      () => rosterOf.has(toJid('yan', DOMAIN)) && !rosterOf.has(toJid('olga', DOMAIN)),
      'the new list',
    )
    await until(() => rosterOf.get(toJid('zed', DOMAIN))?.name === 'Zed Z', 'the rename')
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
