// Every map keyed by something a remote party chooses has a bound (#13): each test floods one
// and asserts the bound (through sizes(), which reports every one), and that the bridge goes on.
import { BridgeErrorCodes, NS_MUC } from '@satellite/bridge'
import { xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import type { SimulatedClient } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'
import { barrier, DOMAIN, errorOf, gateway, register } from './support.js'

const ROOM = toJid('#g0', DOMAIN)
const ids = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)
const live = (net: FakeNetwork) => net.live as FakeSession

describe('bridge: bounded maps', () => {
  it('sessions by user: limits.sessions; the others are refused resource-constraint', async () => {
    const net = new FakeNetwork()
    for (const u of ids(10, 'u')) net.accounts.set(u, 'pw')
    const g = await gateway({ limits: { sessions: 3 } }, net)
    for (const u of ids(10, 'u')) g.store.putRegistration(`${u}@localhost`, { username: u, password: 'pw' })
    const clients = ids(10, 'u').map((u) => g.srv.client(`${u}@localhost/r`))
    for (const c of clients) c.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => net.sessions.length === 3, { message: 'three logins', timeout: 3000, interval: 5 })
      .toBe(true)
    const last = clients[9]
    last?.send(xml('message', { to: toJid('zed', DOMAIN), type: 'chat', id: 'm9' }, xml('body', {}, 'hi')))
    const err = await last?.expectStanza({ name: 'message', type: 'error', id: 'm9' })
    expect(errorOf(err as never).condition).toBe('resource-constraint')
    expect(g.gw.sizes().sessions).toBe(3)
    expect(g.errors.some((e) => /limits\.sessions/.test(e.message))).toBe(true)
  })

  it('resources of a user: limits.resources', async () => {
    const g = await gateway({ limits: { resources: 3 } })
    await register(g.srv.client('alice@localhost/phone'))
    for (const r of ids(10, 'r')) g.srv.client(`alice@localhost/${r}`).send(xml('presence', { to: DOMAIN }))
    await barrier(g.srv.client('alice@localhost/phone'))
    await expect
      .poll(() => g.errors.filter((e) => /limits\.resources/.test(e.message)).length === 7, {
        message: 'the refusals',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().resources).toBe(3)
  })

  it("contacts' presences per session (keyed by the adapter's ids): limits.contacts", async () => {
    const net = new FakeNetwork()
    const g = await gateway({ limits: { contacts: 5 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    for (const id of ids(50)) live(net).events.presence(id, true, 'here')
    await expect
      .poll(
        () =>
          g.gw.sizes().presence === 5 &&
          alice.received.filter((s) => s.attrs.from === toJid('c49', DOMAIN)).length > 0,
        { message: 'the presences', timeout: 3000, interval: 5 },
      )
      .toBe(true)
    expect(g.gw.sizes().presence).toBe(5)
  })

  it('stored contacts (a message from someone new adds one, a contact list is cut): limits.contacts; every message still delivered', async () => {
    const net = new FakeNetwork()
    net.contacts = ids(50).map((id) => ({ id, online: true }))
    const g = await gateway({ limits: { contacts: 5 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    expect(g.store.contacts('alice@localhost')).toHaveLength(5)
    for (const from of ids(20, 'stranger')) live(net).events.message({ from, id: `id-${from}`, text: 'hi' })
    await expect
      .poll(
        () =>
          alice.received.filter((s) => s.name === 'message' && String(s.attrs.id).startsWith('id-'))
            .length === 20,
        { message: 'the messages', timeout: 3000, interval: 5 },
      )
      .toBe(true)
    expect(g.store.contacts('alice@localhost')).toHaveLength(5)
  })

  it('stored contacts, events all in one tick (messages from new senders, contact lists, both): never more than limits.contacts, every message delivered, the last list wins', async () => {
    const net = new FakeNetwork()
    net.contacts = []
    const g = await gateway({ limits: { contacts: 8 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    const subscribes = () =>
      alice.received.filter(
        (s) => s.name === 'presence' && s.attrs.type === 'subscribe' && s.attrs.from !== DOMAIN,
      )
    // 200 messages from new senders in one tick.
    for (const from of ids(200, 's')) live(net).events.message({ from, id: `id-${from}`, text: 'hi' })
    const delivered = () =>
      alice.received.filter((s) => s.name === 'message' && String(s.attrs.id).startsWith('id-')).length
    await expect
      .poll(() => delivered() === 200, { message: 'the messages', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(g.store.contacts('alice@localhost')).toHaveLength(8)
    expect(subscribes()).toHaveLength(8)
    // Twenty different full lists at once: the stored contacts are the last list.
    const lists = Array.from({ length: 20 }, (_, l) => ids(8, `l${l}-`).map((id) => ({ id, online: true })))
    for (const list of lists) live(net).events.contacts(list)
    const last = (lists.at(-1) ?? []).map((c) => c.id)
    await expect
      .poll(() => g.store.contacts('alice@localhost').every((c) => last.includes(c.legacyId)), {
        message: 'the last list',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(
      g.store
        .contacts('alice@localhost')
        .map((c) => c.legacyId)
        .sort(),
    ).toEqual([...last].sort())
    // Both together: lists and messages from new senders interleaved in one tick.
    for (let i = 0; i < 20; i++) {
      live(net).events.contacts(ids(6, `m${i}-`).map((id) => ({ id })))
      for (const from of ids(5, `n${i}-`))
        live(net).events.message({ from, id: `id-n${i}${from}`, text: 'x' })
    }
    await expect
      .poll(() => delivered() === 300, { message: 'the other messages', timeout: 3000, interval: 5 })
      .toBe(true)
    await barrier(alice)
    expect(g.store.contacts('alice@localhost').length).toBeLessThanOrEqual(8)
    expect(g.errors.some((e) => /limits\.contacts/.test(e.message))).toBe(true)
  })

  it('pictures (per user and legacy id): limits.contacts per user, limits.avatarCacheBytes in all, limits.avatarBytes each', async () => {
    const net = new FakeNetwork()
    net.contacts = []
    const g = await gateway(
      {
        adapter: net.adapter({ avatars: { avatar: async () => null } }),
        limits: { contacts: 5, avatarCacheBytes: 4000, avatarBytes: 600 },
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    const pic = (n: number) => ({ type: 'image/png', data: Buffer.alloc(n, 1) })
    for (const id of ids(50)) live(net).events.avatar?.(id, pic(500))
    live(net).events.avatar?.('big', pic(601))
    await expect
      .poll(() => g.errors.some((e) => /601 bytes/.test(e.message)), {
        message: 'the big picture dropped',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().avatars).toBeLessThanOrEqual(5)
    expect(g.gw.sizes().avatarBytes).toBeLessThanOrEqual(4000)
  })

  it('roster changes waiting for a grant (users, contacts): limits.sessions users, limits.contacts each', async () => {
    const net = new FakeNetwork()
    net.contacts = ids(30).map((id) => ({ id, name: id, online: true }))
    for (const u of ids(6, 'u')) net.accounts.set(u, 'pw')
    const g = await gateway({ limits: { sessions: 2, contacts: 4 } }, net)
    for (const u of ids(6, 'u')) {
      await register(g.srv.client(`${u}@localhost/r`), u, 'pw')
      await g.gw.logout(`${u}@localhost`)
    }
    expect(g.gw.sizes().roster).toBe(2)
    expect(g.gw.sizes().rosterContacts).toBe(4)
  })

  it('reports on the error event: limits.reportsPerMinute', async () => {
    const net = new FakeNetwork()
    const g = await gateway({ limits: { reportsPerMinute: 5 } }, net)
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    for (let i = 0; i < 50; i++) live(net).events.presence(i as never, true)
    live(net).events.message({ from: 'zed', id: 'after', text: 'after the flood' })
    await alice.expectStanza({ name: 'message', id: 'after' })
    expect(g.errors.filter((e) => (e as { code?: string }).code?.startsWith('SAT_ERR_BRIDGE'))).toHaveLength(
      5,
    )
    expect(BridgeErrorCodes.SUPPRESSED).toBe('SAT_ERR_BRIDGE_SUPPRESSED')
  })
})

describe('bridge: bounded group-chat maps', () => {
  let gate: Promise<void> = Promise.resolve()
  async function rooms(limits: Record<string, number>, history = 20) {
    const net = new FakeNetwork()
    net.contacts = []
    const g = await gateway(
      {
        groupHistory: history,
        limits,
        adapter: net.adapter({
          groups: {
            listGroups: async () => ids(50, '#g').map((id) => ({ id })),
            members: async () => {
              await gate
              return ids(50, 'm').map((id) => ({ id, nick: id }))
            },
            sendGroupText: async () => 'G',
          },
        }),
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    return { g, net, alice }
  }
  const join = (c: SimulatedClient, room: string, id = 'j') =>
    c.send(xml('presence', { to: `${room}/alice`, id }, xml('x', { xmlns: NS_MUC })))

  it('limits lifted with Infinity: the rooms still work (the engine gets integers)', async () => {
    const lifted = ['sessions', 'resources', 'groups', 'members', 'textLength', 'adapterTimeout']
    const { g, alice } = await rooms(Object.fromEntries(lifted.map((k) => [k, Number.POSITIVE_INFINITY])))
    join(alice, ROOM)
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(g.gw.sizes().groups).toMatchObject({ rooms: 1, members: 50, roomResources: 1 })
  })

  it('groups per user (listGroups cut) and members per room: limits.groups, limits.members', async () => {
    const { g, alice } = await rooms({ groups: 5, members: 7 })
    expect(g.gw.sizes().groups?.groups).toBe(5)
    join(alice, ROOM)
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: ROOM })
    expect(g.gw.sizes().groups?.members).toBe(7)
    join(alice, toJid('#g9', DOMAIN), 'j9') // not among the 5 listed
    expect(errorOf(await alice.expectStanza({ name: 'presence', type: 'error', id: 'j9' })).condition).toBe(
      'item-not-found',
    )
  })

  it('rooms per user under concurrent joins: limits.groups, even when every join lists other groups', async () => {
    const net = new FakeNetwork()
    net.contacts = []
    let listed = 0
    const g = await gateway(
      {
        limits: { groups: 2 },
        adapter: net.adapter({
          groups: {
            // A hostile adapter: each listing names another group, so every join finds its own.
            listGroups: async () => [{ id: `#g${listed++ % 10}` }],
            members: async () => [],
            sendGroupText: async () => 'G',
          },
        }),
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    listed = 0
    for (const i of ids(10, '')) join(alice, toJid(`#g${i}`, DOMAIN), `k${i}`)
    await expect
      .poll(
        () =>
          alice.received.filter((s) => String(s.attrs.id).startsWith('k') || s.attrs.type === 'groupchat')
            .length >= 10,
        { message: 'every join answered', timeout: 3000, interval: 5 },
      )
      .toBe(true)
    await barrier(alice)
    expect(g.gw.sizes().groups?.rooms).toBeLessThanOrEqual(2)
  })

  it("the user's resources in a room: limits.resources", async () => {
    const { g } = await rooms({ resources: 2 })
    const clients = ids(4, 'r').map((r) => g.srv.client(`alice@localhost/${r}`))
    for (const c of clients) {
      join(c, ROOM, `j-${c.jid}`)
      await c.expectStanza(
        (s) => s.attrs.id === `j-${c.jid}` || (s.name === 'message' && s.attrs.from === ROOM),
      )
    }
    expect(g.gw.sizes().groups?.roomResources).toBe(2)
    const refused = clients[3]?.received.find((s) => s.attrs.type === 'error')
    expect(refused && errorOf(refused).condition).toBe('resource-constraint')
  })

  it('discussion history per user: limits.historyChars over all groups', async () => {
    const { g, net } = await rooms({ historyChars: 2000 })
    for (let i = 0; i < 100; i++) {
      live(net).events.groupMessage?.({ group: `#g${i % 5}`, from: 'm1', id: `h${i}`, text: 'x'.repeat(100) })
    }
    await expect
      .poll(() => (g.gw.sizes().groups?.historyChars ?? 0) > 1500, {
        message: 'the history',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().groups?.historyChars).toBeLessThanOrEqual(2000)
  })

  it('discussion history kept after the session ends: limits.sessions users', async () => {
    const net = new FakeNetwork()
    net.contacts = []
    for (const u of ids(4, 'u')) net.accounts.set(u, 'pw')
    const g = await gateway(
      {
        limits: { sessions: 2 },
        adapter: net.adapter({
          groups: {
            listGroups: async () => [{ id: '#g0' }],
            members: async () => [],
            sendGroupText: async () => 'G',
          },
        }),
      },
      net,
    )
    for (const u of ids(4, 'u')) {
      await register(g.srv.client(`${u}@localhost/r`), u, 'pw')
      await expect
        .poll(() => g.gw.sizes().groups?.groups === 1, {
          message: 'the groups listed',
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      live(net).events.groupMessage?.({ group: '#g0', from: 'm1', id: `h-${u}`, text: 'hello' })
      await expect
        .poll(() => (g.gw.sizes().groups?.historyChars ?? 0) > 0, {
          message: 'the history',
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      await g.gw.logout(`${u}@localhost`)
    }
    expect(g.gw.sizes().groups?.historyUsers).toBe(2)
  })

  it('joins under way: limits.pendingJoins', async () => {
    let open: () => void = () => {}
    gate = new Promise((r) => {
      open = r
    })
    const { g, alice } = await rooms({ pendingJoins: 2 })
    for (const i of [0, 1, 2, 3, 4]) join(alice, toJid(`#g${i}`, DOMAIN), `p${i}`)
    await expect
      .poll(() => alice.received.filter((s) => s.attrs.type === 'error').length === 3, {
        message: 'the refusals',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(g.gw.sizes().groups?.pendingJoins).toBe(2)
    open()
    gate = Promise.resolve()
    await expect
      .poll(() => g.gw.sizes().groups?.rooms === 2, { message: 'the two joins', timeout: 3000, interval: 5 })
      .toBe(true)
  })
})
