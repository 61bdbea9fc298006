import { xml } from '@satellite/core'
import { NS_MUC_USER } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import { errorOf, join, joinPresence, ROOM, refused, settle, setup } from './helpers.js'

const NS_ADMIN = 'http://jabber.org/protocol/muc#admin'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'

const invitation = (...invites: { to: string; reason?: string }[]) =>
  xml(
    'message',
    { to: ROOM },
    xml(
      'x',
      { xmlns: NS_MUC_USER },
      ...invites.map((i) =>
        xml('invite', { to: i.to }, ...(i.reason === undefined ? [] : [xml('reason', {}, i.reason)])),
      ),
    ),
  )
const configure = (fields: Record<string, string>) =>
  xml(
    'iq',
    { type: 'set', to: ROOM },
    xml(
      'query',
      { xmlns: NS_OWNER },
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        ...Object.entries(fields).map(([v, value]) => xml('field', { var: v }, xml('value', {}, value))),
      ),
    ),
  )

describe('mediated invitations (§7.8.2)', () => {
  it('sends the invitee a message from the room with the inviter, the reason and the password', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    await alice.request(
      configure({ 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'sesame' }),
    )
    const hecate = client('hecate@localhost/pc')
    alice.send(invitation({ to: 'hecate@localhost', reason: 'Hey Hecate' }))
    const got = await hecate.expectStanza((s) => s.name === 'message')
    expect(String(got)).toBe(
      `<message from="${ROOM}" to="hecate@localhost"><x xmlns="${NS_MUC_USER}"><invite from="alice@localhost/phone"><reason>Hey Hecate</reason></invite><password>sesame</password></x></message>`,
    )
  })

  it('refuses invitations from a non-occupant (not-acceptable) and to something that is not a JID (jid-malformed)', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const err = await refused(client('eve@localhost/x'), invitation({ to: 'hecate@localhost' }))
    expect(errorOf(err)).toEqual({
      condition: 'not-acceptable',
      type: 'modify',
      text: 'join the room before inviting',
    })
    expect(errorOf(await refused(alice, invitation({ to: 'not a jid' }))).condition).toBe('jid-malformed')
    const many = Array.from({ length: 11 }, (_, i) => ({ to: `u${i}@localhost` }))
    expect(errorOf(await refused(alice, invitation(...many))).condition).toBe('policy-violation')
  })

  it('in a members-only room: admins and owners invite and the invitee becomes a member; others only when invites are allowed', async () => {
    const { client } = await setup({ defaults: { membersOnly: true } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    alice.send(invitation({ to: 'bob@localhost/pc' }))
    const bob = client('bob@localhost/pc')
    await bob.expectStanza((s) => s.name === 'message')
    await join(bob, ROOM, 'bob') // a member now
    const members = await alice.request(
      xml(
        'iq',
        { type: 'get', to: ROOM },
        xml('query', { xmlns: NS_ADMIN }, xml('item', { affiliation: 'member' })),
      ),
    )
    expect(
      members
        .getChild('query')!
        .getChildren('item')
        .map((i) => i.attrs.jid),
    ).toEqual(['bob@localhost'])
    // a member may not invite unless the room allows it
    const err = await refused(bob, invitation({ to: 'carol@localhost' }))
    expect(errorOf(err)).toEqual({
      condition: 'forbidden',
      type: 'auth',
      text: 'only admins and owners may invite to this room',
    })
    expect(errorOf(await refused(client('carol@localhost/x'), joinPresence(`${ROOM}/carol`))).condition).toBe(
      'registration-required',
    )
    await alice.request(configure({ 'muc#roomconfig_allowinvites': '1' }))
    bob.send(invitation({ to: 'carol@localhost' }))
    const carol = client('carol@localhost/x')
    await carol.expectStanza((s) => s.name === 'message')
    await join(carol, ROOM, 'carol')
  })

  it('passes a XEP-0249 direct invitation in a private message on unchanged', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const b0 = bob.received.length
    const direct = xml('x', { xmlns: 'jabber:x:conference', jid: `other@chat.localhost`, reason: 'come' })
    alice.send(xml('message', { to: `${ROOM}/bob`, type: 'chat' }, direct))
    const [got] = await settle(bob, b0)
    expect(String(got!.getChild('x', 'jabber:x:conference'))).toBe(
      '<x xmlns="jabber:x:conference" jid="other@chat.localhost" reason="come"/>',
    )
    expect(got!.attrs.from).toBe(`${ROOM}/Alice`)
  })
})

describe('declines (§7.8.2)', () => {
  it('relays a decline of an invitation the room sent to the inviter, once; other declines get not-acceptable', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const hecate = client('hecate@localhost/pc')
    alice.send(invitation({ to: 'hecate@localhost' }))
    await hecate.expectStanza((s) => s.name === 'message')
    const declineMsg = xml(
      'message',
      { to: ROOM },
      xml(
        'x',
        { xmlns: NS_MUC_USER },
        xml('decline', { to: 'alice@localhost/phone' }, xml('reason', {}, 'Sorry, busy')),
      ),
    )
    const a0 = alice.received.length
    hecate.send(declineMsg)
    const [got] = await settle(alice, a0)
    expect(String(got)).toBe(
      `<message from="${ROOM}" to="alice@localhost/phone"><x xmlns="${NS_MUC_USER}"><decline from="hecate@localhost/pc"><reason>Sorry, busy</reason></decline></x></message>`,
    )
    // only once, and not from someone who was not invited
    expect(errorOf(await refused(hecate, declineMsg))).toEqual({
      condition: 'not-acceptable',
      type: 'modify',
      text: 'no invitation of yours to decline',
    })
    expect(errorOf(await refused(client('eve@localhost/x'), declineMsg)).condition).toBe('not-acceptable')
  })
})
