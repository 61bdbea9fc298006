// The MucStore contract against both implementations, and what only SQLite has: the file.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryStore, MUC_MIGRATIONS, SqliteMucStore } from '@satellite/muc'
import { openDatabase } from '@satellite/sqlite'
import { afterAll, describe, expect, it } from 'vitest'
import { message, storeContract } from './store-contract.js'

const dir = mkdtempSync(join(tmpdir(), 'muc-store-'))
const opened: SqliteMucStore[] = []
afterAll(() => {
  for (const s of opened) s.close()
  rmSync(dir, { recursive: true, force: true })
})

storeContract('MemoryStore', () => new MemoryStore())
storeContract('SqliteMucStore', () => {
  const s = new SqliteMucStore()
  opened.push(s)
  return s
})

describe('SqliteMucStore', () => {
  it('a database made before the counter gets its counts when it is opened (migration 2)', () => {
    const path = join(dir, 'old.db')
    const old = openDatabase({ path, migrations: MUC_MIGRATIONS.slice(0, 1) })
    const insert = old.prepare(
      "INSERT INTO muc_archive (room, id, at, nick, occupant_id, jid, message) VALUES ('r@c', ?, 1, 'a', 'o', 'a@l/r', '<message/>')",
    )
    for (let i = 0; i < 7; i++) insert.run(`id${i}`)
    old.close()
    const s = new SqliteMucStore({ path })
    opened.push(s)
    expect(s.query('r@c', { max: 1 })?.count).toBe(7)
  })

  it('keeps rooms, affiliations and the archive in its file across opens', () => {
    const path = join(dir, 'a.db')
    const a = new SqliteMucStore({ path })
    a.saveRoom({ jid: 'r@c', config: { persistent: true }, subject: 's', created: 1 })
    a.setAffiliation('r@c', 'alice@localhost', 'owner')
    a.append('r@c', message(1), 10)
    a.close()
    a.close() // idempotent
    const b = new SqliteMucStore({ path })
    opened.push(b)
    expect(b.loadRoom('r@c')?.subject).toBe('s')
    expect(b.affiliations('r@c')).toEqual([{ jid: 'alice@localhost', affiliation: 'owner' }])
    expect(b.query('r@c', { max: 5 })?.messages[0]?.message.getChildText('body')).toBe('text 1 <&> ✓')
  })

  it('ignores a stanza-id archived twice in one room', () => {
    const s = new SqliteMucStore()
    opened.push(s)
    s.append('r@c', message(1), 10)
    s.append('r@c', message(1), 10)
    expect(s.query('r@c', { max: 5 })?.count).toBe(1)
  })
})
