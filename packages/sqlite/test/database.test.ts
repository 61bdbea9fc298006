import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { migrate, openDatabase, schemaVersion } from '@satellite/sqlite'
import { afterAll, describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'satellite-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const v1 = 'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)'
const v2 = (db: import('@satellite/sqlite').Db) => db.exec("ALTER TABLE t ADD COLUMN note TEXT DEFAULT ''")

describe('openDatabase and migrations', () => {
  it('applies migrations once, in order, and keeps data across reopenings', () => {
    const path = join(dir, 'a', 'db.sqlite')
    const db = openDatabase({ path, migrations: [v1] })
    expect(schemaVersion(db)).toBe(1)
    db.prepare('INSERT INTO t (name) VALUES (?)').run('alice')
    db.close()
    const again = openDatabase({ path, migrations: [v1, v2] })
    expect(schemaVersion(again)).toBe(2)
    expect(again.prepare('SELECT name, note FROM t').all()).toEqual([{ name: 'alice', note: '' }])
    expect(migrate(again, [v1, v2])).toBe(0)
    again.close()
  })

  it('rolls back a failing migration and leaves the version unchanged', () => {
    const db = openDatabase({ migrations: [v1] })
    expect(() => migrate(db, [v1, 'CREATE TABLE u (x); THIS IS NOT SQL'])).toThrow()
    expect(schemaVersion(db)).toBe(1)
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'u'").get()).toEqual({ n: 0 })
  })

  it('refuses a database newer than the code', () => {
    const path = join(dir, 'newer.sqlite')
    openDatabase({ path, migrations: [v1, v2] }).close()
    expect(() => openDatabase({ path, migrations: [v1] })).toThrow(/newer than this code/)
  })

  it('has FTS5 and parameterized queries keep input inert', () => {
    const db = openDatabase({ migrations: ['CREATE VIRTUAL TABLE docs USING fts5(body)'] })
    db.prepare('INSERT INTO docs (body) VALUES (?)').run("'; DROP TABLE docs; --")
    db.prepare('INSERT INTO docs (body) VALUES (?)').run('hello satellite')
    expect(db.prepare('SELECT body FROM docs WHERE docs MATCH ?').all('satellite')).toEqual([
      { body: 'hello satellite' },
    ])
    expect(db.prepare('SELECT count(*) AS n FROM docs').get()).toEqual({ n: 2 })
  })
})
