// The legacy bridge demo, run by examples/demo against a running bridge at ctx.domain. It
// expects the bridge's simulated network (LEGACY_HOST / LEGACY_PORT, as for main.ts) to hold the
// accounts of DEMO_USERS, and plays zed on the legacy side itself.
import { type Element, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { LegacyClient } from './network/adapter.js'

/** The network accounts the demo needs: `--users alice:alice-legacy,zed:zed-legacy`. */
export const DEMO_USERS = 'alice:alice-legacy,zed:zed-legacy'

export interface DemoContext {
  domain: string
  client(
    user: string,
    resource: string,
  ): Promise<{
    jid: string
    send(el: Element): void
    request(iq: Element): Promise<Element>
    expectStanza(
      m: { name: string; id?: string; from?: string; type?: string; child?: string },
      timeout: number,
    ): Promise<Element>
  }>
  check(what: string, ok: boolean): void
  section(title: string): void
}

const NS_REGISTER = 'jabber:iq:register'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'

async function waitFor(list: string[], text: string, timeout = 5000): Promise<boolean> {
  const deadline = Date.now() + timeout
  while (!list.includes(text) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  return list.includes(text)
}

function condition(stanza: Element | undefined): string | undefined {
  return stanza
    ?.getChild('error')
    ?.getChildElements()
    .find((c) => c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text')?.name
}

async function errorOf(p: Promise<Element>): Promise<string | undefined> {
  try {
    await p
    return undefined
  } catch (err) {
    const stanza = (err as { stanza?: Element }).stanza
    return condition(stanza) ?? (err as { condition?: string }).condition
  }
}

export async function demo(ctx: DemoContext): Promise<void> {
  const { domain } = ctx
  const host = process.env.LEGACY_HOST ?? '127.0.0.1'
  const port = Number(process.env.LEGACY_PORT ?? 5299)
  const users = Object.fromEntries(DEMO_USERS.split(',').map((p) => p.split(':') as [string, string]))
  const register = (username: string, password: string) =>
    xml(
      'iq',
      { type: 'set', to: domain },
      xml('query', { xmlns: NS_REGISTER }, xml('username', {}, username), xml('password', {}, password)),
    )

  ctx.section('Legacy IM bridge (XEP-0100 gateway)')
  const alice = await ctx.client('alice', 'bridge-demo')
  const info = await alice.request(
    xml('iq', { type: 'get', to: domain }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  )
  const identity = info.getChild('query')?.getChild('identity')
  ctx.check(
    'the gateway says it is gateway/legacy',
    identity?.attrs.category === 'gateway' && identity.attrs.type === 'legacy',
  )

  ctx.check(
    'wrong legacy credentials are refused with not-authorized',
    (await errorOf(alice.request(register('alice', 'not-the-password')))) === 'not-authorized',
  )
  await alice.request(register('alice', users.alice ?? ''))
  ctx.check('the right credentials are accepted after a real legacy login', true)

  const inbox: string[] = []
  const roomInbox: string[] = []
  const zed = await LegacyClient.login(host, port, 'zed', users.zed ?? '', {
    message: (m) => inbox.push(m.text),
    groupMessage: (m) => roomInbox.push(`${m.group} ${m.from}: ${m.text}`),
    disconnected: () => {},
  })
  try {
    const zedJid = toJid('zed', domain)
    alice.send(
      xml('message', { to: zedJid, type: 'chat', id: 'demo-1' }, xml('body', {}, 'hello zed, from XMPP')),
    )
    ctx.check(
      'alice → zed: the message reaches the legacy network',
      await waitFor(inbox, 'hello zed, from XMPP'),
    )

    const legacyId = await zed.send('alice', 'hi alice, from the legacy network')
    const back = await alice.expectStanza({ name: 'message', id: legacyId }, 5000)
    ctx.check(
      'zed → alice: the legacy message arrives from zed@gateway',
      back.getChildText('body') === 'hi alice, from the legacy network' &&
        back.attrs.from?.startsWith(zedJid) === true,
    )

    alice.send(
      xml('message', { to: toJid('nobody', domain), type: 'chat', id: 'demo-2' }, xml('body', {}, 'hi')),
    )
    const unknown = await alice.expectStanza({ name: 'message', id: 'demo-2' }, 5000)
    ctx.check('an unknown legacy contact answers item-not-found', condition(unknown) === 'item-not-found')

    // The legacy group #general is a XEP-0045 room at #general@gateway.
    const room = toJid('#general', domain)
    alice.send(xml('presence', { to: `${room}/alice` }, xml('x', { xmlns: NS_MUC })))
    const self = await alice.expectStanza({ name: 'presence', from: `${room}/alice` }, 5000)
    const codes = (self.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((c) => c.attrs.code)
    await alice.expectStanza({ name: 'message', from: room, child: 'subject' }, 5000)
    ctx.check(
      'alice joins #general@gateway: self-presence (status 110), then the subject',
      codes.includes('110'),
    )
    alice.send(xml('message', { to: room, type: 'groupchat', id: 'demo-g1' }, xml('body', {}, 'hello room')))
    const reflected = await alice.expectStanza(
      { name: 'message', from: `${room}/alice`, id: 'demo-g1' },
      5000,
    )
    ctx.check(
      "alice's groupchat reaches zed in the legacy group, and the room reflects it to her",
      (await waitFor(roomInbox, '#general alice: hello room')) &&
        reflected.getChildText('body') === 'hello room',
    )
    const said = await zed.say('#general', 'hi room, from the legacy network')
    const heard = await alice.expectStanza({ name: 'message', id: said }, 5000)
    ctx.check(
      "zed's group message arrives from #general@gateway/zed",
      heard.attrs.from === `${room}/zed` && heard.getChildText('body') === 'hi room, from the legacy network',
    )
    alice.send(xml('presence', { to: `${room}/alice`, type: 'unavailable' }))
    await alice.expectStanza({ name: 'presence', from: `${room}/alice`, type: 'unavailable' }, 5000)
  } finally {
    await zed.logout()
  }
  alice.send(
    xml('message', { to: toJid('zed', domain), type: 'chat', id: 'demo-3' }, xml('body', {}, 'still there?')),
  )
  const offline = await alice.expectStanza({ name: 'message', id: 'demo-3' }, 5000)
  ctx.check(
    'a message to an offline legacy contact answers recipient-unavailable',
    condition(offline) === 'recipient-unavailable',
  )

  await alice.request(
    xml('iq', { type: 'set', to: domain }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
  )
  alice.send(
    xml('message', { to: toJid('zed', domain), type: 'chat', id: 'demo-4' }, xml('body', {}, 'hello?')),
  )
  const gone = await alice.expectStanza({ name: 'message', id: 'demo-4' }, 5000)
  ctx.check(
    'after unregistering, messages answer registration-required',
    condition(gone) === 'registration-required',
  )
}
