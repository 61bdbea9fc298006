// The DirectoryStore contract: every backend runs these (SQLite in test/store.test.ts, PostgreSQL in
// e2e/test/postgres-directory-store.test.ts), so that FTS5 and tsvector give the same results.
import { describe, expect, it } from 'vitest'
import type { DirectoryEntry, DirectoryStore } from '../src/store.js'

/** A fresh, empty store; `reopen()` closes it and opens the same database again. */
export interface ContractStore {
  store: DirectoryStore
  reopen(): Promise<DirectoryStore>
}

export const ALICE = {
  jid: 'alice@localhost',
  nick: 'Alice',
  fullname: 'Alice Liddell',
  locality: 'Oxford',
  email: 'alice@example.org',
  published: ['nick', 'fullname', 'locality'],
} satisfies Omit<DirectoryEntry, 'updated'>

export async function seed(store: DirectoryStore): Promise<DirectoryStore> {
  await store.put(ALICE)
  await store.put({
    jid: 'alfred@localhost',
    nick: 'Alfred',
    about: 'Alice fan club, Alice Alice',
    published: ['nick', 'about'],
  })
  await store.put({
    jid: 'bob@localhost',
    nick: 'Bob',
    fullname: 'Robert Smith',
    locality: 'Zürich',
    published: ['nick', 'fullname', 'locality'],
  })
  return store
}

const jids = async (hits: Promise<{ jid: string }[]>) => (await hits).map((m) => m.jid)

export function storeContract(name: string, make: () => Promise<ContractStore>): void {
  describe(`DirectoryStore contract: ${name}`, () => {
    it('finds entries by case-insensitive prefix, per field and in any field, accents ignored', async () => {
      const store = await seed((await make()).store)
      expect((await jids(store.search({ nick: 'AL' }, 10))).sort()).toEqual([
        'alfred@localhost',
        'alice@localhost',
      ])
      expect(await jids(store.search({ text: 'lidd oxf' }, 10))).toEqual(['alice@localhost'])
      expect(await jids(store.search({ locality: 'zurich' }, 10))).toEqual(['bob@localhost'])
      expect(await jids(store.search({ locality: 'ZÜR' }, 10))).toEqual(['bob@localhost'])
      expect(await jids(store.search({ fullname: 'rob', nick: 'bo' }, 10))).toEqual(['bob@localhost'])
      expect(await store.search({ nick: 'zed' }, 10)).toEqual([])
      // all words must match, each in its own field
      expect(await store.search({ fullname: 'rob', nick: 'al' }, 10)).toEqual([])
      expect(await store.search({ text: 'alice zurich' }, 10)).toEqual([])
      // a field's words are searched in that field only
      expect(await store.search({ nick: 'oxford' }, 10)).toEqual([])
      expect(await jids(store.search({ about: 'fan' }, 10))).toEqual(['alfred@localhost'])
      await store.close()
    })

    it('folds the accents of Latin letters only (FTS5 remove_diacritics 2), decomposed or not', async () => {
      const store = (await make()).store
      await store.put({
        jid: 'w@localhost',
        nick: 'Ångström Việt Ελλάδα Ёлка Zu\u0308rich',
        published: ['nick'],
      })
      const found = async (q: string) => (await store.search({ nick: q }, 10)).length === 1
      for (const q of ['angstrom', 'ÅNG', 'viet', 'việt', 'ελλάδα', 'ёлка', 'zurich', 'zürich']) {
        expect(await found(q), q).toBe(true)
      }
      for (const q of ['ελλαδα', 'елка', 'strom']) expect(await found(q), q).toBe(false)
      await store.close()
    })

    it('ranks by relevance, best first (bm25 on SQLite, ts_rank_cd on PostgreSQL), then by JID', async () => {
      const store = await seed((await make()).store)
      const hits = await store.search({ text: 'alice' }, 10)
      expect(hits.map((m) => m.jid)).toEqual(['alfred@localhost', 'alice@localhost']) // "Alice" 3 times in a short text
      expect(hits[0]?.rank).toBeLessThanOrEqual(hits[1]?.rank as number)
      for (const n of [3, 1, 2])
        await store.put({ jid: `twin${n}@localhost`, nick: 'Twin', published: ['nick'] })
      expect(await jids(store.search({ nick: 'twin' }, 10))).toEqual([
        'twin1@localhost',
        'twin2@localhost',
        'twin3@localhost',
      ])
      expect(await jids(store.search({ nick: 'twin' }, 2))).toEqual(['twin1@localhost', 'twin2@localhost'])
      expect(await store.search({ nick: 'twin' }, 0)).toEqual([])
      expect(await store.search({ nick: 'twin' }, -1)).toEqual([]) // SQLite's LIMIT -1 would be none
      expect(await store.search({ nick: 'twin' }, Number.NaN)).toEqual([])
      expect(await store.search({ nick: 'twin' }, Number.POSITIVE_INFINITY)).toHaveLength(3)
      await store.close()
    })

    it('never searches nor returns unpublished fields, and follows publish changes', async () => {
      const store = await seed((await make()).store)
      expect(await store.search({ email: 'alice' }, 10)).toEqual([])
      expect(await store.search({ text: 'example' }, 10)).toEqual([])
      expect(await store.publicEntries(['alice@localhost'])).toEqual([
        { jid: 'alice@localhost', nick: 'Alice', fullname: 'Alice Liddell', locality: 'Oxford' },
      ])
      const alice = (await store.get('alice@localhost')) as DirectoryEntry
      await store.put({ ...alice, published: ['nick', 'email'] })
      expect(await jids(store.search({ email: 'exam' }, 10))).toEqual(['alice@localhost'])
      expect(await jids(store.search({ text: 'example org' }, 10))).toEqual(['alice@localhost'])
      expect(await store.search({ text: 'oxford' }, 10)).toEqual([])
      expect(await store.search({ fullname: 'alice' }, 10)).toEqual([])
      expect(await store.publicEntries(['alice@localhost'])).toEqual([
        { jid: 'alice@localhost', nick: 'Alice', email: 'alice@example.org' },
      ])
      // even the nick can be kept private
      await store.put({ ...alice, published: [] })
      expect(await store.search({ nick: 'alice' }, 10)).toEqual([])
      expect(await store.publicEntries(['alice@localhost'])).toEqual([{ jid: 'alice@localhost' }])
      await store.close()
    })

    it('keeps entries as they were put, and the index in sync on replace and delete', async () => {
      const store = await seed((await make()).store)
      expect(await store.get('alice@localhost')).toEqual({
        ...ALICE,
        updated: expect.any(Number),
      })
      expect(await store.get('nobody@localhost')).toBeNull()
      await store.put({ jid: 'bob@localhost', nick: 'Bobby', published: ['nick'] })
      expect(await store.get('bob@localhost')).toEqual({
        jid: 'bob@localhost',
        nick: 'Bobby',
        published: ['nick'],
        updated: expect.any(Number),
      })
      expect(await store.search({ text: 'robert' }, 10)).toEqual([])
      expect(await jids(store.search({ nick: 'bobb' }, 10))).toEqual(['bob@localhost'])
      expect(await store.remove('alice@localhost')).toBe(true)
      expect(await store.remove('alice@localhost')).toBe(false)
      expect(await jids(store.search({ text: 'alice' }, 10))).toEqual(['alfred@localhost'])
      expect(await store.publicEntries(['alice@localhost', 'bob@localhost'])).toEqual([
        { jid: 'bob@localhost', nick: 'Bobby' },
      ])
      expect(await store.count()).toBe(2)
      await store.close()
    })

    it('runs the calls about one JID in the order they were made', async () => {
      const store = (await make()).store
      const calls = [
        store.put({ jid: 'a@localhost', nick: 'One', published: ['nick'] }),
        store.get('a@localhost'),
        store.put({ jid: 'a@localhost', nick: 'Two', published: ['nick'] }),
        store.remove('a@localhost'),
        store.get('a@localhost'),
        store.put({ jid: 'a@localhost', nick: 'Three', published: ['nick'] }),
      ]
      const results = await Promise.all(calls)
      expect((results[1] as DirectoryEntry).nick).toBe('One')
      expect(results[3]).toBe(true)
      expect(results[4]).toBeNull()
      expect((await store.get('a@localhost'))?.nick).toBe('Three')
      await store.close()
    })

    it('treats input as data: SQL, FTS5 and tsquery syntax find nothing and break nothing', async () => {
      const store = await seed((await make()).store)
      const evil = [
        "'; DROP TABLE entries; --",
        'alice" OR nick:*',
        'NEAR(alice bob)',
        '* OR 1=1',
        '")) --',
        'nick : alice AND NOT bob',
        'a & b | !c:*',
        "ali' | 'bob",
        "''':*",
        'alice\\',
        '(bob <-> smith)',
        '!!!',
        'nick:al* & bob',
      ]
      for (const value of evil) {
        await expect(store.search({ text: value }, 10)).resolves.toBeInstanceOf(Array)
        await expect(store.search({ nick: value }, 10)).resolves.toBeInstanceOf(Array)
      }
      expect(await store.search({ text: "'; DROP TABLE entries; --" }, 10)).toEqual([])
      expect(await store.search({ text: 'a & b | !c:*' }, 10)).toEqual([])
      // the words in hostile input are still words: "ali' | 'bob" is ali AND bob
      expect(await store.search({ text: "ali' | 'bob" }, 10)).toEqual([])
      expect(await jids(store.search({ text: "'Lidd'" }, 10))).toEqual(['alice@localhost'])
      expect(await jids(store.search({ text: 'smith & (rob)' }, 10))).toEqual(['bob@localhost'])
      expect(await store.search({ text: '--- !!!' }, 10)).toEqual([])
      expect(await store.search({}, 10)).toEqual([])
      expect(await store.count()).toBe(3)
      // stored values are data too
      await store.put({ jid: "o'hara@localhost", nick: "O'Hara & Co | !x:*", published: ['nick'] })
      expect(await jids(store.search({ nick: 'hara co' }, 10))).toEqual(["o'hara@localhost"])
      expect((await store.get("o'hara@localhost"))?.nick).toBe("O'Hara & Co | !x:*")
      await store.close()
    })

    it('lists entries by JID (byte order) with a filter and a start, bounded', async () => {
      const store = await seed((await make()).store)
      await store.put({ jid: 'Zed@localhost', nick: 'Zed', published: ['nick'] })
      expect((await store.list()).map((e) => e.jid)).toEqual([
        'Zed@localhost',
        'alfred@localhost',
        'alice@localhost',
        'bob@localhost',
      ])
      expect((await store.list({ filter: 'li' })).map((e) => e.jid)).toEqual(['alice@localhost'])
      expect((await store.list({ after: 'alice@localhost', limit: 1 })).map((e) => e.jid)).toEqual([
        'bob@localhost',
      ])
      expect(await store.list({ limit: 0 })).toEqual([])
      expect(await store.list({ limit: -1 })).toEqual([])
      expect(await store.list({ limit: Number.NaN })).toHaveLength(4)
      expect(await store.list({ limit: Number.POSITIVE_INFINITY })).toHaveLength(4)
      await store.close()
    })

    it('loses nothing on restart: write, close, reopen', async () => {
      const { store: a, reopen } = await make()
      await a.put({ jid: 'alice@localhost', nick: 'Alice', email: 'alice@example.org', published: ['nick'] })
      await a.put({ jid: 'bob@localhost', nick: 'Bob', published: ['nick'] })
      void a.remove('bob@localhost') // close() waits for the writes already called
      await a.close()
      await a.close() // idempotent
      const b = await reopen()
      expect(await b.get('alice@localhost')).toMatchObject({
        nick: 'Alice',
        email: 'alice@example.org',
        published: ['nick'],
      })
      expect(await b.get('bob@localhost')).toBeNull()
      expect(await jids(b.search({ nick: 'ali' }, 10))).toEqual(['alice@localhost'])
      await b.close()
    })
  })
}
