import { type Element, xml } from '@satellite/core'
import { NS_MUC_USER } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import {
  brief,
  codes,
  errorOf,
  join,
  joinPresence,
  nextStanzas,
  ROOM,
  refused,
  settle,
  setup,
} from './helpers.js'

const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_DATA = 'jabber:x:data'
const CONFIG = 'http://jabber.org/protocol/muc#roomconfig'

const ownerGet = () => xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_OWNER }))
const ownerSet = (...children: Element[]) =>
  xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: NS_OWNER }, ...children))
/** A submitted configuration form with `fields` (var → value; booleans as '1'/'0'). */
const submit = (fields: Record<string, string> = {}, formType = true) =>
  xml(
    'x',
    { xmlns: NS_DATA, type: 'submit' },
    ...(formType ? [xml('field', { var: 'FORM_TYPE' }, xml('value', {}, CONFIG))] : []),
    ...Object.entries(fields).map(([v, value]) => xml('field', { var: v }, xml('value', {}, value))),
  )
const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'result',
    (e: { condition?: string }) => e.condition,
  )
const features = async (c: { request(e: Element): Promise<Element> }) =>
  (
    await c.request(
      xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
  )
    .getChild('query')!
    .getChildren('feature')
    .map((f) => f.attrs.var)

describe('the configuration form (muc#owner)', () => {
  it('gives owners the muc#roomconfig form with the current settings, and others forbidden', async () => {
    const { client } = await setup({ defaults: { description: 'Hall', historyLength: 5 } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const res = await alice.request(ownerGet())
    const x = res.getChild('query', NS_OWNER)!.getChild('x', NS_DATA)!
    expect(x.attrs.type).toBe('form')
    const values = Object.fromEntries(
      x.getChildren('field').map((f) => [f.attrs.var, `${f.attrs.type} ${f.getChildText('value')}`]),
    )
    expect(values).toEqual({
      FORM_TYPE: `hidden ${CONFIG}`,
      'muc#roomconfig_roomname': 'text-single ',
      'muc#roomconfig_roomdesc': 'text-single Hall',
      'muc#roomconfig_persistentroom': 'boolean false',
      'muc#roomconfig_publicroom': 'boolean true',
      'muc#roomconfig_membersonly': 'boolean false',
      'muc#roomconfig_moderatedroom': 'boolean false',
      'muc#roomconfig_passwordprotectedroom': 'boolean false',
      'muc#roomconfig_roomsecret': 'text-private ',
      'muc#roomconfig_maxusers': 'list-single none',
      'muc#roomconfig_whois': 'list-single moderators',
      'muc#roomconfig_allowpm': 'list-single anyone',
      'muc#roomconfig_historylength': 'text-single 5',
      'muc#roomconfig_allowinvites': 'boolean false',
      'muc#roomconfig_changesubject': 'boolean false',
    })
    expect(await failure(bob.request(ownerGet()))).toBe('forbidden')
    expect(await failure(bob.request(ownerSet(submit())))).toBe('forbidden')
  })

  it('applies a submission: 104 to the occupants, 172 when it becomes non-anonymous, disco follows', async () => {
    const { client, service } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const b0 = bob.received.length
    await alice.request(
      ownerSet(
        submit({
          'muc#roomconfig_roomname': 'The Lobby',
          'muc#roomconfig_persistentroom': '1',
          'muc#roomconfig_whois': 'anyone',
          'muc#roomconfig_moderatedroom': 'true',
          'some#other_field': 'ignored',
        }),
      ),
    )
    const [msg, aliceNow] = await nextStanzas(bob, 2, b0)
    // non-anonymous now: bob gets alice's presence again, with her real JID
    expect([aliceNow!.attrs.from, aliceNow!.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid]).toEqual(
      [`${ROOM}/Alice`, 'alice@localhost/phone'],
    )
    expect(String(msg)).toBe(
      `<message from="${ROOM}" type="groupchat" to="bob@localhost/pc"><x xmlns="${NS_MUC_USER}"><status code="104"/><status code="172"/></x></message>`,
    )
    expect(service.room('lobby')?.persistent).toBe(true)
    const f = await features(bob)
    expect(f).toEqual(expect.arrayContaining(['muc_persistent', 'muc_nonanonymous', 'muc_moderated']))
    // back to semi-anonymous: 173; the same settings again: nothing sent
    const b1 = bob.received.length
    await alice.request(ownerSet(submit({ 'muc#roomconfig_whois': 'moderators' })))
    const [back, aliceAgain] = await nextStanzas(bob, 2, b1)
    expect(codes(back!)).toEqual([104, 173])
    expect(aliceAgain!.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.jid).toBeUndefined()
    await alice.request(ownerSet(submit({ 'muc#roomconfig_whois': 'moderators' })))
    expect(await settle(bob, b1 + 2)).toEqual([])
  })

  it('refuses bad submissions: wrong FORM_TYPE (bad-request), a value out of range or a password room without one (not-acceptable)', async () => {
    const { client } = await setup({ limits: { occupantsPerRoom: 50 } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const wrongType = xml(
      'x',
      { xmlns: NS_DATA, type: 'submit' },
      xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'urn:other')),
      xml('field', { var: 'muc#roomconfig_roomname' }, xml('value', {}, 'x')),
    )
    expect(await failure(alice.request(ownerSet(wrongType)))).toBe('bad-request')
    expect(await failure(alice.request(ownerSet(submit({ 'muc#roomconfig_maxusers': '51' }))))).toBe(
      'not-acceptable',
    )
    expect(await failure(alice.request(ownerSet(submit({ 'muc#roomconfig_whois': 'everyone' }))))).toBe(
      'not-acceptable',
    )
    expect(await failure(alice.request(ownerSet(submit({ 'muc#roomconfig_historylength': '-1' }))))).toBe(
      'not-acceptable',
    )
    expect(
      await failure(alice.request(ownerSet(submit({ 'muc#roomconfig_passwordprotectedroom': '1' })))),
    ).toBe('not-acceptable')
    expect(await failure(alice.request(ownerSet(xml('x', { xmlns: NS_DATA, type: 'result' }))))).toBe(
      'bad-request',
    )
    expect(await failure(alice.request(ownerSet()))).toBe('bad-request')
  })
})

describe('locked new rooms (lockNewRooms)', () => {
  it('keeps a new room locked (201; others item-not-found) until the owner accepts the instant room', async () => {
    const { client } = await setup({ lockNewRooms: true })
    const alice = client('alice@localhost/phone')
    const got = await join(alice, ROOM, 'Alice')
    expect(codes(got[0]!)).toEqual([110, 201])
    const bob = client('bob@localhost/pc')
    const err = await refused(bob, joinPresence(`${ROOM}/bob`))
    expect(errorOf(err)).toEqual({
      condition: 'item-not-found',
      type: 'cancel',
      text: 'this room is not configured yet',
    })
    // the instant room: an empty submission
    await alice.request(ownerSet(xml('x', { xmlns: NS_DATA, type: 'submit' })))
    await join(bob, ROOM, 'bob')
  })

  it('destroys a locked new room when its owner cancels the form; a cancel later changes nothing', async () => {
    const { client, service } = await setup({ lockNewRooms: true })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    await alice.request(ownerSet(xml('x', { xmlns: NS_DATA, type: 'cancel' })))
    const [gone] = await nextStanzas(alice, 1, a0)
    expect(brief(gone!)).toBe(`presence unavailable ${ROOM}/Alice [110]`)
    expect(service.rooms()).toEqual([])
    const other = await setup()
    const carol = other.client('carol@localhost/x')
    await join(carol, ROOM, 'carol')
    await carol.request(ownerSet(xml('x', { xmlns: NS_DATA, type: 'cancel' })))
    expect(other.service.rooms()).toEqual([ROOM])
  })
})

describe('password-protected rooms and max users', () => {
  it('refuses a join without the password or with a wrong one (not-authorized), admits the right one', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    await alice.request(
      ownerSet(
        submit({ 'muc#roomconfig_passwordprotectedroom': '1', 'muc#roomconfig_roomsecret': 'sesame' }),
      ),
    )
    expect(await features(alice)).toContain('muc_passwordprotected')
    const bob = client('bob@localhost/pc')
    for (const extra of [[], [xml('password', {}, 'wrong')]]) {
      const err = await refused(bob, joinPresence(`${ROOM}/bob`, extra))
      expect(errorOf(err)).toEqual({
        condition: 'not-authorized',
        type: 'auth',
        text: 'this room needs the right password',
      })
    }
    await join(bob, ROOM, 'bob', [xml('password', {}, 'sesame')])
    // the password off again
    await alice.request(ownerSet(submit({ 'muc#roomconfig_passwordprotectedroom': '0' })))
    expect(await features(alice)).toContain('muc_unsecured')
  })

  it('refuses a join past muc#roomconfig_maxusers with service-unavailable, but not to admins and owners', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    await alice.request(ownerSet(submit({ 'muc#roomconfig_maxusers': '2' })))
    await join(client('bob@localhost/pc'), ROOM, 'bob')
    const err = await refused(client('carol@localhost/x'), joinPresence(`${ROOM}/carol`))
    expect(errorOf(err)).toEqual({
      condition: 'service-unavailable',
      type: 'wait',
      text: 'this room is full',
    })
    await alice.request(
      xml(
        'iq',
        { type: 'set', to: ROOM },
        xml(
          'query',
          { xmlns: 'http://jabber.org/protocol/muc#admin' },
          xml('item', { jid: 'dave@localhost', affiliation: 'admin' }),
        ),
      ),
    )
    await join(client('dave@localhost/pc'), ROOM, 'dave')
  })

  it('removes the occupants who are not members when the room becomes members-only (322)', async () => {
    const { client, service } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const b0 = bob.received.length
    await alice.request(ownerSet(submit({ 'muc#roomconfig_membersonly': '1' })))
    const [kicked] = await nextStanzas(bob, 1, b0)
    expect(brief(kicked!)).toBe(`presence unavailable ${ROOM}/bob [110,322]`)
    expect(service.room('lobby')?.occupants.map((o) => o.nick)).toEqual(['Alice'])
  })
})

describe('destroying a room', () => {
  it('sends every occupant its unavailable presence with <destroy/> (venue, reason), then the room is gone', async () => {
    const { client, service } = await setup({ defaults: { persistent: true } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const bobOwner = await failure(bob.request(ownerSet(xml('destroy', {}))))
    expect(bobOwner).toBe('forbidden')
    const b0 = bob.received.length
    const a0 = alice.received.length
    await alice.request(
      ownerSet(xml('destroy', { jid: `new@chat.localhost` }, xml('reason', {}, 'Macbeth doth come.'))),
    )
    const [toBob] = await nextStanzas(bob, 1, b0)
    expect(String(toBob)).toBe(
      `<presence from="${ROOM}/bob" type="unavailable" to="bob@localhost/pc"><x xmlns="${NS_MUC_USER}"><item affiliation="none" role="none" jid="bob@localhost/pc"/><status code="110"/><destroy jid="new@chat.localhost"><reason>Macbeth doth come.</reason></destroy></x><occupant-id xmlns="urn:xmpp:occupant-id:0" id="${toBob!.getChild('occupant-id')!.attrs.id}"/></presence>`,
    )
    const [toAlice] = await nextStanzas(alice, 1, a0)
    expect(brief(toAlice!)).toBe(`presence unavailable ${ROOM}/Alice [110]`)
    expect(service.rooms()).toEqual([])
    // a persistent room too; joining again creates a new room with a new owner
    const again = await join(bob, ROOM, 'bob')
    expect(codes(again[0]!)).toEqual([110, 201])
  })
})

describe('the lockNewRooms option', () => {
  it('must be a boolean', async () => {
    const { muc } = await import('@satellite/muc')
    const { xmpp } = await setup()
    expect(() => muc(xmpp, { lockNewRooms: 'yes' as never })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_CONFIG',
        fatal: true,
        message: 'muc.lockNewRooms: must be true or false, got string',
      }),
    )
  })
})

describe('configuration and the store', () => {
  it('saves a room made persistent by the form, with its settings, and deletes it from the store when destroyed', async () => {
    const { MemoryStore } = await import('@satellite/muc')
    const store = new MemoryStore()
    const { client } = await setup({ store })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    expect(store.loadRoom(ROOM)).toBeUndefined()
    await alice.request(
      ownerSet(submit({ 'muc#roomconfig_persistentroom': '1', 'muc#roomconfig_roomname': 'The Lobby' })),
    )
    const saved = store.loadRoom(ROOM)
    expect(saved?.config).toMatchObject({ persistent: true, name: 'The Lobby' })
    expect(store.affiliations(ROOM)).toEqual([
      expect.objectContaining({ jid: 'alice@localhost', affiliation: 'owner' }),
    ])
    await alice.request(ownerSet(xml('destroy', {})))
    expect(store.loadRoom(ROOM)).toBeUndefined()
  })
})

describe('owner and admin lists through muc#owner (before XEP-0045 1.21)', () => {
  it('lists and changes owners and admins as muc#admin does, to owners only', async () => {
    const { client } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    const b0 = bob.received.length
    await alice.request(ownerSet(xml('item', { jid: 'bob@localhost', affiliation: 'admin' })))
    const [promoted] = await nextStanzas(bob, 1, b0)
    expect(brief(promoted!)).toBe(`presence ${ROOM}/bob [110]`)
    const admins = await alice.request(
      xml(
        'iq',
        { type: 'get', to: ROOM },
        xml('query', { xmlns: NS_OWNER }, xml('item', { affiliation: 'admin' })),
      ),
    )
    expect(String(admins.getChild('query'))).toBe(
      `<query xmlns="${NS_OWNER}"><item affiliation="admin" jid="bob@localhost"/></query>`,
    )
    // an admin is not an owner: muc#owner refuses it
    expect(
      await failure(bob.request(ownerSet(xml('item', { jid: 'carol@localhost', affiliation: 'member' })))),
    ).toBe('forbidden')
  })
})
