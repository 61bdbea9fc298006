// `node bench/dist/profile.js [--runs N] [--subject satellite] [--scenario echo] [--warmup S] [--duration S]
//                             [--interval µs] [--out DIR]`
// `node bench/dist/profile.js FILE.cpuprofile --stanzas N [--from µs --to µs]`
//
// Where the subject's time goes, per part, in µs per stanza. The first form runs one scenario (default: Satellite,
// echo, window 1000) with the subject under `node --cpu-prof --trace-gc-nvp`, cuts the profile to the measured
// window and prints a markdown table (the one in docs/performance.md, "Where the time goes") plus the top functions
// and the allocation figures from the GC trace; with --runs N, the medians of N fresh runs. --out keeps the
// profiles. The second form only summarises an existing .cpuprofile.
//
// Self time of every sample is charged to a part by its stack (attribute.ts): the nearest frame from the leaf up that
// belongs to a known file decides (so `Element` constructors called by the parser count as tree building, those
// called by the handler as handler work, and node:net frames under the outbound path as socket writes). Frames of
// core's bundle are placed in their src/ module through the bundle's source map.
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  type CallFrame,
  CoreSources,
  classify,
  type Owner,
  ownerOf,
  PARTS,
  type Part,
  unmappedSeen,
} from './attribute.js'
import { type RunConfig, type RunResult, runScenario, type ScenarioKind, SUBJECTS } from './blaster.js'

export { PARTS, type Part }

/** The repository's root, as a file URL's path prefix (dropped from the names of the top functions). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
export interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

export interface Summary {
  stanzas: number
  /** Sampled main-thread time in the window, µs, by part (idle excluded). */
  byPart: Map<Part, number>
  busyUs: number
  idleUs: number
  top: { name: string; part: Part; us: number }[]
}

/** Charges every sample in [from, to] (profile clock, µs) to a part. */
export function summarise(p: CpuProfile, stanzas: number, from = -Infinity, to = Infinity): Summary {
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of p.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const sources = new CoreSources()
  const where = new Map<number, { owner: Owner | null; file: string | null }>()
  const frame = (id: number) => {
    let w = where.get(id)
    if (w === undefined) {
      const f = (byId.get(id) as ProfileNode).callFrame
      const core = sources.locate(f)
      w = { owner: ownerOf(f, core), file: core && `packages/core/src/${core.file}:${core.line}` }
      where.set(id, w)
    }
    return w
  }
  const partOf = new Map<number, Part | 'idle'>()
  const part = (id: number): Part | 'idle' => {
    let v = partOf.get(id)
    if (v === undefined) {
      const owners: (Owner | null)[] = []
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur))
        owners.push(frame(cur).owner)
      v = classify((byId.get(id) as ProfileNode).callFrame.functionName, owners)
      partOf.set(id, v)
    }
    return v
  }
  const byPart = new Map<Part, number>()
  const byFn = new Map<string, { name: string; part: Part; us: number }>()
  let busyUs = 0
  let idleUs = 0
  let t = p.startTime
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0
    // A sample stands for the time until the next one.
    const dt = i + 1 < p.timeDeltas.length ? (p.timeDeltas[i + 1] ?? 0) : 0
    if (t < from || t > to || dt <= 0) continue
    const id = p.samples[i] as number
    const k = part(id)
    if (k === 'idle') {
      idleUs += dt
      continue
    }
    busyUs += dt
    byPart.set(k, (byPart.get(k) ?? 0) + dt)
    const f = (byId.get(id) as ProfileNode).callFrame
    const file = f.url.replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '').replace(ROOT, '')
    const at = frame(id).file ?? (file ? `${file.replace(/^file:\/\//, '')}:${f.lineNumber + 1}` : '(native)')
    const name = `${f.functionName || '(anonymous)'} ${at}`
    const key = `${name}|${k}`
    const e = byFn.get(key) ?? { name, part: k, us: 0 }
    e.us += dt
    byFn.set(key, e)
  }
  const top = [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, 20)
  return { stanzas, byPart, busyUs, idleUs, top }
}

export interface GcSummary {
  scavenges: number
  markCompacts: number
  allocatedBytes: number
  pauseMs: number
}

/** Sums `--trace-gc-nvp` lines whose time (ms since the isolate started) lies in [fromMs, toMs]. */
export function summariseGc(text: string, fromMs: number, toMs: number): GcSummary {
  const out: GcSummary = { scavenges: 0, markCompacts: 0, allocatedBytes: 0, pauseMs: 0 }
  for (const line of text.split('\n')) {
    const m = /^\[\d+:0x[0-9a-f]+\]\s+(\d+) ms: pause=([\d.]+) .*?gc=(\w+) .*?allocated=(\d+)/.exec(line)
    if (!m) continue
    const t = Number(m[1])
    if (t < fromMs || t > toMs) continue
    if (m[3] === 's') out.scavenges++
    else out.markCompacts++
    out.pauseMs += Number(m[2])
    out.allocatedBytes += Number(m[4])
  }
  return out
}

const f2 = (x: number) => x.toFixed(2)
const median = (xs: number[]): number => {
  const a = [...xs].sort((x, y) => x - y)
  const m = a.length >> 1
  return a.length % 2 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2
}

/** One profiled run, reduced to µs per stanza. */
export interface Measured {
  summary: Summary
  run: RunResult | null
  gc: GcSummary | null
}

/** The table: median µs per stanza of each part over the runs, and the top functions of the last run. */
export function markdown(runs: Measured[]): string {
  const perPart = (m: Measured, k: Part) => (m.summary.byPart.get(k) ?? 0) / m.summary.stanzas
  const busy = median(runs.map((m) => m.summary.busyUs / m.summary.stanzas))
  const many = runs.length > 1
  const lines: string[] = []
  lines.push(`| part | µs per stanza${many ? ' (median)' : ''} | share |${many ? ' runs |' : ''}`)
  lines.push(`| --- | ---: | ---: |${many ? ' --- |' : ''}`)
  for (const k of Object.keys(PARTS) as Part[]) {
    const xs = runs.map((m) => perPart(m, k))
    if (xs.every((x) => x === 0)) continue
    const med = median(xs)
    lines.push(
      `| ${PARTS[k]} | ${f2(med)} | ${((100 * med) / busy).toFixed(0)}% |${many ? ` ${xs.map(f2).join(' / ')} |` : ''}`,
    )
  }
  const busyXs = runs.map((m) => m.summary.busyUs / m.summary.stanzas)
  lines.push(
    `| **main thread busy (sampled)** | **${f2(busy)}** | |${many ? ` ${busyXs.map(f2).join(' / ')} |` : ''}`,
  )
  const cpu = runs.map((m) => m.run?.cpuUsPerOp ?? null).filter((x): x is number => x !== null)
  if (cpu.length === runs.length) {
    lines.push(
      `| subject CPU, all threads (\`/proc\` utime+stime) | ${f2(median(cpu))} | |${many ? ` ${cpu.map(f2).join(' / ')} |` : ''}`,
    )
  }
  lines.push('')
  for (const m of runs) {
    const s = m.summary
    const parts = [
      `${s.stanzas.toLocaleString('en-US')} stanzas`,
      m.run ? `${Math.round(m.run.rate).toLocaleString('en-US')}/s while profiled` : null,
      `main thread ${(s.busyUs / 1e3).toFixed(0)} ms busy, ${(s.idleUs / 1e3).toFixed(0)} ms idle`,
    ]
    const gc = m.gc
    if (gc) {
      parts.push(
        `GC: ${gc.scavenges} scavenges, ${gc.markCompacts} mark-compacts, ` +
          `${(gc.allocatedBytes / s.stanzas).toFixed(0)} bytes allocated per stanza, ` +
          `${f2((gc.pauseMs * 1000) / s.stanzas)} µs of pause per stanza`,
      )
    }
    lines.push(`- ${parts.filter(Boolean).join('; ')}`)
  }
  const last = runs[runs.length - 1] as Measured
  lines.push('')
  lines.push(`Top functions by self time${many ? ' (last run)' : ''}, µs per stanza:`)
  lines.push('')
  for (const t of last.summary.top) lines.push(`- ${f2(t.us / last.summary.stanzas)} ${t.name} [${t.part}]`)
  return lines.join('\n')
}

/** 1 (and says which) if a sampled frame of core lay in a module that attribute.ts's CORE_FILES lacks. */
function warnUnmapped(): number {
  if (unmappedSeen.size === 0) return 0
  console.error(
    `profile: charged to "other": modules of packages/core/src with no part in bench/src/attribute.ts: ${[...unmappedSeen].join(', ')}`,
  )
  return 1
}

function arg(args: string[], key: string): string | undefined {
  const i = args.indexOf(`--${key}`)
  if (i >= 0) return args[i + 1]
  const eq = args.find((a) => a.startsWith(`--${key}=`))
  return eq?.slice(key.length + 3)
}

/** Runs the scenario once with the subject profiled; the profile is kept in `dir` when `keep`. */
async function profiledRun(cfg: RunConfig, dir: string, interval: number, keep: boolean): Promise<Measured> {
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  let gcText = ''
  const run = await runScenario({
    ...cfg,
    nodeArgs: [
      // --cpu-prof writes the profile on a normal exit only: turn the blaster's SIGTERM into one.
      '--import=data:text/javascript,process.on("SIGTERM",()=>process.exit(0))',
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-interval=${interval}`,
      '--trace-gc-nvp',
    ],
    onChildOutput: (text) => {
      gcText += text
    },
  })
  if (!run.ok || run.monoUs === null) throw new Error(`run failed: ${run.error}`)
  const prof = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))
  if (prof.length !== 1) throw new Error(`expected one .cpuprofile in ${dir}, found ${prof.length}`)
  const file = join(dir, prof[0] as string)
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const summary = summarise(p, run.count, run.monoUs.start, run.monoUs.end)
  // GC trace times are ms since the isolate started, which is about when the profile started.
  const gc = summariseGc(
    gcText,
    (run.monoUs.start - p.startTime) / 1000,
    (run.monoUs.end - p.startTime) / 1000,
  )
  if (keep) console.error(`profile: kept ${file}`)
  else rmSync(dir, { recursive: true, force: true })
  return { summary, run, gc }
}

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--')
  const file = args.find((a) => a.endsWith('.cpuprofile'))
  if (file) {
    const stanzas = Number(arg(args, 'stanzas') ?? 0)
    if (!(stanzas > 0)) {
      console.error('profile: --stanzas N is required with a .cpuprofile file')
      return 2
    }
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
    const summary = summarise(
      p,
      stanzas,
      Number(arg(args, 'from') ?? -Infinity),
      Number(arg(args, 'to') ?? Infinity),
    )
    console.log(markdown([{ summary, run: null, gc: null }]))
    return warnUnmapped()
  }
  const subjectName = (arg(args, 'subject') ?? 'satellite') as keyof typeof SUBJECTS
  const subject = SUBJECTS[subjectName]
  if (!subject) throw new Error(`unknown subject '${subjectName}'`)
  const scenario = (arg(args, 'scenario') ?? 'echo') as ScenarioKind
  const interval = Number(arg(args, 'interval') ?? 250)
  const runs = Math.max(1, Number(arg(args, 'runs') ?? 1))
  const out = arg(args, 'out')
  const cfg: RunConfig = {
    subject,
    scenario,
    warmupMs: Number(arg(args, 'warmup') ?? 1) * 1000,
    durationMs: Number(arg(args, 'duration') ?? 3) * 1000,
    stallMs: 5000,
    window: scenario === 'large' || scenario === 'iq' ? 100 : 1000,
    ...(scenario === 'large' ? { bodyBytes: 8192 } : {}),
    ...(scenario === 'users' ? { users: 100_000 } : {}),
  }
  const measured: Measured[] = []
  for (let i = 0; i < runs; i++) {
    const dir = out ? join(out, `run${i + 1}`) : join(tmpdir(), `satellite-profile-${process.pid}`)
    measured.push(await profiledRun(cfg, dir, interval, out !== undefined))
  }
  console.log(
    `${subject.name}, ${scenario}: ${runs} run(s) of ${cfg.durationMs / 1000} s after ${cfg.warmupMs / 1000} s warm-up, ` +
      `sampling every ${interval} µs\n`,
  )
  console.log(markdown(measured))
  return warnUnmapped()
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (err: unknown) => {
      console.error('profile:', err)
      process.exitCode = 2
    },
  )
}
