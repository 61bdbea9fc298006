import { type Element, xml } from '@satellite/core'
import { NS_MUC_USER } from '@satellite/muc'
import type { SimulatedClient } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import {
  brief,
  errorOf,
  groupchat,
  item,
  join,
  joinPresence,
  nextStanzas,
  ROOM,
  refused,
  type Setup,
  settle,
  setup,
} from './helpers.js'

const NS_ADMIN = 'http://jabber.org/protocol/muc#admin'

const adminSet = (...items: Element[]) =>
  xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: NS_ADMIN }, ...items))
const adminGet = (attrs: Record<string, string>) =>
  xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_ADMIN }, xml('item', attrs)))
const it_ = (attrs: Record<string, string>, reason?: string) =>
  xml('item', attrs, ...(reason === undefined ? [] : [xml('reason', {}, reason)]))

/** The condition of a refused request. */
const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'result',
    (e: { condition?: string }) => e.condition,
  )

/** The full `<item/>` (with actor and reason) of a room presence, as XML. */
const fullItem = (el: Element) => String(el.getChild('x', NS_MUC_USER)?.getChild('item'))

interface Room3 {
  s: Setup
  alice: SimulatedClient
  bob: SimulatedClient
  carol: SimulatedClient
}

/** alice (owner) creates the room; bob and carol join. */
async function room3(options: Parameters<typeof setup>[0] = {}): Promise<Room3> {
  const s = await setup(options)
  const alice = s.client('alice@localhost/phone')
  await join(alice, ROOM, 'Alice')
  const bob = s.client('bob@localhost/pc')
  await join(bob, ROOM, 'bob')
  const carol = s.client('carol@localhost/x')
  await join(carol, ROOM, 'carol')
  await settle(alice)
  return { s, alice, bob, carol }
}

describe('kick (role none, 307)', () => {
  it('removes the occupant: 110+307 to it, 307 with actor and reason to the others, and the room goes on', async () => {
    const { s, alice, bob, carol } = await room3()
    const b0 = bob.received.length
    const c0 = carol.received.length
    const a0 = alice.received.length
    const res = await alice.request(adminSet(it_({ nick: 'bob', role: 'none' }, 'Avaunt!')))
    expect(res.attrs.type).toBe('result')
    const [toBob] = await nextStanzas(bob, 1, b0)
    const [toCarol] = await nextStanzas(carol, 1, c0)
    const [toAlice] = await nextStanzas(alice, 1, a0)
    expect(brief(toBob!)).toBe(`presence unavailable ${ROOM}/bob [110,307]`)
    expect(fullItem(toBob!)).toBe(
      '<item affiliation="none" role="none" jid="bob@localhost/pc"><actor nick="Alice"/><reason>Avaunt!</reason></item>',
    )
    expect(brief(toCarol!)).toBe(`presence unavailable ${ROOM}/bob [307]`)
    expect(fullItem(toCarol!)).toBe(
      '<item affiliation="none" role="none"><actor nick="Alice"/><reason>Avaunt!</reason></item>',
    )
    expect(item(toAlice!)).toEqual({ affiliation: 'none', role: 'none', jid: 'bob@localhost/pc' })
    expect(s.service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice', 'carol'])
    // bob is no longer an occupant; he may join again (a kick is not a ban).
    expect(errorOf(await refused(bob, groupchat('still here?'))).condition).toBe('not-acceptable')
    await join(bob, ROOM, 'bob')
  })

  it('refuses a kick from a participant (forbidden), of an owner or admin (not-allowed), of an unknown nick (item-not-found)', async () => {
    const { alice, bob } = await room3()
    expect(await failure(bob.request(adminSet(it_({ nick: 'carol', role: 'none' }))))).toBe('forbidden')
    // the same answer for a nick that is not there: a non-moderator learns nothing about who is in
    expect(await failure(bob.request(adminSet(it_({ nick: 'nobody', role: 'none' }))))).toBe('forbidden')
    expect(await failure(bob.request(adminSet(it_({ nick: 'nobody', affiliation: 'member' }))))).toBe(
      'forbidden',
    )
    expect(await failure(bob.request(adminSet(it_({ nick: 'Alice', role: 'none' }))))).toBe('forbidden')
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'admin' })))
    // an admin cannot kick the owner, nor the owner an admin
    expect(await failure(bob.request(adminSet(it_({ nick: 'Alice', role: 'none' }))))).toBe('not-allowed')
    expect(await failure(alice.request(adminSet(it_({ nick: 'bob', role: 'none' }))))).toBe('not-allowed')
    expect(await failure(alice.request(adminSet(it_({ nick: 'nobody', role: 'none' }))))).toBe(
      'item-not-found',
    )
  })

  it('finds the occupant by its nick in another case, and answers bad-request to malformed items', async () => {
    const { s, alice } = await room3()
    expect((await alice.request(adminSet(it_({ nick: 'BOB', role: 'none' })))).attrs.type).toBe('result')
    expect(s.service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice', 'carol'])
    for (const bad of [
      it_({ role: 'none' }),
      it_({ nick: 'carol', role: 'king' }),
      it_({ nick: 'carol', role: 'none', affiliation: 'member' }),
      it_({ nick: 'carol' }),
      it_({ affiliation: 'member' }),
      it_({ jid: 'x@localhost', affiliation: 'emperor' }),
    ]) {
      expect(await failure(alice.request(adminSet(bad)))).toBe('bad-request')
    }
    expect(await failure(alice.request(adminSet()))).toBe('bad-request')
  })
})

describe('ban (outcast, 301)', () => {
  it('removes the banned user with 301 to everyone, lists it as outcast, and refuses its joins with forbidden', async () => {
    const { s, alice, bob, carol } = await room3()
    const b0 = bob.received.length
    const c0 = carol.received.length
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'outcast' }, 'spam')))
    const [toBob] = await nextStanzas(bob, 1, b0)
    const [toCarol] = await nextStanzas(carol, 1, c0)
    expect(brief(toBob!)).toBe(`presence unavailable ${ROOM}/bob [110,301]`)
    expect(brief(toCarol!)).toBe(`presence unavailable ${ROOM}/bob [301]`)
    expect(fullItem(toCarol!)).toBe(
      '<item affiliation="outcast" role="none"><actor nick="Alice"/><reason>spam</reason></item>',
    )
    const list = await alice.request(adminGet({ affiliation: 'outcast' }))
    expect(String(list.getChild('query'))).toBe(
      `<query xmlns="${NS_ADMIN}"><item affiliation="outcast" jid="bob@localhost"><reason>spam</reason></item></query>`,
    )
    const err = await refused(s.client('bob@localhost/other'), joinPresence(`${ROOM}/bobby`))
    expect(errorOf(err)).toEqual({
      condition: 'forbidden',
      type: 'auth',
      text: 'you are banned from this room',
    })
    // unbanned: may come back
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'none' })))
    await join(bob, ROOM, 'bob')
  })

  it('bans a user who is not in the room, by a JID in any case, without a presence to anyone', async () => {
    const { s, alice, carol } = await room3()
    const c0 = carol.received.length
    await alice.request(adminSet(it_({ jid: 'Dave@LocalHost/res', affiliation: 'outcast' })))
    expect(await settle(carol, c0)).toEqual([])
    const err = await refused(s.client('dave@localhost/pc'), joinPresence(`${ROOM}/dave`))
    expect(errorOf(err).condition).toBe('forbidden')
  })
})

describe('affiliation changes and their privileges (§5.2)', () => {
  it('makes a member, an admin (moderator now) and an owner, each announced to everyone; lists them to admins only', async () => {
    const { alice, bob, carol } = await room3()
    const c0 = carol.received.length
    await alice.request(adminSet(it_({ jid: 'carol@localhost', affiliation: 'member' })))
    const [member] = await nextStanzas(carol, 1, c0)
    expect(brief(member!)).toBe(`presence ${ROOM}/carol [110]`)
    expect(item(member!)).toEqual({ affiliation: 'member', role: 'participant', jid: 'carol@localhost/x' })
    const b0 = bob.received.length
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'admin' })))
    const [admin] = await nextStanzas(bob, 1, b0)
    expect(item(admin!)).toEqual({ affiliation: 'admin', role: 'moderator', jid: 'bob@localhost/pc' })
    expect(await failure(carol.request(adminGet({ affiliation: 'member' })))).toBe('forbidden')
    const members = await bob.request(adminGet({ affiliation: 'member' }))
    expect(String(members.getChild('query'))).toBe(
      `<query xmlns="${NS_ADMIN}"><item affiliation="member" jid="carol@localhost"/></query>`,
    )
    const owners = await bob.request(adminGet({ affiliation: 'owner' }))
    expect(
      owners
        .getChild('query')!
        .getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['alice@localhost'])
    // an admin can make members and outcasts, not admins or owners, and cannot touch an owner or admin
    expect(await failure(bob.request(adminSet(it_({ jid: 'carol@localhost', affiliation: 'admin' }))))).toBe(
      'forbidden',
    )
    expect(await failure(bob.request(adminSet(it_({ jid: 'alice@localhost', affiliation: 'member' }))))).toBe(
      'not-allowed',
    )
    expect(await failure(carol.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'none' }))))).toBe(
      'forbidden',
    )
    await alice.request(adminSet(it_({ jid: 'carol@localhost', affiliation: 'owner' })))
    const roles = await alice.request(adminGet({ role: 'moderator' }))
    expect(
      roles
        .getChild('query')!
        .getChildren('item')
        .map((i) => `${i.attrs.nick} ${i.attrs.affiliation} ${i.attrs.jid}`),
    ).toEqual([
      'Alice owner alice@localhost/phone',
      'bob admin bob@localhost/pc',
      'carol owner carol@localhost/x',
    ])
  })

  it('refuses to leave a room without an owner (conflict), and applies all items of a set or none', async () => {
    const { s, alice } = await room3()
    expect(
      await failure(alice.request(adminSet(it_({ jid: 'alice@localhost', affiliation: 'admin' })))),
    ).toBe('conflict')
    // the second item fails: the first is not applied either
    expect(
      await failure(
        alice.request(
          adminSet(
            it_({ jid: 'bob@localhost', affiliation: 'member' }),
            it_({ nick: 'nobody', role: 'visitor' }),
          ),
        ),
      ),
    ).toBe('item-not-found')
    expect(s.service.room('lobby')?.occupants.find((o) => o.nick === 'bob')?.affiliation).toBe('none')
    // with another owner first, alice may step down
    await alice.request(
      adminSet(
        it_({ jid: 'bob@localhost', affiliation: 'owner' }),
        it_({ jid: 'alice@localhost', affiliation: 'member' }),
      ),
    )
    expect(
      s.service
        .room('lobby')
        ?.occupants.map((o) => `${o.nick} ${o.affiliation} ${o.role}`)
        .sort(),
    ).toEqual(['Alice member participant', 'bob owner moderator', 'carol none participant'])
  })

  it('refuses role lists to non-moderators, and an iq to an occupant JID or a missing room', async () => {
    const { alice, bob } = await room3()
    expect(await failure(bob.request(adminGet({ role: 'participant' })))).toBe('forbidden')
    const parts = await alice.request(adminGet({ role: 'participant' }))
    expect(
      parts
        .getChild('query')!
        .getChildren('item')
        .map((i) => i.attrs.nick),
    ).toEqual(['bob', 'carol'])
    const toOccupant = xml(
      'iq',
      { type: 'get', to: `${ROOM}/bob` },
      xml('query', { xmlns: NS_ADMIN }, xml('item', { role: 'participant' })),
    )
    expect(await failure(alice.request(toOccupant))).toBe('bad-request')
    const missing = xml(
      'iq',
      { type: 'get', to: 'nowhere@chat.localhost' },
      xml('query', { xmlns: NS_ADMIN }, xml('item', { role: 'participant' })),
    )
    expect(await failure(alice.request(missing))).toBe('item-not-found')
    expect(await failure(alice.request(adminGet({ affiliation: 'member', role: 'visitor' })))).toBe(
      'bad-request',
    )
  })

  it('bounds the affiliation lists (limits.affiliations): resource-constraint past it', async () => {
    const { alice } = await room3({ limits: { affiliations: 2 } })
    await alice.request(adminSet(it_({ jid: 'x@localhost', affiliation: 'member' })))
    expect(await failure(alice.request(adminSet(it_({ jid: 'y@localhost', affiliation: 'member' }))))).toBe(
      'resource-constraint',
    )
    // changing an existing entry is not growth
    await alice.request(adminSet(it_({ jid: 'x@localhost', affiliation: 'outcast' })))
  })
})

describe('members-only rooms', () => {
  it('refuses non-members with registration-required, admits members, and removes a member whose membership is revoked (321)', async () => {
    const s = await setup({ defaults: { membersOnly: true } })
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = s.client('bob@localhost/pc')
    const err = await refused(bob, joinPresence(`${ROOM}/bob`))
    expect(errorOf(err)).toEqual({
      condition: 'registration-required',
      type: 'auth',
      text: 'this room is for members only',
    })
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'member' })))
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    const b0 = bob.received.length
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'none' })))
    const [toBob] = await nextStanzas(bob, 1, b0)
    const [toAlice] = await nextStanzas(alice, 1, a0)
    expect(brief(toBob!)).toBe(`presence unavailable ${ROOM}/bob [110,321]`)
    expect(brief(toAlice!)).toBe(`presence unavailable ${ROOM}/bob [321]`)
    expect(item(toAlice!)).toEqual({ affiliation: 'none', role: 'none', jid: 'bob@localhost/pc' })
  })
})

describe('voice in moderated rooms', () => {
  it('makes newcomers visitors, refuses their groupchat with forbidden, and lets them speak once given voice', async () => {
    const { alice, bob, carol } = await room3({ defaults: { moderated: true } })
    const err = await refused(bob, groupchat('hello?'))
    expect(errorOf(err)).toEqual({
      condition: 'forbidden',
      type: 'auth',
      text: 'you have no voice in this room',
    })
    const c0 = carol.received.length
    await alice.request(adminSet(it_({ nick: 'bob', role: 'participant' }, 'speak')))
    const [voiced] = await nextStanzas(carol, 1, c0)
    expect(fullItem(voiced!)).toBe(
      '<item affiliation="none" role="participant"><reason>speak</reason></item>',
    )
    bob.send(groupchat('thanks'))
    await carol.expectStanza((m) => m.getChildText('body') === 'thanks')
    // revoke again
    await alice.request(adminSet(it_({ nick: 'bob', role: 'visitor' })))
    expect(errorOf(await refused(bob, groupchat('again?'))).condition).toBe('forbidden')
  })

  it('lets only admins and owners grant or revoke moderation (forbidden for a plain moderator)', async () => {
    const { alice, bob } = await room3()
    await alice.request(adminSet(it_({ nick: 'bob', role: 'moderator' })))
    expect(await failure(bob.request(adminSet(it_({ nick: 'carol', role: 'moderator' }))))).toBe('forbidden')
    // a plain moderator may kick a participant
    expect(await failure(bob.request(adminSet(it_({ nick: 'carol', role: 'none' }))))).toBe('result')
  })
})

describe('options and discovery of the new settings', () => {
  it('checks defaults.membersOnly, defaults.moderated and limits.affiliations', async () => {
    const { muc } = await import('@satellite/muc')
    const { xmpp } = await setup()
    for (const [opts, message] of [
      [{ defaults: { membersOnly: 'yes' } }, 'muc.defaults.membersOnly: must be true or false, got string'],
      [{ defaults: { moderated: 1 } }, 'muc.defaults.moderated: must be true or false, got number'],
      [{ limits: { affiliations: 0 } }, 'muc.limits.affiliations: must be at least 1, got 0'],
    ] as const) {
      let err: unknown
      try {
        muc(xmpp, opts as never)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true, message })
    }
  })

  it('advertises muc_membersonly and muc_moderated from the settings', async () => {
    const { client } = await setup({ defaults: { membersOnly: true, moderated: true } })
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const info = await client('zed@localhost/x').request(
      xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
    const features = info
      .getChild('query')!
      .getChildren('feature')
      .map((f) => f.attrs.var)
    expect(features).toContain('muc_membersonly')
    expect(features).toContain('muc_moderated')
    expect(features).not.toContain('muc_open')
    expect(features).not.toContain('muc_unmoderated')
  })
})

describe('what a new moderator sees', () => {
  it('sends an occupant that becomes a moderator of a semi-anonymous room every presence again with real JIDs, and without them when it stops', async () => {
    const { alice, bob } = await room3()
    const b0 = bob.received.length
    await alice.request(adminSet(it_({ nick: 'bob', role: 'moderator' })))
    const got = await nextStanzas(bob, 3, b0)
    expect(got.map((s) => `${brief(s)} ${item(s).role} ${item(s).jid}`)).toEqual([
      `presence ${ROOM}/bob [110] moderator bob@localhost/pc`,
      `presence ${ROOM}/Alice moderator alice@localhost/phone`,
      `presence ${ROOM}/carol participant carol@localhost/x`,
    ])
    const b1 = bob.received.length
    await alice.request(adminSet(it_({ nick: 'bob', role: 'participant' })))
    const again = await nextStanzas(bob, 3, b1)
    expect(again.map((s) => `${brief(s)} ${item(s).role} ${item(s).jid}`)).toEqual([
      `presence ${ROOM}/bob [110] participant bob@localhost/pc`,
      `presence ${ROOM}/Alice moderator undefined`,
      `presence ${ROOM}/carol participant undefined`,
    ])
    // a change that does not change what it sees sends no roster
    const b2 = bob.received.length
    await alice.request(adminSet(it_({ jid: 'bob@localhost', affiliation: 'member' })))
    expect((await settle(bob, b2)).map(brief)).toEqual([`presence ${ROOM}/bob [110]`])
  })
})
