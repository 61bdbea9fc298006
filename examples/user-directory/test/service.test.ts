import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Element, xml } from '@satellite/core'
import { NS_DATA } from '@satellite/forms'
import { describe, expect, it } from 'vitest'
import { optionsFromEnv } from '../src/bot.js'
import { parentDomain, RateLimiter } from '../src/service.js'
import {
  fails,
  iq,
  NS_COMMANDS,
  NS_REGISTER,
  NS_RSM,
  NS_SEARCH,
  query,
  registerForm,
  rows,
  rsm,
  runCommand,
  searchForm,
  setup,
} from './helpers.js'

const ALICE = {
  nick: 'Alice',
  fullname: 'Alice Liddell',
  locality: 'Oxford',
  country: 'United Kingdom',
  email: 'alice@example.org',
  about: ['Curious.', 'Follows rabbits.'],
}

describe('registration (XEP-0077)', () => {
  it('offers the form and legacy fields, registers, shows the entry back, updates, removes', async () => {
    const { client, dir } = await setup()
    const alice = client('alice@localhost/phone')
    const blank = (await alice.request(iq('get', query(NS_REGISTER)))).getChild(
      'query',
      NS_REGISTER,
    ) as Element
    expect(blank.getChild('registered')).toBeUndefined()
    expect(blank.getChildElements().map((c) => c.name)).toEqual([
      'instructions',
      'nick',
      'name',
      'city',
      'email',
      'x',
    ])
    const vars = (blank.getChild('x', NS_DATA) as Element).getChildren('field').map((f) => f.attrs.var)
    expect(vars).toEqual([
      'FORM_TYPE',
      'nick',
      'fullname',
      'locality',
      'country',
      'email',
      'about',
      'publish_nick',
      'publish_fullname',
      'publish_locality',
      'publish_country',
      'publish_email',
      'publish_about',
    ])

    await alice.request(registerForm({ ...ALICE, publish_email: false, publish_country: false }))
    expect(await dir.store.get('alice@localhost')).toMatchObject({
      nick: 'Alice',
      about: 'Curious.\nFollows rabbits.',
      published: ['nick', 'fullname', 'locality', 'about'],
    })
    const again = (await alice.request(iq('get', query(NS_REGISTER)))).getChild(
      'query',
      NS_REGISTER,
    ) as Element
    expect(again.getChild('registered')).toBeDefined()
    expect(again.getChildText('name')).toBe('Alice Liddell')
    const fields = (again.getChild('x', NS_DATA) as Element).getChildren('field')
    const value = (v: string) => fields.find((f) => f.attrs.var === v)?.getChildText('value')
    expect(value('locality')).toBe('Oxford')
    expect(value('publish_email')).toBe('false')

    // an update changes what it submits and keeps the rest
    await alice.request(registerForm({ nick: 'Ali', publish_email: true }))
    expect(await dir.store.get('alice@localhost')).toMatchObject({
      nick: 'Ali',
      locality: 'Oxford',
      published: ['nick', 'fullname', 'locality', 'email', 'about'],
    })

    await alice.request(iq('set', query(NS_REGISTER, xml('remove'))))
    expect(await dir.store.get('alice@localhost')).toBeNull()
    expect((await fails(alice, iq('set', query(NS_REGISTER, xml('remove'))))).condition).toBe(
      'registration-required',
    )
  })

  it('accepts legacy fields from old clients, with the default publish choices (email private)', async () => {
    const { client, dir } = await setup()
    const old = client('carol@localhost/psi')
    await old.request(
      iq(
        'set',
        query(
          NS_REGISTER,
          xml('nick', {}, 'Carol'),
          xml('name', {}, 'Carol Ann'),
          xml('city', {}, 'Lyon'),
          xml('email', {}, 'carol@example.org'),
        ),
      ),
    )
    expect(await dir.store.get('carol@localhost')).toMatchObject({
      nick: 'Carol',
      fullname: 'Carol Ann',
      locality: 'Lyon',
      email: 'carol@example.org',
      published: ['nick', 'fullname', 'locality', 'country', 'about'],
    })
    // Only the nick is required, as in the form; the other legacy fields may be empty.
    await client('dan@localhost/r').request(
      iq('set', query(NS_REGISTER, xml('nick', {}, 'Dan'), xml('name'), xml('city'), xml('email'))),
    )
    expect(await dir.store.get('dan@localhost')).toMatchObject({ nick: 'Dan' })
    expect((await dir.store.get('dan@localhost'))?.email).toBeUndefined()
    const missing = await fails(
      client('erin@localhost/r'),
      iq('set', query(NS_REGISTER, xml('name', {}, 'Erin E'))),
    )
    expect(missing.condition).toBe('not-acceptable')
    expect(missing.text).toContain("'nick'")
    const legacyResult = await client('bob@localhost/r').request(
      iq('set', query(NS_SEARCH, xml('last', {}, 'ann'))),
    )
    const items = (legacyResult.getChild('query', NS_SEARCH) as Element).getChildren('item')
    expect(items.map((i) => i.attrs.jid)).toEqual(['carol@localhost'])
    expect(items[0]?.getChildText('first')).toBe('Carol')
    expect(items[0]?.getChildText('last')).toBe('Ann')
    expect(items[0]?.getChild('email')).toBeUndefined()
  })

  it('refuses malformed and abusive input, naming the field', async () => {
    const { client, dir } = await setup()
    const c = client('eve@localhost/r')
    const cases: Array<[Element, string, RegExp?]> = [
      [registerForm({ nick: 'x'.repeat(65) }), 'not-acceptable', /nick/],
      [registerForm({ nick: 'Eve', about: ['a'.repeat(2001)] }), 'not-acceptable', /about/],
      [
        registerForm({ nick: 'Eve', about: Array.from({ length: 31 }, () => 'line') }),
        'not-acceptable',
        /about/,
      ],
      [registerForm({ nick: 'Eve', email: 'not an address' }), 'not-acceptable', /email/],
      // Control characters XML carries (U+0007 and the like never reach a plugin: the parser refuses them).
      [registerForm({ nick: 'Eve\u007f' }), 'not-acceptable', /nick/],
      [registerForm({ nick: 'Eve\tX' }), 'not-acceptable', /nick/],
      [registerForm({ fullname: 'No Nick' }), 'not-acceptable', /nick/],
      [registerForm({ nick: 'Eve', shoe: '44' }), 'bad-request'],
      [registerForm({ nick: 'Eve', publish_email: 'maybe' }), 'bad-request'],
      [
        iq(
          'set',
          query(
            NS_REGISTER,
            xml('nick', {}, 'x'.repeat(65)),
            xml('name', {}, 'a'),
            xml('city', {}, 'b'),
            xml('email', {}, 'e@x'),
          ),
        ),
        'not-acceptable',
        /nick/,
      ],
      [iq('set', query(NS_REGISTER, xml('password', {}, 'x'))), 'bad-request'],
      [iq('set', query(NS_REGISTER)), 'bad-request'],
    ]
    for (const [request, condition, text] of cases) {
      const err = await fails(c, request)
      expect(err.condition, String(request)).toBe(condition)
      if (text) expect(err.text).toMatch(text)
    }
    expect(await dir.store.count()).toBe(0)
  })

  it('refuses new entries when the directory is full (resource-constraint)', async () => {
    const { client } = await setup({ maxEntries: 1 })
    await client('a@localhost/r').request(registerForm({ nick: 'A' }))
    await client('a@localhost/r').request(registerForm({ nick: 'A2' })) // an update is fine
    const err = await fails(client('b@localhost/r'), registerForm({ nick: 'B' }))
    expect(err.condition).toBe('resource-constraint')
    expect(err.errorType).toBe('wait')
  })
})

async function populate(s: Awaited<ReturnType<typeof setup>>) {
  await s.client('alice@localhost/r').request(registerForm({ ...ALICE, publish_email: false }))
  for (let i = 0; i < 7; i++) {
    await s
      .client(`al${i}@localhost/r`)
      .request(registerForm({ nick: `Al${i}`, fullname: `Albert Number${i}` }))
  }
  await s
    .client('bob@localhost/r')
    .request(registerForm({ nick: 'Bob', fullname: 'Robert Smith', about: ['Likes Alice in Wonderland'] }))
}

describe('search (XEP-0055, XEP-0059)', () => {
  it('finds by prefix and full text, ranks by relevance, returns only published fields', async () => {
    const s = await setup()
    await populate(s)
    const bob = s.client('bob@localhost/r')
    const one = rows(await bob.request(searchForm({ text: 'lidd OXF' })))
    expect(one).toEqual([
      {
        jid: 'alice@localhost',
        nick: 'Alice',
        fullname: 'Alice Liddell',
        locality: 'Oxford',
        country: 'United Kingdom',
        about: 'Curious.\nFollows rabbits.',
      },
    ])
    expect(rows(await bob.request(searchForm({ email: 'alice' })))).toEqual([])
    expect(rows(await bob.request(searchForm({ text: 'example.org' })))).toEqual([])
    const alice = rows(await bob.request(searchForm({ text: 'alice' })))
    expect(alice.map((r) => r.jid)).toEqual(['alice@localhost', 'bob@localhost'])
    const legacy = await bob.request(iq('set', query(NS_SEARCH, xml('nick', {}, 'rob'))))
    expect((legacy.getChild('query', NS_SEARCH) as Element).getChildren('item')).toHaveLength(0)
    const legacyFirst = await bob.request(iq('set', query(NS_SEARCH, xml('first', {}, 'rob'))))
    expect(
      (legacyFirst.getChild('query', NS_SEARCH) as Element).getChildren('item').map((i) => i.attrs.jid),
    ).toEqual(['bob@localhost'])
  })

  it('pages with RSM: max, after, before, index, count', async () => {
    const s = await setup({ pageSize: 5 })
    await populate(s)
    const bob = s.client('bob@localhost/r')
    const p1 = await bob.request(searchForm({ fullname: 'al' }, rsm({ max: '3' })))
    const set1 = p1.getChild('query', NS_SEARCH)?.getChild('set', NS_RSM) as Element
    expect(set1.getChildText('count')).toBe('8')
    expect(rows(p1)).toHaveLength(3)
    const p2 = await bob.request(
      searchForm({ fullname: 'al' }, rsm({ max: '10', after: set1.getChildText('last') as string })),
    )
    expect(rows(p2)).toHaveLength(5) // capped by pageSize
    const p3 = await bob.request(searchForm({ fullname: 'al' }, rsm({ index: '7' })))
    expect(rows(p3)).toHaveLength(1)
    const all = [...rows(p1), ...rows(p2)].map((r) => r.jid)
    expect(new Set(all).size).toBe(8)
    expect(rows(p3)[0]?.jid).toBe(all[7])
    const last = await bob.request(searchForm({ fullname: 'al' }, rsm({ max: '2', before: '' })))
    expect(rows(last).map((r) => r.jid)).toEqual(all.slice(6))
    expect(
      (await fails(bob, searchForm({ fullname: 'al' }, rsm({ after: 'nobody@localhost' })))).condition,
    ).toBe('item-not-found')
    expect((await fails(bob, searchForm({ fullname: 'al' }, rsm({ max: '-1' })))).condition).toBe(
      'bad-request',
    )
  })

  it("treats queries as data: '; DROP TABLE entries; -- finds nothing and breaks nothing", async () => {
    const s = await setup({ rateLimit: { burst: 100 } })
    await populate(s)
    const bob = s.client('bob@localhost/r')
    for (const evil of ["'; DROP TABLE entries; --", 'alice" OR *', 'NEAR(a b)', '%', "nick:*) OR ('1'='1"]) {
      const answer = await bob.request(searchForm({ text: evil }))
      expect(rows(answer)).toEqual([])
      const legacy = await bob.request(iq('set', query(NS_SEARCH, xml('nick', {}, evil))))
      expect((legacy.getChild('query', NS_SEARCH) as Element).getChildren('item')).toEqual([])
    }
    expect(await s.dir.store.count()).toBe(9)
    expect(rows(await bob.request(searchForm({ nick: 'alice' })))).toHaveLength(1)
  })

  it('limits the query: words, length, no criteria, unknown field', async () => {
    const s = await setup()
    const bob = s.client('bob@localhost/r')
    const tooMany = await fails(bob, searchForm({ text: 'a b c d e f g h i' }))
    expect(tooMany.condition).toBe('not-acceptable')
    expect(tooMany.text).toMatch(/text/)
    const tooLong = await fails(bob, searchForm({ nick: 'x'.repeat(257) }))
    expect(tooLong.condition).toBe('not-acceptable')
    expect(tooLong.text).toMatch(/nick/)
    expect((await fails(bob, iq('set', query(NS_SEARCH)))).condition).toBe('bad-request')
    expect((await fails(bob, searchForm({ shoe: '44' }))).condition).toBe('bad-request')
  })

  it('rate-limits searches per requester with a token bucket (resource-constraint, wait)', async () => {
    let now = 1_000_000
    const s = await setup({ rateLimit: { burst: 3, perMinute: 60 }, now: () => now })
    const bob = s.client('bob@localhost/r')
    const other = s.client('carol@localhost/r')
    for (let i = 0; i < 3; i++) await bob.request(searchForm({ nick: 'a' }))
    const err = await fails(bob, searchForm({ nick: 'a' }))
    expect(err.condition).toBe('resource-constraint')
    expect(err.errorType).toBe('wait')
    // another resource of bob shares his bucket; carol has her own
    expect((await fails(s.client('bob@localhost/other'), searchForm({ nick: 'a' }))).condition).toBe(
      'resource-constraint',
    )
    await other.request(searchForm({ nick: 'a' }))
    now += 1000 // one token back
    await bob.request(searchForm({ nick: 'a' }))
    expect((await fails(bob, searchForm({ nick: 'a' }))).condition).toBe('resource-constraint')
  })
})

describe('access policy', () => {
  it('serves the parent domain only by default: forbidden (search, commands), not-allowed (register)', async () => {
    // the component is directory.example.net: users of localhost are foreign to it
    const s = await setup({}, 'directory.example.net')
    const mallory = s.client('mallory@localhost/r')
    const to = 'directory.example.net'
    const at = (el: Element) => {
      el.attrs.to = to
      return el
    }
    expect((await fails(mallory, at(searchForm({ nick: 'a' })))).condition).toBe('forbidden')
    expect((await fails(mallory, at(iq('get', query(NS_SEARCH))))).condition).toBe('forbidden')
    expect((await fails(mallory, at(registerForm({ nick: 'M' })))).condition).toBe('not-allowed')
    expect((await fails(mallory, at(iq('get', query(NS_REGISTER))))).condition).toBe('not-allowed')
    const exec = iq('set', xml('command', { xmlns: NS_COMMANDS, node: 'show-entry', action: 'execute' }))
    expect((await fails(mallory, at(exec))).condition).toBe('forbidden')
    expect(await s.dir.store.count()).toBe(0)
    expect(parentDomain('directory.localhost')).toBe('localhost')
    expect(parentDomain('directory.example.net')).toBe('example.net')
  })

  it('serves the configured domains only', async () => {
    const s = await setup({ allowedDomains: ['partner.example'] })
    expect((await fails(s.client('alice@localhost/r'), searchForm({ nick: 'p' }))).condition).toBe(
      'forbidden',
    )
    expect((await fails(s.client('alice@localhost/r'), registerForm({ nick: 'A' }))).condition).toBe(
      'not-allowed',
    )
  })

  it('serves everybody when federation is allowed, and admins always', async () => {
    const s = await setup({ allowedDomains: ['partner.example'], allowFederated: true })
    await s.client('alice@localhost/r').request(registerForm({ nick: 'A' }))
    expect(rows(await s.client('bob@localhost/r').request(searchForm({ nick: 'a' })))).toHaveLength(1)
    const t = await setup(
      { allowedDomains: ['partner.example'], admins: ['root@localhost'] },
      'directory.example.net',
    )
    const root = t.client('root@localhost/r')
    const search = searchForm({ nick: 'a' })
    search.attrs.to = 'directory.example.net'
    expect(rows(await root.request(search))).toEqual([])
  })
})

describe('disco', () => {
  it('announces directory/user, search, register and commands', async () => {
    const s = await setup({ name: 'People' })
    const c = s.client('alice@localhost/r')
    const info = (await c.request(iq('get', query('http://jabber.org/protocol/disco#info')))).getChild(
      'query',
    ) as Element
    expect(info.getChildren('identity').map((i) => i.attrs)).toContainEqual({
      category: 'directory',
      type: 'user',
      name: 'People',
    })
    const features = info.getChildren('feature').map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining([NS_SEARCH, NS_REGISTER, NS_COMMANDS]))
    const items = (
      await c.request(
        iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })),
      )
    ).getChild('query') as Element
    expect(items.getChildren('item').map((i) => i.attrs.node)).toEqual([
      'edit-entry',
      'show-entry',
      'delete-entry',
    ])
  })
})

describe('ad-hoc commands (XEP-0050)', () => {
  it('a user creates, edits (clearing a field), shows and deletes their entry', async () => {
    const s = await setup()
    const alice = s.client('alice@localhost/r')
    const none = await runCommand(alice, 'show-entry')
    expect(none.getChild('command', NS_COMMANDS)?.getChildText('note')).toMatch(/no entry/)
    const done = await runCommand(alice, 'edit-entry', {
      nick: 'Alice',
      locality: 'Oxford',
      email: 'a@example.org',
      publish_email: true,
    })
    expect(done.getChild('command', NS_COMMANDS)?.attrs.status).toBe('completed')
    expect(await s.dir.store.get('alice@localhost')).toMatchObject({
      nick: 'Alice',
      locality: 'Oxford',
      email: 'a@example.org',
    })
    // the form is prefilled; submitting without locality clears it
    const start = await alice.request(
      iq('set', xml('command', { xmlns: NS_COMMANDS, node: 'edit-entry', action: 'execute' })),
    )
    const prefilled = (
      (start.getChild('command', NS_COMMANDS) as Element).getChild('x', NS_DATA) as Element
    ).getChildren('field')
    expect(prefilled.find((f) => f.attrs.var === 'locality')?.getChildText('value')).toBe('Oxford')
    await runCommand(alice, 'edit-entry', { nick: 'Alice', email: 'a@example.org' })
    expect((await s.dir.store.get('alice@localhost'))?.locality).toBeUndefined()
    const bad = await runCommand(alice, 'edit-entry', { nick: 'Alice', email: 'nope' }).catch((e) => e)
    expect(bad.condition).toBe('not-acceptable')
    const shown = await runCommand(alice, 'show-entry')
    const fields = (
      (shown.getChild('command', NS_COMMANDS) as Element).getChild('x', NS_DATA) as Element
    ).getChildren('field')
    expect(fields.find((f) => f.attrs.var === 'email')?.getChildText('value')).toBe('a@example.org')
    const kept = await runCommand(alice, 'delete-entry', { confirm: false })
    expect(kept.getChild('command', NS_COMMANDS)?.getChildText('note')).toMatch(/Nothing/)
    await runCommand(alice, 'delete-entry', { confirm: true })
    expect(await s.dir.store.get('alice@localhost')).toBeNull()
  })

  it('admins list, edit and remove any entry; others may not', async () => {
    const s = await setup({ admins: ['root@localhost'] })
    await populate(s)
    const root = s.client('root@localhost/console')
    const items = (
      await root.request(
        iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#items', node: NS_COMMANDS })),
      )
    ).getChild('query') as Element
    expect(items.getChildren('item').map((i) => i.attrs.node)).toContain('admin-remove')

    const list = await runCommand(root, 'admin-list', {})
    const cmd = list.getChild('command', NS_COMMANDS) as Element
    expect(cmd.getChildText('note')).toMatch(/^9 entries/)
    expect((cmd.getChild('x', NS_DATA) as Element).getChildren('item')).toHaveLength(9)
    const filtered = await runCommand(root, 'admin-list', { filter: 'alice' })
    const x = filtered.getChild('command', NS_COMMANDS)?.getChild('x', NS_DATA) as Element
    expect(x.getChildren('item')).toHaveLength(1)
    // admins see private fields too
    expect(
      x
        .getChildren('item')[0]
        ?.getChildren('field')
        .find((f) => f.attrs.var === 'email')
        ?.getChildText('value'),
    ).toBe('alice@example.org')
    const page2 = await runCommand(root, 'admin-list', { after: 'al6@localhost' })
    expect(page2.getChild('command', NS_COMMANDS)?.getChild('x', NS_DATA)?.getChildren('item')).toHaveLength(
      2,
    )

    // the edit form is prefilled; what is submitted replaces the entry (about is cleared here)
    await runCommand(
      root,
      'admin-edit',
      { jid: 'bob@localhost' },
      { nick: 'Bobby', fullname: 'Robert Smith', publish_about: false },
    )
    expect(await s.dir.store.get('bob@localhost')).toMatchObject({ nick: 'Bobby', fullname: 'Robert Smith' })
    expect((await s.dir.store.get('bob@localhost'))?.about).toBeUndefined()
    expect((await s.dir.store.get('bob@localhost'))?.published).not.toContain('about')
    const unknown = await runCommand(root, 'admin-edit', { jid: 'ghost@localhost' }, { nick: 'x' }).catch(
      (e) => e,
    )
    expect(unknown.condition).toBe('item-not-found')

    await runCommand(root, 'admin-remove', { jid: 'alice@localhost', confirm: true })
    expect(await s.dir.store.get('alice@localhost')).toBeNull()

    const bob = s.client('bob@localhost/r')
    const refused = await runCommand(bob, 'admin-remove', { jid: 'al0@localhost', confirm: true }).catch(
      (e) => e,
    )
    expect(refused.condition).toBe('forbidden')
    expect(await s.dir.store.get('al0@localhost')).not.toBeNull()
  })
})

describe('persistence and configuration', () => {
  it('loses nothing when the component restarts on the same database', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'directory-'))
    try {
      const dbPath = join(dir, 'directory.db')
      const a = await setup({ dbPath })
      await a.client('alice@localhost/r').request(registerForm({ nick: 'Alice', fullname: 'Alice Liddell' }))
      await a.xmpp.stop()
      await a.dir.close()
      const b = await setup({ dbPath })
      expect(rows(await b.client('bob@localhost/r').request(searchForm({ text: 'liddell' })))).toEqual([
        { jid: 'alice@localhost', nick: 'Alice', fullname: 'Alice Liddell' },
      ])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reads its options from the environment', () => {
    expect(
      optionsFromEnv({
        DIRECTORY_DB: '/var/lib/directory.db',
        DIRECTORY_ADMINS: 'alice@localhost, root@localhost',
        DIRECTORY_ALLOWED_DOMAINS: 'localhost,example.org',
        DIRECTORY_ALLOW_FEDERATED: 'true',
        DIRECTORY_SEARCH_BURST: '5',
        DIRECTORY_SEARCH_PER_MINUTE: '12',
        DIRECTORY_WRITE_BURST: '2',
        DIRECTORY_WRITE_PER_MINUTE: '6',
        DIRECTORY_NAME: 'People',
      }),
    ).toEqual({
      dbPath: '/var/lib/directory.db',
      name: 'People',
      admins: ['alice@localhost', 'root@localhost'],
      allowedDomains: ['localhost', 'example.org'],
      allowFederated: true,
      rateLimit: { burst: 5, perMinute: 12 },
      writeLimit: { burst: 2, perMinute: 6 },
    })
    expect(optionsFromEnv({ DIRECTORY_WRITE_PER_MINUTE: '1' })).toEqual({
      dbPath: ':memory:',
      writeLimit: { perMinute: 1 },
    })
    expect(optionsFromEnv({})).toEqual({ dbPath: ':memory:' })
    expect(() => optionsFromEnv({ DIRECTORY_SEARCH_BURST: 'lots' })).toThrow(/DIRECTORY_SEARCH_BURST/)
    expect(() => optionsFromEnv({ DIRECTORY_WRITE_BURST: '0' })).toThrow(/DIRECTORY_WRITE_BURST/)
  })

  it('bounds the rate limiter memory', () => {
    const r = new RateLimiter(1, 1, () => 0)
    for (let i = 0; i < 10_050; i++) r.take(`u${i}@localhost`)
    expect(r.size).toBeLessThanOrEqual(10_000)
  })
})
