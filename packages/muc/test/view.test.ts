// Rooms of a remote network: every room is one user's view, driven by a MucBackend.
import { type Element, StanzaError, xml } from '@satellite/core'
import {
  type JoinAnswer,
  type MucBackend,
  type MucOptions,
  NS_MUC_ADMIN,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  NS_SID,
  type RoomView,
} from '@satellite/muc'
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

const NS_MAM = 'urn:xmpp:mam:2'

interface Calls {
  joins: { user: string; nick: string; password: string | undefined }[]
  messages: { user: string; text: string }[]
  privates: { nick: string; text: string }[]
  leaves: { user: string; status: string | undefined }[]
  views: RoomView[]
}

/** A backend whose rooms hold carol (an op) and dave; what it is asked is recorded. */
function fakeBackend(overrides: Partial<MucBackend> = {}, answer?: (nick: string) => JoinAnswer) {
  const calls: Calls = { joins: [], messages: [], privates: [], leaves: [], views: [] }
  const backend: MucBackend = {
    async join(view, request) {
      calls.joins.push({ user: view.user, nick: request.nick, password: request.password })
      calls.views.push(view)
      return (
        answer?.(request.nick) ?? {
          occupants: [
            { nick: 'carol', id: 'carol', role: 'moderator', jid: `carol%net@${DOMAIN}` },
            { nick: 'dave', id: 'dave', show: 'away', status: 'lunch' },
          ],
          subject: { text: 'Remote topic', nick: 'carol' },
        }
      )
    },
    leave(view, status) {
      calls.leaves.push({ user: view.user, status })
    },
    message(view, text) {
      calls.messages.push({ user: view.user, text })
    },
    privateMessage(_view, nick, text) {
      calls.privates.push({ nick, text })
    },
    async nick(_view, nick) {
      return nick === 'taken' ? 'taken_' : nick
    },
    ...overrides,
  }
  return { backend, calls }
}

async function remote(overrides: Partial<MucBackend> = {}, options: MucOptions = {}) {
  const { backend, calls } = fakeBackend(overrides)
  const s = await setup({ backend, ...options })
  const alice = s.client('alice@localhost/phone')
  return { ...s, alice, calls, backend }
}

describe('views of remote rooms (MucBackend)', () => {
  it('a join goes through the backend: remote occupants, then self-presence, then the subject', async () => {
    const { alice, calls, service } = await remote()
    const got = await join(alice, ROOM, 'Alice')
    expect(calls.joins).toEqual([{ user: 'alice@localhost', nick: 'Alice', password: undefined }])
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/carol`,
      `presence ${ROOM}/dave`,
      `presence ${ROOM}/Alice [110]`,
      `message groupchat ${ROOM}/carol subject`,
    ])
    const dave = got[1] as Element
    expect(dave.getChildText('show')).toBe('away')
    expect(dave.getChildText('status')).toBe('lunch')
    expect(item(got[0] as Element)).toEqual({ affiliation: 'none', role: 'moderator' })
    expect(dave.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id).toMatch(/^[\w-]{22}$/)
    expect(service.views('alice@localhost/other').map((v) => v.jid)).toEqual([ROOM])
    expect(service.view('LOBBY', 'alice@localhost')?.nick).toBe('Alice')
  })

  it('each user has their own view: the same room JID, separate occupants and traffic', async () => {
    const { alice, calls, client, service } = await remote()
    await join(alice, ROOM, 'Alice')
    const bob = client('bob@localhost/pc')
    const got = await join(bob, ROOM, 'bob')
    expect(got.map(brief)).not.toContain(`presence ${ROOM}/Alice`)
    expect(calls.joins.map((j) => j.user)).toEqual(['alice@localhost', 'bob@localhost'])
    const a0 = alice.received.length
    service.view('lobby', 'bob@localhost')?.say('carol', 'only for bob')
    await nextStanzas(bob, 1, got.length)
    expect(await settle(alice, a0)).toEqual([])
    expect(service.rooms()).toEqual([ROOM])
  })

  it('a join the backend refuses is answered with its error, and no view is left', async () => {
    const { alice, service } = await remote({
      async join() {
        throw new StanzaError('not-authorized', 'wrong channel key')
      },
    })
    const err = await refused(alice, joinPresence(`${ROOM}/Alice`))
    expect(errorOf(err)).toMatchObject({ condition: 'not-authorized', text: 'wrong channel key' })
    expect(service.views('alice@localhost')).toEqual([])
  })

  it('a backend that fails is answered internal-server-error and reported as SAT_ERR_MUC_BACKEND', async () => {
    const { alice, xmpp } = await remote({
      async join() {
        throw new Error('socket exploded')
      },
    })
    const reported: Error[] = []
    xmpp.on('error', (e) => reported.push(e))
    const err = await refused(alice, joinPresence(`${ROOM}/Alice`))
    expect(errorOf(err).condition).toBe('internal-server-error')
    expect(reported.map((e) => (e as { code?: string }).code)).toEqual(['SAT_ERR_MUC_BACKEND'])
  })

  it('a backend that never answers: remote-server-timeout after limits.backendTimeout', async () => {
    const { alice } = await remote(
      { join: () => new Promise<JoinAnswer>(() => {}) },
      { limits: { backendTimeout: 50 } },
    )
    const err = await refused(alice, joinPresence(`${ROOM}/Alice`))
    expect(errorOf(err).condition).toBe('remote-server-timeout')
  })

  it('a second resource joining while the join is pending waits for it and shares the nick; the backend is asked once', async () => {
    let release: (a: JoinAnswer) => void = () => {}
    const { client, calls } = await remote({
      join(view, request) {
        calls.joins.push({ user: view.user, nick: request.nick, password: undefined })
        return new Promise<JoinAnswer>((r) => {
          release = r
        })
      },
    })
    const phone = client('alice@localhost/phone')
    const pc = client('alice@localhost/pc')
    phone.send(joinPresence(`${ROOM}/Alice`))
    await expect.poll(() => calls.joins.length).toBe(1)
    pc.send(joinPresence(`${ROOM}/Other`))
    await settle(pc, 0, 30)
    release({ occupants: [{ nick: 'carol', id: 'carol' }] })
    await phone.expectStanza((s) => s.getChild('subject') !== undefined)
    const pcGot = await pc.expectStanza((s) => s.getChild('subject') !== undefined).then(() => pc.received)
    expect(
      pcGot.filter((s) => s.name === 'presence' && codes(s).includes(110)).map((s) => s.attrs.from),
    ).toContain(`${ROOM}/Alice`)
    expect(calls.joins).toHaveLength(1)
  })

  it("the user's groupchat goes to the backend first, then is reflected with the room's stanza-id and archived", async () => {
    const { alice, calls } = await remote()
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(xml('message', { to: ROOM, type: 'groupchat', id: 'm1' }, xml('body', {}, 'hi all')))
    const [echo] = await nextStanzas(alice, 1, a0)
    expect(calls.messages).toEqual([{ user: 'alice@localhost', text: 'hi all' }])
    expect(echo!.attrs).toMatchObject({ from: `${ROOM}/Alice`, type: 'groupchat', id: 'm1' })
    expect(echo!.getChild('stanza-id', NS_SID)?.attrs.by).toBe(ROOM)
    const q0 = alice.received.length
    alice.send(xml('iq', { type: 'set', to: ROOM, id: 'q1' }, xml('query', { xmlns: NS_MAM, queryid: 'x' })))
    const done = await alice.expectStanza((s) => s.name === 'iq' && s.attrs.id === 'q1')
    expect(done.attrs.type).toBe('result')
    const results = alice.received.slice(q0).filter((s) => s.name === 'message')
    expect(
      results.map((m) =>
        m.getChild('result', NS_MAM)?.getChild('forwarded')?.getChild('message')?.getChildText('body'),
      ),
    ).toEqual(['hi all'])
  })

  it('a message the backend refuses is answered with its error and not reflected', async () => {
    const { alice } = await remote({
      message() {
        throw new StanzaError('not-acceptable', 'cannot send to channel')
      },
    })
    await join(alice, ROOM, 'Alice')
    const err = await refused(alice, xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'x')))
    expect(errorOf(err)).toMatchObject({ condition: 'not-acceptable', text: 'cannot send to channel' })
    expect(
      alice.received.filter((s) => s.attrs.type === 'groupchat' && s.getChildText('body') === 'x'),
    ).toEqual([])
  })

  it('the backend drives the view: arrivals, messages, nick changes keeping the occupant id, kicks, leaves, whispers, subject', async () => {
    const { alice, service } = await remote()
    await join(alice, ROOM, 'Alice')
    const view = service.view('lobby', 'alice@localhost') as RoomView
    const a0 = alice.received.length
    expect(view.add({ nick: 'erin', id: 'erin-account' })).toBe(true)
    expect(view.say('erin', 'hello')).toBe(true)
    expect(view.say('erin', 'waves', { action: true })).toBe(true)
    expect(view.rename('erin', 'erin2')).toBe(true)
    expect(view.remove('dave', { reason: 'Quit: bye' })).toBe(true)
    expect(view.remove('erin2', { kicked: true, actor: 'carol', reason: 'spam' })).toBe(true)
    expect(view.whisper('carol', 'psst')).toBe(true)
    expect(view.setSubject('New topic', 'carol')).toBe(true)
    expect(view.remove('nobody')).toBe(false)
    expect(view.add({ nick: 'Alice', id: 'x' })).toBe(false)
    expect(view.add({ nick: 'bad\u0007nick', id: 'y' })).toBe(false)
    const got = await nextStanzas(alice, 9, a0)
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/erin`,
      `message groupchat ${ROOM}/erin hello`,
      `message groupchat ${ROOM}/erin /me waves`,
      `presence unavailable ${ROOM}/erin [303]`,
      `presence ${ROOM}/erin2`,
      `presence unavailable ${ROOM}/dave`,
      `presence unavailable ${ROOM}/erin2 [307]`,
      `message chat ${ROOM}/carol psst`,
      `message groupchat ${ROOM}/carol subject`,
    ])
    expect(await settle(alice, a0 + 9)).toEqual([])
    const ids = got
      .filter((s) => s.name === 'presence')
      .map((s) => s.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id)
    expect(new Set(ids.slice(0, 3)).size).toBe(1)
    expect(item(got[3] as Element).nick).toBe('erin2')
    expect(got[5]?.getChildText('status')).toBe('Quit: bye')
    const kick = got[6]?.getChild('x', NS_MUC_USER)?.getChild('item')
    expect(kick?.getChild('actor')?.attrs.nick).toBe('carol')
    expect(kick?.getChildText('reason')).toBe('spam')
    expect(got[7]?.getChild('x', NS_MUC_USER)).toBeDefined()
  })

  it('leaving tells the backend with the status; the view closes and its methods do nothing', async () => {
    const { alice, calls, service } = await remote()
    await join(alice, ROOM, 'Alice')
    const view = service.view('lobby', 'alice@localhost') as RoomView
    alice.send(
      xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }, xml('status', {}, 'gone fishing')),
    )
    await expect.poll(() => calls.leaves).toEqual([{ user: 'alice@localhost', status: 'gone fishing' }])
    expect(view.closed).toBe(true)
    expect(view.say('carol', 'late')).toBe(false)
    expect(service.views('alice@localhost')).toEqual([])
  })

  it('the backend closing a view takes the user out with 332, or 307 when kicked, and is not told back', async () => {
    const { alice, calls, service } = await remote()
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    expect(
      service.view('lobby', 'alice@localhost')?.close({ kicked: true, actor: 'carol', reason: 'bye' }),
    ).toBe(true)
    const [out] = await nextStanzas(alice, 1, a0)
    expect(brief(out!)).toBe(`presence unavailable ${ROOM}/Alice [110,307]`)
    await join(alice, ROOM, 'Alice')
    const a1 = alice.received.length
    service.view('lobby', 'alice@localhost')?.close()
    const [shut] = await nextStanzas(alice, 1, a1)
    expect(codes(shut!)).toEqual([110, 332])
    expect(calls.leaves).toEqual([])
  })

  it("history on a re-join comes from the user's own archive of the view, with delays", async () => {
    const { alice, client, service } = await remote()
    await join(alice, ROOM, 'Alice')
    service.view('lobby', 'alice@localhost')?.say('carol', 'said before')
    await alice.expectStanza((s) => s.getChildText('body') === 'said before')
    alice.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    await expect.poll(() => service.views('alice@localhost').length).toBe(0)
    const got = await join(alice, ROOM, 'Alice')
    expect(got.map(brief)).toContain(`message groupchat ${ROOM}/carol delayed said before`)
    const bob = client('bob@localhost/pc')
    const bobs = await join(bob, ROOM, 'bob')
    expect(bobs.map(brief).filter((b) => b.includes('delayed'))).toEqual([])
  })

  it("a view counts the user's resources in the room", async () => {
    const { alice, client, service, calls } = await remote()
    await join(alice, ROOM, 'Alice')
    const view = service.view('lobby', 'alice@localhost') as RoomView
    expect(view.resources).toBe(1)
    const laptop = client('alice@localhost/laptop')
    await join(laptop, ROOM, 'Alice')
    expect(view.resources).toBe(2)
    laptop.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    await expect.poll(() => view.resources).toBe(1)
    expect(view.close()).toBe(true)
    expect(view.resources).toBe(0)
    expect(calls.joins).toHaveLength(1)
  })

  it("the remote network's message id is the id the user gets, live and in history; the stanza-id stays the engine's", async () => {
    const { alice, service } = await remote()
    await join(alice, ROOM, 'Alice')
    const view = service.view('lobby', 'alice@localhost') as RoomView
    expect(view.say('carol', 'with an id', { id: 'remote-42' })).toBe(true)
    const live = await alice.expectStanza((s) => s.getChildText('body') === 'with an id')
    expect(live.attrs.id).toBe('remote-42')
    const sid = live.getChild('stanza-id', NS_SID)?.attrs.id
    expect(sid).toBeDefined()
    expect(sid).not.toBe('remote-42')
    expect(view.whisper('carol', 'private, with an id', { id: 'remote-43' })).toBe(true)
    const pm = await alice.expectStanza((s) => s.getChildText('body') === 'private, with an id')
    expect(pm.attrs.id).toBe('remote-43')
    // Not a usable id attribute: a new one instead.
    expect(view.say('carol', 'long id', { id: 'x'.repeat(257) })).toBe(true)
    expect(view.say('carol', 'empty id', { id: '' })).toBe(true)
    for (const body of ['long id', 'empty id']) {
      const m = await alice.expectStanza((s) => s.getChildText('body') === body)
      expect(m.attrs.id).toMatch(/^[0-9a-f-]{36}$/)
    }
    alice.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    await expect.poll(() => service.views('alice@localhost').length).toBe(0)
    const got = await join(alice, ROOM, 'Alice')
    const past = got.find((s) => s.getChildText('body') === 'with an id')
    expect(past?.getChild('delay', 'urn:xmpp:delay')).toBeDefined()
    expect(past?.attrs.id).toBe('remote-42')
  })

  it('a nick change asks the backend, which may give another nick (303, then 210)', async () => {
    const { alice } = await remote()
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(xml('presence', { to: `${ROOM}/taken` }))
    const got = await nextStanzas(alice, 2, a0)
    expect(got.map(brief)).toEqual([
      `presence unavailable ${ROOM}/Alice [110,303]`,
      `presence ${ROOM}/taken_ [110,210]`,
    ])
  })

  it('without backend.nick a nick change is not-allowed; renameSelf moves the user with 303 and 210', async () => {
    const { backend, calls: _ } = fakeBackend()
    delete backend.nick
    const s = await setup({ backend })
    const alice = s.client('alice@localhost/phone')
    const service = s.service
    await join(alice, ROOM, 'Alice')
    const err = await refused(alice, xml('presence', { to: `${ROOM}/Other` }))
    expect(errorOf(err).condition).toBe('not-allowed')
    const a0 = alice.received.length
    service.view('lobby', 'alice@localhost')?.renameSelf('Alice_')
    const got = await nextStanzas(alice, 2, a0)
    expect(got.map(brief)).toEqual([
      `presence unavailable ${ROOM}/Alice [110,303]`,
      `presence ${ROOM}/Alice_ [110,210]`,
    ])
    expect(service.view('lobby', 'alice@localhost')?.nick).toBe('Alice_')
  })

  it('private messages to a remote occupant go to the backend; muc#admin and invitations are not relayed', async () => {
    const { alice, calls } = await remote()
    await join(alice, ROOM, 'Alice')
    alice.send(xml('message', { to: `${ROOM}/carol`, type: 'chat' }, xml('body', {}, 'hi carol')))
    await expect.poll(() => calls.privates).toEqual([{ nick: 'carol', text: 'hi carol' }])
    const admin = await refused(
      alice,
      xml(
        'iq',
        { type: 'get', to: ROOM },
        xml('query', { xmlns: NS_MUC_ADMIN }, xml('item', { role: 'participant' })),
      ),
    )
    expect(errorOf(admin).condition).toBe('feature-not-implemented')
    const invite = await refused(
      alice,
      xml('message', { to: ROOM }, xml('x', { xmlns: NS_MUC_USER }, xml('invite', { to: 'bob@localhost' }))),
    )
    expect(errorOf(invite).condition).toBe('feature-not-implemented')
  })

  it('bounds: remote occupants past limits.occupantsPerRoom are left out, rooms past limits.roomsPerUser refused', async () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ nick: `u${i}`, id: `u${i}` }))
    const { backend } = fakeBackend({}, () => ({ occupants: many }))
    const s = await setup({ backend, limits: { occupantsPerRoom: 5, roomsPerUser: 1 } })
    const alice = s.client('alice@localhost/phone')
    const got = await join(alice, ROOM, 'Alice')
    expect(got.filter((p) => p.name === 'presence')).toHaveLength(5)
    expect(s.service.view('lobby', 'alice@localhost')?.add({ nick: 'one-more', id: 'x' })).toBe(false)
    const err = await refused(alice, joinPresence(`other@${DOMAIN}/Alice`))
    expect(errorOf(err).condition).toBe('resource-constraint')
  })

  it('an option that is not a MucBackend is a SAT_ERR_CONFIG', async () => {
    await expect(setup({ backend: { join() {} } as unknown as MucBackend })).rejects.toThrow(
      /muc\.backend: must be a MucBackend/,
    )
  })
})
