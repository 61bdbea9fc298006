// Proves the harness works: the raw subject against the blaster for about a second.
// Not a speed assertion: only that replies were counted and verified, with none bad.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runScenario, SUBJECTS } from '../src/blaster.js'

describe('bench harness', () => {
  it('echoes with the raw subject, every reply verified', async () => {
    const r = await runScenario({
      subject: SUBJECTS.raw,
      scenario: 'echo',
      warmupMs: 200,
      durationMs: 800,
      window: 100,
      verifyEvery: 100,
      hardLimitMs: 15_000,
    })
    expect(r.error).toBeNull()
    expect(r.ok).toBe(true)
    expect(r.count).toBeGreaterThan(0)
    expect(r.checked).toBeGreaterThanOrEqual(r.count)
    expect(r.fullChecked).toBeGreaterThan(0)
    expect(r.bad).toBe(0)
    expect(r.idleRssKiB === null || r.idleRssKiB > 0).toBe(true)
  })

  it('answers iq requests from the raw subject', async () => {
    const r = await runScenario({
      subject: SUBJECTS.raw,
      scenario: 'iq',
      warmupMs: 100,
      durationMs: 400,
      window: 10,
      hardLimitMs: 15_000,
    })
    expect(r.error).toBeNull()
    expect(r.count).toBeGreaterThan(0)
    expect(r.bad).toBe(0)
  })
})

describe('bench harness verification', () => {
  it('fails a run whose replies are wrong (duplicate id, from/to not swapped)', async () => {
    const r = await runScenario({
      subject: { name: 'wrong', file: fileURLToPath(new URL('./fixtures/wrong-echo.js', import.meta.url)) },
      scenario: 'echo',
      warmupMs: 100,
      durationMs: 300,
      window: 10,
      hardLimitMs: 15_000,
    })
    expect(r.ok).toBe(false)
    expect(r.bad).toBeGreaterThan(0)
    expect(r.error).toMatch(/bad replies/)
  })
})
