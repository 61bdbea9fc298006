// @satellite/muc's moderation and configuration through real servers and real clients: the owner
// (alice, @xmpp/client) configures the room with the muc#roomconfig form, grants membership and
// voice, kicks, bans and destroys; bob is slixmpp (xep_0045, xep_0313 through
// e2e/clients/slix_muc.py), carol another @xmpp/client. Every scenario runs against Prosody and ejabberd.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as join_ } from 'node:path'
import { bareOf, localOf } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { muc, SqliteMucStore } from '../../packages/muc/src/index.js'
import { info, KINDS, type Kind, realClient, satellite } from './helpers.js'
import { build, codes, condition, type El, item, slixClient, type Tree } from './muc-clients.js'

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin'
const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_DATA = 'jabber:x:data'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'
const NS_FORWARD = 'urn:xmpp:forward:0'

let rooms = 0
/** The component with the room engine on the echo domain, started; a fresh room name. */
async function service(kind: Kind, options: Parameters<typeof muc>[1] = {}) {
  const xmpp = satellite(kind)
  const service = muc(xmpp, { occupantIdSecret: 'e2e occupant-id secret', ...options })
  afterTest(() => service.close())
  await xmpp.start()
  const domain = info(kind).XMPP_ECHO_DOMAIN as string
  return { xmpp, service, domain, room: `admin${++rooms}-${kind}@${domain}` }
}

const join = (room: string, nick: string, password?: string) =>
  clientXml(
    'presence',
    { to: `${room}/${nick}` },
    clientXml('x', { xmlns: NS_MUC }, password === undefined ? [] : clientXml('password', {}, password)),
  )

type Real = Awaited<ReturnType<typeof realClient>>

/**
 * The first stanza `pred` matches, now or within 5 s, taken out of `who.received` (the helper keeps
 * every stanza there, even one a waiter already got), so a later wait does not see it again.
 */
async function take(who: Real, pred: (el: El) => boolean): Promise<El> {
  const el = await who.expect(pred)
  const i = who.received.indexOf(el)
  if (i >= 0) who.received.splice(i, 1)
  return el
}

/** `who` (@xmpp/client) joins `room` as `nick`: its self-presence, after the subject arrived. */
async function joins(who: Real, room: string, nick: string, password?: string): Promise<El> {
  await who.send(join(room, nick, password))
  const self = await take(
    who,
    (el) =>
      el.is('presence') &&
      el.attrs.from === `${room}/${nick}` &&
      el.attrs.type === undefined &&
      codes(el).includes(110),
  )
  await take(who, (el) => el.is('message') && el.attrs.from === room && el.getChild('subject') !== undefined)
  return self
}

/** A refused join: the error presence's condition. */
async function refused(
  who: Real,
  room: string,
  nick: string,
  password?: string,
): Promise<string | undefined> {
  await who.send(join(room, nick, password))
  const err = await take(
    who,
    (el) => el.is('presence') && el.attrs.from === `${room}/${nick}` && el.attrs.type === 'error',
  )
  return condition(err)
}

const field = (v: string, value: string) => clientXml('field', { var: v }, clientXml('value', {}, value))

/** The owner submits the muc#roomconfig form with these fields. */
const configure = (owner: Real, room: string, fields: Record<string, string>) =>
  owner.request(
    clientXml(
      'iq',
      { type: 'set', to: room },
      clientXml(
        'query',
        { xmlns: NS_MUC_OWNER },
        clientXml(
          'x',
          { xmlns: NS_DATA, type: 'submit' },
          field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
          ...Object.entries(fields).map(([k, v]) => field(`muc#roomconfig_${k}`, v)),
        ),
      ),
    ),
  )

/** A muc#admin set with one item. */
const admin = (actor: Real, room: string, attrs: Record<string, string>, reason?: string) =>
  actor.request(
    clientXml(
      'iq',
      { type: 'set', to: room },
      clientXml(
        'query',
        { xmlns: NS_MUC_ADMIN },
        clientXml('item', attrs, reason === undefined ? [] : clientXml('reason', {}, reason)),
      ),
    ),
  )

describe.each(KINDS)('@satellite/muc moderation and configuration through %s', (kind) => {
  it('the owner fetches and submits the roomconfig form (members-only, password): occupants get 104, a non-member is removed with 322; a non-member’s join gets registration-required; once a member, a wrong password gets not-authorized, the right one enters', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const carol = await realClient(kind, 'carol', 'admin')
    await joins(carol, room, 'carol')
    await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/carol`)

    // bob becomes a member before the room closes: everyone sees his new affiliation.
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'member' })
    const bobMember = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).affiliation === 'member',
    )
    expect([codes(bobMember), item(bobMember).role]).toEqual([[110], 'participant'])

    const form = await alice.request(
      clientXml('iq', { type: 'get', to: room }, clientXml('query', { xmlns: NS_MUC_OWNER })),
    )
    const x = form.getChild('query', NS_MUC_OWNER)?.getChild('x', NS_DATA) as El
    expect(x.attrs.type).toBe('form')
    const vars = (x.getChildren('field') as El[]).map((f) => f.attrs.var)
    expect(vars).toEqual(
      expect.arrayContaining([
        'FORM_TYPE',
        'muc#roomconfig_membersonly',
        'muc#roomconfig_passwordprotectedroom',
        'muc#roomconfig_roomsecret',
        'muc#roomconfig_maxusers',
      ]),
    )
    const submitted = await configure(alice, room, {
      membersonly: '1',
      passwordprotectedroom: '1',
      roomsecret: 'sesame',
    })
    expect(submitted.attrs.type).toBe('result')
    const is104 = (el: El) => el.is('message') && el.attrs.from === room && codes(el).includes(104)
    const [a104, b104] = await Promise.all([alice.expect(is104), bob.expect(is104)])
    for (const m of [a104, b104]) expect([m.attrs.type, codes(m)]).toEqual(['groupchat', [104]])
    // carol, no member, is removed (322): she gets it with 110, the others without.
    const carolOut = await carol.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/carol` && el.attrs.type === 'unavailable',
    )
    expect([codes(carolOut), item(carolOut).role]).toEqual([[110, 322], 'none'])
    const seenOut = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/carol` && el.attrs.type === 'unavailable',
    )
    expect([codes(seenOut), item(seenOut).role]).toEqual([[322], 'none'])

    // disco#info as slixmpp sees it.
    const disco = await bob.call('info', { jid: room })
    expect(disco.ok).toBe(true)
    const query = build(disco.el as Tree).getChild('query') as El
    const features = (query.getChildren('feature') as El[]).map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining(['muc_membersonly', 'muc_passwordprotected']))

    expect(await refused(carol, room, 'carol', 'sesame')).toBe('registration-required')
    await admin(alice, room, { jid: bareOf(carol.jid), affiliation: 'member' })
    expect(await refused(carol, room, 'carol', 'open sesame')).toBe('not-authorized')
    expect(await refused(carol, room, 'carol')).toBe('not-authorized')
    const self = await joins(carol, room, 'carol', 'sesame')
    expect(item(self)).toMatchObject({ affiliation: 'member', role: 'participant' })

    // slixmpp, a member, the same way.
    await bob.call('leave', { room, nick: 'bob' })
    await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    const wrong = await bob.call('join', { room, nick: 'bob', password: 'nope' })
    expect(wrong).toMatchObject({ ok: false, condition: 'not-authorized' })
    const right = await bob.call('join', { room, nick: 'bob', password: 'sesame' })
    expect(right.ok, JSON.stringify(right)).toBe(true)
    expect(item(build(right.pres as Tree))).toMatchObject({ affiliation: 'member', role: 'participant' })
  })

  it('kick (307) and ban (301), with the actor and the reason, seen by everyone; the banned user’s re-join gets forbidden', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const carol = await realClient(kind, 'carol', 'admin')
    await joins(carol, room, 'carol')

    await admin(alice, room, { nick: 'carol', role: 'none' }, 'calm down')
    const gone = (el: El, nick: string) =>
      el.is('presence') && el.attrs.from === `${room}/${nick}` && el.attrs.type === 'unavailable'
    const kicked = await Promise.all([
      carol.expect((el) => gone(el, 'carol')),
      bob.expect((el) => gone(el, 'carol')),
      alice.expect((el) => gone(el, 'carol')),
    ])
    expect(kicked.map(codes)).toEqual([[110, 307], [307], [307]])
    for (const p of kicked) {
      expect(item(p).role).toBe('none')
      const it = p.getChild('x', NS_MUC_USER)?.getChild('item') as El
      expect(it.getChild('actor')?.attrs.nick).toBe('alice')
      expect(it.getChildText('reason')).toBe('calm down')
    }
    // A kick is no ban: carol comes back.
    await joins(carol, room, 'carol')

    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'outcast' }, 'spam')
    const banned = await Promise.all([
      bob.expect((el) => gone(el, 'bob')),
      carol.expect((el) => gone(el, 'bob')),
      alice.expect((el) => gone(el, 'bob')),
    ])
    expect(banned.map(codes)).toEqual([[110, 301], [301], [301]])
    for (const p of banned) {
      expect(item(p)).toMatchObject({ affiliation: 'outcast', role: 'none' })
      expect(p.getChild('x', NS_MUC_USER)?.getChild('item')?.getChildText('reason')).toBe('spam')
    }
    const again = await bob.call('join', { room, nick: 'bob' })
    expect(again).toMatchObject({ ok: false, condition: 'forbidden' })
    const outcasts = await alice.request(
      clientXml(
        'iq',
        { type: 'get', to: room },
        clientXml('query', { xmlns: NS_MUC_ADMIN }, clientXml('item', { affiliation: 'outcast' })),
      ),
    )
    expect(
      ((outcasts.getChild('query', NS_MUC_ADMIN)?.getChildren('item') ?? []) as El[]).map((i) => i.attrs.jid),
    ).toEqual([bareOf(bob.jid)])
  })

  it('voice in a moderated room: slixmpp enters as a visitor, its groupchat gets forbidden; after the owner grants voice it goes through', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    expect((await configure(alice, room, { moderatedroom: '1' })).attrs.type).toBe('result')
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    expect(item(build(joined.pres as Tree))).toMatchObject({ affiliation: 'none', role: 'visitor' })

    await bob.call('groupchat', { room, body: 'may I speak?' })
    const err = await bob.expect((el) => el.is('message') && el.attrs.type === 'error')
    expect([err.attrs.from, condition(err)]).toEqual([room, 'forbidden'])

    await admin(alice, room, { nick: 'bob', role: 'participant' }, 'go ahead')
    const voiced = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).role === 'participant',
    )
    expect(codes(voiced)).toEqual([110])
    await bob.call('groupchat', { room, body: 'thank you' })
    const got = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'thank you')
    expect([got.attrs.from, got.attrs.type]).toEqual([`${room}/bob`, 'groupchat'])
    expect(alice.received.filter((el) => el.getChildText('body') === 'may I speak?')).toEqual([])
  })

  it('destroy with a reason and an alternate venue: the slixmpp occupant gets its unavailable presence with <destroy/>; the room is gone', async () => {
    const { room, domain, service: rooms } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const venue = `elsewhere@${domain}`
    const done = await alice.request(
      clientXml(
        'iq',
        { type: 'set', to: room },
        clientXml(
          'query',
          { xmlns: NS_MUC_OWNER },
          clientXml('destroy', { jid: venue }, clientXml('reason', {}, 'moving on')),
        ),
      ),
    )
    expect(done.attrs.type).toBe('result')
    const out = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    const d = out.getChild('x', NS_MUC_USER)?.getChild('destroy') as El
    expect([d.attrs.jid, d.getChildText('reason')]).toEqual([venue, 'moving on'])
    expect(item(out)).toMatchObject({ affiliation: 'none', role: 'none' })
    const aliceOut = await alice.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/alice` && el.attrs.type === 'unavailable',
    )
    expect(aliceOut.getChild('x', NS_MUC_USER)?.getChild('destroy')?.attrs.jid).toBe(venue)
    expect(rooms.room(localOf(room))).toBeUndefined()
  })

  it('MAM: slixmpp’s xep_0313 pages through the room’s archive, max=2 then after the last id', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    for (const body of ['one', 'two', 'three']) {
      await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, body)))
      await bob.expect((el) => el.is('message') && el.getChildText('body') === body)
    }
    const forwarded = (t: Tree) => {
      const m = build(t)
      const r = m.getChild('result', NS_MAM) as El
      const inner = r.getChild('forwarded', NS_FORWARD)?.getChild('message') as El
      return { from: m.attrs.from, id: r.attrs.id, nick: inner.attrs.from, body: inner.getChildText('body') }
    }
    const first = await bob.call('mam', { jid: room, max: 2 })
    expect(first.ok, JSON.stringify(first)).toBe(true)
    const page1 = (first.results as Tree[]).map(forwarded)
    expect(page1.map((r) => [r.from, r.nick, r.body])).toEqual([
      [room, `${room}/alice`, 'one'],
      [room, `${room}/alice`, 'two'],
    ])
    const fin1 = build(first.el as Tree).getChild('fin', NS_MAM) as El
    expect(fin1.attrs.complete).toBeUndefined()
    const set1 = fin1.getChild('set', NS_RSM) as El
    expect([set1.getChildText('first'), set1.getChildText('last'), set1.getChildText('count')]).toEqual([
      page1[0]?.id,
      page1[1]?.id,
      '3',
    ])
    const second = await bob.call('mam', { jid: room, max: 2, after: page1[1]?.id })
    expect(second.ok, JSON.stringify(second)).toBe(true)
    expect((second.results as Tree[]).map((t) => forwarded(t).body)).toEqual(['three'])
    expect(build(second.el as Tree).getChild('fin', NS_MAM)?.attrs.complete).toBe('true')
  })
  it('privileges through slixmpp’s set_role/set_affiliation: a participant’s kick gets forbidden; made admin it kicks (307, actor bob), but an owner’s ban gets not-allowed', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const carol = await realClient(kind, 'carol', 'admin')
    await joins(carol, room, 'carol')

    expect(await bob.call('role', { room, nick: 'carol', role: 'none' })).toMatchObject({
      ok: false,
      condition: 'forbidden',
    })
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'admin' })
    const promoted = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).affiliation === 'admin',
    )
    expect([codes(promoted), item(promoted).role]).toEqual([[110], 'moderator'])

    expect(await bob.call('role', { room, nick: 'carol', role: 'none', reason: 'bye' })).toEqual({
      ok: true,
      re: expect.any(Number),
    })
    const kicked = await take(
      carol,
      (el) => el.is('presence') && el.attrs.from === `${room}/carol` && el.attrs.type === 'unavailable',
    )
    expect(codes(kicked)).toEqual([110, 307])
    const it = kicked.getChild('x', NS_MUC_USER)?.getChild('item') as El
    expect([it.getChild('actor')?.attrs.nick, it.getChildText('reason')]).toEqual(['bob', 'bye'])

    expect(
      await bob.call('affiliation', { room, jid: bareOf(alice.jid), affiliation: 'outcast' }),
    ).toMatchObject({ ok: false, condition: 'not-allowed' })
    expect(await bob.call('role', { room, nick: 'alice', role: 'none' })).toMatchObject({
      ok: false,
      condition: 'not-allowed',
    })
  })

  it('mediated invitations: a member’s invitation into a members-only room gets forbidden; the owner’s reaches carol with the reason and the password and makes her a member; slixmpp declines one and alice gets the decline', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'member' })
    await configure(alice, room, { membersonly: '1', passwordprotectedroom: '1', roomsecret: 'sesame' })
    const carol = await realClient(kind, 'carol', 'admin')

    await bob.call('invite', { room, jid: bareOf(carol.jid), reason: 'come' })
    const err = await bob.expect((el) => el.is('message') && el.attrs.type === 'error')
    expect([err.attrs.from, condition(err)]).toEqual([room, 'forbidden'])

    const invite = (to: string, reason: string) =>
      alice.send(
        clientXml(
          'message',
          { to: room },
          clientXml(
            'x',
            { xmlns: NS_MUC_USER },
            clientXml('invite', { to }, clientXml('reason', {}, reason)),
          ),
        ),
      )
    await invite(bareOf(carol.jid), 'join us')
    const got = await take(carol, (el) => el.is('message') && el.attrs.from === room)
    const x = got.getChild('x', NS_MUC_USER) as El
    const inv = x.getChild('invite') as El
    expect([inv.attrs.from, inv.getChildText('reason'), x.getChildText('password')]).toEqual([
      alice.jid,
      'join us',
      'sesame',
    ])
    const self = await joins(carol, room, 'carol', 'sesame')
    expect(item(self)).toMatchObject({ affiliation: 'member', role: 'participant' })

    // bob leaves, is invited again and declines through slixmpp.
    await bob.call('leave', { room, nick: 'bob' })
    await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable',
    )
    await invite(bob.jid, 'come back')
    const toBob = await bob.expect(
      (el) =>
        el.is('message') &&
        el.attrs.from === room &&
        el.getChild('x', NS_MUC_USER)?.getChild('invite') !== undefined,
    )
    expect(toBob.getChild('x', NS_MUC_USER)?.getChild('invite')?.attrs.from).toBe(alice.jid)
    await bob.call('decline', { room, jid: alice.jid, reason: 'busy' })
    const declined = await take(
      alice,
      (el) =>
        el.is('message') &&
        el.attrs.from === room &&
        el.getChild('x', NS_MUC_USER)?.getChild('decline') !== undefined,
    )
    const d = declined.getChild('x', NS_MUC_USER)?.getChild('decline') as El
    expect([d.attrs.from, d.getChildText('reason')]).toEqual([bob.jid, 'busy'])
  })

  it('whois: making the room non-anonymous sends 172 and bob (slixmpp, no moderator) then sees real JIDs; back to semi-anonymous 173 and none', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok).toBe(true)
    const aliceSeen = (joined.occupants as Tree[]).map(build).find((p) => p.attrs.from === `${room}/alice`)
    expect(item(aliceSeen as El).jid).toBeUndefined()

    await configure(alice, room, { whois: 'anyone' })
    const m172 = await bob.expect(
      (el) => el.is('message') && el.attrs.from === room && codes(el).includes(104),
    )
    expect(codes(m172)).toEqual([104, 172])
    const withJid = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/alice` && item(el).jid !== undefined,
    )
    expect(item(withJid).jid).toBe(alice.jid)

    bob.received.length = 0 // what came before, e.g. alice's presence in the occupant list
    await configure(alice, room, { whois: 'moderators' })
    const m173 = await bob.expect(
      (el) => el.is('message') && el.attrs.from === room && codes(el).includes(104),
    )
    expect(codes(m173)).toEqual([104, 173])
    const without = await bob.expect((el) => el.is('presence') && el.attrs.from === `${room}/alice`)
    expect(item(without)).toEqual({ affiliation: 'owner', role: 'moderator' })
  })

  it('lockNewRooms: the new room is locked (201), others get item-not-found until the owner submits the form', async () => {
    const { room } = await service(kind, { lockNewRooms: true })
    const alice = await realClient(kind, 'alice', 'admin')
    const self = await joins(alice, room, 'alice')
    expect(codes(self)).toEqual([110, 201])
    const bob = await slixClient(kind)
    expect(await bob.call('join', { room, nick: 'bob' })).toMatchObject({
      ok: false,
      condition: 'item-not-found',
    })
    expect((await configure(alice, room, { roomname: 'Unlocked' })).attrs.type).toBe('result')
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
  })
  it('MAM from @xmpp/client: <before/> is the last page, with= filters by occupant JID; a non-occupant of a members-only room gets forbidden, a member may ask', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    for (const [who, body] of [
      ['alice', 'a1'],
      ['bob', 'b1'],
      ['alice', 'a2'],
      ['bob', 'b2'],
    ] as const) {
      if (who === 'alice')
        await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, body)))
      else await bob.call('groupchat', { room, body })
      await take(alice, (el) => el.is('message') && el.getChildText('body') === body)
    }
    const query = async (who: Real, queryid: string, ...children: El[]) => {
      const fin = await who.request(
        clientXml(
          'iq',
          { type: 'set', to: room },
          clientXml('query', { xmlns: NS_MAM, queryid }, ...children),
        ),
      )
      const results = who.received.filter(
        (el) => el.is('message') && el.getChild('result', NS_MAM)?.attrs.queryid === queryid,
      )
      const bodies = results.map((m) =>
        m
          .getChild('result', NS_MAM)
          ?.getChild('forwarded', NS_FORWARD)
          ?.getChild('message')
          ?.getChildText('body'),
      )
      return { fin: fin.getChild('fin', NS_MAM) as El, bodies }
    }
    const last = await query(
      alice,
      'last',
      clientXml('set', { xmlns: NS_RSM }, clientXml('max', {}, '3'), clientXml('before')),
    )
    expect(last.bodies).toEqual(['b1', 'a2', 'b2'])
    expect(last.fin.getChild('set', NS_RSM)?.getChildText('count')).toBe('4')
    const withBob = await query(
      alice,
      'with',
      clientXml(
        'x',
        { xmlns: NS_DATA, type: 'submit' },
        field('FORM_TYPE', NS_MAM),
        field('with', `${room}/bob`),
      ),
    )
    expect(withBob.bodies).toEqual(['b1', 'b2'])
    expect(withBob.fin.attrs.complete).toBe('true')

    await configure(alice, room, { membersonly: '1' })
    const carol = await realClient(kind, 'carol', 'admin')
    const refusedQuery = await query(carol, 'no').catch((e: Error) => e.message)
    expect(refusedQuery).toMatch(/forbidden/)
    await admin(alice, room, { jid: bareOf(carol.jid), affiliation: 'member' })
    expect((await query(carol, 'yes')).bodies).toEqual(['a1', 'b1', 'a2', 'b2'])
  })

  it('max users: with maxusers 2 the third join gets service-unavailable', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    expect((await configure(alice, room, { maxusers: '2' })).attrs.type).toBe('result')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const carol = await realClient(kind, 'carol', 'admin')
    expect(await refused(carol, room, 'carol')).toBe('service-unavailable')
  })
  it('lists and absent users: slixmpp (admin) reads the member and outcast lists; banning carol while she is away sends no presence and her join gets forbidden; revoking bob’s voice makes his groupchat forbidden again', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'admin' })
    const carol = await realClient(kind, 'carol', 'admin')
    await admin(alice, room, { jid: 'dave@example.org', affiliation: 'member' })
    await admin(alice, room, { jid: bareOf(carol.jid), affiliation: 'outcast' }, 'no')
    expect(await bob.call('list', { room, affiliation: 'member' })).toMatchObject({
      ok: true,
      jids: ['dave@example.org'],
    })
    expect(await bob.call('list', { room, affiliation: 'outcast' })).toMatchObject({
      ok: true,
      jids: [bareOf(carol.jid)],
    })
    expect(await bob.call('list', { room, affiliation: 'owner' })).toMatchObject({
      ok: true,
      jids: [bareOf(alice.jid)],
    })
    expect(await refused(carol, room, 'carol')).toBe('forbidden')
    expect(
      alice.received.filter((el) => el.is('presence') && el.attrs.from === `${room}/carol`).map(String),
    ).toEqual([])

    // bob is an admin: his role cannot be taken (not-allowed); made a plain member, alice may mute him.
    await expect(admin(alice, room, { nick: 'bob', role: 'visitor' })).rejects.toThrow(/not-allowed/)
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'member' })
    await admin(alice, room, { nick: 'bob', role: 'visitor' }, 'quiet')
    const muted = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).role === 'visitor',
    )
    expect([codes(muted), item(muted).affiliation]).toEqual([[110], 'member'])
    await bob.call('groupchat', { room, body: 'still here' })
    const err = await bob.expect((el) => el.is('message') && el.attrs.type === 'error')
    expect(condition(err)).toBe('forbidden')
  })
  it('a ban reaches every resource of the user: bob as slixmpp and as @xmpp/client shares one nick, both get 301 with 110, alice sees him leave once', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    expect((await bob.call('join', { room, nick: 'bob' })).ok).toBe(true)
    const bob2 = await realClient(kind, 'bob', 'second')
    const self2 = await joins(bob2, room, 'bob')
    expect(item(self2)).toMatchObject({ affiliation: 'none', role: 'participant' })
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'outcast' }, 'both of you')
    const gone = (el: El) =>
      el.is('presence') && el.attrs.from === `${room}/bob` && el.attrs.type === 'unavailable'
    const [a, b] = await Promise.all([bob.expect(gone), take(bob2, gone)])
    expect([codes(a), codes(b)]).toEqual([
      [110, 301],
      [110, 301],
    ])
    await take(alice, gone)
    // A groupchat after the ban reaches alice after anything the ban sent her: one unavailable only.
    await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, 'after')))
    await take(alice, (el) => el.is('message') && el.getChildText('body') === 'after')
    expect(alice.received.filter(gone).map(String)).toEqual([])
    expect(await refused(bob2, room, 'bob')).toBe('forbidden')
  })

  it('a persistent members-only, password-protected room survives a restart of the component (SQLite store): the member re-joins with the password, a non-member still gets registration-required', async () => {
    const path = join_(mkdtempSync(join_(tmpdir(), 'muc-e2e-')), 'rooms.db')
    const store = new SqliteMucStore({ path })
    afterTest(() => store.close())
    const first = await service(kind, { store })
    const { room } = first
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const bob = await slixClient(kind)
    await admin(alice, room, { jid: bareOf(bob.jid), affiliation: 'member' })
    await configure(alice, room, {
      persistentroom: '1',
      membersonly: '1',
      passwordprotectedroom: '1',
      roomsecret: 'sesame',
      roomname: 'Kept',
    })
    await first.service.close()
    await first.xmpp.stop()

    const xmpp = satellite(kind)
    const again = muc(xmpp, { occupantIdSecret: 'e2e occupant-id secret', store })
    afterTest(() => again.close())
    await xmpp.start()
    const joined = await bob.call('join', { room, nick: 'bob', password: 'sesame' })
    expect(joined.ok, JSON.stringify(joined)).toBe(true)
    expect(item(build(joined.pres as Tree))).toMatchObject({ affiliation: 'member', role: 'participant' })
    const carol = await realClient(kind, 'carol', 'admin')
    expect(await refused(carol, room, 'carol', 'sesame')).toBe('registration-required')
    const disco = await bob.call('info', { jid: room })
    const q = build(disco.el as Tree).getChild('query') as El
    expect(q.getChild('identity')?.attrs.name).toBe('Kept')
    expect((q.getChildren('feature') as El[]).map((f) => f.attrs.var)).toEqual(
      expect.arrayContaining(['muc_persistent', 'muc_membersonly', 'muc_passwordprotected']),
    )
  })

  it('a participant made moderator (slixmpp) gets every occupant’s presence again with real JIDs; made participant again, without', async () => {
    const { room } = await service(kind)
    const alice = await realClient(kind, 'alice', 'admin')
    await joins(alice, room, 'alice')
    const carol = await realClient(kind, 'carol', 'admin')
    await joins(carol, room, 'carol')
    const bob = await slixClient(kind)
    const joined = await bob.call('join', { room, nick: 'bob' })
    expect(joined.ok).toBe(true)
    const carolSeen = (joined.occupants as Tree[]).map(build).find((p) => p.attrs.from === `${room}/carol`)
    expect(item(carolSeen as El)).toEqual({ affiliation: 'none', role: 'participant' })

    await admin(alice, room, { nick: 'bob', role: 'moderator' })
    const promoted = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).role === 'moderator',
    )
    expect(codes(promoted)).toEqual([110])
    const carolJid = await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/carol` && item(el).jid !== undefined,
    )
    expect(item(carolJid)).toEqual({ affiliation: 'none', role: 'participant', jid: carol.jid })
    // carol, no moderator, still sees bob without his JID.
    const bobSeen = await take(
      carol,
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).role === 'moderator',
    )
    expect(item(bobSeen).jid).toBeUndefined()

    bob.received.length = 0 // what came before, e.g. carol's presence in the occupant list
    await admin(alice, room, { nick: 'bob', role: 'participant' })
    await bob.expect(
      (el) => el.is('presence') && el.attrs.from === `${room}/bob` && item(el).role === 'participant',
    )
    const carolAgain = await bob.expect((el) => el.is('presence') && el.attrs.from === `${room}/carol`)
    expect(item(carolAgain)).toEqual({ affiliation: 'none', role: 'participant' })
  })
})
