// The BridgeStore contract: every implementation runs these (SqliteStore in store.test.ts,
// PostgresBridgeStore in e2e/test/postgres-bridge-store.test.ts, each with its own backend).
import { BridgeKeyError, type BridgeStore, type MaybePromise } from '@satellite/bridge'
import { isSatelliteError } from '@satellite/core'
import { describe, expect, it } from 'vitest'

const KEY = Buffer.alloc(32, 7)
const ALICE = 'alice@localhost'
const BOB = 'bob@localhost'

/** What the contract needs of a store beyond {@link BridgeStore} (both stores have it). */
export interface ContractStore extends BridgeStore {
  readonly maxMessages: number
  /** Users whose inserts since their last prune are counted. */
  readonly counted: number
  counts(user: string): MaybePromise<{ registrations: number; contacts: number; messages: number }>
  pruneMessages(user: string): MaybePromise<number>
  close(): MaybePromise<void>
}

/** The options every store takes (the database aside). */
export interface ContractOptions {
  key: Buffer
  maxMessages?: number
  trackedUsers?: number
}

/** One empty database of the backend: stores opened on it (at once or in turn) share it. */
export interface ContractDatabase {
  open(options: ContractOptions): Promise<ContractStore>
  /** The credentials column of `user`'s registration as stored (undefined: no row). */
  stored(user: string): Promise<string | undefined>
  /** Overwrites the credentials column of `user`'s registration. */
  setStored(user: string, text: string): Promise<void>
}

/** The error `fn` throws or rejects with (fails when it returns). */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn()
  } catch (err) {
    return err
  }
  throw new Error('expected an error; nothing was thrown')
}

export function storeContract(name: string, database: () => Promise<ContractDatabase>): void {
  const open = async (options: Partial<ContractOptions> = {}) =>
    (await database()).open({ key: KEY, ...options })

  describe(`BridgeStore contract: ${name}`, () => {
    it('keeps registrations sealed (bound to the JID), replaces them, lists users in byte order', async () => {
      const db = await database()
      const s = await db.open({ key: KEY })
      expect(await s.getRegistration(ALICE)).toBeNull()
      await s.putRegistration(ALICE, { username: 'alice', password: 'hunter2' })
      await s.putRegistration(BOB, { username: 'bob', password: 'pw', extra: 'é ✓' })
      await s.putRegistration('Zed@localhost', { username: 'zed' })
      expect(await s.getRegistration(ALICE)).toEqual({ username: 'alice', password: 'hunter2' })
      expect(await s.getRegistration(BOB)).toEqual({ username: 'bob', password: 'pw', extra: 'é ✓' })
      await s.putRegistration(ALICE, { username: 'alice', password: 'correct horse' })
      expect(await s.getRegistration(ALICE)).toEqual({ username: 'alice', password: 'correct horse' })
      expect(await s.users()).toEqual(['Zed@localhost', ALICE, BOB])
      const sealed = await db.stored(ALICE)
      expect(sealed).toMatch(/^v1:/)
      expect(sealed).not.toContain('horse')
      // A sealed row moved to another user does not open: it is bound to its JID.
      await db.setStored(BOB, sealed as string)
      expect(await failure(() => s.getRegistration(BOB))).toBeInstanceOf(BridgeKeyError)
      await db.setStored(BOB, 'garbage')
      expect(await failure(() => s.getRegistration(BOB))).toBeInstanceOf(BridgeKeyError)
      await s.close()
    })

    it('keeps contacts per user: replaced by legacy id, removed, listed in byte order', async () => {
      const s = await open()
      await s.putRegistration(ALICE, { username: 'alice' })
      await s.putRegistration(BOB, { username: 'bob' })
      await s.putContact(ALICE, { legacyId: 'zed', subscribed: false })
      await s.putContact(ALICE, { legacyId: 'Olga', name: 'Olga K', subscribed: true })
      await s.putContact(ALICE, { legacyId: 'ann lee', subscribed: true })
      await s.putContact(BOB, { legacyId: 'zed', name: 'Zed', subscribed: true })
      await s.putContact(ALICE, { legacyId: 'zed', name: 'Zed Z', subscribed: true })
      expect(await s.contacts(ALICE)).toEqual([
        { legacyId: 'Olga', name: 'Olga K', subscribed: true },
        { legacyId: 'ann lee', subscribed: true },
        { legacyId: 'zed', name: 'Zed Z', subscribed: true },
      ])
      await s.putContact(ALICE, { legacyId: 'Olga', subscribed: false })
      await s.removeContact(ALICE, 'zed')
      await s.removeContact(ALICE, 'nobody')
      expect(await s.contacts(ALICE)).toEqual([
        { legacyId: 'Olga', subscribed: false },
        { legacyId: 'ann lee', subscribed: true },
      ])
      expect(await s.contacts(BOB)).toEqual([{ legacyId: 'zed', name: 'Zed', subscribed: true }])
      expect(await s.contacts('nobody@localhost')).toEqual([])
      // Contacts and message ids belong to a registered user.
      expect(
        await failure(() => s.putContact('nobody@localhost', { legacyId: 'x', subscribed: false })),
      ).toBeTruthy()
      expect(await s.counts('nobody@localhost')).toEqual({ registrations: 0, contacts: 0, messages: 0 })
      await s.close()
    })

    it('maps message ids both ways per user and contact; the newest mapping of an id wins', async () => {
      const s = await open()
      await s.putRegistration(ALICE, { username: 'alice' })
      await s.putRegistration(BOB, { username: 'bob' })
      await s.putMessage(ALICE, { contact: 'zed', xmppId: 'x1', legacyId: 'L1' })
      await s.putMessage(ALICE, { contact: 'olga', xmppId: 'x1', legacyId: 'L9' })
      await s.putMessage(BOB, { contact: 'zed', xmppId: 'x1', legacyId: 'B1' })
      expect(await s.legacyIdOf(ALICE, 'zed', 'x1')).toBe('L1')
      expect(await s.legacyIdOf(ALICE, 'olga', 'x1')).toBe('L9')
      expect(await s.legacyIdOf(BOB, 'zed', 'x1')).toBe('B1')
      expect(await s.xmppIdOf(ALICE, 'zed', 'L1')).toBe('x1')
      expect(await s.xmppIdOf(ALICE, 'zed', 'L9')).toBeNull()
      expect(await s.legacyIdOf(ALICE, 'nobody', 'x1')).toBeNull()
      // A correction maps the same XMPP id to a new legacy id: the newest is answered.
      await s.putMessage(ALICE, { contact: 'zed', xmppId: 'x1', legacyId: 'L2' })
      expect(await s.legacyIdOf(ALICE, 'zed', 'x1')).toBe('L2')
      await s.putMessage(ALICE, { contact: 'zed', xmppId: 'x2', legacyId: 'L2' })
      expect(await s.xmppIdOf(ALICE, 'zed', 'L2')).toBe('x2')
      await s.close()
    })

    it('removeUser removes every trace of the user, and only of that user', async () => {
      const s = await open()
      for (const u of [ALICE, BOB]) {
        await s.putRegistration(u, { username: u })
        await s.putContact(u, { legacyId: 'zed', subscribed: true })
        await s.putMessage(u, { contact: 'zed', xmppId: 'x', legacyId: 'L' })
      }
      await s.removeUser(ALICE)
      expect(await s.counts(ALICE)).toEqual({ registrations: 0, contacts: 0, messages: 0 })
      expect(await s.getRegistration(ALICE)).toBeNull()
      expect(await s.xmppIdOf(ALICE, 'zed', 'L')).toBeNull()
      expect(await s.counts(BOB)).toEqual({ registrations: 1, contacts: 1, messages: 1 })
      expect(await s.users()).toEqual([BOB])
      await s.removeUser('nobody@localhost')
      await s.close()
    })

    it('a database opened with another key is refused at once; with the right key everything is back', async () => {
      const db = await database()
      const a = await db.open({ key: KEY })
      await a.putRegistration(ALICE, { username: 'alice', password: 'hunter2' })
      await a.putContact(ALICE, { legacyId: 'zed', subscribed: true })
      await a.putMessage(ALICE, { contact: 'zed', xmppId: 'x', legacyId: 'L' })
      await a.close()
      const refused = await failure(() => db.open({ key: Buffer.alloc(32, 9) }))
      expect(refused).toBeInstanceOf(BridgeKeyError)
      expect((refused as Error).message).toMatch(/another BRIDGE_KEY/)
      expect(await failure(() => db.open({ key: Buffer.alloc(16) }))).toBeInstanceOf(BridgeKeyError)
      const b = await db.open({ key: KEY })
      expect(await b.getRegistration(ALICE)).toEqual({ username: 'alice', password: 'hunter2' })
      expect(await b.contacts(ALICE)).toEqual([{ legacyId: 'zed', subscribed: true }])
      expect(await b.xmppIdOf(ALICE, 'zed', 'L')).toBe('x')
      await b.close()
    })

    it('writes called without waiting keep their order per user; reads see the writes called before them', async () => {
      const s = await open()
      const calls: MaybePromise<unknown>[] = []
      for (const u of [ALICE, BOB]) {
        calls.push(s.putRegistration(u, { username: u })) // before its contacts (they reference it)
        for (let n = 1; n <= 30; n++) {
          calls.push(s.putContact(u, { legacyId: 'zed', name: `v${n}`, subscribed: n % 2 === 0 }))
          calls.push(s.putMessage(u, { contact: 'zed', xmppId: `x${n}`, legacyId: 'L' }))
        }
        calls.push(s.removeContact(u, 'gone'))
      }
      const seen = s.contacts(ALICE)
      const last = s.xmppIdOf(BOB, 'zed', 'L')
      calls.push(s.removeUser(BOB))
      const after = s.counts(BOB)
      await Promise.all(calls)
      expect(await seen).toEqual([{ legacyId: 'zed', name: 'v30', subscribed: true }])
      expect(await last).toBe('x30')
      expect(await after).toEqual({ registrations: 0, contacts: 0, messages: 0 })
      expect(await s.counts(ALICE)).toEqual({ registrations: 1, contacts: 1, messages: 30 })
      await s.close()
    })

    it('keeps the newest maxMessages id mappings per user (default 10,000), pruning the oldest', async () => {
      const defaults = await open()
      expect(defaults.maxMessages).toBe(10_000)
      await defaults.close()
      const small = await open({ maxMessages: 3 })
      await small.putRegistration(ALICE, { username: 'alice', password: 'pw' })
      await small.putRegistration(BOB, { username: 'bob', password: 'pw' })
      const put = (s: ContractStore, user: string, contact: string, n: number) =>
        s.putMessage(user, { contact, xmppId: `x${n}`, legacyId: `L${n}` })
      for (const n of [1, 2, 3, 4, 5]) await put(small, ALICE, n % 2 === 0 ? 'zed' : 'olga', n)
      await put(small, BOB, 'zed', 1)
      await put(small, BOB, 'zed', 2)
      expect((await small.counts(ALICE)).messages).toBe(3)
      expect(await small.xmppIdOf(ALICE, 'olga', 'L1')).toBeNull()
      expect(await small.legacyIdOf(ALICE, 'zed', 'x2')).toBeNull()
      expect(await small.xmppIdOf(ALICE, 'olga', 'L3')).toBe('x3')
      expect(await small.legacyIdOf(ALICE, 'olga', 'x5')).toBe('L5')
      expect((await small.counts(BOB)).messages).toBe(2) // per user
      await small.close()
      // Larger limits prune in batches of 1%: never more than limit + batch - 1 rows.
      const batched = await open({ maxMessages: 200 })
      await batched.putRegistration(ALICE, { username: 'alice', password: 'pw' })
      for (let n = 1; n <= 250; n++) await put(batched, ALICE, 'zed', n)
      const kept = (await batched.counts(ALICE)).messages
      expect(kept).toBeGreaterThanOrEqual(200)
      expect(kept).toBeLessThanOrEqual(201)
      expect(await batched.xmppIdOf(ALICE, 'zed', 'L250')).toBe('x250')
      expect(await batched.xmppIdOf(ALICE, 'zed', 'L1')).toBeNull()
      expect(await batched.pruneMessages(ALICE)).toBe(kept - 200)
      expect((await batched.counts(ALICE)).messages).toBe(200)
      await batched.close()
      const all = await open({ maxMessages: Number.POSITIVE_INFINITY })
      await all.putRegistration(ALICE, { username: 'alice', password: 'pw' })
      for (let n = 1; n <= 50; n++) await put(all, ALICE, 'zed', n)
      expect((await all.counts(ALICE)).messages).toBe(50)
      expect(await all.pruneMessages(ALICE)).toBe(0)
      await all.close()
      const bad = await failure(() => open({ maxMessages: 0 }))
      expect(isSatelliteError(bad, 'SAT_ERR_CONFIG')).toBe(true)
      expect((bad as Error).message).toMatch(/Store\.maxMessages: must be at least 1, got 0$/)
    })

    it('the insert counters are bounded (trackedUsers): the least recently written user is pruned at once and forgotten', async () => {
      const small = await open({ maxMessages: 200, trackedUsers: 3 })
      const users = ['a', 'b', 'c', 'd'].map((u) => `${u}@localhost`)
      for (const u of users) await small.putRegistration(u, { username: u, password: 'pw' })
      const put = (user: string, n: number) =>
        small.putMessage(user, { contact: 'zed', xmppId: `x${n}`, legacyId: `L${n}` })
      for (let n = 1; n <= 201; n++) await put('a@localhost', n) // pruned every 2 inserts: 201 rows, one counted
      expect((await small.counts('a@localhost')).messages).toBe(201)
      for (const u of users.slice(1)) await put(u, 1)
      expect(small.counted).toBe(3)
      expect((await small.counts('a@localhost')).messages).toBe(200) // pruned when forgotten
      await small.close()
      const bad = await failure(() => open({ trackedUsers: 0 }))
      expect(isSatelliteError(bad, 'SAT_ERR_CONFIG')).toBe(true)
      expect((bad as Error).message).toMatch(/Store\.trackedUsers: must be an integer >= 1, got 0$/)
    })
  })
}
