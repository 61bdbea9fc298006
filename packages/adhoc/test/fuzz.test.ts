// Fuzz test (fast-check) of the XEP-0050 boundary, through the embedded server: random
// command iqs (nodes, actions, session ids, live or made up, random data forms) from a few
// requesters. Every request gets one well-formed answer (a result, or an error with an
// RFC 6120 condition and a short text without internal details), nothing rejects unhandled,
// and the registry's tables stay within their limits.
import { commands, NS_COMMANDS, stage } from '@satellite/adhoc'
import { type Element, xml } from '@satellite/core'
import { defineForm, submitForm } from '@satellite/forms'
import { serverAndComponent } from '@satellite/test-support/component'
import { answer, dataForm, noUnhandledRejection, oneOf } from '@satellite/test-support/fuzz'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const NODES = ['ping', 'multi', 'admin', 'boom']
const ACTIONS = ['execute', 'next', 'prev', 'complete', 'cancel']
const FROM = ['alice@localhost/a', 'alice@localhost/b', 'bob@localhost/r', 'root@localhost/c']
const VARS = ['nick', 'lang', 'sure', 'who', 'lines']

const first = defineForm({
  fields: [
    { type: 'text-single', var: 'nick', required: true, maxLength: 16 },
    { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
    { type: 'jid-single', var: 'who' },
  ],
})
const second = defineForm({
  fields: [
    { type: 'boolean', var: 'sure', required: true },
    { type: 'text-multi', var: 'lines', maxItems: 3 },
  ],
})

// Mostly what a client would send (known nodes and actions, live session ids, submissions
// that fit the forms), so that the fuzzer gets deep into sessions; sometimes anything.
const request = fc.record({
  from: fc.constantFrom(...FROM),
  node: fc.oneof(
    { arbitrary: fc.constantFrom(...NODES), weight: 6 },
    { arbitrary: fc.option(oneOf([]), { nil: undefined }), weight: 1 },
  ),
  action: fc.oneof(
    { arbitrary: fc.constantFrom(...ACTIONS, undefined), weight: 6 },
    { arbitrary: oneOf([]), weight: 1 },
  ),
  // a number picks one of the requester's own live sessions, or (negative) any id seen
  session: fc.oneof(
    { arbitrary: fc.nat(), weight: 4 },
    { arbitrary: fc.integer({ max: -1 }), weight: 1 },
    { arbitrary: fc.constant(undefined), weight: 2 },
    { arbitrary: oneOf(['', 'made-up']), weight: 1 },
  ),
  form: fc.oneof(
    {
      arbitrary: fc
        .record({ nick: fc.constantFrom('al', 'x'.repeat(17), ''), lang: fc.constantFrom('en', 'de') })
        .map((v) => submitForm(v)),
      weight: 3,
    },
    {
      arbitrary: fc
        .record({ sure: fc.boolean(), lines: fc.array(oneOf(['a']), { maxLength: 4 }) })
        .map((v) => submitForm(v)),
      weight: 3,
    },
    { arbitrary: fc.constant(undefined), weight: 1 },
    { arbitrary: dataForm(VARS, []), weight: 2 },
  ),
  disco: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
})

describe('adhoc: fuzz', () => {
  it('answers every random command iq once, well-formed, and stays within its limits', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const registry = commands(xmpp, {
      maxSessions: 10,
      maxSessionsPerRequester: 4,
      rememberExpired: 5,
      privileged: (from) => from.startsWith('root@'),
      reservedSessions: 2,
    })
    registry.register({ node: 'ping', name: 'Ping', complete: () => ({ notes: ['pong'] }) })
    registry.register({
      node: 'multi',
      name: 'Two stages',
      stages: [stage(first), stage(second)],
      complete: () => ({ form: { type: 'result', fields: [{ type: 'fixed', value: 'done' }] } }),
    })
    registry.register({
      node: 'admin',
      name: 'Admin',
      allowed: (f) => f.startsWith('root@'),
      stages: [stage(second)],
    })
    registry.register({
      node: 'boom',
      name: 'Fails',
      stages: [
        stage(first, () => {
          throw new Error('connect ECONNREFUSED 10.0.0.7:5432')
        }),
      ],
    })
    await xmpp.start()
    const clients = new Map(FROM.map((jid) => [jid, srv.client(jid)]))
    const ids: string[] = []
    const own = new Map<string, string[]>(FROM.map((jid) => [jid, []]))

    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(request, { minLength: 4, maxLength: 12 }), async (requests) => {
          await Promise.all(
            requests.map(async (r) => {
              const client = clients.get(r.from) as NonNullable<ReturnType<typeof clients.get>>
              if (r.disco) {
                const attrs: Record<string, string> = { xmlns: 'http://jabber.org/protocol/disco#info' }
                if (r.node !== undefined) attrs.node = r.node
                await answer(client, xml('iq', { type: 'get', to: DOMAIN }, xml('query', attrs)))
                return
              }
              const attrs: Record<string, string> = { xmlns: NS_COMMANDS }
              if (r.node !== undefined) attrs.node = r.node
              if (r.action !== undefined) attrs.action = r.action
              const mine = own.get(r.from) as string[]
              const sid =
                typeof r.session !== 'number'
                  ? r.session
                  : r.session >= 0
                    ? mine[r.session % Math.max(1, mine.length)]
                    : ids[-r.session % Math.max(1, ids.length)]
              if (sid !== undefined) attrs.sessionid = sid
              const cmd = xml('command', attrs)
              if (r.form !== undefined) cmd.cnode(r.form)
              const reply = await answer(client, xml('iq', { type: 'set', to: DOMAIN }, cmd))
              expect(reply.toString()).not.toContain('ECONNREFUSED')
              const res = reply.getChild('command', NS_COMMANDS) as Element | undefined
              const id = res?.attrs.sessionid
              if (typeof id === 'string' && !ids.includes(id)) ids.push(id)
              if (typeof id === 'string' && res?.attrs.status === 'executing' && !mine.includes(id))
                mine.push(id)
              if (res?.attrs.status === 'completed' || res?.attrs.status === 'canceled') {
                own.set(
                  r.from,
                  mine.filter((m) => m !== id),
                )
              }
              const stats = registry.stats
              expect(stats.sessions).toBeLessThanOrEqual(10)
              expect(stats.sessions - stats.privileged).toBeLessThanOrEqual(8)
              expect(stats.requesters).toBeLessThanOrEqual(stats.sessions)
              expect(stats.expired).toBeLessThanOrEqual(5)
            }),
          )
        }),
        { numRuns: 80 },
      )
    })
    expect(ids.length).toBeGreaterThan(0) // the fuzzer reached live sessions
  })
})
