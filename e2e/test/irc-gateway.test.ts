// examples/irc-gateway through real Prosody and ejabberd and a real ngircd: bob (slixmpp's
// xep_0045) joins an IRC channel as a room, talks with carol (a raw IRC user) both ways, and alice
// (@xmpp/client) writes to carol one-to-one; a nick already taken on IRC, and an IRC op kicking
// the XMPP user out of the room.
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ircGateway } from '../../examples/irc-gateway/src/gateway.js'
import { serversFromEnv } from '../../examples/irc-gateway/src/servers.js'
import { type Ngircd, startNgircd } from '../../examples/irc-gateway/test/ngircd.js'
import { RawIrcClient } from '../../examples/irc-gateway/test/raw-client.js'
import { info, KINDS, type Kind, realClient, satellite } from './helpers.js'
import { build, codes, item, slixClient, type Tree } from './muc-clients.js'

let ircd: Ngircd
beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(() => ircd?.stop())

describe.each(KINDS)('examples/irc-gateway through %s and ngircd', (kind: Kind) => {
  it('bob (slixmpp) joins a channel as a room and talks with carol on IRC both ways; alice (@xmpp/client) writes to carol one-to-one', async () => {
    const domain = info(kind).XMPP_ECHO_DOMAIN as string
    const xmpp = satellite(kind)
    const servers = serversFromEnv({ IRC_SERVERS: `local=127.0.0.1:${ircd.port}` })
    const gateway = ircGateway(xmpp, { servers, flood: { burst: 10, interval: 100 } })
    afterTest(() => gateway.close())
    await xmpp.start()

    const channel = `#e2e${kind}`
    const room = `${channel}%local@${domain}`
    const carol = await RawIrcClient.connect(ircd.port, `carol${kind.slice(0, 3)}`)
    afterTest(() => carol.close())
    const carolNick = `carol${kind.slice(0, 3)}`
    carol.send(`JOIN ${channel}`)
    carol.send(`TOPIC ${channel} :IRC meets XMPP`)
    await carol.waitFor((l) => l.includes(` TOPIC ${channel} `))

    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bobx' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    const self = build(joined.pres as Tree)
    expect(self.attrs.from).toBe(`${room}/bobx`)
    expect(codes(self)).toContain(110)
    const occupants = (joined.occupants as Tree[]).map(build)
    const carolSeen = occupants.find((p) => p.attrs.from === `${room}/${carolNick}`)
    expect(carolSeen && item(carolSeen)).toMatchObject({ role: 'moderator' })
    expect(build(joined.subject as Tree).getChildText('subject')).toBe('IRC meets XMPP')
    await carol.waitFor((l) => l.startsWith(':bobx!') && l.includes(` JOIN `))

    carol.send(`PRIVMSG ${channel} :hello XMPP ✓`)
    const got = await bob.expect(
      (el) => el.is('message') && el.getChildText('body') === 'hello XMPP ✓',
      10_000,
    )
    expect([got.attrs.from, got.attrs.type]).toEqual([`${room}/${carolNick}`, 'groupchat'])
    expect(got.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(room)

    await bob.call('groupchat', { room, body: 'hello IRC' })
    await carol.waitFor((l) => l.startsWith(':bobx!') && l.endsWith(`PRIVMSG ${channel} :hello IRC`))
    await bob.expect(
      (el) => el.is('message') && el.attrs.from === `${room}/bobx` && el.getChildText('body') === 'hello IRC',
    )

    const alice = await realClient(kind)
    await alice.send(
      clientXml(
        'message',
        { to: `${carolNick}%local@${domain}`, type: 'chat' },
        clientXml('body', {}, 'psst carol'),
      ),
    )
    await carol.waitFor(
      (l) => l.startsWith(':alice!') && l.endsWith(`PRIVMSG ${carolNick} :psst carol`),
      10_000,
    )
    carol.send(`PRIVMSG alice :hi alice`)
    const reply = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'hi alice')
    expect(reply.attrs.from).toBe(`${carolNick}%local@${domain}`)

    await bob.call('leave', { room, nick: 'bobx' })
    await carol.waitFor((l) => l.startsWith(':bobx!') && l.includes(` PART ${channel}`))
  })

  it('a nick taken on IRC gives bob nick_ with 210; carol (op) kicks him: 307 with her reason, and he is out', async () => {
    const domain = info(kind).XMPP_ECHO_DOMAIN as string
    const xmpp = satellite(kind)
    const servers = serversFromEnv({ IRC_SERVERS: `local=127.0.0.1:${ircd.port}` })
    const gateway = ircGateway(xmpp, { servers, flood: { burst: 10, interval: 100 } })
    afterTest(() => gateway.close())
    await xmpp.start()

    const channel = `#kick${kind}`
    const room = `${channel}%local@${domain}`
    const carolNick = `op${kind.slice(0, 3)}`
    const carol = await RawIrcClient.connect(ircd.port, carolNick)
    afterTest(() => carol.close())
    // someone on IRC already has the nick bob asks for
    const taken = `taken${kind.slice(0, 3)}`
    const squatter = await RawIrcClient.connect(ircd.port, taken)
    afterTest(() => squatter.close())
    carol.send(`JOIN ${channel}`)
    await carol.waitFor((l) => new RegExp(` 366 ${carolNick} ${channel} `).test(l))

    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: taken })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    const self = build(joined.pres as Tree)
    expect(self.attrs.from).toBe(`${room}/${taken}_`)
    expect(codes(self)).toEqual(expect.arrayContaining([110, 210]))
    await carol.waitFor((l) => l.startsWith(`:${taken}_!`) && l.includes(' JOIN '))

    carol.send(`KICK ${channel} ${taken}_ :behave`)
    const out = await bob.expect(
      (el) => el.is('presence') && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/${taken}_`,
      10_000,
    )
    expect(codes(out)).toEqual(expect.arrayContaining([110, 307]))
    expect(item(out)).toMatchObject({ role: 'none' })
    expect(
      out.getChild('x', 'http://jabber.org/protocol/muc#user')?.getChild('item')?.getChildText('reason'),
    ).toBe('behave')
    // bob is out: his groupchat is refused, and IRC never sees it
    const sent = await bob.call('groupchat', { room, body: 'still here?' })
    expect(sent.ok).toBe(true)
    const refused = await bob.expect((el) => el.is('message') && el.attrs.type === 'error', 10_000)
    expect(refused.attrs.from).toBe(room)
    expect(carol.lines.some((l) => l.line.includes('still here?'))).toBe(false)
  })
})
