// A short scripted conversation with a running chatroom service (examples/chatroom) at
// `ctx.domain`: alice creates a room and bob joins, they talk, carol joins late and gets the
// history, carol asks the archive (MAM), alice (the owner, so a moderator) kicks bob.
import { type Element, xml } from '@satellite/core'
import type { DemoClient } from './stage.js'

/** What the chatroom script needs from the demo. */
export interface ChatroomDemoContext {
  domain: string
  client(user: string, resource: string): Promise<DemoClient>
  check(what: string, ok: boolean): void
  section(title: string): void
}

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'
const WAIT = 5000

/** The status codes of a room presence, in order. */
const codes = (p: Element): number[] =>
  (p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => Number(s.attrs.code)).sort()
const has = (p: Element, ...wanted: number[]) => wanted.every((c) => codes(p).includes(c))
/** The attributes of a room presence's `<item/>`. */
const item = (p: Element) => p.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs ?? {}

export async function chatroomDemo(ctx: ChatroomDemoContext): Promise<void> {
  const room = `lobby@${ctx.domain}`
  const alice = await ctx.client('alice', 'chat')
  const bob = await ctx.client('bob', 'chat')
  const carol = await ctx.client('carol', 'chat')
  const say = (who: DemoClient, body: string) =>
    who.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, body)))
  /** Joins as `nick` and resolves with the own presence once the subject (the join's end) came. */
  const join = async (who: DemoClient, nick: string): Promise<Element> => {
    who.send(xml('presence', { to: `${room}/${nick}` }, xml('x', { xmlns: NS_MUC })))
    const self = await who.expectStanza({ name: 'presence', from: `${room}/${nick}` }, WAIT)
    await who.expectStanza({ name: 'message', type: 'groupchat', child: 'subject' }, WAIT)
    return self
  }

  ctx.section('chatroom: alice creates a room, bob joins, they talk (XEP-0045)')
  const created = await join(alice, 'alice')
  ctx.check(`alice creates ${room} (status 201) and is in it (110)`, has(created, 110, 201))
  const bobIn = await join(bob, 'bob')
  const aliceSeen = await bob.expectStanza({ name: 'presence', from: `${room}/alice` }, WAIT)
  ctx.check(
    'bob joins and sees alice in the room, as its owner',
    has(bobIn, 110) && item(aliceSeen).affiliation === 'owner',
  )
  const bobSeen = await alice.expectStanza({ name: 'presence', from: `${room}/bob` }, WAIT)
  ctx.check('alice sees bob arrive as a participant', item(bobSeen).role === 'participant')
  say(alice, 'Hi bob, welcome to the lobby')
  const toBob = await bob.expectStanza({ name: 'message', from: `${room}/alice`, type: 'groupchat' }, WAIT)
  ctx.check(
    `bob gets alice's message from ${room}/alice`,
    toBob.getChildText('body') === 'Hi bob, welcome to the lobby',
  )
  say(bob, 'Thanks alice!')
  const toAlice = await alice.expectStanza({ name: 'message', from: `${room}/bob`, type: 'groupchat' }, WAIT)
  ctx.check("alice gets bob's answer", toAlice.getChildText('body') === 'Thanks alice!')

  ctx.section('chatroom: carol joins late and gets the history')
  await join(carol, 'carol') // the history comes before the subject: it is waiting in carol's inbox
  const history = [
    await carol.expectStanza({ name: 'message', from: `${room}/alice`, child: 'delay' }, WAIT),
    await carol.expectStanza({ name: 'message', from: `${room}/bob`, child: 'delay' }, WAIT),
  ]
  const bodies = history.map((m) => m.getChildText('body'))
  ctx.check(
    `carol gets the history with its delays: ${bodies.map((b) => `"${b}"`).join(', ')}`,
    bodies.join('|') === 'Hi bob, welcome to the lobby|Thanks alice!',
  )

  ctx.section('chatroom: carol asks the archive (XEP-0313 MAM)')
  const answer = await carol.request(
    xml('iq', { type: 'set', to: room }, xml('query', { xmlns: NS_MAM, queryid: 'demo' })),
  )
  const fin = answer.getChild('fin', NS_MAM)
  const count = Number(fin?.getChild('set', NS_RSM)?.getChildText('count') ?? 0)
  const archived: string[] = []
  for (let i = 0; i < count; i++) {
    const result = await carol.expectStanza({ name: 'message', from: room, child: 'result' }, WAIT)
    const forwarded = result.getChild('result', NS_MAM)?.getChild('forwarded')
    archived.push(forwarded?.getChild('message')?.getChildText('body') ?? '')
  }
  ctx.check(
    `the archive answers with ${count} messages, complete, in order`,
    fin?.attrs.complete === 'true' && archived.join('|') === bodies.join('|'),
  )

  ctx.section('chatroom: alice (owner, so moderator) kicks bob')
  await alice.request(
    xml(
      'iq',
      { type: 'set', to: room },
      xml(
        'query',
        { xmlns: NS_MUC_ADMIN },
        xml('item', { nick: 'bob', role: 'none' }, xml('reason', {}, 'The demo is over')),
      ),
    ),
  )
  const kicked = await bob.expectStanza({ name: 'presence', from: `${room}/bob`, type: 'unavailable' }, WAIT)
  ctx.check('bob is told he was kicked (307, 110)', has(kicked, 307, 110))
  const seen = await carol.expectStanza({ name: 'presence', from: `${room}/bob`, type: 'unavailable' }, WAIT)
  ctx.check('carol sees bob leave, kicked (307)', has(seen, 307) && !has(seen, 110))
}
