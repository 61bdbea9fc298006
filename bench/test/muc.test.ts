// Proves the muc scenario group runs (small: 50 occupants, an archive of 2,000): every count and check of
// muc.ts held. Not a speed assertion. Needs the compiled subject (pnpm build).
import { describe, expect, it } from 'vitest'
import { runMuc } from '../src/muc.js'

describe('bench muc group', () => {
  it('joins, fans out, reads memory and pages the archive, everything checked', async () => {
    const r = await runMuc({
      occupants: 50,
      rooms: 20,
      window: 2,
      warmupMs: 100,
      durationMs: 300,
      latencySamples: 5,
      archive: 2000,
      mamQueries: 3,
    })
    expect(r.error).toBeNull()
    expect(r.ok).toBe(true)
    expect(r.joinStanzas).toBe(50 * 50 + 50)
    expect(r.deliveriesPerSec).toBeGreaterThan(0)
    expect(r.fanoutMs?.n).toBeGreaterThanOrEqual(5)
    expect(r.lastPageMs?.n).toBe(3)
    expect(r.afterPageMs?.n).toBe(3)
    // 2 × 3 pages + the sampled fan-out deliveries
    expect(r.checked).toBeGreaterThan(6)
    expect(Number.isFinite(r.heapPerOccupant) && Number.isFinite(r.heapPerRoom)).toBe(true)
  }, 60_000)
})
