import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { schemaVersion } from '@satellite/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { type DirectoryEntry, MIGRATIONS, matchExpression, sqliteStore, words } from '../src/store.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function seed() {
  const store = sqliteStore()
  store.put({
    jid: 'alice@localhost',
    nick: 'Alice',
    fullname: 'Alice Liddell',
    locality: 'Oxford',
    email: 'alice@example.org',
    published: ['nick', 'fullname', 'locality'],
  })
  store.put({
    jid: 'alfred@localhost',
    nick: 'Alfred',
    about: 'Alice fan club, Alice Alice',
    published: ['nick', 'about'],
  })
  store.put({
    jid: 'bob@localhost',
    nick: 'Bob',
    fullname: 'Robert Smith',
    locality: 'Zürich',
    published: ['nick', 'fullname', 'locality'],
  })
  return store
}

describe('store', () => {
  it('applies the versioned migrations once', () => {
    const store = sqliteStore()
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length)
    store.close()
  })

  it('finds entries by case-insensitive prefix, per field and in any field, accents ignored', () => {
    const store = seed()
    expect(
      store
        .search({ nick: 'AL' }, 10)
        .map((m) => m.jid)
        .sort(),
    ).toEqual(['alfred@localhost', 'alice@localhost'])
    expect(store.search({ text: 'lidd oxf' }, 10).map((m) => m.jid)).toEqual(['alice@localhost'])
    expect(store.search({ locality: 'zurich' }, 10).map((m) => m.jid)).toEqual(['bob@localhost'])
    expect(store.search({ fullname: 'rob', nick: 'bo' }, 10).map((m) => m.jid)).toEqual(['bob@localhost'])
    expect(store.search({ nick: 'zed' }, 10)).toEqual([])
    store.close()
  })

  it('ranks by relevance (bm25)', () => {
    const store = seed()
    const hits = store.search({ text: 'alice' }, 10)
    expect(hits.map((m) => m.jid)).toEqual(['alfred@localhost', 'alice@localhost']) // "Alice" 3 times in a short text
    expect(hits[0]?.rank).toBeLessThanOrEqual(hits[1]?.rank as number)
    store.close()
  })

  it('never searches nor returns unpublished fields, and follows publish changes', () => {
    const store = seed()
    expect(store.search({ email: 'alice' }, 10)).toEqual([])
    expect(store.search({ text: 'example' }, 10)).toEqual([])
    expect(store.publicEntries(['alice@localhost'])).toEqual([
      { jid: 'alice@localhost', nick: 'Alice', fullname: 'Alice Liddell', locality: 'Oxford' },
    ])
    store.put({ ...(store.get('alice@localhost') as DirectoryEntry), published: ['nick', 'email'] })
    expect(store.search({ email: 'exam' }, 10).map((m) => m.jid)).toEqual(['alice@localhost'])
    expect(store.search({ text: 'oxford' }, 10)).toEqual([])
    expect(store.publicEntries(['alice@localhost'])).toEqual([
      { jid: 'alice@localhost', nick: 'Alice', email: 'alice@example.org' },
    ])
    store.close()
  })

  it('keeps the index in sync on delete', () => {
    const store = seed()
    expect(store.remove('alice@localhost')).toBe(true)
    expect(store.remove('alice@localhost')).toBe(false)
    expect(store.search({ text: 'alice' }, 10).map((m) => m.jid)).toEqual(['alfred@localhost'])
    expect(store.count()).toBe(2)
    const integrity = store.db.prepare(
      "INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 0)",
    )
    expect(() => integrity.run()).not.toThrow()
    store.close()
  })

  it('treats input as data: SQL and FTS syntax find nothing and break nothing', () => {
    const store = seed()
    for (const evil of [
      "'; DROP TABLE entries; --",
      'alice" OR nick:*',
      'NEAR(alice bob)',
      '* OR 1=1',
      '")) --',
      'nick : alice AND NOT bob',
    ]) {
      expect(() => store.search({ text: evil }, 10)).not.toThrow()
      expect(() => store.search({ nick: evil }, 10)).not.toThrow()
    }
    expect(store.search({ text: "'; DROP TABLE entries; --" }, 10)).toEqual([])
    expect(store.count()).toBe(3)
    expect(matchExpression({ text: 'a"b' })).toBe('("a"* AND "b"*)')
    expect(words("'; DROP TABLE entries; --")).toEqual(['drop', 'table', 'entries'])
    expect(matchExpression({ text: '--- !!!' })).toBeNull()
    store.close()
  })

  it('lists entries by JID with a filter and a start', () => {
    const store = seed()
    expect(store.list().map((e) => e.jid)).toEqual(['alfred@localhost', 'alice@localhost', 'bob@localhost'])
    expect(store.list({ filter: 'li' }).map((e) => e.jid)).toEqual(['alice@localhost'])
    expect(store.list({ after: 'alice@localhost', limit: 1 }).map((e) => e.jid)).toEqual(['bob@localhost'])
    store.close()
  })

  it('loses nothing on restart: write, close, reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'directory-'))
    dirs.push(dir)
    const path = join(dir, 'sub', 'directory.db')
    const a = sqliteStore({ path })
    a.put({ jid: 'alice@localhost', nick: 'Alice', email: 'alice@example.org', published: ['nick'] })
    a.put({ jid: 'bob@localhost', nick: 'Bob', published: ['nick'] })
    a.remove('bob@localhost')
    a.close()
    const b = sqliteStore({ path })
    expect(b.get('alice@localhost')).toMatchObject({
      nick: 'Alice',
      email: 'alice@example.org',
      published: ['nick'],
    })
    expect(b.get('bob@localhost')).toBeNull()
    expect(b.search({ nick: 'ali' }, 10).map((m) => m.jid)).toEqual(['alice@localhost'])
    expect(schemaVersion(b.db)).toBe(MIGRATIONS.length)
    b.close()
  })
})
