// Legacy group chats bridged as XEP-0045 rooms.
import { type Bridge, bridge, NS_MUC, NS_MUC_USER, SqliteStore } from '@satellite/bridge'
import { type Component, component, type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { createServer, type SimulatedClient, type TestServer } from '@satellite/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'
import { optionErrorOf } from './support.js'

const DOMAIN = 'bridge.localhost'
const SECRET = 'bridge-secret'
const NS_REGISTER = 'jabber:iq:register'
const DISCO = 'http://jabber.org/protocol/disco#info'
const ROOM = toJid('#general', DOMAIN)
const NS_SID = 'urn:xmpp:sid:0'
const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'

let srv: TestServer
let xmpp: Component
let gw: Bridge
let net: FakeNetwork
const sent: string[] = []
let members = [
  { id: 'zed', nick: 'Zed' },
  { id: 'ann', nick: 'Ann' },
  { id: 'ann2', nick: 'Ann' },
]

beforeEach(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  net = new FakeNetwork()
  sent.length = 0
  members = [
    { id: 'zed', nick: 'Zed' },
    { id: 'ann', nick: 'Ann' },
    { id: 'ann2', nick: 'Ann' },
  ]
  xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  gw = gateway()
  await xmpp.start()
})
afterEach(async () => {
  await gw.close()
  await xmpp.stop()
  await srv.close()
})

function gateway(groupHistory?: number): Bridge {
  return bridge(xmpp, {
    ...(groupHistory === undefined ? {} : { groupHistory }),
    adapter: net.adapter({
      groups: {
        listGroups: async () => [
          { id: '#general', name: 'General', subject: 'Welcome' },
          { id: '#ops', nick: 'alice_legacy' },
        ],
        members: async (_s: FakeSession, group: string) => (group === '#general' ? members : []),
        sendGroupText: async (s: FakeSession, group: string, text: string) => {
          if (text === 'fail') throw new Error('legacy send failed')
          sent.push(`${s.user}→${group}: ${text}`)
          return `G${sent.length}`
        },
      },
    }),
    store: new SqliteStore({ key: Buffer.alloc(32, 7) }),
  })
}

/** Alice registers and comes online; resolves when her legacy session is up. */
async function online(): Promise<SimulatedClient> {
  const alice = srv.client('alice@localhost/phone')
  await alice.request(
    xml(
      'iq',
      { type: 'set', to: DOMAIN },
      xml('query', { xmlns: NS_REGISTER }, xml('username', {}, 'alice'), xml('password', {}, 'pw')),
    ),
  )
  alice.send(xml('presence', { to: DOMAIN }))
  // The gateway's answer to this presence (the registration's went to the bare JID).
  await alice.expectStanza({ name: 'presence', from: DOMAIN, to: 'alice@localhost/phone' })
  expect(gw.state('alice@localhost')).toBe('online')
  return alice
}

const join = (c: SimulatedClient, nick: string, room = ROOM) =>
  c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC })))

function codes(p: Element): string[] {
  return (p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => String(s.attrs.code))
}

describe('bridge: group chats (XEP-0045 rooms)', () => {
  it('join: occupants with unique nicks, then self-presence (110), then the subject', async () => {
    const alice = await online()
    join(alice, 'alice')
    const zed = await alice.expectStanza({ name: 'presence', from: `${ROOM}/Zed` })
    expect(zed.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs).toMatchObject({
      affiliation: 'member',
      role: 'participant',
    })
    await alice.expectStanza({ name: 'presence', from: `${ROOM}/Ann` })
    await alice.expectStanza({ name: 'presence', from: `${ROOM}/Ann (ann2)` })
    const self = await alice.expectStanza({ name: 'presence', from: `${ROOM}/alice` })
    expect(codes(self)).toEqual(['110'])
    const subject = await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(subject.getChildText('subject')).toBe('Welcome')
    // The order is the one XEP-0045 requires: occupants, self-presence, subject.
    const order = alice.received.filter((s) => String(s.attrs.from).startsWith(ROOM)).map((s) => s.attrs.from)
    expect(order).toEqual([`${ROOM}/Zed`, `${ROOM}/Ann`, `${ROOM}/Ann (ann2)`, `${ROOM}/alice`, ROOM])
  })

  it('the legacy nick wins over the asked one (status 210)', async () => {
    const alice = await online()
    join(alice, 'al', toJid('#ops', DOMAIN))
    const self = await alice.expectStanza({ name: 'presence', from: `${toJid('#ops', DOMAIN)}/alice_legacy` })
    expect(codes(self)).toEqual(['110', '210'])
  })

  it('groupchat both ways: sent to the legacy group and reflected with its id; legacy messages from the member nick', async () => {
    const alice = await online()
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'm1' }, xml('body', {}, 'hello all')))
    const echo = await alice.expectStanza({ name: 'message', type: 'groupchat', from: `${ROOM}/alice` })
    expect([echo.attrs.id, echo.getChildText('body')]).toEqual(['m1', 'hello all'])
    expect(sent).toEqual(['alice→#general: hello all'])

    const session = net.live as FakeSession
    session.events.groupMessage?.({ group: '#general', from: 'ann2', id: 'L9', text: 'hi alice' })
    const m = await alice.expectStanza({ name: 'message', type: 'groupchat', from: `${ROOM}/Ann (ann2)` })
    expect([m.attrs.id, m.getChildText('body')]).toEqual(['L9', 'hi alice'])
  })

  it('member changes and topic changes reach the room', async () => {
    const alice = await online()
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const session = net.live as FakeSession
    session.events.groupMembers?.('#general', [
      { id: 'zed', nick: 'Zed' },
      { id: 'bob', nick: 'Bob' },
    ])
    const gone = await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/Ann` })
    expect(gone.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs).toMatchObject({
      role: 'none',
      affiliation: 'member',
    })
    expect(codes(gone)).toEqual([])
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/Ann (ann2)` })
    await alice.expectStanza((s) => s.attrs.from === `${ROOM}/Bob` && s.attrs.type === undefined)
    // zed renames himself: status 303 with the new nick, then the new occupant.
    session.events.groupMembers?.('#general', [
      { id: 'zed', nick: 'Zedd' },
      { id: 'bob', nick: 'Bob' },
    ])
    const renamed = await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/Zed` })
    expect(codes(renamed)).toEqual(['303'])
    expect(renamed.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.nick).toBe('Zedd')
    await alice.expectStanza((x) => x.attrs.from === `${ROOM}/Zedd` && x.attrs.type === undefined)
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'z1', text: 'new name' })
    expect((await alice.expectStanza({ name: 'message', id: 'z1' })).attrs.from).toBe(`${ROOM}/Zedd`)
    session.events.groupSubject?.('#general', 'New topic')
    const subject = await alice.expectStanza(
      (s) => s.attrs.from === ROOM && s.getChildText('subject') === 'New topic',
    )
    expect(subject.attrs.type).toBe('groupchat')
  })

  it('errors: unknown group (item-not-found), sending before joining (not-acceptable), topic change (forbidden), private messages, legacy failure', async () => {
    const alice = await online()
    join(alice, 'alice', toJid('#nope', DOMAIN))
    const err = await alice.expectStanza({
      name: 'presence',
      type: 'error',
      from: `${toJid('#nope', DOMAIN)}/alice`,
    })
    expect(err.getChild('error')?.getChildElements()[0]?.name).toBe('item-not-found')

    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'early' }, xml('body', {}, 'x')))
    const early = await alice.expectStanza({ name: 'message', type: 'error', id: 'early' })
    expect(early.getChild('error')?.getChildElements()[0]?.name).toBe('not-acceptable')

    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'subj' }, xml('subject', {}, 'mine')))
    const subj = await alice.expectStanza({ name: 'message', type: 'error', id: 'subj' })
    expect(subj.getChild('error')?.getChildElements()[0]?.name).toBe('forbidden')

    alice.send(xml('message', { to: `${ROOM}/Zed`, type: 'chat', id: 'pm' }, xml('body', {}, 'psst')))
    const pm = await alice.expectStanza({ name: 'message', type: 'error', id: 'pm' })
    expect(pm.getChild('error')?.getChildElements()[0]?.name).toBe('feature-not-implemented')

    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'f' }, xml('body', {}, 'fail')))
    const failed = await alice.expectStanza({ name: 'message', type: 'error', id: 'f' })
    expect(failed.getChild('error')?.getChildElements()[0]?.name).toBe('undefined-condition')
    expect(sent).toEqual([])
  })

  it('room disco says conference/text with the MUC feature; the gateway advertises MUC too; contacts stay clients', async () => {
    const alice = await online()
    const info = (
      await alice.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(info.getChild('identity')?.attrs).toMatchObject({
      category: 'conference',
      type: 'text',
      name: 'General',
    })
    expect(info.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_MUC)
    const gwInfo = (
      await alice.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(gwInfo.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_MUC)
    const contact = (
      await alice.request(
        xml('iq', { type: 'get', to: toJid('zed', DOMAIN) }, xml('query', { xmlns: DISCO })),
      )
    ).getChild('query') as Element
    expect(contact.getChild('identity')?.attrs.category).toBe('client')
    // The room is alice's view of her legacy group: for bob (not registered) the address is a contact.
    const bob = srv.client('bob@localhost/r')
    const bobInfo = (
      await bob.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(bobInfo.getChild('identity')?.attrs.category).toBe('client')
  })

  it("the gateway's disco#items lists the user's rooms (only to that user)", async () => {
    const alice = await online()
    const items = (
      await alice.request(
        xml(
          'iq',
          { type: 'get', to: DOMAIN },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
        ),
      )
    ).getChild('query') as Element
    expect(items.getChildren('item').map((i) => [i.attrs.jid, i.attrs.name])).toEqual([
      [ROOM, 'General'],
      [toJid('#ops', DOMAIN), '#ops'],
    ])
    const bob = srv.client('bob@localhost/r')
    const none = (
      await bob.request(
        xml(
          'iq',
          { type: 'get', to: DOMAIN },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
        ),
      )
    ).getChild('query') as Element
    expect(none.getChildren('item')).toEqual([])
  })

  it('discussion history on join: kept while not joined, own messages too, with delays, before the subject; <history/> limits', async () => {
    const alice = await online()
    const session = net.live as FakeSession
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      session.events.groupMessage?.({ group: '#general', from: i === 1 ? 'ann2' : 'zed', id: `H${i}`, text })
    }
    await new Promise((r) => setTimeout(r, 20))
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const fromRoom = alice.received.filter(
      (s) => s.name === 'message' && String(s.attrs.from).startsWith(ROOM),
    )
    expect(fromRoom.map((m) => [m.attrs.from, m.getChildText('body') ?? 'SUBJECT'])).toEqual([
      [`${ROOM}/Zed`, 'one'],
      [`${ROOM}/Ann (ann2)`, 'two'],
      [`${ROOM}/Zed`, 'three'],
      [ROOM, 'SUBJECT'],
    ])
    const delay = fromRoom[0]?.getChild('delay', 'urn:xmpp:delay')
    expect(delay?.attrs.from).toBe(ROOM)
    expect(Date.now() - Date.parse(String(delay?.attrs.stamp))).toBeLessThan(5000)
    expect(fromRoom.map((m) => m.attrs.id).slice(0, 3)).toEqual(['H0', 'H1', 'H2'])

    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'mine' }, xml('body', {}, 'four')))
    await alice.expectStanza({ name: 'message', id: 'mine', from: `${ROOM}/alice` })
    // A second resource asks for the last two only; a third for none.
    const laptop = srv.client('alice@localhost/laptop')
    laptop.send(
      xml(
        'presence',
        { to: `${ROOM}/alice` },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxstanzas: '2' })),
      ),
    )
    await laptop.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(
      laptop.received.filter((s) => s.getChild('delay') !== undefined).map((m) => m.getChildText('body')),
    ).toEqual(['three', 'four'])
    const tablet = srv.client('alice@localhost/tablet')
    tablet.send(
      xml(
        'presence',
        { to: `${ROOM}/alice` },
        xml('x', { xmlns: NS_MUC }, xml('history', { maxchars: '0' })),
      ),
    )
    await tablet.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(tablet.received.filter((s) => s.getChild('delay') !== undefined)).toEqual([])
  })

  it('groupHistory bounds what is kept (and must be an integer >= 0)', async () => {
    expect(optionErrorOf(() => gateway(-1))).toBe('bridge.groupHistory: must be an integer >= 0, got -1')
    expect(optionErrorOf(() => gateway(1.5))).toBe('bridge.groupHistory: must be an integer >= 0, got 1.5')
    expect(() =>
      bridge(xmpp, {
        adapter: net.adapter(),
        store: new SqliteStore({ key: Buffer.alloc(32, 7) }),
        retry: { base: 0 },
      }),
    ).toThrow('bridge.retry.base: must be a number of ms > 0, got 0')
    await gw.close()
    gw = gateway(2)
    const alice = await online()
    const session = net.live as FakeSession
    for (const text of ['a', 'b', 'c', 'd'])
      session.events.groupMessage?.({ group: '#general', from: 'zed', id: text, text })
    await new Promise((r) => setTimeout(r, 20))
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const history = alice.received
      .filter((m) => m.getChild('delay') !== undefined)
      .map((m) => m.getChildText('body'))
    expect(history).toEqual(['c', 'd'])
  })

  it('no leak to the legacy group: chat to an occupant or to the room address is refused, joined or not', async () => {
    const alice = await online()
    const errorOf = async (id: string) =>
      (await alice.expectStanza({ name: 'message', type: 'error', id }))
        .getChild('error')
        ?.getChildElements()[0]?.name
    alice.send(xml('message', { to: `${ROOM}/Zed`, type: 'chat', id: 'pm1' }, xml('body', {}, 'psst')))
    expect(await errorOf('pm1')).toBe('feature-not-implemented')
    alice.send(xml('message', { to: ROOM, type: 'chat', id: 'pm2' }, xml('body', {}, 'psst')))
    expect(await errorOf('pm2')).toBe('not-acceptable')
    expect(net.log.filter((l) => l.startsWith('send '))).toEqual([])
    expect(sent).toEqual([])
  })

  it('joins and leaves of one room are serialised: two resources at once, a double join, a leave right after the join', async () => {
    const alice = await online()
    const laptop = srv.client('alice@localhost/laptop')
    join(alice, 'alice')
    join(laptop, 'alice')
    join(laptop, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    await laptop.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    await new Promise((r) => setTimeout(r, 30))
    // The laptop's second join is a re-join (as in Prosody): its self-presence again, one room, two resources.
    const selves = laptop.received.filter((x) => x.name === 'presence' && x.attrs.from === `${ROOM}/alice`)
    expect(selves.map(codes)).toEqual([['110'], ['110']])
    expect(gw.sizes().groups).toMatchObject({ rooms: 1, roomResources: 2 })
    const session = net.live as FakeSession
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'both', text: 'to both' })
    await alice.expectStanza({ name: 'message', id: 'both' })
    await laptop.expectStanza({ name: 'message', id: 'both' })

    const tablet = srv.client('alice@localhost/tablet')
    join(tablet, 'alice')
    tablet.send(xml('presence', { to: `${ROOM}/alice`, type: 'unavailable' }))
    await tablet.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/alice` })
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'after', text: 'after' })
    await alice.expectStanza({ name: 'message', id: 'after' })
    await new Promise((r) => setTimeout(r, 30))
    expect(tablet.received.filter((x) => x.attrs.id === 'after')).toEqual([])
    // A nick change is refused (the nick is the legacy network's).
    alice.send(xml('presence', { to: `${ROOM}/other` }))
    const refused = await alice.expectStanza({ name: 'presence', type: 'error', from: `${ROOM}/other` })
    expect(refused.getChild('error')?.getChildElements()[0]?.name).toBe('not-acceptable')
  })

  it('after logout no room is offered (disco does not log the user in); a new registration starts without history', async () => {
    const alice = await online()
    const session = net.live as FakeSession
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'old', text: 'old news' })
    await gw.logout('alice@localhost')
    const logins = net.log.filter((l) => l.startsWith('login')).length
    const items = (
      await alice.request(
        xml(
          'iq',
          { type: 'get', to: DOMAIN },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' }),
        ),
      )
    ).getChild('query') as Element
    expect(items.getChildren('item')).toEqual([])
    const info = (
      await alice.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: DISCO })))
    ).getChild('query') as Element
    expect(info.getChild('identity')?.attrs.category).toBe('client')
    expect(net.log.filter((l) => l.startsWith('login'))).toHaveLength(logins)

    await alice.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
    )
    await online()
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(alice.received.filter((x) => x.getChild('delay') !== undefined)).toEqual([])
  })

  it('members who are contacts carry their legacy presence in the room (away when offline, status text)', async () => {
    const alice = await online()
    join(alice, 'alice')
    const zed = await alice.expectStanza({ name: 'presence', from: `${ROOM}/Zed` })
    expect(zed.getChild('show')).toBeUndefined() // zed is online on the fake network
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const session = net.live as FakeSession
    session.events.presence('zed', false, 'gone fishing')
    const away = await alice.expectStanza(
      (x) => x.attrs.from === `${ROOM}/Zed` && x.getChildText('show') === 'away',
    )
    expect(away.attrs.type).toBeUndefined()
    expect(away.getChildText('status')).toBe('gone fishing')
    session.events.presence('zed', true)
    const back = await alice.expectStanza(
      (x) => x.attrs.from === `${ROOM}/Zed` && x !== zed && x !== away && x.getChild('show') === undefined,
    )
    expect(back.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role).toBe('participant')
  })

  it('rooms have what the engine gives: stanza-id, occupant-id (kept across a nick change), self-ping, MAM with paging', async () => {
    const alice = await online()
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const session = net.live as FakeSession
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'a1', text: 'first' })
    const first = await alice.expectStanza({ name: 'message', id: 'a1' })
    expect(first.getChild('stanza-id', NS_SID)?.attrs.by).toBe(ROOM)
    const zedId = first.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id
    expect(zedId).toBeTruthy()
    session.events.groupMembers?.('#general', [{ id: 'zed', nick: 'Zedd' }])
    const renamed = await alice.expectStanza((x) => x.attrs.from === `${ROOM}/Zedd` && x.name === 'presence')
    expect(renamed.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).toBe(zedId)
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'a2', text: 'second' })
    await alice.expectStanza({ name: 'message', id: 'a2' })
    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'a3' }, xml('body', {}, 'third')))
    await alice.expectStanza({ name: 'message', id: 'a3', from: `${ROOM}/alice` })

    const ping = await alice.request(
      xml('iq', { type: 'get', to: `${ROOM}/alice` }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(ping.attrs.type).toBe('result')
    // The last page of two, then the page before it.
    const page = async (before: string) => {
      const queryid = `q${before}`
      const fin = await alice.request(
        xml(
          'iq',
          { type: 'set', to: ROOM },
          xml(
            'query',
            { xmlns: NS_MAM, queryid },
            xml('set', { xmlns: NS_RSM }, xml('max', {}, '2'), xml('before', {}, before)),
          ),
        ),
      )
      const got = alice.received.filter((m) => m.getChild('result', NS_MAM)?.attrs.queryid === queryid)
      const bodies = got.map((m) =>
        m.getChild('result', NS_MAM)?.getChild('forwarded')?.getChild('message')?.getChildText('body'),
      )
      const set = fin.getChild('fin', NS_MAM)?.getChild('set', NS_RSM)
      return {
        bodies,
        first: set?.getChildText('first') ?? '',
        complete: fin.getChild('fin')?.attrs.complete,
      }
    }
    const last = await page('')
    expect(last.bodies).toEqual(['second', 'third'])
    const before = await page(last.first)
    expect([before.bodies, before.complete]).toEqual([['first'], 'true'])
  })

  it('leave (110), and every room closes (110, 332) when the legacy session ends', async () => {
    const alice = await online()
    join(alice, 'alice')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    const laptop = srv.client('alice@localhost/laptop')
    join(laptop, 'alice')
    await laptop.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })

    laptop.send(xml('presence', { to: `${ROOM}/alice`, type: 'unavailable' }))
    const left = await laptop.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/alice` })
    expect(codes(left)).toEqual(['110'])
    // After leaving, the laptop gets nothing more from the room; the phone still does.
    const session = net.live as FakeSession
    session.events.groupMessage?.({ group: '#general', from: 'zed', id: 'L1', text: 'still here?' })
    await alice.expectStanza({ name: 'message', body: 'still here?' })

    await gw.logout('alice@localhost')
    const closed = await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/alice` })
    expect(codes(closed)).toEqual(['110', '332'])
    expect(laptop.received.filter((s) => s.getChildText('body') === 'still here?')).toHaveLength(0)
  })
})
