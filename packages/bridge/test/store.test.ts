// The BridgeStore contract (store-contract.ts) against SqliteStore, each database a file of its
// own; then what only the file shows.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteStore } from '@satellite/bridge'
import { afterAll, describe, expect, it } from 'vitest'
import { type ContractDatabase, storeContract } from './store-contract.js'

const dir = mkdtempSync(join(tmpdir(), 'bridge-store-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0

async function database(): Promise<ContractDatabase> {
  const path = join(dir, `bridge-${files++}.db`)
  const raw = () => new SqliteStore({ path, key: Buffer.alloc(32, 7) })
  return {
    open: async (options) => new SqliteStore({ path, ...options }),
    stored: async (user) => {
      const s = raw()
      const row = s.db.prepare('SELECT credentials FROM registrations WHERE user = ?').get(user) as
        | { credentials: string }
        | undefined
      s.close()
      return row?.credentials
    },
    setStored: async (user, text) => {
      const s = raw()
      s.db.prepare('UPDATE registrations SET credentials = ? WHERE user = ?').run(text, user)
      s.close()
    },
  }
}

storeContract('SqliteStore', database)

describe('SqliteStore', () => {
  it('the file holds no credential in clear', () => {
    const path = join(dir, 'clear.db')
    const s = new SqliteStore({ path, key: Buffer.alloc(32, 7) })
    s.putRegistration('alice@localhost', { username: 'alice', password: 'hunter2' })
    s.close()
    expect(readFileSync(path).includes('hunter2')).toBe(false)
    expect(readFileSync(path).includes('alice@localhost')).toBe(true)
  })
})
