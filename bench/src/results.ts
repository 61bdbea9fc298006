// What one run of the blaster gives back: the result and its statistics, computed from the run's two
// snapshots (start and end of the measured window), its latencies and its verification counters.
import type { ScenarioKind } from './config.js'
import type { Run } from './run.js'
import { quantile } from './wire.js'

export interface LatencyStats {
  n: number
  p50: number
  p99: number
  max: number
}

export interface FloodStats {
  slowUs: number
  sent: number
  answered: number
  lost: number
  floodSeconds: number
  drainSeconds: number
}

export interface RunResult {
  subject: string
  scenario: ScenarioKind
  ok: boolean
  error: string | null
  /** Length of the measured window, s. */
  seconds: number
  /** Replies (or answered iq requests) in the measured window. */
  count: number
  /** count / seconds. */
  rate: number
  /** Reply bytes per second in the measured window (one direction). */
  bytesPerSec: number
  /** Subject CPU (utime+stime) in the window divided by count, µs. */
  cpuUsPerOp: number | null
  /** Shares of one core over the window. */
  subjectCpuPct: number | null
  blasterCpuPct: number
  otherCpuPct: number | null
  idleRssKiB: number | null
  peakRssKiB: number | null
  /** Bad replies (wrong id, duplicate, wrong from/to/body, unexpected data); any > 0 fails the run. */
  bad: number
  badSamples: string[]
  /** Replies whose id was checked, and replies fully checked. */
  checked: number
  fullChecked: number
  latency: LatencyStats | null
  /** Ping-pong: whether pinning was in effect; null for other scenarios. */
  pinned: boolean | null
  notes: string[]
  flood: FloodStats | null
  /**
   * The measured window and the subject's spawn on the monotonic clock (`process.hrtime`, µs): the clock of
   * V8's `--cpu-prof` sample timestamps, so a profile can be cut to the window.
   */
  monoUs: { spawn: number; start: number; end: number } | null
}

/** The counters and clocks at one instant; the measured window is the difference of two. */
export interface Snapshot {
  t: number
  mono: number
  count: number
  bytes: number
  subjectCpuUs: number | null
  blasterCpuUs: number
  machineUs: number | null
}

/** The run's result; a run that saw bad replies, lost flood messages or no measurement fails here. */
export function runResult(run: Run, peakRssKiB: number | null): RunResult {
  if (run.failure === null && run.bad > 0)
    run.failure = `${run.bad} bad replies: ${run.badSamples.join(' | ')}`
  if (run.failure === null && run.floodStats !== null && run.floodStats.lost > 0) {
    run.failure = `${run.floodStats.lost} messages never answered`
  }
  if (run.failure === null && (run.snap0 === null || run.snap1 === null))
    run.failure = 'run ended without a measurement'
  const a = run.snap0
  const b = run.snap1
  const wallUs = a && b ? (b.t - a.t) * 1000 : 0
  const count = a && b ? b.count - a.count : 0
  const subjUs =
    a && b && a.subjectCpuUs !== null && b.subjectCpuUs !== null ? b.subjectCpuUs - a.subjectCpuUs : null
  const blasterUs = a && b ? b.blasterCpuUs - a.blasterCpuUs : 0
  const machUs = a && b && a.machineUs !== null && b.machineUs !== null ? b.machineUs - a.machineUs : null
  const pct = (us: number | null) => (us === null || wallUs <= 0 ? null : (100 * us) / wallUs)
  let latency: LatencyStats | null = null
  if (run.latencies.length > 0 && run.kind !== 'iq') {
    const sorted = Float64Array.from(run.latencies).sort()
    latency = {
      n: sorted.length,
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      max: sorted[sorted.length - 1] ?? 0,
    }
  }
  const other = machUs !== null && subjUs !== null ? pct(Math.max(0, machUs - subjUs - blasterUs)) : null
  return {
    subject: run.cfg.subject.name,
    scenario: run.kind,
    ok: run.failure === null,
    error: run.failure,
    seconds: wallUs / 1e6,
    count,
    rate: wallUs > 0 ? count / (wallUs / 1e6) : 0,
    bytesPerSec: wallUs > 0 && a && b ? (b.bytes - a.bytes) / (wallUs / 1e6) : 0,
    cpuUsPerOp: subjUs !== null && count > 0 ? subjUs / count : null,
    subjectCpuPct: pct(subjUs),
    blasterCpuPct: pct(blasterUs) ?? 0,
    otherCpuPct: other,
    idleRssKiB: run.idleRssKiB,
    peakRssKiB,
    bad: run.bad,
    badSamples: run.badSamples,
    checked: run.count,
    fullChecked: run.fullChecked,
    latency,
    pinned: run.pinned,
    notes: run.notes,
    flood: run.floodStats,
    monoUs: a && b ? { spawn: run.spawnMono, start: a.mono, end: b.mono } : null,
  }
}
