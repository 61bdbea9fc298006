// Legacy group chats through real servers and real clients: the legacy-bridge example bridges
// the simulated network's `#general` as the XEP-0045 room `#general@<gateway>` ('#' is not one
// of the characters XEP-0106 escapes). alice (@xmpp/client) and bob (slixmpp's xep_0045 plugin)
// register with the gateway, join, get the self-presence (110) and the subject, and exchange
// groupchat messages with zed, a user of the legacy network.
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { LegacyClient } from '../../examples/legacy-bridge/src/network/adapter.js'
import { toJid } from '../../packages/escaping/src/index.js'
import { registerIq, startBridge } from './bridge-setup.js'
import { info, KINDS, type Kind, realClient, slixmpp } from './helpers.js'

const NS_REGISTER = 'jabber:iq:register'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'

type El = ReturnType<typeof clientXml>

async function setup(kind: Kind) {
  const { domain, net } = await startBridge(kind, { alice: 'legacy-pw', bob: 'bob-pw', zed: 'zed-pw' })
  const password = info(kind).XMPP_PASSWORD as string
  // zed, on the legacy network, answers every group message he gets in #general.
  const inbox: string[] = []
  const zed = await LegacyClient.login('127.0.0.1', net.port, 'zed', 'zed-pw', {
    groupMessage: (m) => {
      inbox.push(`${m.group} ${m.from}: ${m.text}`)
      if (m.from === 'bob') void zed.say(m.group, `zed heard bob: ${m.text}`)
    },
    disconnected: () => {},
  })
  afterTest(() => zed.logout())
  return { domain, password, net, zed, inbox, room: toJid('#general', domain) }
}

const codes = (p: El) =>
  ((p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []) as El[]).map((c) => String(c.attrs.code))

describe.each(KINDS)('bridged group chat through %s', (kind) => {
  it('@xmpp/client: alice joins #general (occupants, 110, subject), her groupchat reaches zed, zed’s reaches her, the topic changes, she leaves', async () => {
    const { domain, net, zed, inbox, room } = await setup(kind)
    expect(room).toBe(`#general@${domain}`)
    const alice = await realClient(kind, 'alice', 'groups')
    await alice.request(registerIq(domain, 'alice', 'legacy-pw'))
    await expect
      .poll(() => net.online().includes('alice'), {
        message: 'alice on the legacy network',
        timeout: 5000,
        interval: 10,
      })
      .toBe(true)

    await alice.send(clientXml('presence', { to: `${room}/alice` }, clientXml('x', { xmlns: NS_MUC })))
    const fromRoom = (el: El) => String(el.attrs.from).startsWith(`${room}/`)
    const zedHere = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/zed`)
    expect(zedHere.attrs.type).toBeUndefined()
    await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    const self = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/alice`)
    expect(self.attrs.type).toBeUndefined()
    expect(codes(self)).toEqual(['110'])
    const subject = await alice.expect(
      (el) => el.is('message') && el.attrs.from === room && el.getChild('subject') !== undefined,
    )
    expect(subject.attrs.type).toBe('groupchat')
    expect(subject.getChildText('subject')).toBe('Welcome to #general')

    // alice → #general: zed gets it on the legacy network; alice gets the reflection.
    await alice.send(
      clientXml('message', { to: room, type: 'groupchat', id: 'g-e2e-1' }, clientXml('body', {}, 'hi all ✓')),
    )
    const echo = await alice.expect(
      (el) => el.is('message') && el.attrs.from === `${room}/alice` && el.getChildText('body') === 'hi all ✓',
    )
    expect([echo.attrs.type, echo.attrs.id]).toEqual(['groupchat', 'g-e2e-1'])
    await expect
      .poll(() => inbox.includes('#general alice: hi all ✓'), {
        message: 'zed to get the group message',
        timeout: 5000,
        interval: 10,
      })
      .toBe(true)

    // zed → #general: alice gets it from zed's occupant address.
    const id = await zed.say('#general', 'hello alice, 50% off')
    const got = await alice.expect(
      (el) => el.is('message') && el.attrs.from === `${room}/zed` && el.getChildText('body') !== null,
    )
    expect([got.attrs.type, got.attrs.id, got.getChildText('body')]).toEqual([
      'groupchat',
      id,
      'hello alice, 50% off',
    ])

    net.setTopic('#general', 'Release day')
    const topic = await alice.expect(
      (el) => el.is('message') && el.attrs.from === room && el.getChildText('subject') === 'Release day',
    )
    expect(topic.attrs.type).toBe('groupchat')

    await alice.send(clientXml('presence', { to: `${room}/alice`, type: 'unavailable' }))
    const left = await alice.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/alice` && el.attrs.type === 'unavailable',
    )
    expect(codes(left)).toEqual(['110'])
    expect(alice.received.filter((el) => el.attrs.type === 'error' && fromRoom(el)).map(String)).toEqual([])
  })

  it('slixmpp (xep_0045): bob joins #general, gets 110 and the subject, his groupchat reaches zed and zed’s answer reaches him', async () => {
    const { domain, inbox, room } = await setup(kind)
    const reg = await slixmpp(kind, [
      'iq',
      domain,
      'set',
      `<query xmlns="${NS_REGISTER}"><username>bob</username><password>bob-pw</password></query>`,
    ])
    expect(reg).toMatchObject({ ok: true, type: 'result' })

    const report = await slixmpp(kind, ['muc', `${room}/bob`, 'from slixmpp ✓'])
    expect(report).toMatchObject({
      ok: true,
      nick: 'bob',
      codes: [110],
      subject: 'Welcome to #general',
      reflected: { body: 'from slixmpp ✓' },
      other: { from: `${room}/zed`, body: 'zed heard bob: from slixmpp ✓' },
    })
    expect((report.occupants as string[]).sort()).toEqual(['alice', 'zed'])
    expect(inbox).toContain('#general bob: from slixmpp ✓')
  })
})
