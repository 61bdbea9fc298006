// `pnpm bench [--quick] [--write] [--rounds N] [--subjects raw,xmppjs,satellite] [--scenarios echo,pingpong,...,muc]`
//
// Runs every scenario against every subject (fresh process per run, rounds interleaved), prints the tables
// and, for a full run (or with --write), rewrites the generated block of docs/performance.md and the SVG chart.
// Exits non-zero only when the harness fails (bad replies, lost messages, a crash, a stall), never for slowness.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  type RunConfig,
  type RunResult,
  runScenario,
  type ScenarioKind,
  SUBJECTS,
  type SubjectSpec,
} from './blaster.js'
import { type MucResult, runMuc } from './muc.js'
import { fmtMucRun, mucMarkdown, mucPlan } from './muc-report.js'
import { getAffinity, machineBusyUs, machineFacts } from './procfs.js'
import { type Aggregate, aggregate, markdownReport, type ScenarioInfo, svgChart } from './report.js'

const ALL_SCENARIOS: ScenarioKind[] = ['echo', 'pingpong', 'large', 'flood', 'iq', 'users']
const ALL_SUBJECTS = ['raw', 'xmppjs', 'satellite'] as const

interface Options {
  quick: boolean
  write: boolean
  rounds: number
  subjects: string[]
  scenarios: ScenarioKind[]
  /** The chatroom group (muc.ts), Satellite only: in a full run by default, in --quick only when named. */
  muc: boolean
  /** --muc-archive N: messages in the MAM archive (default 1,000,000; quick 10,000). */
  mucArchive: number | null
  warmupMs: number | null
  durationMs: number | null
  help: boolean
}

/** Lenient: accepts `--quick` and `-- --quick` (pnpm passes the `--` through), `--x=1` and `--x 1`. */
function parseArgs(argv: string[]): Options {
  const o: Options = {
    quick: false,
    write: false,
    rounds: 0,
    subjects: [...ALL_SUBJECTS],
    scenarios: [...ALL_SCENARIOS],
    muc: true,
    mucArchive: null,
    warmupMs: null,
    durationMs: null,
    help: false,
  }
  let noWrite = false
  let scenariosGiven = false
  const args = argv.filter((a) => a !== '--')
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? ''
    const eq = a.indexOf('=')
    const key = (eq >= 0 ? a.slice(0, eq) : a).replace(/^-+/, '')
    const value = () => (eq >= 0 ? a.slice(eq + 1) : (args[++i] ?? ''))
    const list = () =>
      value()
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    switch (key) {
      case 'quick':
        o.quick = true
        break
      case 'write':
        o.write = true
        break
      case 'no-write':
        noWrite = true
        break
      case 'rounds':
        o.rounds = Math.max(1, Number.parseInt(value(), 10) || 1)
        break
      case 'subjects':
        o.subjects = list()
        break
      case 'scenarios': {
        const names = list()
        scenariosGiven = true
        o.muc = names.includes('muc')
        o.scenarios = names.filter((s) => s !== 'muc') as ScenarioKind[]
        break
      }
      case 'muc-archive':
        o.mucArchive = Math.max(1000, Number.parseInt(value(), 10) || 0)
        break
      case 'warmup':
        o.warmupMs = Number(value()) * 1000
        break
      case 'duration':
        o.durationMs = Number(value()) * 1000
        break
      case 'help':
      case 'h':
        o.help = true
        break
      default:
        console.error(`bench: ignoring unknown argument '${a}'`)
    }
  }
  for (const s of o.subjects) {
    if (!(ALL_SUBJECTS as readonly string[]).includes(s))
      throw new Error(`unknown subject '${s}' (${ALL_SUBJECTS.join(', ')})`)
  }
  for (const s of o.scenarios) {
    if (!ALL_SCENARIOS.includes(s))
      throw new Error(`unknown scenario '${s}' (${ALL_SCENARIOS.join(', ')}, muc)`)
  }
  if (o.quick && !scenariosGiven) o.muc = false
  if (o.rounds === 0) o.rounds = o.quick ? 1 : 3
  // A full run writes the docs unless told not to; a quick run only with --write.
  if (!o.quick && !noWrite) o.write = true
  if (noWrite) o.write = false
  return o
}

const INFO: Record<ScenarioKind, Omit<ScenarioInfo, 'kind'>> = {
  echo: {
    title: '(a) Echo, small chat messages, window 1000',
    what:
      'About 130-byte `<message type="chat">` stanzas to `bot@echo.localhost`, 1000 in flight; every batch of replies ' +
      'is refilled with the same number of new messages in one write. Nothing pinned: blaster and subject share the ' +
      'cores. CPU µs/stanza = subject utime+stime over the window / replies; it depends least on the core sharing.',
  },
  pingpong: {
    title: '(b) Ping-pong latency, 1 in flight',
    what:
      'One message in flight; latency from the send timestamp carried in the id. Blaster and subject pinned to the ' +
      'same CPU (`taskset -c 0`) when taskset is available, since unpinned ping-pong depends on where the scheduler ' +
      'puts the two processes.',
  },
  large: {
    title: '(c) Echo of 8 KB bodies',
    what: 'Chat messages with an 8,192-byte body, 100 in flight. MB/s counts reply stanza bytes (one direction).',
  },
  flood: {
    title: '(d) Flood the component cannot keep up with',
    what:
      'The subject busy-waits `BENCH_SLOW_US` per message in its handler; the blaster writes as fast as the socket ' +
      'accepts for a fixed time (capped in count), then stops and waits for every reply. RSS growth = VmHWM − idle ' +
      'VmRSS: what the subject buffers when it falls behind. "All answered" means nothing was lost.',
  },
  iq: {
    title: '(e) iq request/response, the subject as caller',
    what:
      'The subject keeps 100 `<iq type="get"><ping/></iq>` requests in flight through its iq caller (`xmpp.request()` ' +
      'in Satellite, `xmpp.iqCaller.request()` in xmpp.js); the blaster answers each with a result, batched per read.',
  },
  users: {
    title: '(f) Many virtual users: 100,000 distinct local parts',
    what:
      'Like (a), but each message goes to `u{i}@echo.localhost` for i cycling through 100,000 local parts; Satellite ' +
      'routes them through a wildcard handler (`xmpp.message({ to: "*" }, …)`). Every 1000th reply is checked to come ' +
      'from the right virtual user.',
  },
}

function plan(kind: ScenarioKind, subject: SubjectSpec, o: Options): RunConfig {
  const warmupMs = o.warmupMs ?? (o.quick ? 300 : 1000)
  const durationMs = o.durationMs ?? (o.quick ? 1000 : 3000)
  const base: RunConfig = { subject, scenario: kind, warmupMs, durationMs, stallMs: 5000 }
  switch (kind) {
    case 'echo':
      return { ...base, window: 1000 }
    case 'pingpong':
      return { ...base, pin: true }
    case 'large':
      return { ...base, window: 100, bodyBytes: 8192 }
    case 'flood':
      return {
        ...base,
        slowUs: 50,
        floodMs: o.quick ? 1000 : 3000,
        floodMax: o.quick ? 60_000 : 200_000,
        hardLimitMs: o.quick ? 30_000 : 60_000,
      }
    case 'iq':
      return { ...base, window: 100 }
    case 'users':
      return { ...base, window: 1000, users: 100_000 }
  }
}

/** Other processes' CPU use over `ms`, in % of a core (null without /proc). */
async function othersCpuPct(ms: number): Promise<number | null> {
  const m0 = machineBusyUs()
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, ms))
  const m1 = machineBusyUs()
  const c1 = process.cpuUsage(c0)
  if (m0 === null || m1 === null) return null
  return (100 * Math.max(0, m1 - m0 - c1.user - c1.system)) / ((performance.now() - t0) * 1000)
}

/** Waits (at most 5 s) until other processes use less than 25% of a core, so runs start on a quiet machine. */
async function waitForQuiet(): Promise<void> {
  const deadline = performance.now() + 5000
  for (;;) {
    const pct = await othersCpuPct(250)
    if (pct === null || pct < 25 || performance.now() > deadline) return
  }
}

function fmtRun(r: RunResult): string {
  if (!r.ok) return `FAILED: ${r.error ?? 'unknown'}`
  const parts: string[] = []
  if (r.scenario === 'flood' && r.flood) {
    parts.push(
      `sent ${r.flood.sent} in ${r.flood.floodSeconds.toFixed(2)} s, answered ${r.flood.answered}, drain ${r.flood.drainSeconds.toFixed(2)} s`,
    )
  } else {
    parts.push(`${Math.round(r.rate).toLocaleString('en-US')}/s`)
  }
  if (r.cpuUsPerOp !== null) parts.push(`${r.cpuUsPerOp.toFixed(2)} µs CPU/op`)
  if (r.latency && r.scenario === 'pingpong') parts.push(`p50 ${r.latency.p50} p99 ${r.latency.p99} µs`)
  if (r.scenario === 'large') parts.push(`${(r.bytesPerSec / 1e6).toFixed(1)} MB/s`)
  if (r.peakRssKiB !== null) parts.push(`peak ${(r.peakRssKiB / 1024).toFixed(1)} MiB`)
  parts.push(`0 bad of ${r.checked}`)
  return parts.join(', ')
}

async function main(): Promise<number> {
  const o = parseArgs(process.argv.slice(2))
  if (o.help) {
    console.log(
      'usage: pnpm bench [--quick] [--write|--no-write] [--rounds N] [--subjects raw,xmppjs,satellite]\n' +
        '                  [--scenarios echo,pingpong,large,flood,iq,users,muc] [--warmup S] [--duration S]\n' +
        '                  [--muc-archive N]   (muc: chatrooms, Satellite only; not in --quick unless named)',
    )
    return 0
  }
  const subjects = o.subjects.map((s) => SUBJECTS[s as keyof typeof SUBJECTS])
  for (const s of subjects) {
    if (!existsSync(s.file)) {
      console.error(`bench: subject '${s.name}' is not built: ${s.file} is missing (run tsc -b first)`)
      return 2
    }
  }
  const pinAvailable = getAffinity(process.pid) !== null
  const started = Date.now()
  const results: RunResult[] = []
  const total = o.rounds * o.scenarios.length * subjects.length
  let n = 0
  console.error(
    `bench: ${o.quick ? 'quick' : 'full'} run, ${o.rounds} round(s) × ${o.scenarios.length} scenario(s) × ${subjects.length} subject(s)${o.muc ? ' + the muc group (Satellite)' : ''}`,
  )
  // Interleaved: round → scenario → subject, with the subject order rotated every round.
  for (let round = 0; round < o.rounds; round++) {
    for (const kind of o.scenarios) {
      for (let i = 0; i < subjects.length; i++) {
        const subject = subjects[(i + round) % subjects.length] as SubjectSpec
        n++
        if (!o.quick) await waitForQuiet()
        let r = await runScenario(plan(kind, subject, o))
        // A full run redoes (once) a run that other processes disturbed (> 25% of a core on average).
        if (!o.quick && r.ok && r.otherCpuPct !== null && r.otherCpuPct > 25) {
          console.error(
            `    other processes used ${r.otherCpuPct.toFixed(0)}% of a core during the run: redoing it`,
          )
          await waitForQuiet()
          const again = await runScenario(plan(kind, subject, o))
          again.notes.push(`redone: the first attempt was disturbed (other ${r.otherCpuPct.toFixed(0)}%)`)
          r = again
        }
        results.push(r)
        console.error(
          `[${n}/${total}] round ${round + 1} ${kind.padEnd(8)} ${subject.name.padEnd(9)} ${fmtRun(r)}`,
        )
        for (const note of r.notes) console.error(`    note: ${note}`)
      }
    }
  }
  // The chatroom group: Satellite only (@xmpp/component has no room engine), after the echo scenarios.
  const mucResults: MucResult[] = []
  const mucRunPlan = mucPlan(o.quick, o.mucArchive)
  if (o.muc && !o.subjects.includes('satellite')) console.error('bench: muc skipped (Satellite only)')
  else if (o.muc) {
    for (let round = 0; round < o.rounds; round++) {
      if (!o.quick) await waitForQuiet()
      const r = await runMuc(mucRunPlan)
      mucResults.push(r)
      console.error(`[muc ${round + 1}/${o.rounds}] satellite ${fmtMucRun(r)}`)
    }
  }
  const elapsed = (Date.now() - started) / 1000

  const tables = o.scenarios.map((kind) => ({
    info: { kind, ...INFO[kind] },
    rows: subjects.map(
      (s): Aggregate =>
        aggregate(
          s.name,
          kind,
          results.filter((r) => r.scenario === kind && r.subject === s.name),
        ),
    ),
  }))
  const failures = results
    .filter((r) => !r.ok)
    .map((r) => `${r.scenario} / ${r.subject}: ${r.error ?? 'unknown error'}`)
  for (const r of mucResults) if (!r.ok) failures.push(`muc / satellite: ${r.error ?? 'unknown error'}`)
  const pingpongs = results.filter((r) => r.scenario === 'pingpong')
  const pinNote = !o.scenarios.includes('pingpong')
    ? ''
    : pingpongs.some((r) => r.pinned === false) || !pinAvailable
      ? 'Ping-pong ran **unpinned** (taskset unavailable).'
      : 'Ping-pong pinned blaster and subject to CPU 0 with taskset.'
  const warm = o.warmupMs ?? (o.quick ? 300 : 1000)
  const dur = o.durationMs ?? (o.quick ? 1000 : 3000)
  const mode = `${o.quick ? '**quick smoke run**, not for comparisons' : 'full run'}: ${o.rounds} interleaved round(s) per subject${
    o.rounds > 1 ? ', medians' : ''
  }, each run a fresh subject process with ${warm / 1000} s warm-up and ${dur / 1000} s measured; ${elapsed.toFixed(0)} s in total`
  const facts = machineFacts()
  const date = new Date().toISOString().replace('T', ' ').slice(0, 16)
  const svgName = 'performance-echo.svg'
  const echoMd = markdownReport({
    facts,
    date: `${date} UTC`,
    mode,
    subjects: subjects.map((s) => s.name),
    tables,
    pinNote,
    failures,
    svgName,
  })
  const mucMode = `${o.quick ? '**Quick smoke run**' : 'Full run'}, ${mucResults.length} round(s)${
    mucResults.length > 1 ? ': medians, (min–max) of the rounds' : ''
  }; ${mucRunPlan.warmupMs / 1000} s warm-up and ${mucRunPlan.durationMs / 1000} s measured for the fan-out`
  const md = mucResults.length > 0 ? `${echoMd}\n\n${mucMarkdown(mucResults, mucRunPlan, mucMode)}` : echoMd
  console.log(md)

  if (o.write) {
    const docs = fileURLToPath(new URL('../../docs/', import.meta.url))
    const mdPath = `${docs}performance.md`
    const start = '<!-- bench:start -->'
    const end = '<!-- bench:end -->'
    const block = `${start}\n${md}\n${end}`
    let text = existsSync(mdPath) ? readFileSync(mdPath, 'utf8') : '# Performance\n\n'
    const a = text.indexOf(start)
    const b = text.indexOf(end)
    if (a >= 0 && b > a) text = text.slice(0, a) + block + text.slice(b + end.length)
    else text = `${text.trimEnd()}\n\n${block}\n`
    writeFileSync(mdPath, text)
    // The chart is of the echo scenarios: none ran (e.g. --scenarios muc), none written.
    if (tables.length > 0)
      writeFileSync(
        `${docs}${svgName}`,
        svgChart(
          tables,
          subjects.map((s) => s.name),
          `XEP-0114 echo components, ${o.quick ? 'quick run' : 'medians of full run'} (${date} UTC, ${facts.nproc} CPUs)`,
        ),
      )
    console.error(`bench: wrote docs/performance.md and docs/${svgName}`)
  } else {
    console.error('bench: docs/performance.md not written (quick run; pass --write to write it)')
  }
  if (failures.length > 0) {
    console.error(`bench: ${failures.length} run(s) FAILED:`)
    for (const f of failures) console.error(`  - ${f}`)
    return 1
  }
  console.error(`bench: done in ${elapsed.toFixed(0)} s, all replies verified`)
  return 0
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    console.error('bench: harness error:', err)
    process.exitCode = 2
  },
)
