import { type Element, xml } from '@satellite/core'
import {
  type HistoryEntry,
  type HistoryQuery,
  type HistoryStore,
  MemoryHistory,
  MucError,
  NS_DELAY,
} from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import { brief, groupchat, join, nextStanzas, ROOM, setup } from './helpers.js'

async function roomWith(messages: string[], options: Parameters<typeof setup>[0] = {}) {
  const s = await setup(options)
  const alice = s.client('alice@localhost/phone')
  await join(alice, ROOM, 'Alice')
  const a0 = alice.received.length
  for (const m of messages) alice.send(groupchat(m))
  await nextStanzas(alice, messages.length, a0)
  return { ...s, alice }
}

const bodies = (got: Element[]) =>
  got.filter((m) => m.getChild('delay', NS_DELAY)).map((m) => m.getChildText('body'))

describe('discussion history', () => {
  it('is sent after the presences and before the subject, with XEP-0203 delays from the room', async () => {
    let now = Date.parse('2025-01-01T10:00:00Z')
    const { client } = await roomWith(['one', 'two'], { now: () => now++ })
    const got = await join(client('bob@localhost/pc'), ROOM, 'bob')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/Alice`,
      `presence ${ROOM}/bob [110]`,
      `message groupchat ${ROOM}/Alice delayed one`,
      `message groupchat ${ROOM}/Alice delayed two`,
      `message groupchat ${ROOM} subject`,
    ])
    const delay = got[2]!.getChild('delay', NS_DELAY)!
    expect(delay.attrs.from).toBe(ROOM)
    expect(Date.parse(delay.attrs.stamp as string)).toBeGreaterThanOrEqual(Date.parse('2025-01-01T10:00:00Z'))
    expect(got[2]!.attrs.to).toBe('bob@localhost/pc')
    expect(got[2]!.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.by).toBe(ROOM)
  })

  it("shows the sender's real JID as the delay's from in a non-anonymous room", async () => {
    const { client } = await roomWith(['one'], { defaults: { whois: 'anyone' } })
    const got = await join(client('bob@localhost/pc'), ROOM, 'bob')
    const m = got.find((s) => s.getChild('delay', NS_DELAY))
    expect(m?.getChild('delay', NS_DELAY)?.attrs.from).toBe('alice@localhost/phone')
  })

  it('keeps the room’s history length (defaults.historyLength), newest last', async () => {
    const { client } = await roomWith(['1', '2', '3', '4'], { defaults: { historyLength: 3 } })
    expect(bodies(await join(client('bob@localhost/pc'), ROOM, 'bob'))).toEqual(['2', '3', '4'])
  })

  it('honours maxstanzas, and maxchars 0 (no history)', async () => {
    const { client } = await roomWith(['1', '2', '3'])
    const bob = client('bob@localhost/pc')
    expect(bodies(await join(bob, ROOM, 'bob', [xml('history', { maxstanzas: '2' })]))).toEqual(['2', '3'])
    const carol = client('carol@localhost/x')
    const got = await join(carol, ROOM, 'carol', [xml('history', { maxchars: '0' })])
    expect(bodies(got)).toEqual([])
    expect(got[got.length - 1]!.getChild('subject')).toBeDefined()
  })

  it('honours maxchars with whole stanzas only', async () => {
    const { client } = await roomWith(['first', 'second', 'third'])
    const probe = await join(client('probe@localhost/x'), ROOM, 'probe')
    const sizes = probe.filter((m) => m.getChild('delay', NS_DELAY)).map((m) => m.toString().length)
    // room for the last two (measured as sent to probe@localhost/x, same length as bob@localhost/pc)
    const max = (sizes[1] ?? 0) + (sizes[2] ?? 0) + 12
    const got = await join(client('bob@localhost/pc'), ROOM, 'bob', [
      xml('history', { maxchars: String(max) }),
    ])
    expect(bodies(got)).toEqual(['second', 'third'])
  })

  it('honours seconds and since', async () => {
    let now = Date.parse('2025-01-01T10:00:00Z')
    const s = await setup({ now: () => now })
    const alice = s.client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(groupchat('old'))
    await nextStanzas(alice, 1, a0)
    now += 600_000
    alice.send(groupchat('new'))
    await nextStanzas(alice, 1, a0 + 1)
    now += 1000
    const bob = s.client('bob@localhost/pc')
    expect(bodies(await join(bob, ROOM, 'bob', [xml('history', { seconds: '60' })]))).toEqual(['new'])
    const carol = s.client('carol@localhost/x')
    expect(
      bodies(await join(carol, ROOM, 'carol', [xml('history', { since: '2025-01-01T10:05:00Z' })])),
    ).toEqual(['new'])
    const dave = s.client('dave@localhost/x')
    expect(bodies(await join(dave, ROOM, 'dave', [xml('history', { since: 'garbage' })]))).toEqual([
      'old',
      'new',
    ])
  })

  it('holds live traffic for a joiner until an asynchronous store has answered', async () => {
    const memory = new MemoryHistory()
    let release: () => void = () => {}
    const gate = new Promise<void>((r) => {
      release = r
    })
    const slow: HistoryStore = {
      append: (room, e, keep) => memory.append(room, e, keep),
      recent: async (room: string, q: HistoryQuery): Promise<readonly HistoryEntry[]> => {
        await gate
        return memory.recent(room, q)
      },
      forget: (room) => memory.forget(room),
    }
    const { alice, client } = await roomWith(['before'], { history: slow })
    const bob = client('bob@localhost/pc')
    bob.send(xml('presence', { to: `${ROOM}/bob` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })))
    await nextStanzas(bob, 2)
    alice.send(groupchat('live'))
    await new Promise((r) => setTimeout(r, 50))
    expect(bob.received.map(brief)).toEqual([`presence ${ROOM}/Alice`, `presence ${ROOM}/bob [110]`])
    release()
    expect((await nextStanzas(bob, 3, 2)).map(brief)).toEqual([
      `message groupchat ${ROOM}/Alice delayed before`,
      `message groupchat ${ROOM} subject`,
      `message groupchat ${ROOM}/Alice live`,
    ])
  })

  it('reports a failing store on the error event (SAT_ERR_MUC_STORE) and still ends the join with the subject', async () => {
    const failing: HistoryStore = {
      append: () => Promise.reject(new Error('disk full')),
      recent: () => {
        throw new Error('disk on fire')
      },
      forget: () => {},
    }
    const { client, xmpp } = await setup({ history: failing })
    const errors: MucError[] = []
    xmpp.on('error', (err) => errors.push(err as MucError))
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    alice.send(groupchat('kept?'))
    await alice.expectStanza({ name: 'message', body: 'kept?' })
    const bob = client('bob@localhost/pc')
    const got = await join(bob, ROOM, 'bob')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/Alice`,
      `presence ${ROOM}/bob [110]`,
      `message groupchat ${ROOM} subject`,
    ])
    expect(errors.map((e) => [e instanceof MucError, e.code, e.message])).toEqual([
      [true, 'SAT_ERR_MUC_STORE', `a message of ${ROOM} was not kept`],
      [true, 'SAT_ERR_MUC_STORE', `history of ${ROOM} could not be read`],
    ])
  })
})

describe('MemoryHistory', () => {
  const entry = (id: string, at: number): HistoryEntry => ({
    id,
    at,
    jid: 'a@b/c',
    message: xml('message', {}, xml('body', {}, id)),
  })

  it('keeps at most the smaller of its bound and the room length, oldest dropped first', () => {
    const h = new MemoryHistory(3)
    for (let i = 1; i <= 5; i++) h.append('r@x', entry(String(i), i), 10)
    expect(h.recent('r@x', { maxStanzas: 10 }).map((e) => e.id)).toEqual(['3', '4', '5'])
    h.append('s@x', entry('a', 1), 1)
    h.append('s@x', entry('b', 2), 1)
    expect(h.recent('s@x', { maxStanzas: 10 }).map((e) => e.id)).toEqual(['b'])
  })

  it('answers maxStanzas and since (exclusive), and forgets a room', () => {
    const h = new MemoryHistory(10)
    for (let i = 1; i <= 4; i++) h.append('r@x', entry(String(i), i * 10), 10)
    expect(h.recent('r@x', { maxStanzas: 2 }).map((e) => e.id)).toEqual(['3', '4'])
    expect(h.recent('r@x', { maxStanzas: 10, since: 20 }).map((e) => e.id)).toEqual(['3', '4'])
    expect(h.recent('r@x', { maxStanzas: 0 })).toEqual([])
    expect(h.rooms).toBe(1)
    h.forget('r@x')
    expect(h.rooms).toBe(0)
    expect(h.recent('r@x', { maxStanzas: 5 })).toEqual([])
  })
})
