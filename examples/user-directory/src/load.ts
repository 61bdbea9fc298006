// Load test (not part of the test suite): seeds N entries (default 100,000) and reports
// search latency p50/p99 for prefix and full-text queries, directly against the store and
// through the component on the embedded server.
// Run: pnpm --filter user-directory load   (LOAD_ENTRIES=100000 LOAD_QUERIES=300 LOAD_DB=:memory:)
// On PostgreSQL: LOAD_DB=postgres://… (the entries go to a schema of their own, dropped at the end).
import { component, xml } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { createServer } from '@satellite/testing'
import { POSTGRES } from './options.js'
import { directory } from './service.js'
import { sqliteStore } from './sqlite-store.js'
import type { DirectoryEntry, DirectoryQuery, DirectoryStore, EntryField } from './store.js'
import { FIELDS } from './store.js'

const N = Number(process.env.LOAD_ENTRIES ?? 100_000)
const QUERIES = Number(process.env.LOAD_QUERIES ?? 300)
const DB = process.env.LOAD_DB ?? ':memory:'

// Deterministic pseudo-random generator (mulberry32).
let seed = 42
function rnd(): number {
  seed |= 0
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}
const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)] as T
const SYL = [
  'al',
  'be',
  'ca',
  'do',
  'el',
  'fa',
  'gi',
  'ho',
  'ka',
  'li',
  'mo',
  'na',
  'or',
  'pe',
  'ri',
  'sa',
  'ta',
  'ul',
  'vi',
  'zo',
]
const word = (n = 2 + Math.floor(rnd() * 3)) => Array.from({ length: n }, () => pick(SYL)).join('')
const cap = (s: string) => s[0]?.toUpperCase() + s.slice(1)
const TOWNS = Array.from({ length: 500 }, () => cap(word(3)))
const COUNTRIES = [
  'France',
  'Germany',
  'Italy',
  'Spain',
  'Portugal',
  'Norway',
  'Japan',
  'Brazil',
  'Canada',
  'Kenya',
]
const TOPICS = [
  'music',
  'hiking',
  'chess',
  'cooking',
  'photography',
  'linux',
  'xmpp',
  'gardening',
  'cycling',
  'poetry',
]

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}
function report(label: string, samples: number[], hits: number[]): string {
  const s = [...samples].sort((a, b) => a - b)
  const avgHits = hits.reduce((a, b) => a + b, 0) / Math.max(1, hits.length)
  return `${label.padEnd(44)} p50 ${percentile(s, 50).toFixed(2).padStart(7)} ms   p99 ${percentile(s, 99).toFixed(2).padStart(7)} ms   (${samples.length} queries, ${avgHits.toFixed(0)} matches on average)`
}

const KINDS: Record<string, () => DirectoryQuery> = {
  'prefix, nick (2 letters)': () => ({ nick: pick(SYL) }),
  'prefix, nick (4 letters)': () => ({ nick: pick(SYL) + pick(SYL) }),
  'prefix, full name (2 words)': () => ({ fullname: `${pick(SYL)} ${pick(SYL)}${pick(SYL)}` }),
  'full text, any field (1 word)': () => ({ text: pick(TOPICS) }),
  'full text, any field (2 words)': () => ({ text: `${pick(TOPICS)} ${pick(COUNTRIES)}` }),
}

function entry(i: number): Omit<DirectoryEntry, 'updated'> {
  const first = cap(word())
  const last = cap(word())
  const published: EntryField[] = FIELDS.filter((f) => f !== 'email' || rnd() < 0.3)
  return {
    jid: `user${i}@localhost`,
    nick: `${first}${i % 100}`,
    fullname: `${first} ${last}`,
    locality: pick(TOWNS),
    country: pick(COUNTRIES),
    email: `${first.toLowerCase()}.${last.toLowerCase()}@example.org`,
    about: `I like ${pick(TOPICS)} and ${pick(TOPICS)}. ${cap(word())} ${word()} ${word()}.`,
    published,
  }
}

const schema = `directory_load_${process.pid}`
let store: DirectoryStore
let dropSchema: (() => Promise<unknown>) | undefined
let t0 = performance.now()
if (POSTGRES.test(DB)) {
  const { postgresStore } = await import('./postgres-store.js')
  const pg = await postgresStore(DB, { schema })
  console.log(`seeding ${N} entries into ${pg.db.url} (schema ${schema})...`)
  t0 = performance.now()
  for (let i = 0; i < N; i += 1_000) {
    const batch = Array.from({ length: Math.min(N, i + 1_000) - i }, (_, k) => pg.put(entry(i + k)))
    await Promise.all(batch)
  }
  store = pg
  dropSchema = () => pg.db.sql.unsafe(`DROP SCHEMA ${schema} CASCADE`)
} else {
  const sqlite = sqliteStore({ path: DB })
  console.log(`seeding ${N} entries into ${DB}...`)
  // The SQLite store writes at the call (its promise is already settled): a transaction holds them.
  const insert = sqlite.db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) void sqlite.put(entry(i))
  })
  for (let i = 0; i < N; i += 10_000) insert(i, Math.min(N, i + 10_000))
  store = sqlite
}
console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s (${await store.count()} entries)\n`)

console.log(
  'directly against the store (search of up to 500 matches, then the public rows of a 20-item page):',
)
for (const [label, make] of Object.entries(KINDS)) {
  const samples: number[] = []
  const hits: number[] = []
  for (let i = 0; i < QUERIES; i++) {
    const q = make()
    t0 = performance.now()
    const matches = await store.search(q, 500)
    await store.publicEntries(matches.slice(0, 20).map((m) => m.jid))
    samples.push(performance.now() - t0)
    hits.push(matches.length)
  }
  console.log(report(label, samples, hits))
}

// Through the component: embedded server, a client asking with the search form.
const DOMAIN = 'directory.localhost'
const srv = await createServer({ components: { [DOMAIN]: 'secret' } })
const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 'secret' })
const dir = directory(xmpp, { store, rateLimit: { burst: 1e9, perMinute: 1e9 } })
await xmpp.start()
const client = srv.client('loader@localhost/bench')
console.log('\nthrough the component (embedded server, form search, 20-item page, round trip):')
for (const [label, make] of Object.entries(KINDS)) {
  const samples: number[] = []
  const hits: number[] = []
  for (let i = 0; i < QUERIES; i++) {
    const q = make() as Record<string, string>
    t0 = performance.now()
    const answer = await client.request(
      xml(
        'iq',
        { type: 'set', to: DOMAIN },
        xml('query', { xmlns: 'jabber:iq:search' }, submitForm(q, { formType: 'jabber:iq:search' })),
      ),
      10_000,
    )
    samples.push(performance.now() - t0)
    const count = answer.getChild('query')?.getChild('set')?.getChildText('count')
    hits.push(Number(count ?? 0))
  }
  console.log(report(label, samples, hits))
}
await xmpp.stop()
await dir.close()
await srv.close()
await dropSchema?.()
await store.close()
