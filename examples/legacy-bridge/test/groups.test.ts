// The simulated network's groups bridged as XEP-0045 rooms: the network (GROUPS, MEMBERS, GSEND,
// * GMSG/MEMBERS/TOPIC), the reference adapter's `groups` capability, and the bridge, through
// the embedded server.
import { type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import type { SimulatedClient } from '@satellite/testing'
import { beforeEach, describe, expect, it } from 'vitest'
import { LegacyClient } from '../src/network/adapter.js'
import { DOMAIN, type Setup, startBridge } from './helpers.js'

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
// '#' is not one of the characters XEP-0106 escapes: the room of '#general' is '#general@gateway'.
const ROOM = toJid('#general', DOMAIN)

let t: Setup
beforeEach(async () => {
  t = await startBridge()
})

/** zed on the legacy network, recording what reaches him in groups. */
async function zed(): Promise<{ client: LegacyClient; inbox: string[] }> {
  const inbox: string[] = []
  const client = await LegacyClient.login('127.0.0.1', t.net.port, 'zed', 'pw2', {
    groupMessage: (m) => inbox.push(`${m.group} ${m.from} ${m.id}: ${m.text}`),
    groupSubject: (g, s) => inbox.push(`${g} topic: ${s}`),
    groupMembers: (g, members) => inbox.push(`${g} members: ${members.map((m) => m.id).join(',')}`),
    disconnected: () => {},
  })
  afterTest(() => client.logout())
  return { client, inbox }
}

/** alice registers her legacy account (which logs her in). */
async function registered(): Promise<SimulatedClient> {
  const alice = t.srv.client('alice@localhost/phone')
  await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
  await expect
    .poll(() => t.net.online().includes('alice'), {
      message: 'alice on the network',
      timeout: 3000,
      interval: 5,
    })
    .toBe(true)
  return alice
}

const join = (c: SimulatedClient, nick: string, room = ROOM) =>
  c.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC })))

const codes = (p: Element) =>
  (p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => String(s.attrs.code))

/** alice joins #general as `nick` and waits for the subject (the end of the join). */
async function joined(alice: SimulatedClient, nick = 'alice'): Promise<Element> {
  join(alice, nick)
  return alice.expectStanza(
    (s) => s.name === 'message' && s.attrs.from === ROOM && s.getChild('subject') !== undefined,
  )
}

describe('the network: groups', () => {
  it('GROUPS lists the groups of the user; MEMBERS the others; GSEND reaches the online members but the sender', async () => {
    t.net.addGroup('#ops', 'Ops', ['alice', 'yan'])
    const z = await zed()
    expect(await z.client.groups()).toEqual([
      { id: '#general', name: 'General', subject: 'Welcome to #general', nick: 'zed' },
    ])
    expect((await z.client.members('#general')).map((m) => m.id)).toEqual(['alice', 'yan', 'Ann Lee'])
    await expect(z.client.members('#ops')).rejects.toThrow(/zed is not a member of #ops/)
    await expect(z.client.say('#ops', 'hi')).rejects.toThrow(/zed is not a member of #ops/)
    await expect(z.client.say('#nope', 'hi')).rejects.toThrow(/no group #nope/)

    const annInbox: string[] = []
    const ann = await LegacyClient.login('127.0.0.1', t.net.port, 'Ann Lee', 'pw4', {
      groupMessage: (m) => annInbox.push(`${m.group} ${m.from}: ${m.text}`),
      disconnected: () => {},
    })
    afterTest(() => ann.logout())
    const id = await ann.say('#general', 'hello #general, 100% = all')
    expect(id).toMatch(/^g\d+$/)
    await expect
      .poll(() => z.inbox.includes(`#general Ann Lee ${id}: hello #general, 100% = all`), {
        message: 'zed to get it',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // From outside (an offline member may speak too); the sender never gets its own message.
    t.net.say('#general', 'zed', 'from zed')
    await expect
      .poll(() => annInbox.includes('#general zed: from zed'), {
        message: 'Ann to get it',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(z.inbox.some((l) => l.includes('from zed'))).toBe(false)
    expect(annInbox).toEqual(['#general zed: from zed'])
    expect(() => t.net.say('#ops', 'zed', 'x')).toThrow(/not a member/)

    t.net.setTopic('#general', 'new topic')
    await expect
      .poll(() => z.inbox.includes('#general topic: new topic'), {
        message: 'the topic push',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    t.net.addUser('wes', 'pw5')
    await expect
      .poll(() => z.inbox.includes('#general members: alice,yan,Ann Lee,wes'), {
        message: 'the members push (every user is a member of #general)',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })
})

describe('legacy-bridge: groups as XEP-0045 rooms', () => {
  it('joining #general: the other members as occupants, self-presence with 110, then the subject; disco says conference/text', async () => {
    const alice = await registered()
    join(alice, 'alice')
    for (const nick of ['zed', 'yan', 'Ann Lee']) {
      const p = await alice.expectStanza({ name: 'presence', from: `${ROOM}/${nick}` })
      expect(p.attrs.type).toBeUndefined()
      expect(p.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role).toBe('participant')
    }
    const self = await alice.expectStanza({ name: 'presence', from: `${ROOM}/alice` })
    expect(codes(self)).toEqual(['110'])
    const subject = await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(subject.getChildText('subject')).toBe('Welcome to #general')
    const order = alice.received.filter((s) => String(s.attrs.from).startsWith(ROOM)).map((s) => s.attrs.from)
    expect(order).toEqual([`${ROOM}/zed`, `${ROOM}/yan`, `${ROOM}/Ann Lee`, `${ROOM}/alice`, ROOM])

    const info = (
      await alice.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_DISCO_INFO })))
    ).getChild('query')
    expect(info?.getChild('identity')?.attrs).toMatchObject({
      category: 'conference',
      type: 'text',
      name: 'General',
    })
    expect(info?.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_MUC)
  })

  it('the network nick wins over the asked one (210); unknown groups, and the percent-encoded address, are item-not-found', async () => {
    const alice = await registered()
    join(alice, 'Alice in Chains')
    const self = await alice.expectStanza({ name: 'presence', from: `${ROOM}/alice` })
    expect(codes(self)).toEqual(['110', '210'])

    for (const room of [toJid('#nope', DOMAIN), `%23general@${DOMAIN}`]) {
      join(alice, 'alice', room)
      const err = await alice.expectStanza({ name: 'presence', type: 'error', from: `${room}/alice` })
      expect(err.getChild('error')?.getChild('item-not-found')).toBeDefined()
    }
    // Groups alice is not a member of are not hers either.
    t.net.addGroup('#ops', 'Ops', ['zed'])
    join(alice, 'alice', toJid('#ops', DOMAIN))
    const ops = await alice.expectStanza({
      name: 'presence',
      type: 'error',
      from: `${toJid('#ops', DOMAIN)}/alice`,
    })
    expect(ops.getChild('error')?.getChild('item-not-found')).toBeDefined()
  })

  it("alice's groupchat reaches zed on the network and is reflected to her; zed's reaches her from his nick", async () => {
    const z = await zed()
    const alice = await registered()
    await joined(alice)
    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'x1' }, xml('body', {}, 'hi all ✓')))
    const echo = await alice.expectStanza({ name: 'message', type: 'groupchat', from: `${ROOM}/alice` })
    expect([echo.attrs.id, echo.getChildText('body')]).toEqual(['x1', 'hi all ✓'])
    await expect
      .poll(() => z.inbox.some((l) => /^#general alice g\d+: hi all ✓$/.test(l)), {
        message: 'zed to get it',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)

    const id = await z.client.say('#general', 'hello alice, 50% off')
    const m = await alice.expectStanza({ name: 'message', type: 'groupchat', from: `${ROOM}/zed` })
    expect([m.attrs.id, m.getChildText('body')]).toEqual([id, 'hello alice, 50% off'])
    // A member who is offline on the network (yan) still speaks through the network's API.
    t.net.say('#general', 'yan', 'from yan')
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: `${ROOM}/yan`, body: 'from yan' })
  })

  it('topic and member changes on the network show in the room; a kick closes it (110 + 332)', async () => {
    const alice = await registered()
    await joined(alice)
    t.net.setTopic('#general', 'Release day')
    const subject = await alice.expectStanza(
      (s) => s.name === 'message' && s.attrs.from === ROOM && s.getChildText('subject') === 'Release day',
    )
    expect(subject.attrs.type).toBe('groupchat')

    t.net.addUser('wes', 'pw5')
    const wes = await alice.expectStanza({ name: 'presence', from: `${ROOM}/wes` })
    expect(wes.attrs.type).toBeUndefined()
    t.net.setMembers('#general', ['alice', 'zed', 'Ann Lee', 'wes'])
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/yan` })

    t.net.kick('alice', 'maintenance')
    const closed = await alice.expectStanza({ name: 'presence', type: 'unavailable', from: `${ROOM}/alice` })
    expect(codes(closed)).toEqual(['110', '332'])
  })

  // Found through real servers (e2e/test/bridge-groups.test.ts): clients join their rooms right
  // after their initial presence, while that presence is still logging them in.
  it('a join that arrives while the legacy login is in progress waits for it (clients auto-join right after coming online)', async () => {
    const alice = await registered()
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    await expect
      .poll(() => !t.net.online().includes('alice'), { message: 'the logout', timeout: 3000, interval: 5 })
      .toBe(true)
    alice.send(xml('presence', { to: DOMAIN }))
    join(alice, 'alice')
    const self = await alice.expectStanza((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/alice`)
    expect([self.attrs.type, codes(self)]).toEqual([undefined, ['110']])
  })

  it("Prosody's bare-JID unavailable acknowledging the gateway's subscribe does not log the user out", async () => {
    // mod_presence answers an inbound subscribe it has to ask the user about with
    // <presence type='unavailable' from='user@host'/> ("acknowledging receipt"): it arrives
    // while the registration brings the contacts in; no resource of the user went offline.
    // Here the registration has logged alice in and no presence of hers reached the gateway yet.
    const alice = await registered()
    const bare = t.srv.client('alice@localhost')
    bare.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    // The gateway answers this iq after it read the presence; then give the handler time to act.
    await bare.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_INFO })))
    await sleep(200)
    expect(t.gw.state('alice@localhost')).toBe('online')
    expect(t.net.online()).toContain('alice')
    await joined(alice)
  })
})
