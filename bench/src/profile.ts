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
// Self time of every sample is charged to a part by its stack: the nearest frame from the leaf up that belongs to a
// known file decides (so `Element` constructors called by the parser count as tree building, those called by the
// handler as handler work, and node:net frames under the outbound path as socket writes).
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type RunConfig, type RunResult, runScenario, type ScenarioKind, SUBJECTS } from './blaster.js'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

/** The parts, in table order. */
export const PARTS = {
  decode: 'UTF-8 decode of socket reads (`TextDecoder`, called by the parser)',
  parser: 'parser: tokenising, attributes, checks, building the `Stanza`/`Element` tree',
  tree: 'tree building, where not inlined into the parser (`Element`/`Stanza` constructors)',
  routing: 'socket `data` listener, `#onStanza`, `#dispatch`, routing (`routing/*.ts`)',
  handler: 'handler + `xml()` build (the bench subject, ltx `createElement`, `getChildText`)',
  send: '`send()`: checks of `to`/`from` (`component.ts`)',
  serialise: 'serialisation (`xml/serialize.ts`; ltx `escapeXML` only when needed)',
  outbound: "outbound: coalescing, `join` of the turn's batch (`stream/outbound.ts`)",
  write: '`socket.write` (node:net, stream internals, the write syscall)',
  io: 'reads and event loop: libuv, `onStreamRead`, `emit`, timers',
  gc: 'GC on the main thread',
  program: 'V8/native, unattributed (`(program)`)',
  other: 'other',
} as const
export type Part = keyof typeof PARTS

type Owner = Part | 'element'

/** The part a single frame belongs to, or null for frames that only pass through (node internals, natives). */
function ownerOf(f: CallFrame): Owner | null {
  const u = f.url
  const fn = f.functionName
  if (u === 'node:internal/encoding' && fn === 'decode') return 'decode'
  if (u.endsWith('/core/dist/xml/parser.js')) return 'parser'
  if (u.endsWith('/core/dist/xml/stanza.js')) return 'element'
  if (u.includes('/ltx/lib/Element.js')) {
    return fn === 'toString' || fn === 'write' || fn === '_addChildren' ? 'serialise' : 'element'
  }
  if (u.includes('/ltx/lib/escape.js') || u.endsWith('/core/dist/xml/serialize.js')) return 'serialise'
  if (u.includes('/ltx/lib/createElement.js') || u.includes('/@xmpp/xml/index.js')) return 'handler'
  if (u.endsWith('/core/dist/stream/outbound.js')) return 'outbound'
  if (u.includes('/core/dist/routing/')) return 'routing'
  if (u.endsWith('/core/dist/component.js'))
    return fn === 'send' || fn === 'fromInDomain' ? 'send' : 'routing'
  if (u.includes('/bench/dist/subjects/') || u.includes('/bench/subjects/')) return 'handler'
  return null
}

/** Part of a node, given its stack from the leaf (index 0) to the root. */
function classify(stack: CallFrame[]): Part | 'idle' {
  const leaf = stack[0]?.functionName ?? ''
  if (leaf === '(idle)') return 'idle'
  if (leaf === '(garbage collector)') return 'gc'
  if (leaf === '(program)') return 'program'
  if (leaf === '(root)') return 'other'
  for (let i = 0; i < stack.length; i++) {
    const o = ownerOf(stack[i] as CallFrame)
    if (o === null) continue
    if (o === 'outbound' && i > 0) return 'write'
    if (o === 'element') {
      // Who made or used the Element: the parser (tree building) or the handler?
      for (let j = i + 1; j < stack.length; j++) {
        const up = ownerOf(stack[j] as CallFrame)
        if (up === 'parser') return 'tree'
        if (up === 'serialise') return 'serialise'
        if (up !== null && up !== 'element') return 'handler'
      }
      return 'handler'
    }
    return o
  }
  return 'io'
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
  const partOf = new Map<number, Part | 'idle'>()
  const part = (id: number): Part | 'idle' => {
    let v = partOf.get(id)
    if (v === undefined) {
      const stack: CallFrame[] = []
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        stack.push((byId.get(cur) as ProfileNode).callFrame)
      }
      v = classify(stack)
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
    const file = f.url
      .replace(/^.*\/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?/, '')
      .replace(/^.*\/work\/main\//, '')
    const name = `${f.functionName || '(anonymous)'} ${file ? `${file.replace(/^file:\/\//, '')}:${f.lineNumber + 1}` : '(native)'}`
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
    return 0
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
  return 0
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
