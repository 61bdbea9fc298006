// XEP-0313 queries to a room through the embedded server: the form fields, paging both ways
// with XEP-0059, who may query, and each error condition.
import { type Element, xml } from '@satellite/core'
import { MemoryStore, type MucOptions, SqliteMucStore } from '@satellite/muc'
import { fails } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { groupchat, join, nextStanzas, ROOM, setup } from './helpers.js'

const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'

function form(fields: Record<string, string>): Element {
  return xml(
    'x',
    { xmlns: 'jabber:x:data', type: 'submit' },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS_MAM)),
    ...Object.entries(fields).map(([k, v]) => xml('field', { var: k }, xml('value', {}, v))),
  )
}

function rsm(set: Record<string, string>): Element {
  return xml('set', { xmlns: NS_RSM }, ...Object.entries(set).map(([k, v]) => xml(k, {}, v)))
}

function mamIq(children: Element[], queryid = 'q1', to = ROOM): Element {
  return xml('iq', { type: 'set', to }, xml('query', { xmlns: NS_MAM, queryid }, ...children))
}

interface Answer {
  bodies: string[]
  ids: string[]
  results: Element[]
  fin: Element
}

/** Runs a query; the result messages are those that came before the iq result. */
async function query(c: SimulatedClient, children: Element[] = [], queryid = 'q1'): Promise<Answer> {
  const from = c.received.length
  const res = await c.request(mamIq(children, queryid))
  const got = c.received.slice(from).filter((s) => s.name === 'message' && s.getChild('result', NS_MAM))
  const iqAt = c.received.indexOf(res)
  for (const m of got) expect(c.received.indexOf(m)).toBeLessThan(iqAt)
  const fin = res.getChild('fin', NS_MAM) as Element
  return {
    bodies: got.map(
      (m) => m.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body') ?? '',
    ),
    ids: got.map((m) => String(m.getChild('result')?.attrs.id)),
    results: got,
    fin,
  }
}

const setOf = (fin: Element) => {
  const set = fin.getChild('set', NS_RSM)
  return {
    first: set?.getChildText('first') ?? undefined,
    last: set?.getChildText('last') ?? undefined,
    count: set?.getChildText('count') ?? undefined,
  }
}

async function roomWith(n: number, options: MucOptions = {}) {
  let now = Date.parse('2025-01-01T10:00:00Z')
  const s = await setup({ now: () => (now += 1000), ...options })
  const alice = s.client('alice@localhost/phone')
  const bob = s.client('bob@localhost/pc')
  await join(alice, ROOM, 'Alice')
  await join(bob, ROOM, 'bob')
  const a0 = alice.received.length
  for (let i = 1; i <= n; i++) {
    const who = i % 3 === 0 ? bob : alice
    who.send(groupchat(`m${i}`))
    await nextStanzas(alice, 1, a0 + i - 1)
  }
  return { ...s, alice, bob }
}

for (const [name, store] of [
  ['memory', () => new MemoryStore()],
  ['sqlite', () => new SqliteMucStore()],
] as const) {
  describe(`MAM queries to a room (${name} store)`, () => {
    it('pages forwards with <after/> and backwards with <before/>, with first/last/count and complete', async () => {
      const { alice } = await roomWith(7, { store: store(), limits: { messageRate: { burst: 50 } } })
      const first = await query(alice, [rsm({ max: '3' })])
      expect(first.bodies).toEqual(['m1', 'm2', 'm3'])
      expect(first.fin.attrs.complete).toBeUndefined()
      expect(setOf(first.fin)).toEqual({ first: first.ids[0], last: first.ids[2], count: '7' })
      const next = await query(alice, [rsm({ max: '3', after: first.ids[2] as string })])
      expect(next.bodies).toEqual(['m4', 'm5', 'm6'])
      const end = await query(alice, [rsm({ max: '3', after: next.ids[2] as string })])
      expect(end.bodies).toEqual(['m7'])
      expect(end.fin.attrs.complete).toBe('true')
      const last = await query(alice, [rsm({ max: '2', before: '' })])
      expect(last.bodies).toEqual(['m6', 'm7'])
      expect(last.fin.attrs.complete).toBeUndefined()
      const prev = await query(alice, [rsm({ max: '10', before: last.ids[0] as string })])
      expect(prev.bodies).toEqual(['m1', 'm2', 'm3', 'm4', 'm5'])
      expect(prev.fin.attrs.complete).toBe('true')
    })

    it('sends each result as a forwarded groupchat from the occupant with its stanza-id and a delay', async () => {
      const { alice, bob } = await roomWith(3, { store: store() })
      const live = bob.received.filter((s) => s.name === 'message' && s.getChildText('body') === 'm1')[0]
      const sid = live?.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs.id
      const a = await query(alice, [rsm({ max: '1' })], 'my-query')
      const m = a.results[0] as Element
      expect(m.attrs.from).toBe(ROOM)
      expect(m.attrs.to).toBe('alice@localhost/phone')
      const result = m.getChild('result', NS_MAM) as Element
      expect(result.attrs).toMatchObject({ queryid: 'my-query', id: sid })
      const fwd = result.getChild('forwarded', 'urn:xmpp:forward:0') as Element
      const stamp = String(fwd.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp)
      expect(stamp).toMatch(/^2025-01-01T10:00:\d\d\.000Z$/)
      const inner = fwd.getChild('message') as Element
      expect(inner.attrs).toMatchObject({ from: `${ROOM}/Alice`, type: 'groupchat' })
      expect(inner.getChild('stanza-id', 'urn:xmpp:sid:0')?.attrs).toMatchObject({ id: sid, by: ROOM })
      expect(inner.getChild('occupant-id', 'urn:xmpp:occupant-id:0')).toBeDefined()
    })

    it('filters with start, end and with (an occupant JID)', async () => {
      const { alice } = await roomWith(6, { store: store() })
      // The clock ticks a second per read: take the archive's own stamps of m2 and m4.
      const all = await query(alice, [])
      const stamps = all.results.map((m) =>
        String(m.getChild('result')?.getChild('forwarded')?.getChild('delay')?.attrs.stamp),
      )
      const window = await query(alice, [form({ start: stamps[1] as string, end: stamps[3] as string })])
      expect(window.bodies).toEqual(['m2', 'm3', 'm4'])
      expect(window.fin.attrs.complete).toBe('true')
      const bobs = await query(alice, [form({ with: `${ROOM}/bob` })])
      expect(bobs.bodies).toEqual(['m3', 'm6'])
      expect(setOf(bobs.fin).count).toBe('2')
      const none = await query(alice, [form({ start: '2030-01-01T00:00:00Z' })])
      expect(none.bodies).toEqual([])
      expect(setOf(none.fin)).toEqual({ first: undefined, last: undefined, count: '0' })
    })
  })
}

describe('MAM errors and limits', () => {
  it('refuses a non-occupant (forbidden) and an unknown room (item-not-found)', async () => {
    const { client } = await roomWith(1)
    const eve = client('eve@localhost/x')
    expect((await fails(eve, mamIq([]))).condition).toBe('forbidden')
    expect((await fails(eve, mamIq([], 'q', `nowhere@chat.localhost`))).condition).toBe('item-not-found')
  })

  it('answers item-not-found for an unknown after/before id, bad-request for bad fields', async () => {
    const { alice } = await roomWith(1)
    expect((await fails(alice, mamIq([rsm({ after: 'nope' })]))).condition).toBe('item-not-found')
    expect((await fails(alice, mamIq([rsm({ before: 'nope' })]))).condition).toBe('item-not-found')
    expect((await fails(alice, mamIq([rsm({ max: 'x' })]))).condition).toBe('bad-request')
    expect((await fails(alice, mamIq([form({ start: 'yesterday' })]))).condition).toBe('bad-request')
    expect((await fails(alice, mamIq([form({ with: 'bob@localhost' })]))).condition).toBe('bad-request')
    expect((await fails(alice, mamIq([form({ colour: 'red' })]))).condition).toBe('bad-request')
    expect((await fails(alice, mamIq([rsm({ index: '2' })]))).condition).toBe('feature-not-implemented')
  })

  it('cuts <max/> to archive.maxPage and uses archive.defaultPage without one', async () => {
    const { alice } = await roomWith(5, { archive: { maxPage: 3, defaultPage: 2 } })
    expect((await query(alice, [rsm({ max: '100' })])).bodies).toEqual(['m1', 'm2', 'm3'])
    expect((await query(alice, [])).bodies).toEqual(['m1', 'm2'])
  })

  it('gives the query form on an iq get, and the room advertises MAM and stanza ids', async () => {
    const { alice } = await roomWith(0)
    const res = await alice.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_MAM })))
    const vars = res
      .getChild('query', NS_MAM)
      ?.getChild('x', 'jabber:x:data')
      ?.getChildren('field')
      .map((f) => f.attrs.var)
    expect(vars).toEqual(['FORM_TYPE', 'with', 'start', 'end'])
    const info = await alice.request(
      xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    )
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var)
    expect(features).toContain(NS_MAM)
    expect(features).toContain('urn:xmpp:sid:0')
  })

  it('history on join comes from the same archive (after a retention prune, the pruned ones are gone)', async () => {
    const { client, service } = await roomWith(4, { archive: { maxPerRoom: 2 } })
    expect(await service.prune()).toBe(0) // kept at 2 on append already
    const carol = client('carol@localhost/x')
    const got = await join(carol, ROOM, 'carol')
    expect(got.filter((m) => m.getChild('delay')).map((m) => m.getChildText('body'))).toEqual(['m3', 'm4'])
    expect((await query(carol, [])).bodies).toEqual(['m3', 'm4'])
  })
})
