// The MucStore contract: every implementation runs these (memory and SQLite here; a later
// backend imports storeContract with its own factory).
import { xml } from '@satellite/core'
import type { ArchivedMessage, MaybePromise, MucStore } from '@satellite/muc'
import { describe, expect, it } from 'vitest'

const ROOM = 'lobby@chat.localhost'
const OTHER = 'other@chat.localhost'

export function message(n: number, nick = n % 2 === 0 ? 'alice' : 'bob', at = 1_000 * n): ArchivedMessage {
  return {
    id: `id-${n}`,
    at,
    nick,
    occupantId: `occ-${nick}`,
    jid: `${nick}@localhost/res`,
    message: xml(
      'message',
      { from: `${ROOM}/${nick}`, type: 'groupchat', id: `m${n}` },
      xml('body', {}, `text ${n} <&> ✓`),
      xml('stanza-id', { xmlns: 'urn:xmpp:sid:0', id: `id-${n}`, by: ROOM }),
    ),
  }
}

const ids = (p: { messages: ArchivedMessage[] } | null) => p?.messages.map((m) => m.id)

export function storeContract(name: string, make: () => MucStore | Promise<MucStore>): void {
  describe(`MucStore contract: ${name}`, () => {
    it('keeps, replaces and deletes persistent rooms', async () => {
      const s = await make()
      expect(await s.loadRoom(ROOM)).toBeUndefined()
      const room = { jid: ROOM, config: { persistent: true, name: 'Lobby', n: 3 }, subject: 'hi', created: 5 }
      await s.saveRoom(room)
      await s.saveRoom({ jid: OTHER, config: {}, subject: '', created: 6 })
      expect(await s.loadRoom(ROOM)).toEqual({ ...room, subjectNick: undefined })
      room.config.name = 'changed after save'
      expect((await s.loadRoom(ROOM))?.config.name).toBe('Lobby')
      await s.saveRoom({ ...room, subject: 'new', subjectNick: 'alice' })
      expect(await s.loadRoom(ROOM)).toMatchObject({ subject: 'new', subjectNick: 'alice', created: 5 })
      expect(await s.rooms()).toEqual([ROOM, OTHER].sort())
      await s.deleteRoom(ROOM)
      expect(await s.loadRoom(ROOM)).toBeUndefined()
      expect(await s.rooms()).toEqual([OTHER])
    })

    it('keeps affiliations per room; none removes one', async () => {
      const s = await make()
      await s.setAffiliation(ROOM, 'alice@localhost', 'owner')
      await s.setAffiliation(ROOM, 'bob@localhost', 'member', 'friend')
      await s.setAffiliation(OTHER, 'eve@localhost', 'outcast')
      await s.setAffiliation(ROOM, 'bob@localhost', 'admin', 'promoted')
      const sorted = async (room: string) =>
        [...(await s.affiliations(room))].sort((a, b) => a.jid.localeCompare(b.jid))
      expect(await sorted(ROOM)).toEqual([
        { jid: 'alice@localhost', affiliation: 'owner' },
        { jid: 'bob@localhost', affiliation: 'admin', reason: 'promoted' },
      ])
      await s.setAffiliation(ROOM, 'alice@localhost', 'none')
      expect(await sorted(ROOM)).toEqual([{ jid: 'bob@localhost', affiliation: 'admin', reason: 'promoted' }])
      expect(await sorted(OTHER)).toEqual([{ jid: 'eve@localhost', affiliation: 'outcast' }])
      await s.deleteRoom(ROOM)
      expect(await s.affiliations(ROOM)).toEqual([])
    })

    it('archives messages and gives them back as they were', async () => {
      const s = await make()
      const m = message(1)
      await s.append(ROOM, m, 100)
      const page = await s.query(ROOM, { max: 10 })
      expect(page?.count).toBe(1)
      const got = page?.messages[0]
      expect(got).toMatchObject({
        id: 'id-1',
        at: 1000,
        nick: 'bob',
        occupantId: 'occ-bob',
        jid: 'bob@localhost/res',
      })
      expect(got?.message.toString()).toBe(m.message.toString())
      expect(got?.message.getChildText('body')).toBe('text 1 <&> ✓')
      expect(await s.query(OTHER, { max: 10 })).toEqual({ messages: [], complete: true, count: 0 })
    })

    it('pages forwards and backwards by stanza-id, with count and complete', async () => {
      const s = await make()
      for (let n = 1; n <= 10; n++) await s.append(ROOM, message(n), 100)
      await s.append(OTHER, message(99), 100)
      const first = await s.query(ROOM, { max: 3 })
      expect(ids(first)).toEqual(['id-1', 'id-2', 'id-3'])
      expect(first).toMatchObject({ complete: false, count: 10 })
      const next = await s.query(ROOM, { max: 3, after: 'id-3' })
      expect(ids(next)).toEqual(['id-4', 'id-5', 'id-6'])
      const end = await s.query(ROOM, { max: 4, after: 'id-6' })
      expect(ids(end)).toEqual(['id-7', 'id-8', 'id-9', 'id-10'])
      expect(end?.complete).toBe(true)
      const last = await s.query(ROOM, { max: 3, before: '' })
      expect(ids(last)).toEqual(['id-8', 'id-9', 'id-10'])
      expect(last).toMatchObject({ complete: false, count: 10 })
      const prev = await s.query(ROOM, { max: 3, before: 'id-8' })
      expect(ids(prev)).toEqual(['id-5', 'id-6', 'id-7'])
      const start = await s.query(ROOM, { max: 5, before: 'id-3' })
      expect(ids(start)).toEqual(['id-1', 'id-2'])
      expect(start?.complete).toBe(true)
      expect(ids(await s.query(ROOM, { max: 0 }))).toEqual([])
      expect(await s.query(ROOM, { max: 3, after: 'nope' })).toBeNull()
      expect(await s.query(ROOM, { max: 3, before: 'id-99' })).toBeNull()
    })

    it('filters by time and nick, paging within the filter', async () => {
      const s = await make()
      for (let n = 1; n <= 10; n++) await s.append(ROOM, message(n), 100)
      const window = await s.query(ROOM, { max: 10, start: 3000, end: 6000 })
      expect(ids(window)).toEqual(['id-3', 'id-4', 'id-5', 'id-6'])
      expect(window).toMatchObject({ complete: true, count: 4 })
      const alice = await s.query(ROOM, { max: 2, nick: 'alice' })
      expect(ids(alice)).toEqual(['id-2', 'id-4'])
      expect(alice).toMatchObject({ complete: false, count: 5 })
      // An anchor the filter leaves out still places the page.
      expect(ids(await s.query(ROOM, { max: 2, nick: 'alice', after: 'id-5' }))).toEqual(['id-6', 'id-8'])
      expect(ids(await s.query(ROOM, { max: 2, nick: 'alice', before: 'id-5' }))).toEqual(['id-2', 'id-4'])
      expect(ids(await s.query(ROOM, { max: 9, nick: 'carol' }))).toEqual([])
    })

    it('keeps at most keep messages per room on append (eventually) and on prune', async () => {
      const s = await make()
      for (let n = 1; n <= 30; n++) await s.append(ROOM, message(n), 10)
      const page = await s.query(ROOM, { max: 100 })
      // A store may trim in batches: never fewer than keep, never more than 10% over.
      expect(page?.count).toBeGreaterThanOrEqual(10)
      expect(page?.count).toBeLessThanOrEqual(11)
      expect(page?.messages.at(-1)?.id).toBe('id-30')
      for (let n = 1; n <= 5; n++) await s.append(OTHER, message(100 + n), 10)
      await s.prune({ keep: 3 })
      expect(ids(await s.query(ROOM, { max: 100 }))).toEqual(['id-28', 'id-29', 'id-30'])
      expect(ids(await s.query(OTHER, { max: 100 }))).toEqual(['id-103', 'id-104', 'id-105'])
    })

    it('deletes messages older than a time on prune and reports how many', async () => {
      const s = await make()
      for (let n = 1; n <= 6; n++) await s.append(ROOM, message(n), 100)
      await s.append(OTHER, message(7, 'bob', 500), 100)
      expect(await s.prune({ before: 3000 })).toBe(3)
      expect(ids(await s.query(ROOM, { max: 100 }))).toEqual(['id-3', 'id-4', 'id-5', 'id-6'])
      expect(ids(await s.query(OTHER, { max: 100 }))).toEqual([])
      expect(await s.prune({ before: 3000 })).toBe(0)
      // Deleted messages are no anchors any more.
      expect(await s.query(ROOM, { max: 3, after: 'id-1' })).toBeNull()
    })

    it('keeps the call order of writes not awaited, as the engine makes them; reads see the writes called before', async () => {
      const s = await make()
      // The engine fires writes without waiting for them: an asynchronous store must still apply
      // them in call order (a pool would otherwise run them on several connections in any order).
      const writes: Array<MaybePromise<void>> = []
      for (let n = 1; n <= 40; n++) writes.push(s.append(ROOM, message(n), 100))
      for (let v = 1; v <= 20; v++)
        writes.push(s.saveRoom({ jid: ROOM, config: { v }, subject: `s${v}`, created: 1 }))
      const roles = ['member', 'admin', 'owner', 'outcast', 'none', 'member'] as const
      for (const a of roles) writes.push(s.setAffiliation(ROOM, 'bob@localhost', a))
      // Reads issued now, before any write is awaited, see every write issued before them.
      const [page, room, affs] = await Promise.all([
        s.query(ROOM, { max: 100 }),
        s.loadRoom(ROOM),
        s.affiliations(ROOM),
      ])
      expect(ids(page)).toEqual(Array.from({ length: 40 }, (_, i) => `id-${i + 1}`))
      expect(room).toMatchObject({ config: { v: 20 }, subject: 's20' })
      expect(affs).toEqual([{ jid: 'bob@localhost', affiliation: 'member' }])
      await Promise.all(writes)
    })

    it('deleting a room deletes its archive', async () => {
      const s = await make()
      await s.append(ROOM, message(1), 100)
      await s.deleteRoom(ROOM)
      expect((await s.query(ROOM, { max: 10 }))?.count).toBe(0)
      expect(await s.query(ROOM, { max: 10, after: 'id-1' })).toBeNull()
    })

    it("counts a room's archive as it changes: appends, a duplicate stanza-id, trims, prunes, deletes", async () => {
      const s = await make()
      const count = async (room: string, nick?: string) =>
        (await s.query(room, nick === undefined ? { max: 1 } : { max: 1, nick }))?.count
      const all = async (room: string) => (await s.query(room, { max: 10_000 }))?.messages.length
      for (let i = 1; i <= 30; i++) await s.append(ROOM, message(i), 1000)
      await s.append(ROOM, message(5), 1000)
      await s.append(OTHER, message(1), 1000)
      expect([await count(ROOM), await count(OTHER), await count('none@c')]).toEqual([30, 1, 0])
      expect(await count(ROOM, 'alice')).toBe(15)
      for (let i = 31; i <= 60; i++) await s.append(ROOM, message(i), 20)
      expect(await count(ROOM)).toBe(await all(ROOM))
      await s.prune({ keep: 10 })
      expect([await count(ROOM), await count(OTHER)]).toEqual([10, 1])
      await s.deleteRoom(ROOM)
      expect(await count(ROOM)).toBe(0)
    })
  })
}
