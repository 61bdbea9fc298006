// The reconnect supervisor alone, with fake attempts and fake timers: the lifecycle table of
// docs/connection.md, every allowed and rejected transition, stop() and start() in each state,
// the reconnect classes (fatal, conflict, retry, refused) and the refused-connection schedule.
import { readFileSync } from 'node:fs'
import { isSatelliteError, type ReconnectInfo, type Status } from '@satellite/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { allowed, IllegalTransition, type State, TRANSITIONS } from '../src/lifecycle.js'
import { ADDRESS, type FakeAttempt, RECONNECT, refused, streamError, supervise } from './supervisor-fakes.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

const STATUSES: Status[] = [
  'idle',
  'connecting',
  'authenticating',
  'online',
  'offline',
  'reconnecting',
  'stopping',
  'stopped',
]

/** The table of docs/connection.md (marked `<!-- lifecycle-transitions -->`): from → allowed next. */
function documentedTable(): Map<Status, Status[]> {
  const doc = readFileSync(new URL('../../../docs/connection.md', import.meta.url), 'utf8')
  const start = doc.indexOf('<!-- lifecycle-transitions -->')
  expect(start, 'docs/connection.md has the lifecycle table').toBeGreaterThan(0)
  const rows = doc
    .slice(start)
    .split('\n')
    .slice(1)
    .filter((_, i, all) => all.slice(0, i + 1).every((l) => l.startsWith('|')))
    .slice(2)
  const table = new Map<Status, Status[]>()
  for (const row of rows) {
    const [, from, to] = row.split('|')
    const name = /`([a-z]+)`/.exec(from ?? '')?.[1] as Status
    table.set(
      name,
      [...(to ?? '').matchAll(/`([a-z]+)`/g)].map((m) => m[1] as Status),
    )
  }
  return table
}

/** A state of each status (the attempt and timer are placeholders: `allowed` reads the tag). */
function statesOf(status: Status): State[] {
  const attempt = { close: () => Promise.resolve() }
  switch (status) {
    case 'idle':
    case 'stopped':
      return [{ status }]
    case 'connecting':
    case 'authenticating':
      return [{ status, attempt }]
    case 'online':
      return [{ status, attempt, since: 0, address: ADDRESS }]
    case 'offline':
      return [
        { status, stopping: null },
        { status, stopping: Promise.resolve() },
      ]
    case 'reconnecting':
      return [
        {
          status,
          timer: setTimeout(() => {}, 0),
          info: { delay: 0, attempt: 1, reason: 'closed', error: undefined },
        },
      ]
    case 'stopping':
      return [{ status, done: Promise.resolve(), attempt: null }]
  }
}

/** The statuses a run goes through, as (from, to) pairs starting from idle. */
function pairs(statuses: Status[]): string[] {
  return statuses.map((s, i) => `${i === 0 ? 'idle' : statuses[i - 1]} → ${s}`)
}

describe('the lifecycle table', () => {
  it('is the one docs/connection.md documents', () => {
    const table = documentedTable()
    expect([...table.keys()].sort()).toEqual([...STATUSES].sort())
    for (const s of STATUSES) expect(TRANSITIONS[s], `from ${s}`).toEqual(table.get(s))
  })

  it('allows exactly the documented changes, and offline goes to stopped only during a stop', () => {
    for (const from of STATUSES) {
      for (const state of statesOf(from)) {
        for (const to of STATUSES) {
          let expected = TRANSITIONS[from].includes(to)
          if (state.status === 'offline') expected &&= (state.stopping !== null) === (to === 'stopped')
          expect(
            allowed(state, to),
            `${from}${from === 'offline' ? (state.status === 'offline' && state.stopping ? ' (stopping)' : ' (not stopping)') : ''} → ${to}`,
          ).toBe(expected)
        }
      }
    }
  })
})

/** Runs that together take every allowed transition (also tests of their own below). */
const scenarios: Record<string, () => Promise<Status[]>> = {
  'online, dropped, reconnected': async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    t.last().end()
    await vi.advanceTimersByTimeAsync(500)
    t.last().connect()
    t.last().accept()
    return t.statuses()
  },
  'refused, stopped while waiting, started again': async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    t.last().end(...refused())
    await t.sup.stop()
    void t.sup.start()
    return t.statuses()
  },
  'stopped before start': async () => {
    const t = supervise()
    await t.sup.stop()
    return t.statuses()
  },
  'stopped while connecting': async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    await t.sup.stop()
    return t.statuses()
  },
  'a stream error before online, then stopped while authenticating': async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    t.last().connect()
    t.last().end(...streamError('system-shutdown', 'retry'))
    await vi.advanceTimersByTimeAsync(500)
    t.last().connect()
    await t.sup.stop()
    return t.statuses()
  },
  'stopped while online': async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    await t.sup.stop()
    return t.statuses()
  },
  'a fatal stream error while online': async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    t.last().end(...streamError('not-authorized', 'fatal'))
    await vi.advanceTimersByTimeAsync(0)
    return t.statuses()
  },
}

describe('every allowed transition', () => {
  for (const [name, run] of Object.entries(scenarios)) {
    it(`is taken only through the table: ${name}`, async () => {
      for (const pair of pairs(await run())) {
        const [from, to] = pair.split(' → ') as [Status, Status]
        expect(TRANSITIONS[from], pair).toContain(to)
      }
    })
  }

  it('is taken by at least one of the runs', async () => {
    const seen = new Set<string>()
    for (const run of Object.values(scenarios)) for (const p of pairs(await run())) seen.add(p)
    const all = STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from} → ${to}`))
    expect([...seen].sort()).toEqual(all.sort())
  })
})

describe('a rejected transition', () => {
  it('throws IllegalTransition in strict mode (tests): a report the lifecycle does not expect', () => {
    const t = supervise()
    void t.sup.start()
    expect(() => t.last().accept()).toThrow(IllegalTransition) // connecting → online: no header yet
    expect(() => t.last().accept()).toThrow(/connecting → online/)
    t.last().connect()
    expect(() => t.last().connect()).toThrow(/authenticating → authenticating/)
    expect(t.sup.state.status).toBe('authenticating')
  })

  it('is logged and ignored otherwise: the state stays what it was', async () => {
    const t = supervise({ strict: false })
    void t.sup.start().catch(() => {})
    t.last().events.online()
    expect(t.sup.state.status).toBe('connecting')
    await t.sup.stop()
    // An attempt reporting after the stop completed (a real Session never does).
    t.last().events.connected()
    expect(t.sup.state.status).toBe('stopped')
    expect(t.statuses()).toEqual(['connecting', 'stopping', 'stopped'])
  })

  it('defaults to strict under NODE_ENV=test', () => {
    expect(process.env.NODE_ENV).toBe('test')
    const t = supervise({ strict: undefined })
    void t.sup.start()
    expect(() => t.last().accept()).toThrow(IllegalTransition)
  })
})

describe('stop() in each state', () => {
  it('idle: stopping, stopped, no stopped event; start() works afterwards', async () => {
    const t = supervise()
    await t.sup.stop()
    expect(t.statuses()).toEqual(['stopping', 'stopped'])
    expect(t.events()).not.toContain('stopped')
    void t.sup.start()
    expect(t.sup.state.status).toBe('connecting')
  })

  for (const phase of ['connecting', 'authenticating'] as const) {
    it(`${phase}: the attempt is closed at once (no flush), start() rejects, stopped is announced`, async () => {
      const t = supervise()
      const started = t.sup.start().catch((e: unknown) => e)
      if (phase === 'authenticating') t.last().connect()
      const a = t.last()
      await t.sup.stop()
      expect(a.closeCalls).toEqual([2000])
      expect(t.events()).not.toContain('#flush')
      expect(isSatelliteError(await started, 'SAT_ERR_STOPPED')).toBe(true)
      expect(t.statuses().slice(-2)).toEqual(['stopping', 'stopped'])
      expect(t.log.at(-1)).toEqual(['stopped', { error: undefined }])
    })
  }

  it('online: flush, close with stopTimeout, then stopping → offline → stopped, in this order', async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    const a = t.last()
    t.log.length = 0
    const stop = t.sup.stop()
    expect(t.sup.stop()).toBe(stop)
    expect(t.sup.halted).toBe(true)
    await stop
    expect(a.closeCalls).toEqual([2000])
    expect(t.events()).toEqual([
      'status',
      '#flush',
      '#ended',
      'status',
      'offline',
      '#stopped',
      'status',
      'stopped',
    ])
    expect(t.statuses()).toEqual(['stopping', 'offline', 'stopped'])
  })

  it('offline (from an offline listener): no reconnect is scheduled', async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    let stopping: Promise<void> | undefined
    t.listeners.offline = () => {
      stopping = t.sup.stop()
    }
    t.last().end()
    await stopping
    await vi.advanceTimersByTimeAsync(120_000)
    expect(t.attempts).toHaveLength(1)
    expect(t.statuses()).toEqual(['connecting', 'authenticating', 'online', 'offline', 'stopping', 'stopped'])
    expect(t.events()).not.toContain('error')
  })

  it('reconnecting: the timer is cancelled', async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    t.last().end(...refused())
    expect(t.sup.state.status).toBe('reconnecting')
    await t.sup.stop()
    await vi.advanceTimersByTimeAsync(120_000)
    expect(t.attempts).toHaveLength(1)
    expect(t.statuses()).toEqual(['connecting', 'reconnecting', 'stopping', 'stopped'])
  })

  it('stopping: the same promise; stopped: resolved, nothing announced', async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    const a = t.sup.stop()
    expect(t.sup.stop()).toBe(a)
    await a
    const n = t.log.length
    await t.sup.stop()
    expect(t.log).toHaveLength(n)
  })

  it('a stop from an error listener wins over the reconnect', async () => {
    const t = supervise()
    void t.sup.start().catch(() => {})
    t.listeners.error = () => void t.sup.stop()
    t.last().end(...streamError('system-shutdown', 'retry'))
    await vi.advanceTimersByTimeAsync(120_000)
    expect(t.attempts).toHaveLength(1)
    expect(t.statuses()).toEqual(['connecting', 'stopping', 'stopped'])
  })
})

describe('start() in each state', () => {
  it('waits for the same attempt while connecting or reconnecting; resolves at once when online', async () => {
    const t = supervise()
    const a = t.sup.start()
    const b = t.sup.start()
    t.last().end(...refused())
    const c = t.sup.start()
    await vi.advanceTimersByTimeAsync(1500)
    expect(t.attempts).toHaveLength(2)
    t.last().connect()
    t.last().accept()
    expect(await Promise.all([a, b, c])).toEqual([ADDRESS, ADDRESS, ADDRESS])
    expect(await t.sup.start()).toBe(ADDRESS)
    expect(t.attempts).toHaveLength(2)
  })

  it('rejects with SAT_ERR_STOPPED while stopping (also while the stopped connection goes offline)', async () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    const during: Array<Promise<unknown>> = []
    t.listeners.status = (s) => {
      if (s === 'stopping' || s === 'offline') during.push(t.sup.start().catch((e: unknown) => e))
    }
    await t.sup.stop()
    expect(during).toHaveLength(2)
    for (const r of await Promise.all(during)) expect(isSatelliteError(r, 'SAT_ERR_STOPPED')).toBe(true)
  })

  it('rejects when the AbortSignal is already aborted, and the signal stops a running component', async () => {
    const ac = new AbortController()
    const t = supervise({ signal: ac.signal })
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    ac.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect(t.sup.state.status).toBe('stopped')
    const err = await t.sup.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_STOPPED')).toBe(true)
    expect((err as Error).message).toMatch(/already aborted/)
  })
})

/** The `reconnecting` infos of a run. */
const infos = (t: ReturnType<typeof supervise>): ReconnectInfo[] =>
  t.log.filter((e) => e[0] === 'reconnecting').map((e) => e[1] as ReconnectInfo)

describe('the reconnect classes', () => {
  it('fatal: error, then stopping → stopped with the error; start() rejects with it; no retry', async () => {
    const t = supervise()
    const started = t.sup.start().catch((e: unknown) => e)
    t.last().connect()
    const [err, reason] = streamError('not-authorized', 'fatal')
    t.last().end(err, reason, 'fatal')
    expect(await started).toBe(err)
    await vi.advanceTimersByTimeAsync(120_000)
    expect(t.attempts).toHaveLength(1)
    expect(t.events().filter((e) => !e.startsWith('#'))).toEqual([
      'status',
      'status',
      'error',
      'status',
      'status',
      'stopped',
    ])
    expect(t.log.at(-1)).toEqual(['stopped', { error: err }])
  })

  it('an online connection that drops: offline, error, reconnecting, in this order', () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().accept()
    t.log.length = 0
    t.last().end(...streamError('system-shutdown', 'retry'))
    expect(t.events()).toEqual([
      '#ended',
      'status',
      'offline',
      'error',
      '#reconnect',
      'status',
      'reconnecting',
    ])
    expect(infos(t)[0]).toMatchObject({ reason: 'system-shutdown', attempt: 1, delay: 500 })
  })

  it('conflict: never sooner than conflictFloor', () => {
    const t = supervise()
    void t.sup.start()
    t.last().connect()
    t.last().end(...streamError('conflict', 'conflict'))
    expect(infos(t)[0]).toMatchObject({ reason: 'conflict', delay: 30_000 })
  })

  it('retry: full-jitter exponential backoff, ceilings doubling up to cap', async () => {
    const t = supervise({ random: () => 0.999 })
    void t.sup.start()
    for (let i = 0; i < 8; i++) {
      t.last().end(...streamError('system-shutdown', 'retry'))
      await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    }
    expect(infos(t).map((i) => i.delay)).toEqual([999, 1998, 3996, 7992, 15984, 31968, 59940, 59940])
  })

  it('refused: its own schedule, counted toward maxAttempts', async () => {
    const t = supervise({ reconnect: { ...RECONNECT, maxAttempts: 3 } })
    const started = t.sup.start().catch((e: unknown) => e)
    for (let i = 0; i < 4; i++) {
      t.last().end(...refused())
      await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    }
    expect(infos(t).map((i) => [i.delay, i.attempt, i.reason])).toEqual([
      [1500, 1, 'ECONNREFUSED'],
      [1000, 2, 'ECONNREFUSED'],
      [1000, 3, 'ECONNREFUSED'],
    ])
    expect(t.attempts).toHaveLength(4)
    expect(isSatelliteError(await started, 'SAT_ERR_RECONNECT_EXHAUSTED')).toBe(true)
  })

  it('a refusal after other failures does not wait the grown backoff; a later failure keeps it', async () => {
    const t = supervise({ random: () => 0.999 })
    void t.sup.start()
    for (let i = 0; i < 5; i++) {
      t.last().end(...streamError('system-shutdown', 'retry'))
      await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    }
    t.last().end(...refused())
    await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    t.last().end(...refused())
    await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    t.last().connect()
    t.last().end(...streamError('system-shutdown', 'retry'))
    expect(
      infos(t)
        .slice(-3)
        .map((i) => [i.delay, i.attempt]),
    ).toEqual([
      [1999, 6],
      [1000, 7],
      [59940, 8],
    ])
  })

  it('a connection online for stableAfter resets the backoff; a shorter one does not', async () => {
    const t = supervise()
    void t.sup.start()
    for (let i = 0; i < 3; i++) {
      t.last().end(...streamError('system-shutdown', 'retry'))
      await vi.advanceTimersByTimeAsync(infos(t).at(-1)?.delay ?? 0)
    }
    t.last().connect()
    t.last().accept()
    await vi.advanceTimersByTimeAsync(10_000)
    t.last().end()
    expect(infos(t).at(-1)).toMatchObject({ attempt: 4, delay: 4000 })
    await vi.advanceTimersByTimeAsync(4000)
    t.last().connect()
    t.last().accept()
    await vi.advanceTimersByTimeAsync(30_000)
    t.last().end()
    expect(infos(t).at(-1)).toMatchObject({ attempt: 1, delay: 500, reason: 'closed' })
  })

  it('reconnect: false stops on the first ending, with its error or SAT_ERR_RECONNECT_EXHAUSTED', async () => {
    const a = supervise({ reconnect: false })
    const first = a.sup.start().catch((e: unknown) => e)
    const [err, reason, klass] = refused()
    a.last().end(err, reason, klass)
    expect(await first).toBe(err)
    const b = supervise({ reconnect: false })
    void b.sup.start()
    b.last().connect()
    b.last().accept()
    b.last().end()
    const stopped = b.log.at(-1) as [string, { error: Error }]
    expect(stopped[0]).toBe('stopped')
    expect(isSatelliteError(stopped[1].error, 'SAT_ERR_RECONNECT_EXHAUSTED')).toBe(true)
    expect(stopped[1].error.message).toMatch(/reconnect is disabled/)
  })
})

/**
 * The listener goes away at 0 (the online connection drops), refuses until `back`, then accepts.
 * Every attempt answers 1 ms after it starts. Returns when the component was online again, and
 * the attempt times.
 */
async function outage(back: number, random: number): Promise<{ online: number; attempts: number[] }> {
  const t = supervise({ random: () => random })
  void t.sup.start()
  t.last().connect()
  t.last().accept()
  const t0 = Date.now()
  const starts: number[] = []
  let online = -1
  const answer = (a: FakeAttempt) => {
    starts.push(Date.now() - t0)
    setTimeout(() => {
      if (Date.now() - t0 < back) a.end(...refused())
      else {
        a.connect()
        a.accept()
        online = Date.now() - t0
      }
    }, 1)
  }
  t.listeners.status = (s) => {
    if (s === 'connecting') answer(t.last())
  }
  t.last().end()
  await vi.advanceTimersByTimeAsync(back + 70_000)
  expect(online).toBeGreaterThan(0)
  return { online, attempts: starts }
}

describe('recovery from refused connections (fake time)', () => {
  const randoms = [0, 0.37, 0.999]
  it('a 5 s outage: back within 1 s of the listener (+ the 1 ms answer); at most one attempt a second', async () => {
    for (const r of randoms) {
      for (let k = 0; k < 10; k++) {
        const back = 5000 + k * 97
        const { online, attempts } = await outage(back, r)
        expect(online - back, `back at ${back}, random ${r}`).toBeLessThanOrEqual(1001)
        const during = attempts.filter((a) => a < back)
        expect(during.length, `attempts in ${back} ms`).toBeLessThanOrEqual(1 + back / 1000)
        for (let i = 1; i < during.length; i++) {
          expect((during[i] as number) - (during[i - 1] as number)).toBeGreaterThanOrEqual(1000)
        }
      }
    }
  })

  it('a 5 minute outage: back within 5 s; far fewer than one attempt a second', async () => {
    for (const r of randoms) {
      for (let k = 0; k < 5; k++) {
        const back = 300_000 + k * 1013
        const { online, attempts } = await outage(back, r)
        expect(online - back, `back at ${back}, random ${r}`).toBeLessThanOrEqual(5001)
        const during = attempts.filter((a) => a < back)
        expect(during.length).toBeLessThanOrEqual(back / 2000)
      }
    }
  })
})
