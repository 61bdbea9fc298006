import { type Element, isSatelliteError, SatelliteError, xml } from '@satellite/core'
import { MucError, muc, NS_MUC, NS_MUC_ROOMINFO, NS_OCCUPANT_ID } from '@satellite/muc'
import { serverAndComponent } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import {
  brief,
  codes,
  DOMAIN,
  errorOf,
  groupchat,
  join,
  joinPresence,
  nextStanzas,
  ROOM,
  refused,
  settle,
  setup,
} from './helpers.js'

const INFO = 'http://jabber.org/protocol/disco#info'
const ITEMS = 'http://jabber.org/protocol/disco#items'
const info = (to: string) => xml('iq', { type: 'get', to }, xml('query', { xmlns: INFO }))
const items = (to: string) => xml('iq', { type: 'get', to }, xml('query', { xmlns: ITEMS }))
const features = (res: Element) =>
  res
    .getChild('query')!
    .getChildren('feature')
    .map((f) => f.attrs.var)
const formFields = (res: Element) =>
  Object.fromEntries(
    res
      .getChild('query')!
      .getChild('x', 'jabber:x:data')!
      .getChildren('field')
      .map((f) => [f.attrs.var, f.getChildText('value')]),
  )

describe('discovery', () => {
  it('shows the service as conference/text with the muc feature', async () => {
    const { client } = await setup({ name: 'Rooms' })
    const res = await client('bob@localhost/pc').request(info(DOMAIN))
    expect(
      res
        .getChild('query')!
        .getChildren('identity')
        .map((i) => i.attrs),
    ).toEqual([{ category: 'conference', type: 'text', name: 'Rooms' }])
    expect(features(res)).toContain(NS_MUC)
  })

  it('shows the service and each room with every identityTypes type (a gateway: text and irc)', async () => {
    const { client } = await setup({ name: 'IRC', identityTypes: ['text', 'irc', 'text'] })
    const types = (res: Element) =>
      res
        .getChild('query')!
        .getChildren('identity')
        .map((i) => `${i.attrs.category}/${i.attrs.type}`)
    expect(types(await client('bob@localhost/pc').request(info(DOMAIN)))).toEqual([
      'conference/text',
      'conference/irc',
    ])
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    expect(types(await client('bob@localhost/pc').request(info(ROOM)))).toEqual([
      'conference/text',
      'conference/irc',
    ])
  })

  it('lists the public rooms in disco#items, not the hidden ones', async () => {
    const pub = await setup()
    await join(pub.client('alice@localhost/phone'), ROOM, 'Alice')
    await join(pub.client('alice@localhost/phone'), `attic@${DOMAIN}`, 'Alice')
    const res = await pub.client('bob@localhost/pc').request(items(DOMAIN))
    expect(
      res
        .getChild('query')!
        .getChildren('item')
        .map((i) => i.attrs),
    ).toEqual([
      { jid: `attic@${DOMAIN}`, name: 'attic' },
      { jid: ROOM, name: 'lobby' },
    ])
    const hidden = await setup({ defaults: { public: false } })
    await join(hidden.client('alice@localhost/phone'), ROOM, 'Alice')
    const none = await hidden.client('bob@localhost/pc').request(items(DOMAIN))
    expect(none.getChild('query')!.getChildren('item')).toEqual([])
  })

  it("answers a room's disco#info: identity, features from its settings, muc#roominfo with the occupant count", async () => {
    const { client } = await setup({ defaults: { description: 'The place' } })
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    await join(client('bob@localhost/pc'), ROOM, 'bob')
    const res = await client('carol@localhost/x').request(info(ROOM))
    expect(
      res
        .getChild('query')!
        .getChildren('identity')
        .map((i) => i.attrs),
    ).toEqual([{ category: 'conference', type: 'text', name: 'lobby' }])
    expect(features(res)).toEqual(
      [
        INFO,
        NS_MUC,
        'http://jabber.org/protocol/muc#self-ping-optimization',
        'http://jabber.org/protocol/muc#stable_id',
        'muc_public',
        'muc_open',
        'muc_semianonymous',
        'muc_temporary',
        'muc_unmoderated',
        'muc_unsecured',
        'urn:xmpp:mam:2',
        'urn:xmpp:sid:0',
        NS_OCCUPANT_ID,
      ].sort(),
    )
    expect(formFields(res)).toEqual({
      FORM_TYPE: NS_MUC_ROOMINFO,
      'muc#roominfo_occupants': '2',
      'muc#roominfo_subject': '',
      'muc#roominfo_changesubject': 'false',
      'muc#roominfo_description': 'The place',
    })
  })

  it('advertises muc_persistent, muc_hidden and muc_nonanonymous from the defaults', async () => {
    const { client } = await setup({ defaults: { persistent: true, public: false, whois: 'anyone' } })
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const f = features(await client('bob@localhost/pc').request(info(ROOM)))
    expect(f).toEqual(expect.arrayContaining(['muc_persistent', 'muc_hidden', 'muc_nonanonymous']))
    expect(f).not.toEqual(expect.arrayContaining(['muc_temporary']))
  })

  it('answers item-not-found for a room that does not exist, and bad-request to a non-occupant asking an occupant', async () => {
    const { client } = await setup()
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    expect(await bob.request(info(`nowhere@${DOMAIN}`)).catch((e: unknown) => e)).toMatchObject({
      condition: 'item-not-found',
    })
    expect(await bob.request(info(`${ROOM}/Alice`)).catch((e: unknown) => e)).toMatchObject({
      condition: 'bad-request',
    })
    const roomItems = await bob.request(items(ROOM))
    expect(roomItems.getChild('query')!.getChildren('item')).toEqual([])
  })
})

describe('limits', () => {
  it('refuses a join to a full room with service-unavailable (wait)', async () => {
    const { client } = await setup({ limits: { occupantsPerRoom: 1 } })
    await join(client('alice@localhost/phone'), ROOM, 'Alice')
    const err = await refused(client('bob@localhost/pc'), joinPresence(`${ROOM}/bob`))
    expect(errorOf(err)).toEqual({
      condition: 'service-unavailable',
      type: 'wait',
      text: 'this room is full',
    })
  })

  it('refuses to create a room past limits.rooms with resource-constraint, and where mayCreate says no with not-allowed', async () => {
    const { client, service } = await setup({
      limits: { rooms: 1 },
      mayCreate: (room) => room !== 'secret',
    })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const full = await refused(alice, joinPresence(`more@${DOMAIN}/Alice`))
    expect(errorOf(full)).toEqual({
      condition: 'resource-constraint',
      type: 'wait',
      text: 'no more rooms can be created',
    })
    const other = await setup({ mayCreate: (room) => room !== 'secret' })
    const no = await refused(other.client('bob@localhost/pc'), joinPresence(`secret@${DOMAIN}/bob`))
    expect(errorOf(no).condition).toBe('not-allowed')
    expect(service.rooms()).toEqual([ROOM])
  })

  it('refuses a user in too many rooms, and too many resources under one nick, with resource-constraint', async () => {
    const { client } = await setup({ limits: { roomsPerUser: 1, sessionsPerOccupant: 1 } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    expect(errorOf(await refused(alice, joinPresence(`other@${DOMAIN}/Alice`))).condition).toBe(
      'resource-constraint',
    )
    const laptop = client('alice@localhost/laptop')
    expect(errorOf(await refused(laptop, joinPresence(`${ROOM}/Alice`))).text).toBe(
      'at most 1 resources of one user in a room',
    )
  })
})

describe('options and close()', () => {
  async function component() {
    const { xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    return xmpp
  }

  it.each([
    [{ limits: { rooms: 0 } }, 'muc.limits.rooms: must be at least 1, got 0'],
    [{ limits: { nickLength: 2000 } }, 'muc.limits.nickLength: must be from 1 to 1023, got 2000'],
    [
      { limits: { messageRate: { perSecond: -1 } } },
      'muc.limits.messageRate.perSecond: must be at least 0.001, got -1',
    ],
    [{ defaults: { whois: 'nobody' } }, "muc.defaults.whois: must be 'moderators' or 'anyone', got nobody"],
    [{ defaults: { historyLength: 500 } }, 'muc.defaults.historyLength: must be from 0 to 200, got 500'],
    [{ defaults: { persistent: 'yes' } }, 'muc.defaults.persistent: must be true or false, got string'],
    [{ occupantIdSecret: 'short' }, 'muc.occupantIdSecret: must be a string of at least 16 characters'],
    [{ history: {} }, 'muc.history: must be a HistoryStore (append, recent, forget)'],
    [{ isRoom: 'lobby' }, 'muc.isRoom: must be a function, got string'],
    [{ name: '' }, 'muc.name: must be a non-empty string'],
    [{ identityTypes: [] }, "muc.identityTypes: must be 1 to 4 identity types such as 'text' or 'irc'"],
    [
      { identityTypes: ['text', 'IRC <x/>'] },
      "muc.identityTypes: must be 1 to 4 identity types such as 'text' or 'irc'",
    ],
  ])('refuses %j with a fatal SAT_ERR_CONFIG naming the option', async (options, message) => {
    const xmpp = await component()
    let thrown: unknown
    try {
      muc(xmpp, options as never)
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(SatelliteError)
    expect(thrown).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true, message })
    // nothing was installed
    expect(xmpp.disco.info('')?.identities.map((i) => i.category)).not.toContain('conference')
  })

  it('leaves other local parts to other routes when isRoom says they are not rooms', async () => {
    const { client, xmpp } = await setup({ isRoom: (local) => local !== 'bot' })
    xmpp.message({ to: 'bot' }, (m) => {
      void xmpp.send(xml('message', { to: m.attrs.from, from: m.attrs.to }, xml('body', {}, 'bot here')))
    })
    const bob = client('bob@localhost/pc')
    bob.send(xml('message', { to: `bot@${DOMAIN}`, type: 'groupchat' }, xml('body', {}, 'hi')))
    expect((await bob.expectStanza({ name: 'message' })).getChildText('body')).toBe('bot here')
  })

  it('close() tells every occupant the service is going (110, 332), and a stanza afterwards gets what it would without the plugin', async () => {
    const { client, service, xmpp } = await setup()
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    service.close()
    service.close()
    const [bye] = await nextStanzas(alice, 1, a0)
    expect(brief(bye!)).toBe(`presence unavailable ${ROOM}/Alice [110,332]`)
    expect(codes(bye!)).toEqual([110, 332])
    expect(service.size).toBe(0)
    expect(xmpp.disco.info('')?.identities.map((i) => i.category)).not.toContain('conference')
    const res = await alice.request(info(DOMAIN))
    expect(features(res)).not.toContain(NS_MUC)
    const err = await alice.request(info(ROOM)).catch((e: unknown) => e)
    expect(err).toMatchObject({ condition: 'item-not-found' })
    const ping = await alice
      .request(xml('iq', { type: 'get', to: `${ROOM}/Alice` }, xml('ping', { xmlns: 'urn:xmpp:ping' })))
      .then((r) => r.attrs.type)
    expect(ping).toBe('result')
    const b0 = alice.received.length
    alice.send(groupchat('anyone?'))
    alice.send(joinPresence(`${ROOM}/Alice`))
    expect(await settle(alice, b0)).toEqual([])
  })

  it('room() refuses a name that is not a local part with SAT_ERR_MUC_ROOM', async () => {
    const { service } = await setup()
    let thrown: unknown
    try {
      service.room('lobby@elsewhere')
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(MucError)
    expect(isSatelliteError(thrown)).toBe(true)
    expect(thrown).toMatchObject({ code: 'SAT_ERR_MUC_ROOM' })
  })
})
