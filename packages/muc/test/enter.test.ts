import { xml } from '@satellite/core'
import { NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import {
  brief,
  codes,
  DOMAIN,
  errorOf,
  item,
  join,
  joinPresence,
  nextStanzas,
  ROOM,
  refused,
  settle,
  setup,
} from './helpers.js'

describe('entering a room', () => {
  it('creates an instant room on first join: self-presence with 110 and 201, owner and moderator, then an empty subject', async () => {
    const { client, service } = await setup()
    const alice = client('alice@localhost/phone')
    const got = await join(alice, ROOM, 'Alice')
    expect(got.map(brief)).toEqual([`presence ${ROOM}/Alice [110,201]`, `message groupchat ${ROOM} subject`])
    expect(item(got[0]!)).toEqual({ affiliation: 'owner', role: 'moderator', jid: 'alice@localhost/phone' })
    expect(got[0]!.attrs.to).toBe('alice@localhost/phone')
    expect(got[1]!.getChildText('subject')).toBe('')
    expect(service.rooms()).toEqual([ROOM])
  })

  it('sends the occupant list first, then the self-presence (110, no 201), then the subject', async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    await join(client('carol@localhost/x'), ROOM, 'carol')
    const bob = client('bob@localhost/pc')
    const got = await join(bob, ROOM, 'bob')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/Alice`,
      `presence ${ROOM}/carol`,
      `presence ${ROOM}/bob [110]`,
      `message groupchat ${ROOM} subject`,
    ])
    // semi-anonymous: a participant does not see real JIDs, but sees its own
    expect(item(got[0]!)).toEqual({ affiliation: 'owner', role: 'moderator' })
    expect(item(got[1]!)).toEqual({ affiliation: 'none', role: 'participant' })
    expect(item(got[2]!)).toEqual({ affiliation: 'none', role: 'participant', jid: 'bob@localhost/pc' })
  })

  it("broadcasts the newcomer's presence to the others, with the real JID only to moderators", async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const carol = client('carol@localhost/x')
    await join(carol, ROOM, 'carol')
    const a0 = alice.received.length
    const c0 = carol.received.length
    await join(client('bob@localhost/pc'), ROOM, 'bob')
    const [toAlice] = await nextStanzas(alice, 1, a0)
    const [toCarol] = await nextStanzas(carol, 1, c0)
    expect(brief(toAlice!)).toBe(`presence ${ROOM}/bob`)
    expect(item(toAlice!)).toEqual({ affiliation: 'none', role: 'participant', jid: 'bob@localhost/pc' })
    expect(item(toCarol!)).toEqual({ affiliation: 'none', role: 'participant' })
  })

  it('puts the occupant id (XEP-0421) on every presence, the same for one user, different per room', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    const [self] = await join(alice, ROOM, 'Alice')
    const id = self!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/)
    const [other] = await join(alice, `other@${DOMAIN}`, 'Alice')
    expect(other!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).not.toBe(id)
    const bob = client('bob@localhost/pc')
    const [aliceSeenByBob] = await join(bob, ROOM, 'bob')
    expect(aliceSeenByBob!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).toBe(id)
  })

  it('keeps occupant ids across restarts when given a secret', async () => {
    const first = await setup({ occupantIdSecret: 'a-secret-of-16-chars' })
    const [a] = await join(first.client('alice@localhost/phone'), ROOM, 'Alice')
    const second = await setup({ occupantIdSecret: 'a-secret-of-16-chars' })
    const [b] = await join(second.client('alice@localhost/phone'), ROOM, 'Alice')
    expect(b!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).toBe(
      a!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id,
    )
  })

  it('adds 100 in a non-anonymous room and 170 in a logged one, and shows real JIDs to everyone', async () => {
    const { client } = await setup({ defaults: { whois: 'anyone', logged: true } })
    const got = await join(client('alice@localhost/phone'), ROOM, 'Alice')
    expect(codes(got[0]!)).toEqual([100, 110, 170, 201])
    const bob = client('bob@localhost/pc')
    const seen = await join(bob, ROOM, 'bob')
    expect(item(seen[0]!).jid).toBe('alice@localhost/phone')
    expect(codes(seen[1]!)).toEqual([100, 110, 170])
  })

  it('accepts a join without <x xmlns=muc/> (groupchat 1.0)', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    alice.send(joinPresence(`${ROOM}/Alice`, [], { gc1: true }))
    const got = await nextStanzas(alice, 2)
    expect(got.map(brief)).toEqual([`presence ${ROOM}/Alice [110,201]`, `message groupchat ${ROOM} subject`])
  })

  it('passes the joiner’s show, status and other extensions on, without its MUC elements', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    const bob = client('bob@localhost/pc')
    bob.send(
      xml(
        'presence',
        { to: `${ROOM}/bob` },
        xml('show', {}, 'away'),
        xml('status', {}, 'lunch'),
        xml('x', { xmlns: 'http://jabber.org/protocol/muc' }),
        xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: 'forged' }),
        xml('c', { xmlns: 'http://jabber.org/protocol/caps', hash: 'sha-1', node: 'n', ver: 'v' }),
      ),
    )
    const [p] = await nextStanzas(alice, 1, a0)
    expect(p!.getChildText('show')).toBe('away')
    expect(p!.getChildText('status')).toBe('lunch')
    expect(p!.getChild('c', 'http://jabber.org/protocol/caps')?.attrs.ver).toBe('v')
    expect(p!.getChild('x', 'http://jabber.org/protocol/muc')).toBeUndefined()
    const ids = p!.getChildren('occupant-id', NS_OCCUPANT_ID).map((e) => e.attrs.id)
    expect(ids).toHaveLength(1)
    expect(ids[0]).not.toBe('forged')
  })

  it('refuses a taken nick with 409 conflict, whatever its case or Unicode form', async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    for (const nick of ['Alice', 'alice', 'ALICE', 'ａｌｉｃｅ', ' alice ']) {
      const err = await refused(bob, joinPresence(`${ROOM}/${nick}`))
      expect(errorOf(err)).toMatchObject({ condition: 'conflict', type: 'cancel' })
      expect(err.attrs.from).toBe(`${ROOM}/${nick}`)
    }
  })

  it("puts <x xmlns='…muc'/> in every presence error, as XEP-0045's examples and Prosody do (slixmpp's join_muc_wait matches a join error by it and timed out without it, e2e)", async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    for (const p of [
      joinPresence(`${ROOM}/alice`),
      joinPresence(`${ROOM}/alice`, [], { gc1: true }),
      joinPresence(`${ROOM}/`),
    ]) {
      const err = await refused(bob, p)
      expect(err.getChild('x', 'http://jabber.org/protocol/muc')).toBeDefined()
      expect(err.getChild('x', 'http://jabber.org/protocol/muc')?.children).toEqual([])
      expect(err.getChild('error')).toBeDefined()
    }
  })

  it('refuses a join without a nick, or with a bad one, with jid-malformed', async () => {
    const { client } = await setup({ limits: { nickLength: 8 } })
    const bob = client('bob@localhost/pc')
    expect(errorOf(await refused(bob, joinPresence(ROOM)))).toMatchObject({
      condition: 'jid-malformed',
      type: 'modify',
    })
    expect(errorOf(await refused(bob, joinPresence(`${ROOM}/ `))).text).toBe('a nick cannot be empty')
    expect(errorOf(await refused(bob, joinPresence(`${ROOM}/a\u009bb`))).text).toBe(
      'a nick cannot contain control characters',
    )
    expect(errorOf(await refused(bob, joinPresence(`${ROOM}/123456789`))).text).toBe(
      'a nick is at most 8 characters',
    )
  })

  it('uses the enforced form of a nick and says so with 210', async () => {
    const { client, service } = await setup()
    const got = await join(client('alice@localhost/phone'), ROOM, 'ａｌｉｃｅ  ')
    expect(got[0]!.attrs.from).toBe(`${ROOM}/alice`)
    expect(codes(got[0]!)).toEqual([110, 201, 210])
    expect(service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['alice'])
  })

  it('lets a second resource of the user share its nick: full state to it, a presence update to the rest', async () => {
    const { client, service } = await setup()
    const phone = client('alice@localhost/phone')
    await join(phone, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const p0 = phone.received.length
    const b0 = bob.received.length
    const laptop = client('alice@localhost/laptop')
    const got = await join(laptop, ROOM, 'Alice')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/bob`,
      `presence ${ROOM}/Alice [110]`,
      `message groupchat ${ROOM} subject`,
    ])
    expect(item(got[1]!)).toEqual({ affiliation: 'owner', role: 'moderator', jid: 'alice@localhost/laptop' })
    const [toPhone] = await nextStanzas(phone, 1, p0)
    expect(brief(toPhone!)).toBe(`presence ${ROOM}/Alice [110]`)
    const [toBob] = await nextStanzas(bob, 1, b0)
    expect(brief(toBob!)).toBe(`presence ${ROOM}/Alice`)
    expect(service.room('lobby')?.occupants.find((o) => o.nick === 'Alice')?.jids).toEqual([
      'alice@localhost/phone',
      'alice@localhost/laptop',
    ])
  })

  it("gives a second resource asking for another nick the user's nick, with 210", async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const got = await join(client('alice@localhost/laptop'), ROOM, 'Alicia')
    expect(brief(got[0]!)).toBe(`presence ${ROOM}/Alice [110,210]`)
  })

  it('answers a join while joined (a re-join) with the whole room again; the others see a presence update', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    const again = await join(bob, ROOM, 'bob')
    expect(again.map(brief)).toEqual([
      `presence ${ROOM}/Alice`,
      `presence ${ROOM}/bob [110]`,
      `message groupchat ${ROOM} subject`,
    ])
    expect((await settle(alice, a0)).map(brief)).toEqual([`presence ${ROOM}/bob`])
  })

  it('broadcasts a presence update to every occupant, with 110 to its sender', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/bob` }, xml('show', {}, 'dnd')))
    const [toAlice] = await nextStanzas(alice, 1, a0)
    const [toBob] = await nextStanzas(bob, 1, b0)
    expect(brief(toAlice!)).toBe(`presence ${ROOM}/bob`)
    expect(toAlice!.getChildText('show')).toBe('dnd')
    expect(brief(toBob!)).toBe(`presence ${ROOM}/bob [110]`)
  })

  it("keeps the client's presence id on every copy of that presence (join, update, nick change, leave), as Prosody does, and not on later copies", async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/bob`, id: 'j1' }, xml('x', { xmlns: NS_MUC })))
    const [joinToAlice] = await nextStanzas(alice, 1, a0)
    const joinToBob = await nextStanzas(bob, 3, b0)
    expect(joinToBob.map((s) => [brief(s), s.attrs.id])).toEqual([
      [`presence ${ROOM}/Alice`, undefined],
      [`presence ${ROOM}/bob [110]`, 'j1'],
      [`message groupchat ${ROOM} subject`, undefined],
    ])
    expect([brief(joinToAlice!), joinToAlice!.attrs.id]).toEqual([`presence ${ROOM}/bob`, 'j1'])
    const a1 = alice.received.length
    const b1 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/bob`, id: 'u1' }, xml('show', {}, 'away')))
    const [updToAlice] = await nextStanzas(alice, 1, a1)
    const [updToBob] = await nextStanzas(bob, 1, b1)
    expect([updToAlice!.attrs.id, updToBob!.attrs.id]).toEqual(['u1', 'u1'])
    bob.send(xml('presence', { to: `${ROOM}/robert`, id: 'n1' }))
    const nickToAlice = await nextStanzas(alice, 2, a1 + 1)
    expect(nickToAlice.map((s) => [brief(s), s.attrs.id])).toEqual([
      [`presence unavailable ${ROOM}/bob [303]`, undefined],
      [`presence ${ROOM}/robert`, 'n1'],
    ])
    const late = client('carol@localhost/x')
    const [robertToCarol] = await join(late, ROOM, 'carol').then((got) =>
      got.filter((s) => s.attrs.from === `${ROOM}/robert`),
    )
    expect(robertToCarol!.attrs.id).toBeUndefined()
    const b2 = bob.received.length
    const a2 = alice.received.length
    bob.send(xml('presence', { to: `${ROOM}/robert`, type: 'unavailable', id: 'l1' }))
    const [leaveToBob] = await nextStanzas(bob, 1, b2)
    const leaveToAlice = (await settle(alice, a2)).find((s) => s.attrs.type === 'unavailable')
    expect([brief(leaveToBob!), leaveToBob!.attrs.id]).toEqual([
      `presence unavailable ${ROOM}/robert [110]`,
      'l1',
    ])
    expect([brief(leaveToAlice!), leaveToAlice!.attrs.id]).toEqual([
      `presence unavailable ${ROOM}/robert`,
      'l1',
    ])
  })

  it('changes a nick: 303 with the new nick to everyone, then the presence under the new nick', async () => {
    const { client, service } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/robert` }))
    const toAlice = await nextStanzas(alice, 2, a0)
    const toBob = await nextStanzas(bob, 2, b0)
    expect(toAlice.map(brief)).toEqual([`presence unavailable ${ROOM}/bob [303]`, `presence ${ROOM}/robert`])
    expect(item(toAlice[0]!)).toEqual({
      affiliation: 'none',
      role: 'participant',
      jid: 'bob@localhost/pc',
      nick: 'robert',
    })
    expect(toBob.map(brief)).toEqual([
      `presence unavailable ${ROOM}/bob [110,303]`,
      `presence ${ROOM}/robert [110]`,
    ])
    expect(item(toBob[0]!).nick).toBe('robert')
    expect(
      service
        .room('lobby')
        ?.occupants.map((o) => o.nick)
        .sort(),
    ).toEqual(['Alice', 'robert'])
  })

  it('lets an occupant change the case of its own nick, and refuses a nick taken by another with 409', async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    expect(errorOf(await refused(bob, xml('presence', { to: `${ROOM}/ALICE` }))).condition).toBe('conflict')
    const b0 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/Bob` }))
    expect((await nextStanzas(bob, 2, b0)).map(brief)).toEqual([
      `presence unavailable ${ROOM}/bob [110,303]`,
      `presence ${ROOM}/Bob [110]`,
    ])
  })

  it('sends the leaver its unavailable presence with 110 and the others theirs, with its status', async () => {
    const { client, service } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(xml('presence', { to: `${ROOM}/bob`, type: 'unavailable' }, xml('status', {}, 'bye')))
    const [toAlice] = await nextStanzas(alice, 1, a0)
    const [toBob] = await nextStanzas(bob, 1, b0)
    expect(brief(toAlice!)).toBe(`presence unavailable ${ROOM}/bob`)
    expect(item(toAlice!)).toEqual({ affiliation: 'none', role: 'none', jid: 'bob@localhost/pc' })
    expect(toAlice!.getChildText('status')).toBe('bye')
    expect(brief(toBob!)).toBe(`presence unavailable ${ROOM}/bob [110]`)
    expect(service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice'])
  })

  it('keeps the occupant while another resource is in: only the leaving resource gets unavailable', async () => {
    const { client, service } = await setup()
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const phone = client('alice@localhost/phone')
    await join(phone, ROOM, 'Alice')
    const laptop = client('alice@localhost/laptop')
    await join(laptop, ROOM, 'Alice')
    const b0 = bob.received.length
    const l0 = laptop.received.length
    laptop.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    expect((await nextStanzas(laptop, 1, l0)).map(brief)).toEqual([
      `presence unavailable ${ROOM}/Alice [110]`,
    ])
    // the shown presence goes back to the phone's: an update, not a departure
    expect((await settle(bob, b0)).map(brief)).toEqual([`presence ${ROOM}/Alice`])
    expect(service.room('lobby')?.occupants.find((o) => o.nick === 'Alice')?.jids).toEqual([
      'alice@localhost/phone',
    ])
  })

  it('removes a non-persistent room when its last occupant leaves, and keeps a persistent one', async () => {
    const temporary = await setup()
    const alice = temporary.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    alice.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    await alice.expectStanza({ name: 'presence', type: 'unavailable' })
    expect(temporary.service.size).toBe(0)
    expect(temporary.service.room('lobby')).toBeUndefined()
    const persistent = await setup({ defaults: { persistent: true } })
    const bob = persistent.client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    bob.send(xml('presence', { to: `${ROOM}/bob`, type: 'unavailable' }))
    await bob.expectStanza({ name: 'presence', type: 'unavailable' })
    expect(persistent.service.room('lobby')?.occupants).toEqual([])
  })

  it('ignores unavailable presence from a non-occupant and subscriptions to a room', async () => {
    const { client, service } = await setup()
    const bob = client('bob@localhost/pc')
    bob.send(xml('presence', { to: `${ROOM}/bob`, type: 'unavailable' }))
    bob.send(xml('presence', { to: ROOM, type: 'subscribe' }))
    expect(await settle(bob)).toEqual([])
    expect(service.size).toBe(0)
  })
})

describe('ghosts', () => {
  async function twoInRoom() {
    const s = await setup()
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = s.client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    return { ...s, alice, bob }
  }
  const bounce = (type: 'message' | 'presence', to: string, condition: string) =>
    xml(
      type,
      { to, type: 'error' },
      xml('error', { type: 'cancel' }, xml(condition, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
    )

  it('removes an occupant whose server bounces a groupchat with recipient-unavailable: 333 to the others', async () => {
    const { alice, bob, service } = await twoInRoom()
    const a0 = alice.received.length
    bob.send(bounce('message', `${ROOM}/Alice`, 'recipient-unavailable'))
    const [toAlice] = await nextStanzas(alice, 1, a0)
    expect(brief(toAlice!)).toBe(`presence unavailable ${ROOM}/bob [333]`)
    expect(item(toAlice!).role).toBe('none')
    expect(service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice'])
  })

  it('removes an occupant whose server bounces a presence with remote-server-not-found', async () => {
    const { alice, bob, service } = await twoInRoom()
    const a0 = alice.received.length
    bob.send(bounce('presence', `${ROOM}/Alice`, 'remote-server-not-found'))
    expect((await nextStanzas(alice, 1, a0)).map(brief)).toEqual([`presence unavailable ${ROOM}/bob [333]`])
    expect(service.room('lobby')?.occupants).toHaveLength(1)
  })

  it('keeps an occupant whose client refuses one stanza with an error that does not mean it is gone', async () => {
    const { alice, bob, service } = await twoInRoom()
    const a0 = alice.received.length
    bob.send(bounce('message', `${ROOM}/Alice`, 'not-acceptable'))
    expect(await settle(alice, a0)).toEqual([])
    expect(service.room('lobby')?.occupants).toHaveLength(2)
  })
})

describe('self-ping (XEP-0410)', () => {
  const ping = (to: string) => xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' }))

  it('answers an occupant pinging its own nick, and the room itself', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    expect((await alice.request(ping(`${ROOM}/Alice`))).attrs.type).toBe('result')
    expect((await alice.request(ping(`${ROOM}/alice`))).attrs.type).toBe('result')
    expect((await alice.request(ping(ROOM))).attrs.type).toBe('result')
  })

  it('answers not-acceptable to a ping from someone not in the room', async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    const err = await bob.request(ping(`${ROOM}/Alice`)).catch((e: unknown) => e)
    expect(err).toMatchObject({ condition: 'not-acceptable', errorType: 'cancel' })
    const gone = await bob.request(ping(`nowhere@${DOMAIN}/bob`)).catch((e: unknown) => e)
    expect(gone).toMatchObject({ condition: 'not-acceptable' })
  })

  it('advertises the self-ping optimisation in the room’s features', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const info = await alice.request(
      xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
    const features = info
      .getChild('query')!
      .getChildren('feature')
      .map((f) => f.attrs.var)
    expect(features).toContain('http://jabber.org/protocol/muc#self-ping-optimization')
    expect(NS_MUC_USER).toBe('http://jabber.org/protocol/muc#user')
  })
})
