// The sessions part (src/sessions.ts) on a small context with fake timers: re-logins wait a
// full-jitter delay of core's Backoff (random × min(cap, base·2^n)), the series ends in
// gaveUp after retry.maxAttempts, a success or a logout ends it, a component reconnect
// carries it on; and what Bridge.state says on the way.
import { StanzaError } from '@satellite/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { Credentials, SessionEvents } from '../src/adapter.js'
import { AvatarCache } from '../src/avatars.js'
import type { BridgeContext } from '../src/context.js'
import { resolveLimits, resolveLoginLimits } from '../src/limits.js'
import { resolveOptions } from '../src/options.js'
import { publicState } from '../src/session-state.js'
import { type Sessions, sessions, type UserSession } from '../src/sessions.js'
import { LoginThrottle } from '../src/throttle.js'

const USER = 'alice@localhost'

interface Fake {
  ctx: BridgeContext<string>
  sessions: Sessions<string>
  /** Login attempts, with the virtual time of each. */
  logins: number[]
  /** Chat messages from the gateway. */
  notes: string[]
  /** What the next logins do: succeed or throw. */
  down: boolean
  events: SessionEvents | undefined
  errors: Error[]
}

function fake(retry: { base: number; cap: number; maxAttempts?: number; random: () => number }): Fake {
  const limits = resolveLimits({}, 256)
  const f = { logins: [], notes: [], down: false, events: undefined, errors: [] } as unknown as Fake
  let n = 0
  const ctx = {
    domain: 'bridge.localhost',
    networkName: 'FakeNet',
    caps: {},
    limits,
    retry: { maxAttempts: Number.POSITIVE_INFINITY, ...retry },
    throttle: new LoginThrottle(resolveLoginLimits({ global: { burst: 1000, perSecond: 1000 } })),
    avatars: new AvatarCache(10, 1000),
    users: {
      allowed: () => true,
      read: async () => ({ kind: 'ok', credentials: { username: 'alice', password: 'pw' } }),
    },
    guarded: {
      login: async (_user: string, _c: Credentials, events: SessionEvents) => {
        f.logins.push(Date.now())
        if (f.down) throw new StanzaError('service-unavailable', { text: 'FakeNet cannot be reached' })
        f.events = events
        return `session ${++n}`
      },
      logout: async () => {},
      listContacts: async () => [],
    },
    presence: { gateway: () => {}, allUnavailable: () => {}, contact: () => {}, changed: () => {} },
    contacts: { sync: async () => {} },
    groups: undefined,
    notify: (_user: string, text: string) => void f.notes.push(text),
    limit: () => {},
    report: (err: Error) => void f.errors.push(err),
    dropped: () => () => {},
  } as unknown as BridgeContext<string>
  ctx.sessions = sessions(ctx)
  f.ctx = ctx
  f.sessions = ctx.sessions
  return f
}

const state = (f: Fake) => publicState(f.sessions.get(USER)?.state ?? { kind: 'offline' })

/** Logs alice in and returns her entry, online. */
async function online(f: Fake): Promise<UserSession<string>> {
  const us = f.sessions.session(USER)
  await f.sessions.connect(us, 'start')
  expect(us.state.kind).toBe('online')
  return us
}

/** The virtual times of the logins after the first, relative to `t0`. */
const after = (f: Fake, t0: number) => f.logins.slice(1).map((t) => t - t0)

beforeEach(() => {
  vi.useFakeTimers({ now: 0 })
})
afterEach(() => {
  vi.useRealTimers()
})

describe('sessions: re-logins with core Backoff', () => {
  it('wait random × min(cap, base·2^n): 0.5 of 1000, 2000, 4000, then the cap 5000', async () => {
    const f = fake({ base: 1000, cap: 5000, random: () => 0.5 })
    const us = await online(f)
    f.down = true
    f.sessions.lost(us, 'gone')
    expect(state(f)).toBe('retrying')
    expect(f.notes.at(-1)).toBe('Disconnected from FakeNet: gone. Reconnecting in 1 s.')
    // Each failure plans the next one: 500, then 1000, 2000, 2500, 2500 ms after the one before.
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(499)
    expect(f.logins).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(after(f, t0)).toEqual([500])
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 2500 + 2500)
    expect(after(f, t0)).toEqual([500, 1500, 3500, 6000, 8500])
    expect(state(f)).toBe('retrying')
    expect(f.notes.at(-1)).toBe(
      'Disconnected from FakeNet: FakeNet cannot be reached right now. Reconnecting in 3 s.',
    )
    // Back up: the next attempt succeeds, and the series ends.
    f.down = false
    await vi.advanceTimersByTimeAsync(2500)
    expect(state(f)).toBe('online')
    expect(f.notes.at(-1)).toBe('Reconnected to FakeNet.')
    expect(us.state.kind === 'online' && us.state.login).toBe(null) // the first sync is done
    // A new loss starts again at the base.
    f.down = true
    f.sessions.lost(us, 'again')
    const t1 = Date.now()
    const before = f.logins.length
    await vi.advanceTimersByTimeAsync(500)
    expect(f.logins.slice(before).map((t) => t - t1)).toEqual([500])
  })

  it('full jitter: the delay is random × the ceiling, anywhere in [0, ceiling)', async () => {
    for (const [random, delay] of [
      [0, 0],
      [0.25, 250],
      [0.999, 999],
    ] as const) {
      const f = fake({ base: 1000, cap: 60_000, random: () => random })
      const us = await online(f)
      f.sessions.lost(us, 'gone') // the network is up: the first re-login succeeds
      const t0 = Date.now()
      if (delay > 0) {
        await vi.advanceTimersByTimeAsync(delay - 1)
        expect(f.logins).toHaveLength(1)
      }
      await vi.advanceTimersByTimeAsync(1)
      expect(after(f, t0)).toEqual([delay])
      expect(us.state.kind).toBe('online')
      await f.sessions.stop()
    }
  })

  it('retry.maxAttempts: gaveUp after the last one (state offline), nothing logs in by itself, connect() does', async () => {
    const f = fake({ base: 100, cap: 1000, maxAttempts: 2, random: () => 1 })
    const us = await online(f)
    f.down = true
    f.sessions.lost(us, 'gone')
    await vi.advanceTimersByTimeAsync(100 + 200)
    expect(f.logins).toHaveLength(3)
    expect(us.state.kind).toBe('gaveUp')
    expect(state(f)).toBe('offline')
    expect(f.notes.at(-1)).toMatch(/Gave up after 2 attempts to reconnect; go online again/)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(f.logins).toHaveLength(3)
    // Not released while gave up: the user is remembered (messages are refused until presence).
    f.sessions.release(us)
    expect(f.sessions.get(USER)).toBe(us)
    f.down = false
    await f.sessions.connect(us, 'presence')
    expect(state(f)).toBe('online')
    // maxAttempts 0: a loss gives up at once.
    const g = fake({ base: 100, cap: 1000, maxAttempts: 0, random: () => 1 })
    const gu = await online(g)
    g.sessions.lost(gu, 'gone')
    expect(gu.state.kind).toBe('gaveUp')
    expect(g.notes.at(-1)).toMatch(/Gave up after 0 attempts/)
  })

  it('a logout while retrying cancels the planned login', async () => {
    const f = fake({ base: 100, cap: 1000, random: () => 1 })
    const us = await online(f)
    f.down = true
    f.sessions.lost(us, 'gone')
    expect(state(f)).toBe('retrying')
    await f.sessions.disconnect(us)
    expect(state(f)).toBe('offline')
    await vi.advanceTimersByTimeAsync(10_000)
    expect(f.logins).toHaveLength(1)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('a component reconnect logs in again at once and the series goes on', async () => {
    const f = fake({ base: 100, cap: 100_000, random: () => 1 })
    const us = await online(f)
    f.down = true
    f.sessions.lost(us, 'gone')
    await vi.advanceTimersByTimeAsync(100 + 200) // attempts 1 and 2 failed; the third in 400 ms
    expect(f.logins).toHaveLength(3)
    await f.sessions.reconnectAll()
    await vi.advanceTimersByTimeAsync(0)
    expect(f.logins).toHaveLength(4) // at once
    // It failed too: the next waits 800 ms (the fourth of the series), not 100.
    const t0 = Date.now()
    await vi.advanceTimersByTimeAsync(799)
    expect(f.logins).toHaveLength(4)
    await vi.advanceTimersByTimeAsync(1)
    expect(after(f, t0).slice(3)).toEqual([800])
  })

  it("events of a login count only while it is the user's current one", async () => {
    const f = fake({ base: 100, cap: 1000, random: () => 1 })
    await online(f)
    const events = f.events as SessionEvents
    const lost = vi.spyOn(f.sessions, 'lost')
    f.down = true
    events.disconnected('gone') // current: the session is lost
    await vi.advanceTimersByTimeAsync(0)
    expect(state(f)).toBe('retrying')
    events.disconnected('again') // that login is over: ignored
    await vi.advanceTimersByTimeAsync(0)
    expect(f.notes.filter((n) => n.startsWith('Disconnected'))).toHaveLength(1)
    expect(lost).toHaveBeenCalledTimes(1)
    expect(f.errors).toEqual([])
  })
})

describe('retry options', () => {
  const adapter = {} as Parameters<typeof resolveOptions>[0]['adapter']
  it('keep their defaults and meaning; random defaults to Math.random and must be a function', () => {
    const { retry } = resolveOptions({ adapter, store: {} as never })
    expect(retry).toEqual({
      base: 1000,
      cap: 60_000,
      maxAttempts: Number.POSITIVE_INFINITY,
      random: Math.random,
    })
    const random = () => 0.5
    expect(
      resolveOptions({ adapter, store: {} as never, retry: { base: 5, cap: 9, maxAttempts: 2, random } })
        .retry,
    ).toEqual({ base: 5, cap: 9, maxAttempts: 2, random })
    expect(() =>
      resolveOptions({ adapter, store: {} as never, retry: { random: 0.5 as unknown as () => number } }),
    ).toThrow('bridge.retry.random: must be a function')
  })
})
