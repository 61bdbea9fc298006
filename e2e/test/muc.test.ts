// @satellite/muc through real servers and real clients: a component running muc() on the echo
// domain serves rooms; alice is @xmpp/client, bob is slixmpp's xep_0045 plugin (Debian's
// python3-slixmpp, driven line by line through e2e/clients/slix_muc.py). Every scenario runs
// against Prosody and ejabberd.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { localOf } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it, vi } from 'vitest'
import { muc } from '../../packages/muc/src/index.js'
import { info, KINDS, type Kind, realClient, satellite } from './helpers.js'
import { build, codes, condition, type El, item, slixClient, type Tree } from './muc-clients.js'

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'
const NS_SID = 'urn:xmpp:sid:0'
const NS_DELAY = 'urn:xmpp:delay'
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

const occupantId = (el: El): string | undefined => el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id

/** The condition each server bounces a groupchat to a full JID that has no session with. */
const BOUNCE: Record<Kind, string> = { prosody: 'service-unavailable', ejabberd: 'service-unavailable' }

const serverScript = fileURLToPath(new URL('../../scripts/xmpp-server', import.meta.url))

/** Kills the server's process group (SIGKILL: it sends nothing) and starts it again on its directory. */
async function crashAndRestart(kind: Kind): Promise<void> {
  const dir = info(kind).XMPP_DIR as string
  const pid = Number(readFileSync(`${dir}/launcher.pid`, 'utf8').trim())
  process.kill(-pid, 'SIGKILL')
  await vi.waitFor(
    () => {
      expect(() => process.kill(pid, 0)).toThrow()
    },
    { timeout: 10_000, interval: 20 },
  )
  await new Promise<void>((resolve, reject) => {
    const p = spawn(serverScript, ['start', kind, dir], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`restarting ${kind} failed: ${err}`))))
  })
}

let rooms = 0
/** The component with the room engine on the echo domain, started; a fresh room name. */
async function service(kind: Kind, options: Parameters<typeof muc>[1] = {}) {
  const xmpp = satellite(kind)
  const service = muc(xmpp, { occupantIdSecret: 'e2e occupant-id secret', ...options })
  afterTest(() => service.close())
  await xmpp.start()
  const domain = info(kind).XMPP_ECHO_DOMAIN as string
  return { xmpp, service, domain, room: `room${++rooms}-${kind}@${domain}` }
}

const join = (room: string, nick: string, history?: El) =>
  clientXml('presence', { to: `${room}/${nick}` }, clientXml('x', { xmlns: NS_MUC }, history))

/** alice (@xmpp/client) joins `room` as `nick`: her self-presence and the subject. */
async function aliceJoins(kind: Kind, room: string, nick = 'alice') {
  const alice = await realClient(kind, 'alice', 'muc')
  await alice.send(join(room, nick))
  const self = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/${nick}`)
  const subject = await alice.expect((el) => el.is('message') && el.getChild('subject') !== undefined)
  return { alice, self, subject }
}

describe.each(KINDS)('@satellite/muc through %s', (kind) => {
  it('alice (@xmpp/client) creates the room, bob (slixmpp xep_0045) joins: occupant lists, 110/201, his groupchat reaches alice and is reflected with the room’s stanza-id and his occupant-id', async () => {
    const { room } = await service(kind)
    const { alice, self, subject } = await aliceJoins(kind, room)
    expect(self.attrs.type).toBeUndefined()
    expect(codes(self)).toEqual([110, 201])
    expect(item(self)).toMatchObject({ affiliation: 'owner', role: 'moderator', jid: alice.jid })
    expect(occupantId(self)).toMatch(/^[\w-]{22}$/)
    expect([subject.attrs.from, subject.attrs.type, subject.getChildText('subject')]).toEqual([
      room,
      'groupchat',
      '',
    ])

    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    const pres = build(joined.pres as Tree)
    expect(pres.attrs.from).toBe(`${room}/bob`)
    expect(codes(pres)).toEqual([110])
    expect(item(pres)).toMatchObject({ affiliation: 'none', role: 'participant' })
    const occupants = (joined.occupants as Tree[]).map(build)
    // slixmpp's occupant list has everyone who came online before its self-presence, itself included.
    expect(occupants.map((p) => p.attrs.from).sort()).toEqual([`${room}/alice`, `${room}/bob`])
    const aliceSeen = occupants.find((p) => p.attrs.from === `${room}/alice`) as El
    expect(item(aliceSeen)).toEqual({ affiliation: 'owner', role: 'moderator' }) // no jid: semi-anonymous
    expect(occupantId(aliceSeen)).toBe(occupantId(self))
    expect(build(joined.subject as Tree).getChildText('subject')).toBe('')

    // alice, a moderator, sees bob arrive with his real JID.
    const bobSeen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    expect(codes(bobSeen)).toEqual([])
    expect(item(bobSeen)).toEqual({ affiliation: 'none', role: 'participant', jid: bob.jid })
    const bobId = occupantId(bobSeen)
    expect(bobId).toMatch(/^[\w-]{22}$/)
    expect(bobId).not.toBe(occupantId(self))
    expect(occupantId(pres)).toBe(bobId)

    await bob.call('groupchat', { room, body: 'hello from slixmpp ✓' })
    const got = await alice.expect(
      (el) => el.is('message') && el.getChildText('body') === 'hello from slixmpp ✓',
    )
    const reflected = await bob.expect(
      (el) => el.is('message') && el.getChildText('body') === 'hello from slixmpp ✓',
    )
    for (const m of [got, reflected]) {
      expect([m.attrs.from, m.attrs.type]).toEqual([`${room}/bob`, 'groupchat'])
      expect(occupantId(m)).toBe(bobId)
      expect(m.getChild('stanza-id', NS_SID)?.attrs.by).toBe(room)
    }
    const sid = got.getChild('stanza-id', NS_SID)?.attrs.id
    expect(sid).toMatch(/^[0-9a-f-]{36}$/)
    expect(reflected.getChild('stanza-id', NS_SID)?.attrs.id).toBe(sid)
    expect(reflected.attrs.id).toBe(got.attrs.id) // the id slixmpp gave it, kept

    // And the other way.
    await alice.send(
      clientXml('message', { to: room, type: 'groupchat', id: 'a1' }, clientXml('body', {}, 'hi bob')),
    )
    const toBob = await bob.expect((el) => el.is('message') && el.getChildText('body') === 'hi bob')
    expect([toBob.attrs.from, toBob.attrs.id, occupantId(toBob)]).toEqual([
      `${room}/alice`,
      'a1',
      occupantId(self),
    ])
    const echo = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'hi bob')
    expect(echo.getChild('stanza-id', NS_SID)?.attrs.id).toBe(toBob.getChild('stanza-id', NS_SID)?.attrs.id)
    const errors = [...alice.received, ...bob.received].filter((el) => el.attrs.type === 'error')
    expect(errors.map(String)).toEqual([])
  })

  it('a nick taken in another case: slixmpp’s join fails with 409 conflict; @xmpp/client carol’s too', async () => {
    const { room } = await service(kind)
    await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'ALICE' })
    expect(joined, JSON.stringify(joined)).toMatchObject({ ok: false, condition: 'conflict' })
    const err = build(joined.el as Tree)
    expect([err.attrs.from, err.attrs.type, err.getChild('error')?.attrs.type]).toEqual([
      `${room}/ALICE`,
      'error',
      'cancel',
    ])
    const carol = await realClient(kind, 'carol', 'muc')
    await carol.send(join(room, 'Alice'))
    const refused = await carol.expect((el) => el.is('presence') && el.attrs.type === 'error')
    expect([refused.attrs.from, condition(refused)]).toEqual([`${room}/Alice`, 'conflict'])
  })

  it('a nick change: alice sees bob’s unavailable with 303 and the new nick, then robert; bob gets both with 110', async () => {
    const { room } = await service(kind)
    const { alice } = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const bobSeen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    await bob.call('nick', { room, nick: 'robert' })
    const gone = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    expect(gone.attrs.type).toBe('unavailable')
    expect(codes(gone)).toEqual([303])
    expect(item(gone).nick).toBe('robert')
    const back = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/robert`)
    expect(back.attrs.type).toBeUndefined()
    expect(occupantId(back)).toBe(occupantId(bobSeen))
    const selfGone = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    expect([selfGone.attrs.type, codes(selfGone), item(selfGone).nick]).toEqual([
      'unavailable',
      [110, 303],
      'robert',
    ])
    const selfBack = await bob.expect((el) => el.is('presence') && el.attrs.from === `${room}/robert`)
    expect(codes(selfBack)).toEqual([110])
  })

  it('leaving: bob gets his unavailable presence with 110, alice sees him leave (role none)', async () => {
    const { room, service: rooms } = await service(kind)
    const { alice } = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    await bob.call('leave', { room, nick: 'bob' })
    const self = await bob.expect((el) => el.is('presence') && el.attrs.type === 'unavailable')
    expect([self.attrs.from, codes(self), item(self).role]).toEqual([`${room}/bob`, [110], 'none'])
    const seen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    expect([seen.attrs.type, codes(seen), item(seen).role]).toEqual(['unavailable', [], 'none'])
    expect(rooms.room(localOf(room))?.occupants.map((o) => o.nick)).toEqual(['alice'])
  })

  it('history: bob joins after three messages with maxstanzas=2 and gets the last two with XEP-0203 delays (from the room), then the subject; re-joining with maxstanzas=1 gives one', async () => {
    const { room } = await service(kind)
    const { alice } = await aliceJoins(kind, room)
    for (const body of ['one', 'two', 'three']) {
      await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, body)))
      await alice.expect((el) => el.is('message') && el.getChildText('body') === body)
    }
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob', maxstanzas: 2 })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    const history = (joined.history as Tree[]).map(build)
    expect(history.map((m) => [m.attrs.from, m.getChildText('body')])).toEqual([
      [`${room}/alice`, 'two'],
      [`${room}/alice`, 'three'],
    ])
    for (const m of history) {
      const delay = m.getChild('delay', NS_DELAY)
      expect(delay?.attrs.from).toBe(room)
      expect(Date.now() - Date.parse(String(delay?.attrs.stamp))).toBeLessThan(30_000)
      expect(m.getChild('stanza-id', NS_SID)?.attrs.by).toBe(room)
    }
    await bob.call('leave', { room, nick: 'bob' })
    await bob.expect((el) => el.is('presence') && el.attrs.type === 'unavailable')
    bob.received.length = 0
    const again = await bob.call('join', { room, nick: 'bob', maxstanzas: 1 })
    expect((again.history as Tree[]).map((m) => build(m).getChildText('body'))).toEqual(['three'])
  })

  it('private messages between occupants through the server: from the occupant JID, with muc#user and the occupant-id', async () => {
    const { room } = await service(kind)
    const { alice, self } = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    const bobId = occupantId(build(joined.pres as Tree))
    await bob.call('chat', { to: `${room}/alice`, body: 'psst, alice' })
    const pm = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'psst, alice')
    expect([pm.attrs.from, pm.attrs.to, pm.attrs.type]).toEqual([`${room}/bob`, alice.jid, 'chat'])
    expect(pm.getChild('x', NS_MUC_USER)).toBeDefined()
    expect(occupantId(pm)).toBe(bobId)
    expect(pm.getChild('stanza-id', NS_SID)).toBeUndefined()
    await alice.send(
      clientXml('message', { to: `${room}/bob`, type: 'chat' }, clientXml('body', {}, 'hi bob, privately')),
    )
    const back = await bob.expect((el) => el.is('message') && el.getChildText('body') === 'hi bob, privately')
    expect([back.attrs.from, back.attrs.type, occupantId(back)]).toEqual([
      `${room}/alice`,
      'chat',
      occupantId(self),
    ])
  })

  it('disco#info of the room from slixmpp and @xmpp/client: conference/text, the muc features, the roominfo form with 2 occupants', async () => {
    const { room } = await service(kind, { name: 'E2E rooms' })
    const { alice } = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const answer = await bob.call('info', { jid: room })
    expect(answer.ok, JSON.stringify(answer)).toBe(true)
    const fromAlice = await alice.request(
      clientXml('iq', { type: 'get', to: room }, clientXml('query', { xmlns: NS_DISCO_INFO })),
    )
    for (const iq of [build(answer.el as Tree), fromAlice]) {
      const query = iq.getChild('query', NS_DISCO_INFO) as El
      expect(query.getChild('identity')?.attrs).toMatchObject({ category: 'conference', type: 'text' })
      const features = (query.getChildren('feature') as El[]).map((f) => f.attrs.var)
      expect(features).toEqual(
        expect.arrayContaining([
          NS_MUC,
          'muc_public',
          'muc_temporary',
          'muc_semianonymous',
          'muc_open',
          'muc_unmoderated',
          'muc_unsecured',
          'urn:xmpp:sid:0',
          NS_OCCUPANT_ID,
          'http://jabber.org/protocol/muc#stable_id',
          'http://jabber.org/protocol/muc#self-ping-optimization',
        ]),
      )
      const form = query.getChild('x', 'jabber:x:data') as El
      const field = (v: string) =>
        (form.getChildren('field') as El[]).find((f) => f.attrs.var === v)?.getChildText('value')
      expect(field('FORM_TYPE')).toBe('http://jabber.org/protocol/muc#roominfo')
      expect(field('muc#roominfo_occupants')).toBe('2')
    }
  })

  it('a client killed without leaving: the server itself sends the room its unavailable presence (it tracked the directed presence), so bob leaves normally, without 333', async () => {
    const { room, service: rooms } = await service(kind)
    const { alice } = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    bob.kill() // SIGKILL: the socket closes with no </stream:stream> and no presence from the client
    const seen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    expect([seen.attrs.type, codes(seen), item(seen).role]).toEqual(['unavailable', [], 'none'])
    expect(rooms.room(localOf(room))?.occupants.map((o) => o.nick)).toEqual(['alice'])
  })

  it('a ghost: the server crashes (SIGKILL) and comes back; bob’s session is gone without a presence, so alice’s next groupchat is bounced for him and the room removes him with 333', async () => {
    const { xmpp, room, service: rooms } = await service(kind)
    const first = await aliceJoins(kind, room)
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    await first.alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    const bounced: string[] = []
    const watch = (el: { attrs: Record<string, string | undefined>; name: string; toString(): string }) => {
      if (el.attrs.type === 'error' && el.attrs.from === bob.jid) bounced.push(String(el))
    }
    xmpp.on('stanza', watch)
    afterTest(() => xmpp.off('stanza', watch))

    await crashAndRestart(kind)
    bob.kill()
    await vi.waitFor(() => expect(xmpp.online).toBe(true), { timeout: 20_000, interval: 20 })
    // The room outlived the server: both are still occupants, though neither session exists.
    expect(
      rooms
        .room(localOf(room))
        ?.occupants.map((o) => o.nick)
        .sort(),
    ).toEqual(['alice', 'bob'])

    // alice logs in again with the same resource and re-joins: the room takes it as a re-join.
    const alice = await realClient(kind, 'alice', 'muc')
    await alice.send(join(room, 'alice'))
    const bobGhost = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    expect(bobGhost.attrs.type).toBeUndefined()
    const self = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/alice`)
    expect(codes(self)).toEqual([110])
    await alice.send(
      clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, 'anyone there?')),
    )
    await alice.expect((el) => el.is('message') && el.getChildText('body') === 'anyone there?')
    const gone = await alice.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    expect(codes(gone)).toEqual([333])
    expect(item(gone).role).toBe('none')
    await vi.waitFor(() => expect(bounced).toHaveLength(1))
    console.log(`${kind} bounces a groupchat to a gone session with: ${bounced[0]}`)
    expect(gone.getChildText('status')).toBe(`Removed: ${BOUNCE[kind].replace(/-/g, ' ')}`)
    expect(bounced[0]).toContain(`<${BOUNCE[kind]} xmlns="${NS_STANZAS}"/>`)
    expect(rooms.room(localOf(room))?.occupants.map((o) => o.nick)).toEqual(['alice'])
  })
})

// The same client script against the engine and against Prosody's own MUC (mod_muc with its
// defaults, conference.localhost on the test Prosody): what each client sees, reduced to what
// XEP-0045 specifies (kinds, nicks, status codes, items, order), is the same; what differs is
// asserted apart and listed in packages/muc/README.md.
describe('side by side with the servers’ own MUC (conference.localhost, their defaults)', () => {
  const brief = (room: string, el: El): string => {
    const from = String(el.attrs.from)
    const who = from === room ? 'room' : from.slice(room.length + 1)
    const parts = [el.name, who]
    if (el.attrs.type) parts.push(el.attrs.type)
    if (el.is('presence')) {
      const i = item(el)
      parts.push(`[${codes(el).join(',')}]`, `${i.affiliation}/${i.role}${i.jid ? ` ${i.jid}` : ''}`)
      if (i.nick) parts.push(`nick=${i.nick}`)
    }
    if (el.getChild('subject')) parts.push(`subject=${el.getChildText('subject')}`)
    if (el.getChild('body')) parts.push(`body=${el.getChildText('body')}`)
    return parts.join(' ')
  }

  async function script(kind: Kind, room: string) {
    const fromRoom = (el: El) => String(el.attrs.from).startsWith(room)
    const alice = await realClient(kind, 'alice', 'side')
    await alice.send(join(room, 'alice'))
    await alice.expect((el) => el.is('message') && el.getChild('subject') !== undefined)
    // ejabberd's mod_muc also sends presence from the room's bare JID (its own presence, with caps):
    // kept apart as a difference.
    const roomPresence = (el: El) => el.is('presence') && el.attrs.from === room
    const roomPresences = alice.received.filter(roomPresence).length
    const aliceJoin = alice.received
      .filter((el) => fromRoom(el) && !roomPresence(el))
      .map((el) => brief(room, el))
    // An instant room (XEP-0045 §10.1.2): Prosody locks a new room until its owner configures it.
    const instant = await alice
      .request(
        clientXml(
          'iq',
          { type: 'set', to: room },
          clientXml(
            'query',
            { xmlns: 'http://jabber.org/protocol/muc#owner' },
            clientXml('x', { xmlns: 'jabber:x:data', type: 'submit' }),
          ),
        ),
      )
      .then(
        (iq: El) => String(iq.attrs.type),
        (e: Error) => e.message,
      )
    alice.received.length = 0
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    const bobPresence = build(joined.pres as Tree)
    const bobJoin = [
      ...(joined.occupants as Tree[]).map((t) => brief(room, build(t))),
      brief(room, build(joined.subject as Tree)),
    ]
    const bobSeen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`)
    await bob.call('groupchat', { room, body: 'side by side' })
    const got = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'side by side')
    await bob.call('leave', { room, nick: 'bob' })
    const bobLeft = await bob.expect(
      (el) => el.is('presence') && el.attrs.type === 'unavailable' && el.attrs.from === `${room}/bob`,
    )
    const aliceSawLeave = await alice.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    bob.kill()
    await alice.stop()
    return {
      same: {
        aliceJoin,
        bobJoin,
        bobSeen: brief(room, bobSeen),
        groupchat: brief(room, got),
        occupantIds: [bobSeen, got, bobLeft, aliceSawLeave].map(
          (el) => occupantId(el) === occupantId(bobPresence),
        ),
        left: [brief(room, bobLeft), brief(room, aliceSawLeave)],
      },
      differs: {
        roomPresences,
        instant,
        stanzaId: got.getChild('stanza-id', NS_SID)?.attrs.by === room,
        presenceIdKept: bobSeen.attrs.id !== undefined && bobSeen.attrs.id === bobPresence.attrs.id,
        occupantIdLength: occupantId(got)?.length,
      },
    }
  }

  it('the same join, groupchat and leave: same order, status codes, items and occupant ids; the differences are stanza-id and the occupant-id format', async () => {
    const kind: Kind = 'prosody'
    const { room: ours } = await service(kind)
    const theirs = `side${Date.now()}@conference.localhost`
    const engine = await script(kind, ours)
    const prosody = await script(kind, theirs)
    expect(engine.same).toEqual(prosody.same)
    expect(engine.same).toEqual({
      aliceJoin: [
        'presence alice [110,201] owner/moderator alice@localhost/side',
        'message room groupchat subject=',
      ],
      bobJoin: [
        'presence alice [] owner/moderator',
        'presence bob [110] none/participant bob@localhost/slix',
        'message room groupchat subject=',
      ],
      bobSeen: 'presence bob [] none/participant bob@localhost/slix',
      groupchat: 'message bob groupchat body=side by side',
      occupantIds: [true, true, true, true],
      left: [
        'presence bob unavailable [110] none/none bob@localhost/slix',
        'presence bob unavailable [] none/none bob@localhost/slix',
      ],
    })
    expect(engine.differs).toEqual({
      roomPresences: 0,
      instant: 'result', // the empty muc#owner submit accepts the instant room (already open: lockNewRooms is off)
      stanzaId: true,
      presenceIdKept: true,
      occupantIdLength: 22,
    })
    expect(prosody.differs).toEqual({
      roomPresences: 0,
      instant: 'result',
      stanzaId: false, // only with mod_muc_mam
      presenceIdKept: true,
      occupantIdLength: 44,
    })
  })

  it('ejabberd: the same script against its own mod_muc (conference.localhost, defaults), what differs asserted apart', async () => {
    const kind: Kind = 'ejabberd'
    const { room: ours } = await service(kind)
    const theirs = `side${Date.now()}@conference.localhost`
    const engine = await script(kind, ours)
    const ejabberd = await script(kind, theirs)
    expect(ejabberd.same).toEqual(engine.same)
    expect(engine.differs).toEqual({
      roomPresences: 0,
      instant: 'result',
      stanzaId: true,
      presenceIdKept: true,
      occupantIdLength: 22,
    })
    // ejabberd 23.01: the room's own presence (from the bare room JID) on creation and when the
    // creator's session leaves it; no stanza-id without mod_mam; no XEP-0421 occupant-id (so the
    // "same occupant id" checks above compare two absent ids for it).
    expect(ejabberd.differs).toEqual({
      roomPresences: 1,
      instant: 'result',
      stanzaId: false,
      presenceIdKept: true,
      occupantIdLength: undefined,
    })
  })
})
