// Fuzz tests (fast-check) at @satellite/privilege's inbound boundary (#13): random <privilege/>
// announcements (namespaces, perms, types, push, iq namespaces) from random senders, random
// forwarded roster pushes, and random answers of the server to the component's roster iqs, all
// through the embedded server. Properties: no crash, no unhandled rejection, the stream stays
// up, grants only from trusted servers and only with values of the closed sets, the grants map
// bounded (maxServers), every roster push answered.
import { type Element, xml } from '@satellite/core'
import { type Grant, NS_PRIVILEGE_1, NS_PRIVILEGE_2, NS_ROSTER, privileges } from '@satellite/privilege'
import { afterTest } from '@satellite/test-support/cleanup'
import { serverAndComponent } from '@satellite/test-support/component'
import type { ServerConnection } from '@satellite/testing'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'privileged.localhost'
const SECRET = 's3cret'
const RUNS = 40
const MAX_SERVERS = 3
const MAX_PERMS = 6

/** `a`, or undefined one time in four. */
const maybe = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 3, arbitrary: a })
const junk = fc.string({ maxLength: 8 })
const sender = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'localhost',
      'LocalHost',
      'evil.example',
      'a.example',
      'b.example',
      'c.example',
      'd.example',
      'alice@localhost',
      'localhost/res',
      DOMAIN,
      '',
    ),
  },
  junk,
)
const type = maybe(
  fc.oneof(
    fc.constantFrom('none', 'get', 'set', 'both', 'outgoing', 'managed_entity', 'roster', 'ALL'),
    junk,
  ),
)
const perm = fc.record({
  access: maybe(fc.oneof(fc.constantFrom('roster', 'message', 'presence', 'iq', 'file'), junk)),
  type,
  push: maybe(fc.constantFrom('true', 'false', '1', '0', 'yes')),
  namespaces: fc.array(
    fc.record({ ns: maybe(fc.oneof(fc.constantFrom(NS_ROSTER, 'urn:x', ''), junk)), type }),
    { maxLength: MAX_PERMS + 2 },
  ),
})
/** Announcements as servers write them (one perm per access, known types), often. */
const plausible = fc.record({
  name: fc.constant('privilege'),
  xmlns: fc.constantFrom(NS_PRIVILEGE_2, NS_PRIVILEGE_1),
  perms: fc.uniqueArray(
    fc.record({
      access: fc.constantFrom('roster', 'message', 'presence'),
      type: fc.constantFrom('none', 'get', 'set', 'both', 'outgoing', 'managed_entity', 'roster'),
      push: maybe(fc.constantFrom('true', 'false')),
      namespaces: fc.constant([]),
    }),
    { selector: (p) => p.access, maxLength: 3 },
  ),
})
const privilege = fc.oneof(
  { weight: 2, arbitrary: plausible },
  fc.record({
    name: fc.constantFrom('privilege', 'privilege', 'privilege', 'perm'),
    xmlns: fc.constantFrom(NS_PRIVILEGE_2, NS_PRIVILEGE_2, NS_PRIVILEGE_1, 'urn:xmpp:privilege:3'),
    perms: fc.array(perm, { maxLength: MAX_PERMS + 2 }),
  }),
)
const item = fc.record({
  jid: maybe(fc.oneof(fc.constantFrom('bob@localhost', 'bob@localhost/r', '', 'localhost'), junk)),
  subscription: maybe(fc.constantFrom('none', 'to', 'from', 'both', 'remove', 'all')),
  name: maybe(junk),
  groups: fc.array(junk, { maxLength: 3 }),
})
const items = fc.array(item, { maxLength: 4 })
const action = fc.oneof(
  fc.record({
    kind: fc.constant('announce' as const),
    from: sender,
    privilege,
    // Now and then an error (never an announcement).
    type: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, fc.constant('error')),
  }),
  fc.record({
    kind: fc.constant('push' as const),
    // The server stamps a valid from on what it forwards (one without is not answerable).
    from: fc.oneof(
      fc.constantFrom('alice@localhost', 'alice@evil.example', 'localhost', 'bob@localhost/r', 'LocalHost'),
      fc.stringMatching(/^[a-z0-9]{1,6}$/).map((l) => `${l}@localhost`),
    ),
    items,
  }),
  fc.record({
    kind: fc.constant('query' as const),
    answer: fc.oneof(
      items.map((list) => ({ result: list })),
      fc.constantFrom({ error: 'forbidden' }, { error: 'item-not-found' }, { other: true }),
    ),
  }),
)
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never

function privilegeElement(p: Action & { kind: 'announce' }): Element {
  const el = xml(p.privilege.name, { xmlns: p.privilege.xmlns })
  for (const perm of p.privilege.perms) {
    const attrs: Record<string, string> = {}
    if (perm.access !== undefined) attrs.access = perm.access
    if (perm.type !== undefined) attrs.type = perm.type
    if (perm.push !== undefined) attrs.push = perm.push
    const child = el.c('perm', attrs)
    for (const n of perm.namespaces) {
      child.c('namespace', {
        ...(n.ns === undefined ? {} : { ns: n.ns }),
        ...(n.type === undefined ? {} : { type: n.type }),
      })
    }
  }
  return el
}

function itemsElement(
  list: Array<{
    jid: string | undefined
    subscription: string | undefined
    name: string | undefined
    groups: string[]
  }>,
) {
  const query = xml('query', { xmlns: NS_ROSTER })
  for (const i of list) {
    const el = query.c('item', {
      ...(i.jid === undefined ? {} : { jid: i.jid }),
      ...(i.subscription === undefined ? {} : { subscription: i.subscription }),
      ...(i.name === undefined ? {} : { name: i.name }),
    })
    for (const g of i.groups) el.c('group').t(g)
  }
  return query
}

/** A grant holds only values of the closed sets, and no more iq namespaces than maxPerms. */
function grantProblems(g: Grant): string[] {
  const out: string[] = []
  if (!['none', 'get', 'set', 'both'].includes(g.roster)) out.push(`roster ${g.roster}`)
  if (!['none', 'outgoing'].includes(g.message)) out.push(`message ${g.message}`)
  if (!['none', 'managed_entity', 'roster'].includes(g.presence)) out.push(`presence ${g.presence}`)
  if (g.namespace !== NS_PRIVILEGE_1 && g.namespace !== NS_PRIVILEGE_2) out.push(`namespace ${g.namespace}`)
  if (Object.keys(g.iq).length > MAX_PERMS) out.push(`${Object.keys(g.iq).length} iq namespaces`)
  for (const [ns, t] of Object.entries(g.iq))
    if (!['get', 'set', 'both'].includes(t)) out.push(`iq ${ns} ${t}`)
  return out
}

function noUncaught(): () => string[] {
  const seen: string[] = []
  const onError = (err: unknown) => void seen.push(`uncaught: ${String(err)}`)
  const onRejection = (err: unknown) => void seen.push(`unhandled rejection: ${String(err)}`)
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onRejection)
  afterTest(() => {
    process.off('uncaughtException', onError)
    process.off('unhandledRejection', onRejection)
  })
  return () => [...seen]
}

async function start(options: Parameters<typeof privileges>[1]) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
  const priv = privileges(xmpp, { ...options, maxPerms: MAX_PERMS, timeout: 200 })
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  srv.client('alice@localhost/phone') // alice exists: iqs to her are not bounced by the server
  // The server's answers to the component's roster iqs: the next one the run planned.
  const answers: Array<(Action & { kind: 'query' })['answer']> = []
  conn.on('stanza', (iq) => {
    if (iq.name !== 'iq' || (iq.attrs.type !== 'get' && iq.attrs.type !== 'set')) return
    const a = answers.shift() ?? { result: [] }
    const base = { from: iq.attrs.to, to: iq.attrs.from, id: iq.attrs.id }
    if ('result' in a) conn.send(xml('iq', { ...base, type: 'result' }, itemsElement(a.result)))
    else if ('error' in a) {
      conn.send(
        xml(
          'iq',
          { ...base, type: 'error' },
          xml('error', { type: 'auth' }, xml(a.error, { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
        ),
      )
    } // 'other': no answer (the request times out)
  })
  return { priv, conn, answers }
}

/** A round trip from the server: everything it sent before has been handled. */
const barrier = (conn: ServerConnection) =>
  conn.request(
    xml(
      'iq',
      { type: 'get', from: 'localhost', to: DOMAIN },
      xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
    ),
  )

async function play(setup: Awaited<ReturnType<typeof start>>, actions: Action[]): Promise<void> {
  const { priv, conn, answers } = setup
  const pending: Array<Promise<unknown>> = []
  for (const a of actions) {
    if (a.kind === 'announce') {
      const attrs = { from: a.from, to: DOMAIN, ...(a.type === undefined ? {} : { type: a.type }) }
      conn.send(xml('message', attrs, privilegeElement(a)))
    } else if (a.kind === 'push') {
      // Answered (result or error): never left without an answer.
      pending.push(
        conn
          .request(xml('iq', { type: 'set', from: a.from, to: DOMAIN }, itemsElement(a.items)))
          .catch((e: Error) => {
            if (!('condition' in e)) throw e
          }),
      )
    } else {
      answers.push(a.answer)
      pending.push(priv.rosterGet('alice@localhost').catch(() => {}))
    }
  }
  await Promise.all(pending)
  await barrier(conn)
}

describe('privilege: fuzz at the inbound boundary', () => {
  it('default trust: grants only from the parent domain, with values of the closed sets', async () => {
    const uncaught = noUncaught()
    const setup = await start({})
    const invalid: string[] = []
    setup.priv.on('invalid', (i) => void invalid.push(i.reason))
    let granted = 0
    setup.priv.on('change', (_server, grant) => void (grant === undefined || granted++))
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 10 }), async (actions) => {
        await play(setup, actions)
        const grants = setup.priv.grants()
        expect(grants.map((g) => g.server).filter((s) => s !== 'localhost')).toEqual([])
        expect(grants.flatMap(grantProblems)).toEqual([])
      }),
      { numRuns: RUNS },
    )
    expect(invalid.length).toBeGreaterThan(0)
    expect(granted).toBeGreaterThan(0) // announcements were believed too
    expect(uncaught()).toEqual([])
  })

  it("servers: 'any': at most maxServers remote grants beside the parent domain's", async () => {
    const uncaught = noUncaught()
    const setup = await start({ servers: 'any', maxServers: MAX_SERVERS })
    let most = 0
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 10 }), async (actions) => {
        await play(setup, actions)
        const grants = setup.priv.grants()
        most = Math.max(most, grants.filter((g) => g.server !== 'localhost').length)
        expect(grants.filter((g) => g.server !== 'localhost').length).toBeLessThanOrEqual(MAX_SERVERS)
        // Only bare domains grant: never a user, a full JID or the component itself as a JID with a local part.
        expect(grants.filter((g) => g.server.includes('@') || g.server.includes('/'))).toEqual([])
        expect(grants.flatMap(grantProblems)).toEqual([])
      }),
      { numRuns: RUNS },
    )
    expect(most).toBe(MAX_SERVERS) // the bound was reached
    expect(uncaught()).toEqual([])
  })
})
