// The side-by-side scenario of e2e/test/irc-side-by-side.test.ts: one script, run unchanged
// against examples/irc-gateway and against biboumi 9.0 (both components of the same Prosody, both
// on the same ngircd). bob is slixmpp (e2e/clients/slix_muc.py); carol is a raw IRC client. The
// script records what each gateway did; the test asserts what must be the same and what differs.
import { xml as clientXml } from '@xmpp/client'
import type { RawIrcClient, RawLine } from '../../examples/irc-gateway/test/raw-client.js'
import type { RealClient } from './helpers.js'
import { build, codes, type El, type Slix, type Tree } from './muc-clients.js'

export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_COMMANDS = 'http://jabber.org/protocol/commands'
const NS_DATA = 'jabber:x:data'

/** What one run of the scenario saw. */
export interface Run {
  label: string
  domain: string
  room: string
  carolNick: string
  /** bob's nick in the room, then after the change. */
  nick: string
  nick2: string
  self: El
  /** From the join request to the self-presence. */
  joinMs: number
  occupants: El[]
  subject: El
  /** carol's JOIN-side view of bob: `:bobx!user@host JOIN #chan`. */
  ircJoin: string
  fromIrc: El
  reflection: El
  /** The line carol received for bob's groupchat message. */
  ircLine: string
  pmToIrc: string
  pmFromIrc: El
  latin1: El
  /** carol's lines of the 20-line paste, in arrival order. */
  paste: RawLine[]
  pasteSentAt: number
  /** A QUIT of bob or an ERROR seen by carol (an Excess Flood kill). */
  killed: string | undefined
  nickOut: El
  nickIn: El
  ircNick: string
  /** From bob's nick change to carol seeing the NICK. */
  nickMs: number
  leave: string
  /** disco#info of the gateway's domain and of the room. */
  discoGateway: El
  discoRoom: El
}

export const PASTE = Array.from({ length: 20 }, (_, i) => `paste line ${String(i + 1).padStart(2, '0')}`)

/** biboumi reaches IRC on 6697/6670/6667: point bob's configuration of this server at ngircd. */
export async function configureBiboumiPorts(admin: RealClient, server: string, port: number): Promise<El> {
  const first = await admin.request(
    clientXml(
      'iq',
      { type: 'set', to: server },
      clientXml('command', { xmlns: NS_COMMANDS, node: 'configure', action: 'execute' }),
    ),
  )
  const sessionid = first.getChild('command', NS_COMMANDS)?.attrs.sessionid as string
  return admin.request(
    clientXml(
      'iq',
      { type: 'set', to: server },
      clientXml(
        'command',
        { xmlns: NS_COMMANDS, node: 'configure', sessionid },
        clientXml(
          'x',
          { xmlns: NS_DATA, type: 'submit' },
          clientXml('field', { var: 'ports' }, clientXml('value', {}, String(port))),
          clientXml('field', { var: 'tls_ports' }),
        ),
      ),
    ),
  )
}

/**
 * bob joins `room` asking for `nick`, and gets his self-presence (110) under the nick the gateway
 * gave. slix_muc.py's join gives up after 5 s, and biboumi takes longer on ngircd (its IRC
 * registration is slower): the self-presence is read from the stream instead.
 */
export async function joinRoom(bob: Slix, room: string, nick: string, label: string): Promise<El> {
  const joined = await bob.call('join', { room, nick })
  if (joined.ok !== true && joined.error !== 'TimeoutError()')
    throw new Error(`${label}: join refused: ${JSON.stringify(joined)}`)
  return bob.expect(
    (el) =>
      el.is('presence') &&
      (el.attrs.from ?? '').startsWith(`${room}/`) &&
      el.attrs.type !== 'unavailable' &&
      codes(el).includes(110),
    20_000,
  )
}

const bodyIs = (text: string) => (el: El) => el.is('message') && el.getChildText('body') === text
const utf8 = (l: RawLine) => l.bytes.toString('utf8')

/** The script: the same steps and the same waits for both gateways. */
export async function scenario(
  label: string,
  domain: string,
  server: string,
  channel: string,
  bob: Slix,
  carol: RawIrcClient,
  carolNick: string,
  nick: string,
): Promise<Run> {
  const nick2 = `${nick}z`
  const room = `${channel}%${server}@${domain}`
  const fromBob = (l: string, n = nick) => l.startsWith(`:${n}!`)
  carol.send(`JOIN ${channel}`)
  carol.send(`TOPIC ${channel} :side by side`)
  await carol.waitFor((l) => l.includes(` TOPIC ${channel} `))

  // bob joins the channel as a room.
  const joinSentAt = performance.now()
  const self = await joinRoom(bob, room, nick, label)
  const joinMs = performance.now() - joinSentAt
  const subject = await bob.expect((el) => el.is('message') && el.getChild('subject') !== undefined, 10_000)
  const occupants: El[] = []
  for (let i = bob.received.length - 1; i >= 0; i--) {
    const el = bob.received[i] as El
    if (el.is('presence') && (el.attrs.from ?? '').startsWith(`${room}/`))
      occupants.unshift(...bob.received.splice(i, 1))
  }
  const ircJoin = (await carol.waitFor((l) => fromBob(l) && l.includes(' JOIN '), 15_000)).line

  // carol talks, bob talks.
  carol.send(Buffer.from(`PRIVMSG ${channel} :hello from IRC ✓`, 'utf8'))
  const fromIrc = await bob.expect(bodyIs('hello from IRC ✓'), 10_000)
  await bob.call('groupchat', { room, body: 'hello from XMPP' })
  const ircLine = (await carol.waitFor((l) => fromBob(l) && l.endsWith(':hello from XMPP'))).line
  const reflection = await bob.expect(
    (el) => bodyIs('hello from XMPP')(el) && el.attrs.from === `${room}/${nick}`,
  )

  // A private message each way (bob to carol's address; carol to bob's nick).
  await bob.call('chat', { to: `${carolNick}%${server}@${domain}`, body: 'psst carol' })
  const pmToIrc = (await carol.waitFor((l) => fromBob(l) && l.endsWith(`PRIVMSG ${carolNick} :psst carol`)))
    .line
  carol.send(`PRIVMSG ${nick} :psst bob`)
  const pmFromIrc = await bob.expect(bodyIs('psst bob'), 10_000)

  // Latin-1 bytes from IRC (not valid UTF-8).
  carol.send(Buffer.concat([Buffer.from(`PRIVMSG ${channel} :caf`), Buffer.from([0xe9])]))
  const latin1 = await bob.expect(
    (el) => el.is('message') && (el.getChildText('body') ?? '').startsWith('caf'),
    10_000,
  )

  // A 20-line paste from XMPP: must arrive whole, in order, without an Excess Flood kill.
  const before = carol.lines.length
  const pasteSentAt = performance.now()
  await bob.call('groupchat', { room, body: PASTE.join('\n') })
  await carol.waitFor((l) => fromBob(l) && l.endsWith(`:${PASTE.at(-1)}`), 90_000)
  const seen = carol.lines.slice(before)
  const paste = seen.filter((l) => fromBob(l.line) && l.line.includes(` PRIVMSG ${channel} :`))
  const killed = seen.find(
    (l) => (fromBob(l.line) && l.line.includes(' QUIT ')) || l.line.startsWith('ERROR'),
  )?.line

  // A nick change from XMPP.
  const nickSentAt = performance.now()
  await bob.call('nick', { room, nick: nick2 })
  const ircNickLine = await carol.waitFor((l) => fromBob(l) && l.endsWith(` NICK :${nick2}`), 60_000)
  const ircNick = ircNickLine.line
  const nickMs = ircNickLine.at - nickSentAt
  const nickOut = await bob.expect(
    (el) => el.is('presence') && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/${nick}`,
    10_000,
  )
  const nickIn = await bob.expect(
    (el) => el.is('presence') && el.attrs.type !== 'unavailable' && el.attrs.from === `${room}/${nick2}`,
    10_000,
  )

  const discoGateway = await discoInfo(bob, domain)
  const discoRoom = await discoInfo(bob, room)

  // Leave.
  await bob.call('leave', { room, nick: nick2 })
  const leave = (await carol.waitFor((l) => fromBob(l, nick2) && / (PART|QUIT) /.test(l), 15_000)).line

  return {
    label,
    domain,
    room,
    carolNick,
    nick,
    nick2,
    self,
    occupants,
    subject,
    joinMs,
    ircJoin,
    fromIrc,
    reflection,
    ircLine,
    pmToIrc,
    pmFromIrc,
    latin1,
    paste,
    pasteSentAt,
    killed,
    nickOut,
    nickIn,
    ircNick,
    nickMs,
    leave,
    discoGateway,
    discoRoom,
  }
}

async function discoInfo(bob: Slix, jid: string): Promise<El> {
  const r = await bob.call('info', { jid })
  return r.ok === true ? build(r.el as Tree) : clientXml('error', { condition: String(r.condition) })
}

/** The children of a stanza by name (and namespace where it is not jabber:client). */
export const childNames = (el: El): string[] =>
  (el.children as Array<El | string>)
    .filter((c): c is El => typeof c !== 'string')
    .map((c) => (c.attrs.xmlns ? `${c.name}{${c.attrs.xmlns}}` : c.name))
    .sort()

export const identities = (info: El): string[] =>
  ((info.getChild('query')?.getChildren('identity') ?? []) as El[]).map(
    (i) => `${i.attrs.category}/${i.attrs.type}${i.attrs.name ? ` (${i.attrs.name})` : ''}`,
  )

export const features = (info: El): string[] =>
  ((info.getChild('query')?.getChildren('feature') ?? []) as El[]).map((f) => f.attrs.var as string).sort()

export { utf8 }
