// The DirectoryStore contract (examples/user-directory/test/store-contract.ts) against the PostgreSQL
// store on a real PostgreSQL 15 (scripts/postgres, started by e2e/setup), each store in a schema of
// its own; then what only PostgreSQL has (instances sharing one database, its migrations), the same
// results as SQLite's FTS5 on a generated directory, and the directory service on it.
import { component, xml } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { openPostgres } from '@satellite/postgres'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer } from '@satellite/testing'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { directoryFromEnv } from '../../examples/user-directory/src/bot.js'
import {
  documentVector,
  POSTGRES_MIGRATIONS,
  type PostgresDirectoryStore,
  postgresStore,
  tsQuery,
} from '../../examples/user-directory/src/postgres-store.js'
import { openDirectoryStore } from '../../examples/user-directory/src/service.js'
import { sqliteStore } from '../../examples/user-directory/src/sqlite-store.js'
import type {
  DirectoryEntry,
  DirectoryQuery,
  DirectoryStore,
  EntryField,
} from '../../examples/user-directory/src/store.js'
import {
  iq,
  NS_REGISTER,
  NS_SEARCH,
  registerForm,
  rows,
  searchForm,
} from '../../examples/user-directory/test/helpers.js'
import { storeContract } from '../../examples/user-directory/test/store-contract.js'

const PG_URL = inject('postgres').PG_URL as string
const opened: DirectoryStore[] = []
afterAll(async () => {
  for (const s of opened) await s.close()
})

let schemas = 0
const schemaName = (what: string) => `directory_${what}_${process.pid}_${Date.now()}_${schemas++}`

async function open(schema: string): Promise<PostgresDirectoryStore> {
  const s = await postgresStore(PG_URL, { schema, max: 4 })
  opened.push(s)
  return s
}

storeContract('PostgreSQL (tsvector)', async () => {
  const schema = schemaName('c')
  return { store: await open(schema), reopen: () => open(schema) }
})

describe('the PostgreSQL directory store', () => {
  it('records its migrations under the name directory; instances starting at once migrate once', async () => {
    const schema = schemaName('m')
    const four = await Promise.all([1, 2, 3, 4].map(() => open(schema)))
    expect(await four[0]?.db.schemaVersion('directory')).toBe(POSTGRES_MIGRATIONS.length)
    expect(await four[1]?.db.migrate(POSTGRES_MIGRATIONS, { name: 'directory' })).toBe(0)
    // they share the entries and the index
    await four[0]?.put({ jid: 'alice@localhost', nick: 'Alice', published: ['nick'] })
    for (const s of four) {
      expect((await s.search({ nick: 'ali' }, 10)).map((m) => m.jid)).toEqual(['alice@localhost'])
    }
  })

  it('indexes published fields only: the stored tsvector holds no word of a private field', async () => {
    const schema = schemaName('p')
    const s = await open(schema)
    await s.put({
      jid: 'alice@localhost',
      nick: 'Alice',
      email: 'secret.address@example.org',
      about: 'Private musings',
      published: ['nick'],
    })
    const [row] = await s.db.sql`SELECT doc::text AS doc FROM directory_entries`
    expect(row?.doc).toBe("'alice':1 'nick:alice':1")
    expect(documentVector({ jid: 'x', nick: 'Zoé Zoé', published: ['nick'] })).toBe(
      "'zoe':1,2 'nick:zoe':1,2",
    )
  })

  it('builds tsqueries of quoted prefix terms from letters and digits only', async () => {
    expect(tsQuery({ text: 'a & b | !c:*', nick: "O'Hara" })).toBe(
      "'a':* & 'b':* & 'c':* & 'nick:o':* & 'nick:hara':*",
    )
    expect(tsQuery({ text: '--- !!!' })).toBeNull()
    expect(() => tsQuery({ ['nick) | (x' as EntryField]: 'a' })).toThrow(/not a directory field/)
    // PostgreSQL reads each of them as that query
    const db = await openPostgres(PG_URL, { max: 1 })
    try {
      const q = tsQuery({ text: 'a & b | !c:*' }) as string
      const [row] = await db.sql`SELECT CAST(${q} AS tsquery)::text AS q`
      expect(row?.q).toBe("'a':* & 'b':* & 'c':*")
    } finally {
      await db.close()
    }
  })

  it('indexes a very long word by its first 200 characters (PostgreSQL caps lexemes at 2 KB)', async () => {
    const s = await open(schemaName('long'))
    const long = 'ж'.repeat(1_500) // 3,000 bytes
    await s.put({ jid: 'long@localhost', nick: 'Long', about: long, published: ['nick', 'about'] })
    expect((await s.search({ about: 'жжж' }, 10)).map((m) => m.jid)).toEqual(['long@localhost'])
    expect((await s.search({ text: long }, 10)).map((m) => m.jid)).toEqual(['long@localhost'])
  })
})

// The same generated directory in both stores, and the same queries: the same matches.
const SYL = ['al', 'be', 'ca', 'do', 'él', 'fa', 'gi', 'ho', 'ka', 'li', 'mo', 'nä', 'or', 'pe']
function generated(n: number): Omit<DirectoryEntry, 'updated'>[] {
  let seed = 7
  const rnd = () => {
    seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
    return seed / 2_147_483_648
  }
  const pick = <T>(a: readonly T[]) => a[Math.floor(rnd() * a.length)] as T
  const word = () => Array.from({ length: 2 + Math.floor(rnd() * 3) }, () => pick(SYL)).join('')
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1)
  return Array.from({ length: n }, (_, i) => {
    const first = cap(word())
    const last = cap(word())
    const fields: EntryField[] = ['nick', 'fullname', 'locality', 'country', 'email', 'about']
    return {
      jid: `u${i}@localhost`,
      nick: `${first}${i % 7}`,
      fullname: `${first} ${last}`,
      locality: cap(word()),
      country: pick(['France', 'Deutschland', 'España', 'Norge']),
      email: `${first.toLowerCase()}.${last.toLowerCase()}@example.org`,
      about: `${word()} ${word()}, ${word()}! ${word()}`,
      published: fields.filter(() => rnd() < 0.7),
    }
  })
}

describe('the same results as FTS5', () => {
  it('finds the same entries as the SQLite store on 400 queries over 300 entries (the order is measured and printed, not asserted)', async () => {
    const entries = generated(300)
    const pg = await open(schemaName('same'))
    const lite = sqliteStore()
    opened.push(lite)
    for (const e of entries) {
      await lite.put(e)
      void pg.put(e)
    }
    await Promise.all(entries.map((e) => pg.get(e.jid))) // each after its put
    const queries: DirectoryQuery[] = []
    for (const syl of SYL) {
      queries.push({ text: syl }, { nick: syl }, { fullname: syl }, { about: syl }, { email: syl })
      queries.push(
        { locality: syl.toUpperCase() },
        { text: `${syl} ${SYL[(SYL.indexOf(syl) + 3) % SYL.length]}` },
      )
    }
    for (const e of entries.slice(0, 300)) {
      if (queries.length >= 400) break
      queries.push({ fullname: e.fullname?.slice(0, 5) ?? '', country: 'esp' })
      queries.push({ text: `${e.nick.slice(0, 3)} ${e.email?.slice(0, 2) ?? ''}` })
    }
    expect(queries.length).toBeGreaterThanOrEqual(400)
    let matches = 0
    let orderDiffers = 0
    let topDiffers = 0
    let pageDiffers = 0
    for (const q of queries.slice(0, 400)) {
      const [a, b] = await Promise.all([lite.search(q, 500), pg.search(q, 500)])
      expect(b.map((m) => m.jid).sort(), JSON.stringify(q)).toEqual(a.map((m) => m.jid).sort())
      matches += a.length
      if (a.map((m) => m.jid).join() !== b.map((m) => m.jid).join()) orderDiffers++
      if (a[0]?.jid !== b[0]?.jid) topDiffers++
      const page = (h: { jid: string }[]) =>
        h
          .slice(0, 20)
          .map((m) => m.jid)
          .sort()
          .join()
      if (page(a) !== page(b)) pageDiffers++
    }
    console.log(
      `FTS5 vs tsvector: 400 queries, ${matches} matches, same sets; order differs in ${orderDiffers}, the best match in ${topDiffers}, the first page of 20 (as a set) in ${pageDiffers} (bm25 vs ts_rank_cd)`,
    )
    expect(matches).toBeGreaterThan(1_000)
  })
})

describe('the user directory on PostgreSQL', () => {
  it('DIRECTORY_DB=postgres://…: the service on PostgreSQL, its entries there after a restart', async () => {
    // a database of its own, named by the setting alone
    const name = schemaName('svc')
    const admin = await openPostgres(PG_URL, { max: 1 })
    await admin.sql.unsafe(`CREATE DATABASE ${name}`)
    afterTest(async () => {
      await admin.sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.close()
    })
    const url = new URL(PG_URL)
    url.pathname = `/${name}`
    const store = await openDirectoryStore(url.toString())
    expect('db' in store).toBe(true) // a URL opens the PostgreSQL store
    await store.close()

    const srv = await createServer({ components: { 'directory.localhost': 'secret' } })
    afterTest(() => srv.close())
    const start = async () => {
      const xmpp = component({ service: srv.url, domain: 'directory.localhost', secret: 'secret' })
      const dir = await directoryFromEnv(xmpp, { DIRECTORY_DB: url.toString() })
      await xmpp.start()
      return { xmpp, dir }
    }
    const a = await start()
    const alice = srv.client('alice@localhost/r')
    const reply = await alice.request(
      registerForm({
        nick: 'Alice',
        fullname: 'Alice Liddell',
        email: 'alice@example.org',
        publish_email: false,
      }),
    )
    expect(reply.attrs.type).toBe('result')
    await a.xmpp.stop()
    await a.dir.close()
    const b = await start()
    const bob = srv.client('bob@localhost/r')
    expect(rows(await bob.request(searchForm({ text: 'lidd' })))).toEqual([
      { jid: 'alice@localhost', nick: 'Alice', fullname: 'Alice Liddell' },
    ])
    expect(rows(await bob.request(searchForm({ text: 'example' })))).toEqual([])
    await b.xmpp.stop()
    await b.dir.close()
  })
  it('two instances running at once on one database: what one saves, the other finds at once', async () => {
    const name = schemaName('two')
    const admin = await openPostgres(PG_URL, { max: 1 })
    await admin.sql.unsafe(`CREATE DATABASE ${name}`)
    afterTest(async () => {
      await admin.sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.close()
    })
    const url = new URL(PG_URL)
    url.pathname = `/${name}`
    const domains = ['directory.localhost', 'directory2.localhost']
    const srv = await createServer({ components: Object.fromEntries(domains.map((d) => [d, 'secret'])) })
    afterTest(() => srv.close())
    const [a, b] = await Promise.all(
      domains.map(async (domain) => {
        const xmpp = component({ service: srv.url, domain, secret: 'secret' })
        const dir = await directoryFromEnv(xmpp, { DIRECTORY_DB: url.toString() })
        afterTest(async () => {
          await xmpp.stop()
          await dir.close()
        })
        await xmpp.start()
        return dir
      }),
    )
    const alice = srv.client('alice@localhost/r')
    const bob = srv.client('bob@localhost/r')
    const searchAtB = async (text: string) =>
      rows(
        await bob.request(
          xml(
            'iq',
            { type: 'set', to: 'directory2.localhost' },
            xml('query', { xmlns: NS_SEARCH }, submitForm({ text }, { formType: NS_SEARCH })),
          ),
        ),
      ).map((r) => r.jid)
    expect((await alice.request(registerForm({ nick: 'Alice', fullname: 'Alice Liddell' }))).attrs.type).toBe(
      'result',
    )
    expect(await searchAtB('lidd')).toEqual(['alice@localhost'])
    expect(await b?.store.count()).toBe(1)
    await alice.request(iq('set', xml('query', { xmlns: NS_REGISTER }, xml('remove'))))
    expect(await searchAtB('lidd')).toEqual([])
    expect(await a?.store.count()).toBe(0)
  })
})
