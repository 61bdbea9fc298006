// The muc scenario group in `pnpm bench`: its plan (full and quick), the progress line of one run and the
// table of docs/performance.md (medians over the rounds, with the range when there are several).
import type { MucPlan, MucResult, Quantiles } from './muc.js'

/** Full: 1,000 occupants and rooms, 1,000,000 archived messages. Quick: the same room, a small archive. */
export function mucPlan(quick: boolean, archive: number | null): MucPlan {
  return {
    occupants: 1000,
    rooms: 1000,
    window: 4,
    warmupMs: quick ? 300 : 1000,
    durationMs: quick ? 1000 : 3000,
    latencySamples: quick ? 20 : 200,
    archive: archive ?? (quick ? 10_000 : 1_000_000),
    mamQueries: quick ? 20 : 100,
  }
}

const int = (n: number) => Math.round(n).toLocaleString('en-US')
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n.toFixed(1))
const kib = (bytes: number) => (bytes / 1024).toFixed(1)

export function fmtMucRun(r: MucResult): string {
  if (!r.ok) return `FAILED: ${r.error ?? 'unknown'}`
  return [
    `${int(r.deliveriesPerSec)} deliveries/s`,
    r.cpuUsPerDelivery === null ? '' : `${r.cpuUsPerDelivery.toFixed(2)} µs CPU/delivery`,
    `fan-out p99 ${ms(r.fanoutMs?.p99 ?? 0)} ms`,
    `join ${int(r.joinMs)} ms`,
    `${kib(r.heapPerOccupant)} KiB heap/occupant`,
    `${kib(r.heapPerRoom)} KiB heap/room`,
    `MAM last page p99 ${ms(r.lastPageMs?.p99 ?? 0)} ms of ${int(r.archive)}`,
  ]
    .filter(Boolean)
    .join(', ')
}

function median(values: number[]): number {
  const a = [...values].sort((x, y) => x - y)
  const mid = Math.floor(a.length / 2)
  return a.length % 2 === 1 ? (a[mid] as number) : ((a[mid - 1] as number) + (a[mid] as number)) / 2
}

/** Median of the rounds, and "(min–max)" when there is more than one round. */
function cell(
  rs: MucResult[],
  pick: (r: MucResult) => number | null | undefined,
  fmt: (n: number) => string,
) {
  const v = rs.map(pick).filter((x): x is number => typeof x === 'number' && Number.isFinite(x))
  if (v.length === 0) return 'n/a'
  const range = v.length > 1 ? ` (${fmt(Math.min(...v))}–${fmt(Math.max(...v))})` : ''
  return `${fmt(median(v))}${range}`
}

const q = (f: (r: MucResult) => Quantiles | null, k: 'p50' | 'p99') => (r: MucResult) => f(r)?.[k]

/** The muc section of the report (markdown), or the failures. */
export function mucMarkdown(results: MucResult[], plan: MucPlan, mode: string): string {
  const ok = results.filter((r) => r.ok)
  const lines: string[] = [
    '### (g) Chatrooms: `@satellite/muc` (Satellite only)',
    '',
    `${mode}. @xmpp/component has no room engine, so there is nothing to compare with: the xmpp.js and raw columns ` +
      "do not exist for these rows. The bench's fake server (no XMPP library) plays the users; the subject is " +
      '`bench/src/subjects/muc.ts` (every room persistent, limits raised so that 1,000 occupants fit and the rate ' +
      'limit does not throttle). Memory is read in the subject after two full GCs (`node --expose-gc`).',
    '',
    '| Measure | Satellite | Target (#16) |',
    '| --- | --- | --- |',
  ]
  const row = (what: string, value: string, target = '') => lines.push(`| ${what} | ${value} | ${target} |`)
  if (ok.length > 0) {
    row(
      `Groupchat deliveries/s leaving the component, room of ${int(plan.occupants)}, ${plan.window} messages in flight`,
      cell(ok, (r) => r.deliveriesPerSec, int),
      '≥ 250,000/s',
    )
    row(
      'Subject CPU per delivery (µs)',
      cell(
        ok,
        (r) => r.cpuUsPerDelivery,
        (n) => n.toFixed(2),
      ),
    )
    row(
      'Fan-out of one message, send → last of 1,000 deliveries read, p50 / p99 (ms)',
      `${cell(
        ok,
        q((r) => r.fanoutMs, 'p50'),
        ms,
      )} / ${cell(
        ok,
        q((r) => r.fanoutMs, 'p99'),
        ms,
      )}`,
    )
    row(
      'Fan-out spread, first → last delivery read, p50 / p99 (ms)',
      `${cell(
        ok,
        q((r) => r.spreadMs, 'p50'),
        ms,
      )} / ${cell(
        ok,
        q((r) => r.spreadMs, 'p99'),
        ms,
      )}`,
    )
    row(
      `Fan-out under load (${plan.window} in flight), send → last delivery, p50 / p99 (ms)`,
      `${cell(
        ok,
        q((r) => r.loadedFanoutMs, 'p50'),
        ms,
      )} / ${cell(
        ok,
        q((r) => r.loadedFanoutMs, 'p99'),
        ms,
      )}`,
    )
    row(
      `Join of ${int(plan.occupants)} users in one burst, until the last has its subject (ms; ${int(
        plan.occupants * plan.occupants + plan.occupants,
      )} stanzas out)`,
      cell(ok, (r) => r.joinMs, int),
    )
    row(
      'Heap per idle occupant (KiB)',
      cell(
        ok,
        (r) => r.heapPerOccupant / 1024,
        (n) => n.toFixed(2),
      ),
    )
    row(
      'RSS delta / occupants (KiB; mostly pages the join burst left, see below)',
      cell(
        ok,
        (r) => r.rssPerOccupant / 1024,
        (n) => n.toFixed(1),
      ),
    )
    row(
      `Heap per idle persistent room, ${int(plan.rooms)} rooms (KiB)`,
      cell(
        ok,
        (r) => r.heapPerRoom / 1024,
        (n) => n.toFixed(2),
      ),
    )
    row(
      'RSS delta / rooms (KiB)',
      cell(
        ok,
        (r) => r.rssPerRoom / 1024,
        (n) => n.toFixed(1),
      ),
    )
    if (plan.archive > 0) {
      row(
        `MAM page of 50, last page (\`<before/>\`), archive of ${int(plan.archive)} in SqliteMucStore, p50 / p99 (ms)`,
        `${cell(
          ok,
          q((r) => r.lastPageMs, 'p50'),
          ms,
        )} / ${cell(
          ok,
          q((r) => r.lastPageMs, 'p99'),
          ms,
        )}`,
        'p99 ≤ 10 ms',
      )
      row(
        'MAM page of 50 after a random id, p50 / p99 (ms)',
        `${cell(
          ok,
          q((r) => r.afterPageMs, 'p50'),
          ms,
        )} / ${cell(
          ok,
          q((r) => r.afterPageMs, 'p99'),
          ms,
        )}`,
        'p99 ≤ 10 ms',
      )
      row(
        'Archive build (one transaction, ms) and file size (MiB)',
        `${cell(ok, (r) => r.archiveBuildMs, int)}; ${cell(
          ok,
          (r) => r.archiveFileMiB,
          (n) => n.toFixed(0),
        )}`,
      )
    }
  }
  lines.push('')
  lines.push(
    `Fan-out: messages from the occupants in turn, ${plan.window} in flight, each reflected to all ` +
      `${int(plan.occupants)} (sender included); every delivery's id counted, every 997th checked in full ` +
      "(from the sender's occupant JID, type, body, stanza-id by the room, occupant-id). Latency is read by the " +
      'fake server, so it includes its own reading. The join counts and checks every stanza (n² + n). MAM: ' +
      `${plan.mamQueries} queries of each kind, one at a time, by an occupant; each page's 50 results, first/last ` +
      "ids and count checked. The archive is written straight into the store's table in a temp dir, deleted after. " +
      'Memory: the heap rows are the cost; the RSS deltas are not per-occupant costs (the burst of n² presences ' +
      'grows the heap, V8 keeps the freed pages, so RSS after the joins is mostly that, and can then fall).',
  )
  const failed = results.filter((r) => !r.ok)
  if (failed.length > 0) {
    lines.push('')
    for (const f of failed) lines.push(`- muc run FAILED: ${f.error ?? 'unknown'}`)
  }
  return lines.join('\n')
}
