import { xml } from '@satellite/core'
import { NS_MUC_USER, NS_OCCUPANT_ID, NS_SID } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import {
  brief,
  DOMAIN,
  errorOf,
  groupchat,
  join,
  nextStanzas,
  ROOM,
  refused,
  settle,
  setup,
} from './helpers.js'

async function room(options: Parameters<typeof setup>[0] = {}) {
  const s = await setup(options)
  const alice = s.client('alice@localhost/phone')
  await join(alice, ROOM, 'Alice')
  const bob = s.client('bob@localhost/pc')
  await join(bob, ROOM, 'bob')
  return { ...s, alice, bob }
}

describe('groupchat', () => {
  it('reflects a message to every occupant, the sender included, from its occupant JID with its id', async () => {
    const { alice, bob } = await room()
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(groupchat('hello', { id: 'm1' }))
    const [toAlice] = await nextStanzas(alice, 1, a0)
    const [toBob] = await nextStanzas(bob, 1, b0)
    for (const [m, to] of [
      [toAlice!, 'alice@localhost/phone'],
      [toBob!, 'bob@localhost/pc'],
    ] as const) {
      expect(m.attrs).toEqual({ from: `${ROOM}/bob`, to, type: 'groupchat', id: 'm1' })
      expect(m.getChildText('body')).toBe('hello')
    }
  })

  it("adds the room's stanza-id (by = room JID) and the sender's occupant-id, the same for every recipient", async () => {
    const { alice, bob } = await room()
    const a0 = alice.received.length
    const b0 = bob.received.length
    bob.send(groupchat('hello'))
    const [toAlice] = await nextStanzas(alice, 1, a0)
    const [toBob] = await nextStanzas(bob, 1, b0)
    const sid = toAlice!.getChild('stanza-id', NS_SID)
    expect(sid?.attrs.by).toBe(ROOM)
    expect(sid?.attrs.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(toBob!.getChild('stanza-id', NS_SID)?.attrs.id).toBe(sid?.attrs.id)
    const bobsId = bob.received.find((p) => p.name === 'presence' && p.attrs.from === `${ROOM}/bob`)
    expect(toAlice!.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).toBe(
      bobsId?.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id,
    )
  })

  it("strips a forged occupant-id and a stanza-id claiming to be the room's, and keeps other ids", async () => {
    const { alice, bob } = await room()
    const a0 = alice.received.length
    bob.send(
      groupchat(
        'forged',
        {},
        xml('occupant-id', { xmlns: NS_OCCUPANT_ID, id: 'alice-s-id' }),
        xml('stanza-id', { xmlns: NS_SID, id: 'fake', by: ROOM }),
        xml('origin-id', { xmlns: NS_SID, id: 'o1' }),
      ),
    )
    const [m] = await nextStanzas(alice, 1, a0)
    expect(m!.getChildren('occupant-id', NS_OCCUPANT_ID).map((e) => e.attrs.id)).not.toContain('alice-s-id')
    expect(m!.getChildren('occupant-id', NS_OCCUPANT_ID)).toHaveLength(1)
    expect(m!.getChildren('stanza-id', NS_SID).map((e) => e.attrs.id)).not.toContain('fake')
    expect(m!.getChild('origin-id', NS_SID)?.attrs.id).toBe('o1')
  })

  it('refuses a groupchat from a non-occupant with not-acceptable, and one to a missing room with item-not-found', async () => {
    const { client, alice } = await room()
    const carol = client('carol@localhost/x')
    const a0 = alice.received.length
    expect(errorOf(await refused(carol, groupchat('hi')))).toMatchObject({ condition: 'not-acceptable' })
    expect(await settle(alice, a0)).toEqual([])
    const err = await refused(
      carol,
      xml('message', { to: `nowhere@${DOMAIN}`, type: 'groupchat' }, xml('body', {}, 'x')),
    )
    expect(errorOf(err).condition).toBe('item-not-found')
  })

  it('refuses a message of another type to the room with bad-request', async () => {
    const { bob } = await room()
    const err = await refused(bob, xml('message', { to: ROOM, type: 'chat' }, xml('body', {}, 'x')))
    expect(errorOf(err)).toMatchObject({ condition: 'bad-request', type: 'modify' })
  })

  it('refuses a message over limits.messageChars with policy-violation and a text', async () => {
    const { bob } = await room({ limits: { messageChars: 100 } })
    const err = await refused(bob, groupchat('x'.repeat(101)))
    expect(errorOf(err)).toEqual({
      condition: 'policy-violation',
      type: 'modify',
      text: 'a message is at most 100 characters',
    })
  })

  it('refuses messages past the rate (burst, then per second) with resource-constraint', async () => {
    let now = 1_000_000
    const { bob, alice } = await room({ limits: { messageRate: { burst: 3, perSecond: 1 } }, now: () => now })
    const a0 = alice.received.length
    for (const t of ['1', '2', '3']) bob.send(groupchat(t))
    const err = await refused(bob, groupchat('4'))
    expect(errorOf(err)).toEqual({
      condition: 'resource-constraint',
      type: 'wait',
      text: 'too many messages: at most 3 at once, then 1 per second',
    })
    now += 1000
    bob.send(groupchat('5'))
    expect((await nextStanzas(alice, 4, a0)).map((m) => m.getChildText('body'))).toEqual(['1', '2', '3', '5'])
  })

  it('lets the owner change the subject and refuses a participant with forbidden', async () => {
    const { alice, bob, service } = await room()
    const b0 = bob.received.length
    alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'Spells')))
    const [m] = await nextStanzas(bob, 1, b0)
    expect(brief(m!)).toBe(`message groupchat ${ROOM}/Alice subject`)
    expect(m!.getChildText('subject')).toBe('Spells')
    expect(service.room('lobby')?.subject).toBe('Spells')
    const err = await refused(
      bob,
      xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'mine')),
    )
    expect(errorOf(err).condition).toBe('forbidden')
    expect(service.room('lobby')?.subject).toBe('Spells')
  })

  it('sends a new occupant the current subject from the nick that set it', async () => {
    const { alice, client } = await room()
    alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'Spells')))
    await alice.expectStanza((s) => s.getChildText('subject') === 'Spells')
    const got = await join(client('carol@localhost/x'), ROOM, 'carol')
    const last = got[got.length - 1]!
    expect(last.attrs.from).toBe(`${ROOM}/Alice`)
    expect(last.getChildText('subject')).toBe('Spells')
  })
})

describe('private messages', () => {
  it('delivers a private message from the sender’s occupant JID, marked with muc#user and occupant-id', async () => {
    const { alice, bob } = await room()
    const a0 = alice.received.length
    bob.send(xml('message', { to: `${ROOM}/alice`, type: 'chat', id: 'p1' }, xml('body', {}, 'psst')))
    const [m] = await nextStanzas(alice, 1, a0)
    expect(m!.attrs).toEqual({ from: `${ROOM}/bob`, to: 'alice@localhost/phone', type: 'chat', id: 'p1' })
    expect(m!.getChildText('body')).toBe('psst')
    expect(m!.getChild('x', NS_MUC_USER)).toBeDefined()
    expect(m!.getChild('occupant-id', NS_OCCUPANT_ID)).toBeDefined()
    expect(m!.getChild('stanza-id', NS_SID)).toBeUndefined()
  })

  it('delivers a private message to every resource sharing the nick', async () => {
    const { alice, bob, client } = await room()
    const laptop = client('alice@localhost/laptop')
    await join(laptop, ROOM, 'Alice')
    const a0 = alice.received.length
    const l0 = laptop.received.length
    bob.send(xml('message', { to: `${ROOM}/Alice`, type: 'chat' }, xml('body', {}, 'both')))
    expect((await nextStanzas(alice, 1, a0))[0]!.getChildText('body')).toBe('both')
    expect((await nextStanzas(laptop, 1, l0))[0]!.getChildText('body')).toBe('both')
  })

  it('refuses a private message from a non-occupant with not-acceptable', async () => {
    const { client } = await room()
    const carol = client('carol@localhost/x')
    const err = await refused(
      carol,
      xml('message', { to: `${ROOM}/Alice`, type: 'chat' }, xml('body', {}, 'x')),
    )
    expect(errorOf(err).condition).toBe('not-acceptable')
  })

  it('refuses private messages with forbidden when the room does not allow them', async () => {
    const { bob, alice } = await room({ defaults: { privateMessages: false } })
    const a0 = alice.received.length
    const err = await refused(
      bob,
      xml('message', { to: `${ROOM}/Alice`, type: 'chat' }, xml('body', {}, 'x')),
    )
    expect(errorOf(err)).toEqual({
      condition: 'forbidden',
      type: 'auth',
      text: 'private messages are not allowed in this room',
    })
    expect(await settle(alice, a0)).toEqual([])
  })

  it('refuses a private message of type groupchat with bad-request, and one to an unknown nick with item-not-found', async () => {
    const { bob } = await room()
    const gc = await refused(
      bob,
      xml('message', { to: `${ROOM}/Alice`, type: 'groupchat' }, xml('body', {}, 'x')),
    )
    expect(errorOf(gc).condition).toBe('bad-request')
    const none = await refused(
      bob,
      xml('message', { to: `${ROOM}/nobody`, type: 'chat' }, xml('body', {}, 'x')),
    )
    expect(errorOf(none).condition).toBe('item-not-found')
  })
})
