import { classifyCondition, FATAL_STREAM_CONDITIONS, fromInDomain } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { Backoff } from '../src/stream/backoff.js'

const opts = { base: 1000, cap: 60_000, stableAfter: 30_000, maxAttempts: 5, conflictFloor: 30_000 }

describe('reconnect policy', () => {
  it('grows exponentially with full jitter up to the cap', () => {
    const top = new Backoff(opts, () => 0.999999)
    expect([1, 2, 3, 4, 5].map(() => top.next('retry'))).toEqual([999, 1999, 3999, 7999, 15999])
    const capped = new Backoff({ ...opts, maxAttempts: 100 }, () => 0.999999)
    for (let i = 0; i < 20; i++) capped.next('retry')
    expect(capped.next('retry')).toBe(59999)
    const zero = new Backoff(opts, () => 0)
    expect(zero.next('retry')).toBe(0)
  })

  it('spreads delays (jitter) rather than synchronising clients', () => {
    const b = () => new Backoff({ ...opts, maxAttempts: 100 })
    const delays = Array.from({ length: 200 }, () => {
      const x = b()
      x.next('retry')
      x.next('retry')
      return x.next('retry')
    })
    expect(new Set(delays).size).toBeGreaterThan(150)
    expect(Math.max(...delays)).toBeLessThan(4000)
  })

  it('never retries a conflict sooner than the floor', () => {
    const b = new Backoff(opts, () => 0)
    expect(b.next('conflict')).toBe(30_000)
  })

  it('counts attempts, is exhausted at maxAttempts and resets', () => {
    const b = new Backoff(opts)
    for (let i = 0; i < 5; i++) b.next('retry')
    expect(b.exhausted).toBe(true)
    b.reset()
    expect(b.exhausted).toBe(false)
    expect(b.attempts).toBe(0)
  })

  it('classifies stream errors', () => {
    for (const c of [
      'not-authorized',
      'host-unknown',
      'invalid-namespace',
      'improper-addressing',
      'invalid-from',
      'bad-format',
    ]) {
      expect(FATAL_STREAM_CONDITIONS.has(c)).toBe(true)
      expect(classifyCondition(c)).toBe('fatal')
    }
    expect(classifyCondition('conflict')).toBe('conflict')
    for (const c of [
      'system-shutdown',
      'reset',
      'connection-timeout',
      'policy-violation',
      'undefined-condition',
    ]) {
      expect(classifyCondition(c)).toBe('retry')
    }
  })

  it('checks from addresses against the domain', () => {
    const d = 'bridge.example.org'
    for (const ok of [d, `u@${d}`, `u@${d}/r`, `${d}/r`, `U@BRIDGE.example.ORG`, `u@${d}/a@b/c`])
      expect(fromInDomain(ok, d), ok).toBe(true)
    for (const bad of [
      'example.org',
      `x${d}`,
      `u@x${d}`,
      `u@evil.${d}`,
      `a@b@${d}`,
      `${d}.evil`,
      `u@${d}.evil/r`,
      '',
    ])
      expect(fromInDomain(bad, d), bad).toBe(false)
  })
})

describe('JIDs from the wire', () => {
  it('keeps escaped local parts as they are (no second escaping)', async () => {
    const { parseJid } = await import('@satellite/core')
    const j = parseJid('c\\3a\\net@Example.org/Res')
    expect(j.local).toBe('c\\3a\\net')
    expect(j.toString()).toBe('c\\3a\\net@example.org/Res')
    expect(j.bare().toString()).toBe('c\\3a\\net@example.org')
    expect(parseJid('space\\20cadet@d').getLocal(true)).toBe('space cadet')
    expect(parseJid('Alice@D/x').toString()).toBe('alice@d/x')
  })
})
