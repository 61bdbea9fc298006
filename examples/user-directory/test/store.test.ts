// The DirectoryStore contract on SQLite (FTS5), and what only the SQLite store has: its
// migrations, FTS5's integrity, the MATCH expressions it builds.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { schemaVersion } from '@satellite/sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { MIGRATIONS, matchExpression, sqliteStore } from '../src/sqlite-store.js'
import { listLimit, MAX_LIST, words } from '../src/store.js'
import { seed, storeContract } from './store-contract.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

storeContract('SQLite (FTS5)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'directory-'))
  dirs.push(dir)
  const path = join(dir, 'sub', 'directory.db')
  return { store: sqliteStore({ path }), reopen: async () => sqliteStore({ path }) }
})

describe('SQLite store', () => {
  it('applies the versioned migrations once', async () => {
    const store = sqliteStore()
    expect(schemaVersion(store.db)).toBe(MIGRATIONS.length)
    await store.close()
  })

  it('keeps the FTS5 index intact through replaces and deletes', async () => {
    const store = sqliteStore()
    await seed(store)
    await store.put({ jid: 'bob@localhost', nick: 'Bobby', published: ['nick'] })
    await store.remove('alice@localhost')
    const integrity = store.db.prepare(
      "INSERT INTO entries_fts(entries_fts, rank) VALUES ('integrity-check', 0)",
    )
    expect(() => integrity.run()).not.toThrow()
    await store.close()
  })

  it('builds MATCH expressions of quoted prefix terms only', () => {
    expect(matchExpression({ text: 'a"b' })).toBe('("a"* AND "b"*)')
    expect(matchExpression({ nick: 'al', text: 'ox' })).toBe('nick : ("al"*) AND ("ox"*)')
    expect(words("'; DROP TABLE entries; --")).toEqual(['drop', 'table', 'entries'])
    expect(matchExpression({ text: '--- !!!' })).toBeNull()
  })

  it('a closed store rejects its calls', async () => {
    const store = sqliteStore()
    await store.close()
    await expect(store.count()).rejects.toThrow(/not open/)
  })

  it('bounds list() to MAX_LIST entries', () => {
    expect(listLimit(10_000)).toBe(MAX_LIST)
    expect(listLimit(2.7)).toBe(2)
  })
})
