// The outbound scheduler (token bucket) and the reconnect gate, on a manual clock.
import { describe, expect, it } from 'vitest'
import { ConnectGate } from '../src/gate.js'
import { isPriority, isUrgent, OutboundScheduler, schedulerOptions } from '../src/scheduler.js'
import { FakeTimers } from './fake-timers.js'

function setup(options = {}) {
  const timers = new FakeTimers()
  const sent: { line: string; at: number }[] = []
  const s = new OutboundScheduler(
    (line) => sent.push({ line, at: timers.now() }),
    schedulerOptions(options),
    timers,
  )
  return { timers, sent, s }
}

describe('OutboundScheduler', () => {
  it('by default sends a burst of 5, then one line every 2 s, in order', () => {
    const { timers, sent, s } = setup()
    for (let i = 0; i < 50; i++) expect(s.push(`PRIVMSG #c :${i}`)).toBe(true)
    expect(sent.map((x) => x.line)).toEqual([0, 1, 2, 3, 4].map((i) => `PRIVMSG #c :${i}`))
    expect(s.pending).toBe(45)
    timers.advance(1999)
    expect(sent).toHaveLength(5)
    timers.advance(1)
    expect(sent).toHaveLength(6)
    timers.advance(88_000)
    expect(sent).toHaveLength(50)
    expect(sent.map((x) => x.line)).toEqual(Array.from({ length: 50 }, (_, i) => `PRIVMSG #c :${i}`))
    expect(sent[49]?.at).toBe(90_000)
    for (let i = 6; i < 50; i++) expect(sent[i]!.at - sent[i - 1]!.at).toBe(2000)
    expect(timers.pending).toBe(0)
  })

  it('earns tokens back while idle, up to the burst', () => {
    const { timers, sent, s } = setup({ burst: 3, interval: 1000 })
    for (let i = 0; i < 3; i++) s.push(`L${i}`)
    timers.advance(60_000)
    for (let i = 3; i < 10; i++) s.push(`L${i}`)
    expect(sent).toHaveLength(6) // 3 earned back, not 60
    timers.advance(1000)
    expect(sent).toHaveLength(7)
  })

  it('sends PONG and QUIT at once, ahead of a queue, without using a token', () => {
    const { sent, s } = setup({ burst: 1, interval: 1000 })
    s.push('PRIVMSG #c :a')
    s.push('PRIVMSG #c :b')
    s.push('PONG :irc.test')
    s.push('QUIT :bye')
    expect(sent.map((x) => x.line)).toEqual(['PRIVMSG #c :a', 'PONG :irc.test', 'QUIT :bye'])
    expect(isUrgent('PRIVMSG PONG :x')).toBe(false)
  })

  it('sends NICK, JOIN and PART ahead of queued messages, in their order, each on a token of its own', () => {
    const { timers, sent, s } = setup({ burst: 1, interval: 1000 })
    for (const l of [
      'PRIVMSG #c :1',
      'PRIVMSG #c :2',
      'PRIVMSG #c :3',
      'JOIN #d',
      'NICK bob',
      'PART #c :bye',
    ])
      s.push(l)
    expect(sent.map((x) => x.line)).toEqual(['PRIVMSG #c :1'])
    timers.advance(3000)
    expect(sent.map((x) => [x.line, x.at])).toEqual([
      ['PRIVMSG #c :1', 0],
      ['JOIN #d', 1000],
      ['NICK bob', 2000],
      ['PART #c :bye', 3000],
    ])
    timers.advance(2000)
    expect(sent.slice(4).map((x) => x.line)).toEqual(['PRIVMSG #c :2', 'PRIVMSG #c :3'])
    expect(s.pending).toBe(0)
    expect([isPriority('PRIVMSG #c :JOIN #x'), isPriority('NICK x'), isPriority('JOINED')]).toEqual([
      false,
      true,
      false,
    ])
  })

  it('refuses past maxQueue and after close(), which drops what waits and stops its timer', () => {
    const { timers, sent, s } = setup({ burst: 1, interval: 1000, maxQueue: 3 })
    expect([1, 2, 3, 4, 5].map((i) => s.push(`L${i}`))).toEqual([true, true, true, true, false])
    expect(s.close()).toBe(3)
    expect(timers.pending).toBe(0)
    expect(s.push('L6')).toBe(false)
    timers.advance(10_000)
    expect(sent).toHaveLength(1)
  })

  it('refuses bad options with SAT_ERR_CONFIG naming the option', () => {
    for (const [options, message] of [
      [{ burst: 0 }, 'irc-gateway.flood.burst: '],
      [{ interval: 0.5 }, 'irc-gateway.flood.interval: '],
      [{ maxQueue: -1 }, 'irc-gateway.flood.maxQueue: '],
    ] as const) {
      let err: unknown
      try {
        schedulerOptions(options)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true })
      expect((err as Error).message.startsWith(message)).toBe(true)
    }
  })
})

describe('ConnectGate', () => {
  it('lets `concurrent` attempts in at once and the next one when a slot is given back', async () => {
    const timers = new FakeTimers()
    const gate = new ConnectGate({ concurrent: 2 }, timers)
    const releases = await Promise.all([gate.acquire(), gate.acquire()])
    let third = false
    const waiting = gate.acquire().then((r) => {
      third = true
      return r
    })
    await Promise.resolve()
    expect([third, gate.active, gate.waiting]).toEqual([false, 2, 1])
    releases[0]!()
    releases[0]!() // idempotent
    ;(await waiting)()
    expect(third).toBe(true)
    expect(gate.peak).toBe(2)
    releases[1]!()
    expect(gate.active).toBe(0)
  })

  it('takes a slot back after holdMax, refuses past maxWaiting, rejects waiters on close', async () => {
    const timers = new FakeTimers()
    const gate = new ConnectGate({ concurrent: 1, maxWaiting: 1, holdMax: 5000 }, timers)
    await gate.acquire()
    const second = gate.acquire()
    await expect(gate.acquire()).rejects.toMatchObject({ code: 'SAT_ERR_IRC_CONNECTION' })
    timers.advance(5000)
    const release = await second
    expect(gate.active).toBe(1)
    const third = gate.acquire()
    gate.close()
    await expect(third).rejects.toMatchObject({
      code: 'SAT_ERR_IRC_CONNECTION',
      message: 'the gateway is closing',
    })
    await expect(gate.acquire()).rejects.toMatchObject({ code: 'SAT_ERR_IRC_CONNECTION' })
    release()
  })
})
