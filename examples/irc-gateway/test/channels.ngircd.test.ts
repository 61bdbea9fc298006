// Channels as rooms end to end in one process: the embedded XMPP server, the component with
// ircGateway() (its @satellite/muc rooms backed by channels.ts), a real ngircd and raw IRC users.
import { component, type Element } from '@satellite/core'
import { NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID, NS_SID } from '@satellite/muc'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type IrcGatewayOptions, ircGateway } from '../src/gateway.js'
import { serversFromEnv } from '../src/servers.js'
import { type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

const DOMAIN = 'irc.localhost'
const SECRET = 's3cret'
let ircd: Ngircd
let n = 0

beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(() => ircd?.stop())

async function setup(options: Partial<IrcGatewayOptions> = {}) {
  const srv = await testServer(DOMAIN, SECRET)
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  afterTest(() => xmpp.stop())
  const servers = serversFromEnv({ IRC_SERVERS: `local=127.0.0.1:${ircd.port}` })
  const gateway = ircGateway(xmpp, { servers, flood: { burst: 20, interval: 50 }, ...options })
  afterTest(() => gateway.close())
  await xmpp.start()
  return { srv, xmpp, gateway }
}

async function raw(nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(ircd.port, nick)
  afterTest(() => c.close())
  return c
}

/** A channel name of its own for each test (ngircd keeps channels while someone is in them). */
const fresh = () => `#t${process.pid % 1000}x${++n}`
const room = (channel: string) => `${channel}%local@${DOMAIN}`

const codes = (el: Element) =>
  (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => Number(s.attrs.code))
const item = (el: Element) => el.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs ?? {}

/** Joins and waits for the subject that ends the join; returns what the join brought. */
async function join(c: SimulatedClient, jid: string, password?: string): Promise<Element[]> {
  const start = c.received.length
  const x =
    password === undefined
      ? `<x xmlns='${NS_MUC}'/>`
      : `<x xmlns='${NS_MUC}'><password>${password}</password></x>`
  c.send(`<presence to='${jid}'>${x}</presence>`)
  await c.expectStanza((s) => s.name === 'message' && s.getChild('subject') !== undefined, 10_000)
  return c.received.slice(start)
}

/** A channel that bob (op, first in) created with a topic. */
async function channelWithBob(topic = 'Welcome to the test') {
  const channel = fresh()
  const bob = await raw(`bob${n}`)
  bob.send(`JOIN ${channel}`)
  await bob.waitFor((l) => l.includes(` 366 bob${n} ${channel} `))
  bob.send(`TOPIC ${channel} :${topic}`)
  await bob.waitFor((l) => l.includes(` TOPIC ${channel} `))
  return { channel, bob, bobNick: `bob${n}` }
}

describe('IRC channels as rooms (ngircd)', () => {
  it('a join shows NAMES as occupants (op as moderator), the self-presence and the topic as subject', async () => {
    const { srv } = await setup()
    const { channel, bobNick } = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    const got = await join(alice, `${room(channel)}/Alice`)
    const presences = got.filter((s) => s.name === 'presence')
    expect(presences.map((p) => p.attrs.from)).toEqual([
      `${room(channel)}/${bobNick}`,
      `${room(channel)}/Alice`,
    ])
    expect(item(presences[0] as Element)).toMatchObject({ role: 'moderator', affiliation: 'admin' })
    expect(codes(presences[1] as Element)).toContain(110)
    const subject = got.at(-1) as Element
    expect(subject.getChildText('subject')).toBe('Welcome to the test')
    expect(subject.attrs.from).toBe(`${room(channel)}/${bobNick}`)
  })

  it('relays groupchat both ways: IRC PRIVMSG and ACTION to the room, the room to PRIVMSG, reflected with stanza-id', async () => {
    const { srv } = await setup()
    const { channel, bob, bobNick } = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    await join(alice, `${room(channel)}/Alice`)
    bob.send(`PRIVMSG ${channel} :hello from IRC`)
    const m = await alice.expectStanza({ name: 'message', type: 'groupchat', body: 'hello from IRC' }, 5000)
    expect(m.attrs.from).toBe(`${room(channel)}/${bobNick}`)
    expect(m.getChild('stanza-id', NS_SID)?.attrs.by).toBe(room(channel))
    expect(m.getChild('occupant-id', NS_OCCUPANT_ID)).toBeDefined()
    bob.send(
      Buffer.concat([
        Buffer.from(`PRIVMSG ${channel} :\x01ACTION `),
        Buffer.from('boit un café', 'latin1'),
        Buffer.from('\x01'),
      ]),
    )
    await alice.expectStanza({ name: 'message', type: 'groupchat', body: '/me boit un café' }, 5000)
    alice.send(
      `<message to='${room(channel)}' type='groupchat' id='g1'><body>hi bob\nsecond line</body></message>`,
    )
    await bob.waitFor((l) => l.startsWith(':Alice!') && l.endsWith(`PRIVMSG ${channel} :hi bob`))
    await bob.waitFor((l) => l.endsWith(`PRIVMSG ${channel} :second line`))
    const echo = await alice.expectStanza({ name: 'message', type: 'groupchat', id: 'g1' }, 5000)
    expect(echo.attrs.from).toBe(`${room(channel)}/Alice`)
  })

  it("follows the channel: joins, nick changes (303), voice, parts with a reason, kicks (307) and the user's own kick", async () => {
    const { srv } = await setup()
    const { channel, bob, bobNick } = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    await join(alice, `${room(channel)}/Alice`)
    const carol = await raw(`carol${n}`)
    carol.send(`JOIN ${channel}`)
    await alice.expectStanza({ name: 'presence', from: `${room(channel)}/carol${n}` }, 5000)
    carol.send(`NICK carl${n}`)
    const renamed = await alice.expectStanza((s) => s.name === 'presence' && codes(s).includes(303), 5000)
    expect(item(renamed).nick).toBe(`carl${n}`)
    bob.send(`MODE ${channel} +v carl${n}`)
    const voiced = await alice.expectStanza(
      (s) =>
        s.name === 'presence' &&
        s.attrs.from === `${room(channel)}/carl${n}` &&
        item(s).affiliation === 'member',
      5000,
    )
    expect(item(voiced).role).toBe('participant')
    carol.send(`PART ${channel} :see you`)
    const left = await alice.expectStanza(
      { name: 'presence', type: 'unavailable', from: `${room(channel)}/carl${n}` },
      5000,
    )
    expect(left.getChildText('status')).toBe('see you')
    bob.send(`KICK ${channel} Alice :behave`)
    const kicked = await alice.expectStanza(
      (s) =>
        s.name === 'presence' && s.attrs.type === 'unavailable' && s.attrs.from === `${room(channel)}/Alice`,
      5000,
    )
    expect(codes(kicked)).toEqual([110, 307])
    const kickItem = kicked.getChild('x', NS_MUC_USER)?.getChild('item')
    expect(kickItem?.getChild('actor')?.attrs.nick).toBe(bobNick)
    expect(kickItem?.getChildText('reason')).toBe('behave')
  })

  it('leaving PARTs the channel with the status; the connection closes after the linger time', async () => {
    const { srv, gateway } = await setup({ linger: 1000 })
    const { channel, bob } = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    await join(alice, `${room(channel)}/Alice`)
    expect(gateway.connection('alice@localhost', 'local')?.state.kind).toBe('registered')
    alice.send(
      `<presence to='${room(channel)}/Alice' type='unavailable'><status>off to lunch</status></presence>`,
    )
    await bob.waitFor((l) => l.startsWith(':Alice!') && l.endsWith(`PART ${channel} :off to lunch`))
    // Still open during the linger time (another join would reuse it), closed after it.
    expect(gateway.connection('alice@localhost', 'local')?.state.kind).toBe('registered')
    await expect.poll(() => gateway.connection('alice@localhost', 'local'), { timeout: 5000 }).toBeUndefined()
  })

  it('a nick change in one room changes the IRC nick, and every room of the user follows (303)', async () => {
    const { srv } = await setup()
    const one = await channelWithBob()
    const two = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    await join(alice, `${room(one.channel)}/Alice`)
    await join(alice, `${room(two.channel)}/Alice`)
    alice.send(`<presence to='${room(one.channel)}/Alicia'/>`)
    await one.bob.waitFor((l) => l.startsWith(':Alice!') && l.endsWith('NICK :Alicia'))
    for (const channel of [one.channel, two.channel]) {
      await alice.expectStanza(
        (s) => s.name === 'presence' && s.attrs.from === `${room(channel)}/Alicia` && codes(s).includes(110),
        5000,
      )
    }
    expect(alice.received.filter((s) => s.name === 'presence' && codes(s).includes(303))).toHaveLength(2)
  })

  it('a channel key is the room password: without it not-authorized, with it the join succeeds', async () => {
    const { srv } = await setup()
    const { channel, bob } = await channelWithBob()
    bob.send(`MODE ${channel} +k sesame`)
    await bob.waitFor((l) => l.includes(` MODE ${channel} +k`))
    const alice = srv.client('alice@localhost/phone')
    alice.send(`<presence to='${room(channel)}/Alice'><x xmlns='${NS_MUC}'/></presence>`)
    const refused = await alice.expectStanza({ name: 'presence', type: 'error' }, 5000)
    expect(refused.getChild('error')?.getChild('not-authorized')).toBeDefined()
    const got = await join(alice, `${room(channel)}/Alice`, 'sesame')
    expect(got.some((s) => s.name === 'presence' && codes(s).includes(110))).toBe(true)
  })

  it('history on re-join and a MAM query come from what the gateway relayed to this user', async () => {
    const { srv } = await setup()
    const { channel, bob } = await channelWithBob()
    const alice = srv.client('alice@localhost/phone')
    await join(alice, `${room(channel)}/Alice`)
    bob.send(`PRIVMSG ${channel} :remember me`)
    await alice.expectStanza({ name: 'message', body: 'remember me' }, 5000)
    alice.send(`<presence to='${room(channel)}/Alice' type='unavailable'/>`)
    await bob.waitFor((l) => l.startsWith(':Alice!') && l.includes(` PART ${channel}`))
    const again = await join(alice, `${room(channel)}/Alice`)
    const delayed = again.find((s) => s.getChildText('body') === 'remember me')
    expect(delayed?.getChild('delay', 'urn:xmpp:delay')).toBeDefined()
    const before = alice.received.length
    alice.send(
      `<iq type='set' to='${room(channel)}' id='mam1'><query xmlns='urn:xmpp:mam:2' queryid='q'/></iq>`,
    )
    await alice.expectStanza({ name: 'iq', id: 'mam1', type: 'result' }, 5000)
    const bodies = alice.received
      .slice(before)
      .map((s) =>
        s
          .getChild('result', 'urn:xmpp:mam:2')
          ?.getChild('forwarded')
          ?.getChild('message')
          ?.getChildText('body'),
      )
      .filter((b) => b !== undefined)
    expect(bodies).toEqual(['remember me'])
  })
})
