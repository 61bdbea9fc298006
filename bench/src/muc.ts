// The muc scenario group (issue #16): `@satellite/muc` measured from the outside, over XEP-0114, against
// the bench's own fake server (muc-link.ts). Satellite only: @xmpp/component has no room engine.
//
// Run 1 (MemoryStore): N users join one room in one burst (time until the last joiner has its subject);
// memory per idle occupant (heap after a full GC, and RSS, before and after the joins, / N); memory per idle
// persistent room (R rooms each joined and left by one user, / R); then groupchat fan-out in that room:
// messages from the occupants in turn, `window` of them in flight, each reflected to all N occupants
// (deliveries/s leaving the component), and one message at a time for the fan-out latency (send to last
// delivery read; first to last delivery read).
// Run 2 (SqliteMucStore, temp file): an archive of M messages written straight into the store's table (one
// prepared insert in one transaction), then MAM queries of 50, one at a time, by an occupant: the last page
// (`<before/>`) and pages after a random id; latency from send to the iq result, every page checked.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteMucStore } from '@satellite/muc'
import { MUC_DOMAIN, MucLink, tagAttr } from './muc-link.js'
import { processCpuUs } from './procfs.js'
import { K_FROM, K_ID, K_TO, K_TYPE, quantile, sleep } from './wire.js'

export interface MucPlan {
  occupants: number
  rooms: number
  window: number
  warmupMs: number
  durationMs: number
  latencySamples: number
  archive: number
  mamQueries: number
  joinLimitMs?: number
}

export interface Quantiles {
  p50: number
  p99: number
  n: number
}

export interface MucResult {
  ok: boolean
  error: string | null
  occupants: number
  joinMs: number
  joinStanzas: number
  heapPerOccupant: number
  rssPerOccupant: number
  rooms: number
  heapPerRoom: number
  rssPerRoom: number
  deliveriesPerSec: number
  cpuUsPerDelivery: number | null
  /** Send to last delivery (ms) with `window` messages in flight. */
  loadedFanoutMs: Quantiles | null
  /** One message in flight: send to last delivery, first to last delivery (ms). */
  fanoutMs: Quantiles | null
  spreadMs: Quantiles | null
  archive: number
  archiveBuildMs: number
  archiveFileMiB: number
  lastPageMs: Quantiles | null
  afterPageMs: Quantiles | null
  checked: number
}

const ROOM = `room@${MUC_DOMAIN}`
const ARCHIVE_ROOM = `archive@${MUC_DOMAIN}`
const now = () => performance.now()

function quantiles(values: number[]): Quantiles {
  const a = Float64Array.from(values).sort()
  return { p50: quantile(a, 0.5), p99: quantile(a, 0.99), n: a.length }
}

function join1(user: string, room: string, nick: string): string {
  return `<presence from='${user}@localhost/r' to='${room}/${nick}'><x xmlns='http://jabber.org/protocol/muc'/></presence>`
}

/** The subject's heap (after a full GC) and RSS, in bytes. */
async function memory(link: MucLink, n: number): Promise<{ heap: number; rss: number }> {
  let got: { heap: number; rss: number; gc: boolean } | null = null
  link.reader = (s, start, tagEnd, _stop, name) => {
    if (name !== 'message' || tagAttr(s, start, tagEnd, K_ID) !== `mem${n}`) return
    const b0 = s.indexOf('<body>', tagEnd)
    got = JSON.parse(s.slice(b0 + 6, s.indexOf('</body>', b0))) as { heap: number; rss: number; gc: boolean }
  }
  link.write(
    `<message from='driver@localhost/r' to='bench@${MUC_DOMAIN}' id='mem${n}'><body>mem</body></message>`,
  )
  await link.until(() => got !== null, 15_000, 'the memory reading')
  const m = got as unknown as { heap: number; rss: number; gc: boolean }
  if (!m.gc) throw new Error('the subject has no gc() (node --expose-gc missing)')
  return m
}

export async function runMuc(plan: MucPlan): Promise<MucResult> {
  const r: MucResult = {
    ok: false,
    error: null,
    occupants: plan.occupants,
    joinMs: 0,
    joinStanzas: 0,
    heapPerOccupant: 0,
    rssPerOccupant: 0,
    rooms: plan.rooms,
    heapPerRoom: 0,
    rssPerRoom: 0,
    deliveriesPerSec: 0,
    cpuUsPerDelivery: null,
    loadedFanoutMs: null,
    fanoutMs: null,
    spreadMs: null,
    archive: plan.archive,
    archiveBuildMs: 0,
    archiveFileMiB: 0,
    lastPageMs: null,
    afterPageMs: null,
    checked: 0,
  }
  try {
    await roomRun(plan, r)
    if (plan.archive > 0) await archiveRun(plan, r)
    r.ok = true
  } catch (err) {
    r.error = err instanceof Error ? err.message : String(err)
  }
  return r
}

async function roomRun(plan: MucPlan, r: MucResult): Promise<void> {
  const link = new MucLink()
  try {
    await link.start({})
    await sleep(250)
    const n = plan.occupants
    const m0 = await memory(link, 0)

    // ---- joins: all N presences in one write; done when every joiner got its subject ----
    let subjects = 0
    let selfPresences = 0
    let stanzas = 0
    link.reader = (s, start, tagEnd, stop, name) => {
      stanzas++
      const inner = s.slice(tagEnd, stop)
      if (name === 'message' && inner.includes('<subject')) subjects++
      else if (name === 'presence' && /code=['"]110['"]/.test(inner)) selfPresences++
      else if (name === 'presence' && tagAttr(s, start, tagEnd, K_TYPE) === 'error')
        link.fail(`join refused: ${s.slice(start, Math.min(stop, start + 300))}`)
    }
    let joins = ''
    for (let i = 0; i < n; i++) joins += join1(`u${i}`, ROOM, `u${i}`)
    const t0 = now()
    link.write(joins)
    await link
      .until(() => subjects >= n, plan.joinLimitMs ?? 120_000, `${n} joins`)
      .catch((err: Error) => {
        throw new Error(
          `${err.message} (${subjects} subjects, ${selfPresences} self-presences, ${stanzas} stanzas)`,
        )
      })
    r.joinMs = now() - t0
    await link.until(() => stanzas >= n * n + n && now() - link.lastData > 100, 10_000, 'the join traffic')
    r.joinStanzas = stanzas
    if (selfPresences !== n) throw new Error(`joins: ${selfPresences} self-presences (110) for ${n} joiners`)
    if (stanzas !== n * n + n) throw new Error(`joins: ${stanzas} stanzas, expected ${n * n + n}`)
    const m1 = await memory(link, 1)
    r.heapPerOccupant = (m1.heap - m0.heap) / n
    r.rssPerOccupant = (m1.rss - m0.rss) / n

    // ---- idle persistent rooms: each joined and left by one user ----
    let left = 0
    link.reader = (s, start, tagEnd, _stop, name) => {
      if (name === 'presence' && tagAttr(s, start, tagEnd, K_TYPE) === 'unavailable') left++
    }
    let batch = ''
    for (let i = 0; i < plan.rooms; i++) {
      batch += join1(`p${i}`, `idle${i}@${MUC_DOMAIN}`, 'p')
      batch += `<presence from='p${i}@localhost/r' to='idle${i}@${MUC_DOMAIN}/p' type='unavailable'/>`
    }
    link.write(batch)
    await link.until(() => left >= plan.rooms, 60_000, `${plan.rooms} rooms joined and left`)
    const m2 = await memory(link, 2)
    r.heapPerRoom = (m2.heap - m1.heap) / plan.rooms
    r.rssPerRoom = (m2.rss - m1.rss) / plan.rooms

    await fanout(link, plan, r)
  } finally {
    await link.stop()
  }
}

async function fanout(link: MucLink, plan: MucPlan, r: MucResult): Promise<void> {
  const n = plan.occupants
  const sentAt: number[] = []
  const firstAt: number[] = []
  const got: number[] = []
  let next = 0
  let complete = 0
  let deliveries = 0
  let inFlightLimit = plan.window
  let sending = true
  let loaded: number[] = []
  const single: number[] = []
  const spread: number[] = []
  let measuring = false
  const send = (k: number) => {
    let out = ''
    for (let i = 0; i < k; i++) {
      const seq = next++
      sentAt[seq] = now()
      got[seq] = 0
      out += `<message from='u${seq % n}@localhost/r' to='${ROOM}' type='groupchat' id='g${seq}'><body>hello ${seq}</body></message>`
    }
    link.write(out)
  }
  link.reader = (s, start, tagEnd, stop, name) => {
    const id = name === 'message' ? tagAttr(s, start, tagEnd, K_ID) : undefined
    const seq = id !== undefined && id.charCodeAt(0) === 103 ? Number(id.slice(1)) : Number.NaN
    if (!(seq >= 0 && seq < next) || got[seq] === undefined || (got[seq] as number) >= n) {
      link.fail(`fan-out: unexpected stanza ${s.slice(start, Math.min(stop, start + 300))}`)
      return
    }
    const c = (got[seq] as number) + 1
    got[seq] = c
    deliveries++
    if (c === 1) firstAt[seq] = now()
    if (deliveries % 997 === 1) checkDelivery(link, s, start, tagEnd, stop, seq, n, r)
    if (c < n) return
    const t = now()
    complete++
    if (measuring) loaded.push(t - (sentAt[seq] as number))
    if (inFlightLimit === 1) {
      single.push(t - (sentAt[seq] as number))
      spread.push(t - (firstAt[seq] as number))
    }
    if (sending && next - complete < inFlightLimit) send(inFlightLimit - (next - complete))
  }
  send(inFlightLimit)
  await sleep(plan.warmupMs)
  const pid = link.pid
  const d0 = deliveries
  const c0 = processCpuUs(pid)
  const t0 = now()
  measuring = true
  await sleep(plan.durationMs)
  const d1 = deliveries
  const c1 = processCpuUs(pid)
  const t1 = now()
  measuring = false
  if (link.failure !== null) throw new Error(link.failure)
  r.deliveriesPerSec = ((d1 - d0) * 1000) / (t1 - t0)
  r.cpuUsPerDelivery = c0 !== null && c1 !== null && d1 > d0 ? (c1 - c0) / (d1 - d0) : null
  r.loadedFanoutMs = quantiles(loaded)
  loaded = []
  // Drain, then one message at a time.
  sending = false
  await link.until(() => complete === next, 30_000, 'the fan-out to drain')
  inFlightLimit = 1
  sending = true
  const target = complete + plan.latencySamples
  send(1)
  await link.until(() => complete >= target, 60_000, 'the single-message fan-outs')
  sending = false
  await link.until(() => complete === next, 10_000, 'the last fan-out')
  r.fanoutMs = quantiles(single)
  r.spreadMs = quantiles(spread)
}

/** Full check of one delivery: from the sender's occupant JID to an occupant, groupchat, with ids and body. */
function checkDelivery(
  link: MucLink,
  s: string,
  start: number,
  tagEnd: number,
  stop: number,
  seq: number,
  n: number,
  r: MucResult,
): void {
  r.checked++
  const from = tagAttr(s, start, tagEnd, K_FROM)
  const to = tagAttr(s, start, tagEnd, K_TO) ?? ''
  const text = s.slice(tagEnd, stop)
  const ok =
    from === `${ROOM}/u${seq % n}` &&
    /^u\d+@localhost\/r$/.test(to) &&
    tagAttr(s, start, tagEnd, K_TYPE) === 'groupchat' &&
    text.includes(`<body>hello ${seq}</body>`) &&
    text.includes('urn:xmpp:sid:0') &&
    (text.includes(`by='${ROOM}'`) || text.includes(`by="${ROOM}"`)) &&
    text.includes('urn:xmpp:occupant-id:0')
  if (!ok) link.fail(`fan-out: bad delivery ${s.slice(start, Math.min(stop, start + 400))}`)
}

/** Fills a SQLite archive of `count` messages in one transaction; returns its path (in a temp dir). */
function buildArchive(dir: string, count: number): string {
  const path = join(dir, 'archive.db')
  const store = new SqliteMucStore({ path })
  try {
    store.saveRoom({ jid: ARCHIVE_ROOM, config: { persistent: true }, subject: '', created: Date.now() })
    const insert = store.db.prepare(
      'INSERT INTO muc_archive (room, id, at, nick, occupant_id, jid, message) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    const base = Date.now() - count * 1000
    store.db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const nick = `n${i % 100}`
        insert.run(
          ARCHIVE_ROOM,
          `a${i}`,
          base + i * 1000,
          nick,
          `o${i % 100}`,
          `${nick}@localhost/r`,
          `<message xmlns='jabber:client' from='${ARCHIVE_ROOM}/${nick}' type='groupchat' id='c${i}'><body>archived message number ${i}</body><stanza-id xmlns='urn:xmpp:sid:0' id='a${i}' by='${ARCHIVE_ROOM}'/><occupant-id xmlns='urn:xmpp:occupant-id:0' id='o${i % 100}'/></message>`,
        )
      }
    })()
  } finally {
    store.close()
  }
  return path
}

async function archiveRun(plan: MucPlan, r: MucResult): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'satellite-bench-mam-'))
  const link = new MucLink()
  try {
    const t0 = now()
    const path = buildArchive(dir, plan.archive)
    r.archiveBuildMs = now() - t0
    r.archiveFileMiB =
      ['', '-wal'].reduce(
        (sum, ext) => sum + (statSync(path + ext, { throwIfNoEntry: false })?.size ?? 0),
        0,
      ) /
      (1024 * 1024)
    await link.start({ BENCH_MUC_DB: path }, 60_000)
    let joined = false
    link.reader = (s, _start, tagEnd, stop, name) => {
      if (name === 'message' && s.lastIndexOf('<subject', stop) > tagEnd) joined = true
    }
    link.write(join1('reader', ARCHIVE_ROOM, 'reader'))
    await link.until(() => joined, 30_000, 'the archive reader to join')
    r.lastPageMs = quantiles(await pages(link, plan, r, 'last'))
    r.afterPageMs = quantiles(await pages(link, plan, r, 'after'))
  } finally {
    await link.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** `plan.mamQueries` MAM queries of 50, one at a time; each page's first and last ids and its count checked. */
async function pages(link: MucLink, plan: MucPlan, r: MucResult, kind: 'last' | 'after'): Promise<number[]> {
  const total = plan.archive
  const out: number[] = []
  for (let q = 0; q < plan.mamQueries; q++) {
    const from = kind === 'last' ? total - 50 : Math.floor(Math.random() * (total - 51)) + 1
    const set = kind === 'last' ? '<before/>' : `<after>a${from - 1}</after>`
    const qid = `${kind}${q}`
    let results = 0
    let fin: string | null = null
    link.reader = (s, start, tagEnd, stop, name) => {
      if (name === 'message' && s.slice(tagEnd, stop).includes(`queryid='${qid}'`)) results++
      else if (name === 'message' && s.slice(tagEnd, stop).includes(`queryid="${qid}"`)) results++
      else if (name === 'iq' && tagAttr(s, start, tagEnd, K_ID) === qid) fin = s.slice(start, stop)
      else link.fail(`mam: unexpected stanza ${s.slice(start, Math.min(stop, start + 300))}`)
    }
    const t0 = now()
    link.write(
      `<iq type='set' id='${qid}' from='reader@localhost/r' to='${ARCHIVE_ROOM}'><query xmlns='urn:xmpp:mam:2' queryid='${qid}'><set xmlns='http://jabber.org/protocol/rsm'><max>50</max>${set}</set></query></iq>`,
    )
    await link.until(() => fin !== null, 30_000, `MAM query ${qid}`)
    out.push(now() - t0)
    const f = fin as unknown as string
    const want = [`>a${from}</first>`, `>a${from + 49}</last>`, `<count>${total}</count>`]
    if (results !== 50 || !/type=['"]result['"]/.test(f) || want.some((w) => !f.includes(w)))
      throw new Error(`mam: page ${qid} wrong (${results} results): ${f.slice(0, 400)}`)
    r.checked++
  }
  return out
}
