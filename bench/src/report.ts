// Aggregation (medians over rounds), markdown tables, and the hand-written SVG chart.
import type { RunResult, ScenarioKind } from './blaster.js'
import type { MachineFacts } from './procfs.js'

export const SUBJECT_LABEL: Record<string, string> = {
  raw: 'raw Node `net`, string ops (floor)',
  xmppjs: 'xmpp.js `@xmpp/component` 0.13.1',
  satellite: 'Satellite `@satellite/core`',
}

const SHORT_LABEL: Record<string, string> = {
  raw: 'raw net (floor)',
  xmppjs: 'xmpp.js 0.13.1',
  satellite: 'Satellite',
}

export function median(values: number[]): number | null {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = v.length >> 1
  return v.length % 2 ? (v[mid] ?? null) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2
}

/** Median over the successful runs of one subject in one scenario. */
export interface Aggregate {
  subject: string
  scenario: ScenarioKind
  runs: RunResult[]
  ok: RunResult[]
  failed: RunResult[]
  rate: number | null
  rates: number[]
  bytesPerSec: number | null
  cpuUsPerOp: number | null
  subjectCpuPct: number | null
  blasterCpuPct: number | null
  otherCpuPct: number | null
  idleRssMiB: number | null
  peakRssMiB: number | null
  p50: number | null
  p99: number | null
  max: number | null
  rssGrowthMiB: number | null
  sent: number | null
  lost: number | null
  drainSeconds: number | null
  floodSeconds: number | null
  checked: number
  fullChecked: number
  bad: number
  pinned: boolean | null
}

export function aggregate(subject: string, scenario: ScenarioKind, runs: RunResult[]): Aggregate {
  const ok = runs.filter((r) => r.ok)
  const m = (f: (r: RunResult) => number | null | undefined) =>
    median(ok.map(f).filter((x): x is number => typeof x === 'number'))
  const kib = (x: number | null) => (x === null ? null : x / 1024)
  return {
    subject,
    scenario,
    runs,
    ok,
    failed: runs.filter((r) => !r.ok),
    rate: m((r) => r.rate),
    rates: ok.map((r) => r.rate),
    bytesPerSec: m((r) => r.bytesPerSec),
    cpuUsPerOp: m((r) => r.cpuUsPerOp),
    subjectCpuPct: m((r) => r.subjectCpuPct),
    blasterCpuPct: m((r) => r.blasterCpuPct),
    otherCpuPct: m((r) => r.otherCpuPct),
    idleRssMiB: kib(m((r) => r.idleRssKiB)),
    peakRssMiB: kib(m((r) => r.peakRssKiB)),
    p50: m((r) => r.latency?.p50),
    p99: m((r) => r.latency?.p99),
    max: m((r) => r.latency?.max),
    rssGrowthMiB: kib(
      m((r) => (r.peakRssKiB !== null && r.idleRssKiB !== null ? r.peakRssKiB - r.idleRssKiB : null)),
    ),
    sent: m((r) => r.flood?.sent),
    lost: runs.reduce((a, r) => a + (r.flood?.lost ?? 0), 0),
    drainSeconds: m((r) => r.flood?.drainSeconds),
    floodSeconds: m((r) => r.flood?.floodSeconds),
    checked: runs.reduce((a, r) => a + r.checked, 0),
    fullChecked: runs.reduce((a, r) => a + r.fullChecked, 0),
    bad: runs.reduce((a, r) => a + r.bad, 0),
    pinned: runs.some((r) => r.pinned === true) ? true : runs.some((r) => r.pinned === false) ? false : null,
  }
}

// ---- number formatting ----

const int = (x: number | null) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en-US'))
const fix = (x: number | null, d: number) => (x === null ? 'n/a' : x.toFixed(d))
const mib = (x: number | null) => fix(x, 1)

export function ratio(sat: number | null, base: number | null): string {
  if (sat === null || base === null || base === 0) return 'n/a'
  const r = sat / base
  if (r >= 10) return `${r.toFixed(0)}x`
  if (r >= 1) return `${r.toFixed(1)}x`
  return `${r.toPrecision(2)}x`
}

/** A markdown table with padded columns, laid out the way the repo's formatter (biome) prints it. */
function table(head: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const cells = [head, ...rows].map((r) => r.map((c) => c.replace(/\|/g, '\\|')))
  const widths = head.map((_, i) => Math.max(3, ...cells.map((r) => [...(r[i] ?? '')].length)))
  const pad = (c: string, i: number) => {
    const fill = ' '.repeat(Math.max(0, (widths[i] ?? 3) - [...c].length))
    return align[i] === 'r' ? fill + c : c + fill
  }
  const sep = widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w)))
  const line = (r: string[]) => `| ${r.join(' | ')} |`
  const [h, ...body] = cells
  return [
    line((h ?? []).map((c, i) => c + ' '.repeat(Math.max(0, (widths[i] ?? 3) - [...c].length)))),
    line(sep),
  ]
    .concat(body.map((r) => line(head.map((_, i) => pad(r[i] ?? '', i)))))
    .join('\n')
}

export interface ScenarioInfo {
  kind: ScenarioKind
  title: string
  what: string
}

type Table = { info: ScenarioInfo; rows: Aggregate[] }

function rowLabel(a: Aggregate): string {
  const base = SUBJECT_LABEL[a.subject] ?? a.subject
  if (a.ok.length === 0) return `${base} — **FAILED**`
  if (a.failed.length > 0) return `${base} (${a.failed.length} run(s) failed)`
  return base
}

function cpuShares(a: Aggregate): string {
  return `${fix(a.subjectCpuPct, 0)} / ${fix(a.blasterCpuPct, 0)} / ${fix(a.otherCpuPct, 0)}`
}

function scenarioTable({ info, rows }: Table): string {
  const base = rows.find((r) => r.subject === 'xmppjs')
  const vs = (f: (a: Aggregate) => number | null, a: Aggregate) => ratio(f(a), base ? f(base) : null)
  const runsCol = (a: Aggregate) => a.rates.map((r) => int(r)).join(' / ') || 'n/a'
  switch (info.kind) {
    case 'echo':
    case 'users':
      return table(
        [
          'subject',
          'stanzas/s (median)',
          'runs',
          'subject CPU µs/stanza',
          'CPU % of a core: subject / blaster / other',
          'peak RSS MiB',
          'idle RSS MiB',
          'bad replies',
          'vs xmpp.js: throughput',
          'vs xmpp.js: CPU/stanza',
        ],
        ['l', 'r', 'l', 'r', 'l', 'r', 'r', 'r', 'r', 'r'],
        rows.map((a) => [
          rowLabel(a),
          int(a.rate),
          runsCol(a),
          fix(a.cpuUsPerOp, 2),
          cpuShares(a),
          mib(a.peakRssMiB),
          mib(a.idleRssMiB),
          String(a.bad),
          vs((x) => x.rate, a),
          vs((x) => x.cpuUsPerOp, a),
        ]),
      )
    case 'pingpong':
      return table(
        [
          'subject',
          'round trips/s',
          'p50 µs',
          'p99 µs',
          'max µs',
          'subject CPU µs/round trip',
          'pinned',
          'vs xmpp.js: p50',
          'vs xmpp.js: p99',
        ],
        ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r'],
        rows.map((a) => [
          rowLabel(a),
          int(a.rate),
          fix(a.p50, 0),
          fix(a.p99, 0),
          fix(a.max, 0),
          fix(a.cpuUsPerOp, 1),
          a.pinned === true ? 'CPU 0 (both)' : a.pinned === false ? 'no (taskset unavailable)' : 'n/a',
          vs((x) => x.p50, a),
          vs((x) => x.p99, a),
        ]),
      )
    case 'large':
      return table(
        [
          'subject',
          'MB/s (replies)',
          'stanzas/s',
          'runs (stanzas/s)',
          'subject CPU µs/stanza',
          'CPU % subject / blaster / other',
          'peak RSS MiB',
          'vs xmpp.js: MB/s',
          'vs xmpp.js: CPU/stanza',
        ],
        ['l', 'r', 'r', 'l', 'r', 'l', 'r', 'r', 'r'],
        rows.map((a) => [
          rowLabel(a),
          fix(a.bytesPerSec === null ? null : a.bytesPerSec / 1e6, 1),
          int(a.rate),
          runsCol(a),
          fix(a.cpuUsPerOp, 1),
          cpuShares(a),
          mib(a.peakRssMiB),
          vs((x) => x.bytesPerSec, a),
          vs((x) => x.cpuUsPerOp, a),
        ]),
      )
    case 'flood':
      return table(
        [
          'subject',
          'sent (median)',
          'sending for, s',
          'all answered',
          'drain after stop, s',
          'answered/s (flood + drain)',
          'idle RSS MiB',
          'peak RSS MiB',
          'RSS growth MiB',
          'vs xmpp.js: RSS growth',
        ],
        ['l', 'r', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'r'],
        rows.map((a) => [
          rowLabel(a),
          int(a.sent),
          fix(a.floodSeconds, 2),
          a.ok.length === 0 ? 'n/a' : a.lost === 0 ? 'yes' : `**no: ${a.lost} lost**`,
          fix(a.drainSeconds, 2),
          int(a.rate),
          mib(a.idleRssMiB),
          mib(a.peakRssMiB),
          mib(a.rssGrowthMiB),
          vs((x) => x.rssGrowthMiB, a),
        ]),
      )
    case 'iq':
      return table(
        [
          'subject',
          'requests/s (median)',
          'runs',
          'subject CPU µs/request',
          'CPU % subject / blaster / other',
          'peak RSS MiB',
          'vs xmpp.js: requests/s',
          'vs xmpp.js: CPU/request',
        ],
        ['l', 'r', 'l', 'r', 'l', 'r', 'r', 'r'],
        rows.map((a) => [
          rowLabel(a),
          int(a.rate),
          runsCol(a),
          fix(a.cpuUsPerOp, 2),
          cpuShares(a),
          mib(a.peakRssMiB),
          vs((x) => x.rate, a),
          vs((x) => x.cpuUsPerOp, a),
        ]),
      )
  }
}

function find(tables: Table[], kind: ScenarioKind, subject: string): Aggregate | null {
  return tables.find((t) => t.info.kind === kind)?.rows.find((r) => r.subject === subject) ?? null
}

function summaryTable(tables: Table[], subjects: string[]): string {
  type Metric = [
    string,
    ScenarioKind,
    (a: Aggregate) => number | null,
    (x: number | null) => string,
    'higher' | 'lower',
  ]
  const metrics: Metric[] = [
    ['echo, stanzas/s (window 1000)', 'echo', (a) => a.rate, int, 'higher'],
    ['echo, subject CPU µs per stanza', 'echo', (a) => a.cpuUsPerOp, (x) => fix(x, 2), 'lower'],
    ['ping-pong p50, µs', 'pingpong', (a) => a.p50, (x) => fix(x, 0), 'lower'],
    ['ping-pong p99, µs', 'pingpong', (a) => a.p99, (x) => fix(x, 0), 'lower'],
    [
      '8 KB echo, MB/s',
      'large',
      (a) => (a.bytesPerSec === null ? null : a.bytesPerSec / 1e6),
      (x) => fix(x, 1),
      'higher',
    ],
    ['8 KB echo, stanzas/s', 'large', (a) => a.rate, int, 'higher'],
    ['flood, RSS growth MiB', 'flood', (a) => a.rssGrowthMiB, mib, 'lower'],
    ['iq request/response, requests/s', 'iq', (a) => a.rate, int, 'higher'],
    ['iq, subject CPU µs per request', 'iq', (a) => a.cpuUsPerOp, (x) => fix(x, 2), 'lower'],
    ['100,000 users (wildcard route), stanzas/s', 'users', (a) => a.rate, int, 'higher'],
    ['idle RSS MiB (after handshake)', 'echo', (a) => a.idleRssMiB, mib, 'lower'],
    ['peak RSS MiB (echo, VmHWM)', 'echo', (a) => a.peakRssMiB, mib, 'lower'],
  ]
  const present = metrics.filter(([, kind]) => tables.some((t) => t.info.kind === kind))
  const rows = present.map(([name, kind, get, fmt, better]) => {
    const val = (s: string) => {
      const a = find(tables, kind, s)
      return a && a.ok.length > 0 ? get(a) : null
    }
    const sat = val('satellite')
    const base = val('xmppjs')
    return [name, ...subjects.map((s) => fmt(val(s))), ratio(sat, base), `${better} is better`]
  })
  const floodAll = tables.find((t) => t.info.kind === 'flood')
  if (floodAll) {
    rows.push([
      'flood, every message answered',
      ...subjects.map((s) => {
        const a = find(tables, 'flood', s)
        return !a || a.ok.length === 0 ? 'n/a' : a.lost === 0 ? 'yes' : `no (${a.lost} lost)`
      }),
      '',
      '',
    ])
  }
  return table(
    ['metric', ...subjects.map((s) => SHORT_LABEL[s] ?? s), 'Satellite vs xmpp.js', ''],
    ['l', ...subjects.map(() => 'r' as const), 'r', 'l'],
    rows,
  )
}

export interface ReportInput {
  facts: MachineFacts
  date: string
  mode: string
  subjects: string[]
  tables: Table[]
  pinNote: string
  failures: string[]
  svgName: string
}

export function markdownReport(input: ReportInput): string {
  const { facts, tables } = input
  const out: string[] = []
  out.push(`_Generated by \`pnpm bench\` on ${input.date}: ${input.mode}._`)
  out.push('')
  out.push(
    `Machine: Node ${facts.node}, ${facts.cpu}, ${facts.nproc} CPUs (\`nproc\`), ${facts.os}. ` +
      `All traffic on 127.0.0.1.${input.pinNote ? ` ${input.pinNote}` : ''}`,
  )
  out.push('')
  out.push(`![Echo throughput and CPU per stanza](${input.svgName})`)
  out.push('')
  out.push('### Summary (medians)')
  out.push('')
  out.push(summaryTable(tables, input.subjects))
  for (const t of tables) {
    out.push('')
    out.push(`### ${t.info.title}`)
    out.push('')
    out.push(t.info.what)
    out.push('')
    out.push(scenarioTable(t))
  }
  const checked = tables.flatMap((t) => t.rows).reduce((a, r) => a + r.checked, 0)
  const full = tables.flatMap((t) => t.rows).reduce((a, r) => a + r.fullChecked, 0)
  const bad = tables.flatMap((t) => t.rows).reduce((a, r) => a + r.bad, 0)
  out.push('')
  out.push(
    `Verification: ${checked.toLocaleString('en-US')} replies had their id checked, ${full.toLocaleString('en-US')} of them ` +
      `also from/to/type/body; ${bad} bad replies.`,
  )
  if (input.failures.length > 0) {
    out.push('')
    out.push('**Failed runs:**')
    out.push('')
    for (const f of input.failures) out.push(`- ${f.replace(/\n/g, ' ⏎ ')}`)
  }
  return out.join('\n')
}

// ---- SVG chart (hand-written, no library) ----

const COLORS: Record<string, string> = { raw: '#9e9e9e', xmppjs: '#f08c00', satellite: '#1c7ed6' }

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
}

export function svgChart(tables: Table[], subjects: string[], caption: string): string {
  type Panel = {
    title: string
    kind: ScenarioKind
    get: (a: Aggregate) => number | null
    fmt: (x: number) => string
  }
  const allPanels: Panel[] = [
    {
      title: 'Echo, window 1000: stanzas/s (higher is better)',
      kind: 'echo',
      get: (a) => a.rate,
      fmt: (x) => int(x),
    },
    {
      title: 'Echo: subject CPU µs per stanza (lower is better)',
      kind: 'echo',
      get: (a) => a.cpuUsPerOp,
      fmt: (x) => `${x.toFixed(2)} µs`,
    },
    {
      title: '100,000 users, wildcard route: stanzas/s (higher is better)',
      kind: 'users',
      get: (a) => a.rate,
      fmt: (x) => int(x),
    },
    {
      title: '8 KB bodies: MB/s (higher is better)',
      kind: 'large',
      get: (a) => (a.bytesPerSec === null ? null : a.bytesPerSec / 1e6),
      fmt: (x) => `${x.toFixed(1)} MB/s`,
    },
    {
      title: 'iq request/response: requests/s (higher is better)',
      kind: 'iq',
      get: (a) => a.rate,
      fmt: (x) => int(x),
    },
  ]
  const panels = allPanels.filter((p) => tables.some((t) => t.info.kind === p.kind))

  const width = 760
  const labelW = 150
  const barMax = width - labelW - 130
  const barH = 20
  const gap = 6
  const panelH = 34 + subjects.length * (barH + gap) + 10
  const height = 40 + panels.length * panelH + 20
  const parts: string[] = []
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif" font-size="13" role="img">`,
  )
  parts.push(`<title>${esc(caption)}</title>`)
  parts.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`)
  parts.push(`<text x="12" y="24" font-size="15" font-weight="bold">${esc(caption)}</text>`)
  let y = 40
  for (const p of panels) {
    parts.push(`<text x="12" y="${y + 18}" font-weight="bold" fill="#333">${esc(p.title)}</text>`)
    const vals = subjects.map((s) => {
      const a = find(tables, p.kind, s)
      return a && a.ok.length > 0 ? p.get(a) : null
    })
    // The raw floor can be 20x the libraries: scale to the libraries and break the raw bar's axis instead.
    const libMax = Math.max(0, ...subjects.map((s, i) => (s === 'raw' ? 0 : (vals[i] ?? 0))))
    const allMax = Math.max(1e-9, ...vals.map((v) => v ?? 0))
    const max = libMax > 0 && allMax > libMax * 1.5 ? libMax * 1.15 : allMax
    const base = vals[subjects.indexOf('xmppjs')] ?? null
    subjects.forEach((s, i) => {
      const v = vals[i] ?? null
      const by = y + 30 + i * (barH + gap)
      const broken = v !== null && v > max
      const w = v === null ? 0 : Math.max(1, Math.min(1, v / max) * barMax)
      parts.push(
        `<text x="${labelW - 8}" y="${by + 15}" text-anchor="end" fill="#333">${esc(SHORT_LABEL[s] ?? s)}</text>`,
      )
      parts.push(
        `<rect x="${labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" rx="2" fill="${COLORS[s] ?? '#666'}"/>`,
      )
      if (broken) {
        const bx = labelW + w * 0.6
        parts.push(
          `<path d="M${bx - 4} ${by + barH + 2} L${bx + 2} ${by - 2} M${bx + 4} ${by + barH + 2} L${bx + 10} ${by - 2}" stroke="#ffffff" stroke-width="3"/>`,
        )
      }
      let label = v === null ? 'n/a' : p.fmt(v)
      if (s === 'satellite' && v !== null && base !== null) label += ` (${ratio(v, base)} xmpp.js)`
      if (broken) label += ' (axis broken)'
      const tx = broken ? labelW + w - 6 : labelW + w + 6
      parts.push(
        `<text x="${tx.toFixed(1)}" y="${by + 15}"${broken ? ' text-anchor="end" fill="#ffffff"' : ' fill="#111"'}>${esc(label)}</text>`,
      )
    })
    y += panelH
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
