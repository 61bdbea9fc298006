// Abuse limits of the directory: admins keep command sessions whatever the others do, changes
// are rate-limited like searches, and every table keyed by a requester is bounded.
import { type Element, xml } from '@satellite/core'
import { type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { RateLimiter } from '../src/limits.js'
import {
  configError,
  fails,
  iq,
  NS_COMMANDS,
  NS_REGISTER,
  query,
  registerForm,
  runCommand,
  searchForm,
  setup,
} from './helpers.js'

/** Executes `node`: its status, or the condition of the refusal. */
async function execute(c: SimulatedClient, node: string): Promise<string | undefined> {
  try {
    const res = await c.request(iq('set', xml('command', { xmlns: NS_COMMANDS, node, action: 'execute' })))
    return (res.getChild('command', NS_COMMANDS) as Element).attrs.status
  } catch (err) {
    if (err instanceof StanzaErrorResponse) return err.condition
    throw err
  }
}

/** The error answer `p` rejects with (fails if it resolves). */
async function refusal(p: Promise<unknown>): Promise<StanzaErrorResponse> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof StanzaErrorResponse)) throw new Error(`expected an error answer, got ${String(err)}`)
  return err
}

describe('command sessions reserved for admins', () => {
  it('users of many accounts fill their share of the pool; the admin still removes an entry', async () => {
    const s = await setup({
      admins: ['root@localhost'],
      sessions: { max: 60, perRequester: 5, adminReserve: 10 },
    })
    await s.client('spam@localhost/r').request(registerForm({ nick: 'Spam' }))
    // 20 accounts × 5 edit-entry sessions, as in the report (2,000 × 5 against 10,000)
    const opened = await Promise.all(
      Array.from({ length: 100 }, (_, i) => execute(s.client(`u${i % 20}@localhost/r`), 'edit-entry')),
    )
    expect(opened.filter((o) => o === 'executing')).toHaveLength(50)
    expect(opened.filter((o) => o === 'resource-constraint')).toHaveLength(50)
    const root = s.client('root@localhost/console')
    await runCommand(root, 'admin-remove', { jid: 'spam@localhost', confirm: true })
    expect(await s.dir.store.get('spam@localhost')).toBeNull()
    expect(s.dir.commands.stats).toMatchObject({ sessions: 50, privileged: 0 })
  })

  it('without admins there is no reserve: users share every session', async () => {
    const s = await setup({ sessions: { max: 6, perRequester: 2 } })
    const opened = await Promise.all(
      Array.from({ length: 8 }, (_, i) => execute(s.client(`u${i}@localhost/r`), 'edit-entry')),
    )
    expect(opened.filter((o) => o === 'executing')).toHaveLength(6)
  })
})

describe('rate limit of changes', () => {
  it('limits registrations, edits and removals per requester (resource-constraint, wait, retry hint)', async () => {
    let now = 1_000_000
    const s = await setup({
      admins: ['root@localhost'],
      writeLimit: { burst: 3, perMinute: 12 },
      now: () => now,
    })
    const alice = s.client('alice@localhost/phone')
    // refused input takes no token
    expect((await fails(alice, registerForm({ nick: 'x'.repeat(65) }))).condition).toBe('not-acceptable')
    for (const nick of ['A1', 'A2']) await alice.request(registerForm({ nick }))
    await runCommand(alice, 'edit-entry', { nick: 'A3' })
    const refused = [
      await fails(alice, registerForm({ nick: 'A4' })),
      await fails(s.client('alice@localhost/laptop'), registerForm({ nick: 'A4' })), // one bucket per bare JID
      await fails(alice, iq('set', query(NS_REGISTER, xml('remove')))),
      await refusal(runCommand(alice, 'edit-entry', { nick: 'A4' })),
      await refusal(runCommand(alice, 'delete-entry', { confirm: true })),
    ]
    for (const err of refused) {
      expect(err).toBeInstanceOf(StanzaErrorResponse)
      expect([err.condition, err.errorType, err.text]).toEqual([
        'resource-constraint',
        'wait',
        'too many changes; try again in 5 s',
      ])
    }
    expect((await s.dir.store.get('alice@localhost'))?.nick).toBe('A3')
    // others have their own bucket; admins are not limited
    await s.client('bob@localhost/r').request(registerForm({ nick: 'B' }))
    const root = s.client('root@localhost/console')
    for (let i = 0; i < 6; i++)
      await runCommand(root, 'admin-edit', { jid: 'bob@localhost' }, { nick: `B${i}` })
    expect((await s.dir.store.get('bob@localhost'))?.nick).toBe('B5')
    // a token comes back every 5 s
    now += 3000
    expect((await fails(alice, registerForm({ nick: 'A4' }))).text).toBe('too many changes; try again in 2 s')
    now += 2000
    await alice.request(iq('set', query(NS_REGISTER, xml('remove'))))
    expect(await s.dir.store.get('alice@localhost')).toBeNull()
  })

  it('gives searches a retry hint too', async () => {
    const s = await setup({ rateLimit: { burst: 1, perMinute: 6 }, now: () => 0 })
    const bob = s.client('bob@localhost/r')
    await bob.request(searchForm({ nick: 'a' }))
    expect((await fails(bob, searchForm({ nick: 'a' }))).text).toBe('too many searches; try again in 10 s')
  })
})

describe('every table keyed by a requester is bounded', () => {
  it('search and write buckets: at most maxRequesters, the least recently used forgotten', async () => {
    const s = await setup({ rateLimit: { maxRequesters: 5 }, writeLimit: { maxRequesters: 4 } })
    for (let i = 0; i < 30; i++) {
      const c = s.client(`flood${i}@localhost/r`)
      await c.request(searchForm({ nick: 'a' }))
      await c.request(registerForm({ nick: `F${i}` }))
    }
    expect(s.dir.limiters.searches.size).toBe(5)
    expect(s.dir.limiters.writes.size).toBe(4)
  })

  it('command sessions and their requesters: at most sessions.max', async () => {
    const s = await setup({ sessions: { max: 20, perRequester: 5 } })
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => execute(s.client(`f${i}@localhost/r`), 'edit-entry')),
    )
    expect(s.dir.commands.stats.sessions).toBe(20)
    expect(s.dir.commands.stats.requesters).toBe(20)
  })

  it('RateLimiter checks its limits and says when a token comes back', () => {
    let now = 0
    const r = new RateLimiter(2, 30, () => now, 3)
    expect([r.take('a'), r.take('a'), r.take('a')]).toEqual([true, true, false])
    expect(r.retryIn('a')).toBe(2000)
    expect(r.retryIn('unknown')).toBe(0)
    now += 2000
    expect(r.retryIn('a')).toBe(0)
    for (const k of ['b', 'c', 'd', 'e']) r.take(k)
    expect(r.size).toBe(3)
    const refused: Array<[() => unknown, string]> = [
      [() => new RateLimiter(0, 1), 'directory.rateLimit.burst: must be a positive number, got 0'],
      [
        () => new RateLimiter(1, Number.NaN),
        'directory.rateLimit.perMinute: must be a positive number, got NaN',
      ],
      [
        () => new RateLimiter(1, 1, Date.now, 1.5, 'writeLimit'),
        'directory.writeLimit.maxRequesters: must be a positive integer, got 1.5',
      ],
    ]
    for (const [make, message] of refused) expect(configError(make)).toMatchObject({ message, fatal: true })
  })
})
