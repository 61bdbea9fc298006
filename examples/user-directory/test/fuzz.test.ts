// Fuzz test (fast-check) of the whole directory through the embedded server: random
// registrations (form and legacy), searches (form, legacy, RSM) and ad-hoc commands from a few
// users and an admin. Every request gets one well-formed answer with an RFC 6120 condition
// and a short text, never internal-server-error (no input reaches SQL or FTS5 as syntax),
// nothing rejects unhandled, and the store, the rate-limit buckets and the command sessions
// stay within their limits.
import { type Element, xml } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { answer, dataForm, noUnhandledRejection, oneOf, rsmSet } from '@satellite/test-support/fuzz'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { iq, NS_COMMANDS, NS_REGISTER, NS_SEARCH, query, setup } from './helpers.js'

const USERS = [
  'alice@localhost/a',
  'alice@localhost/b',
  'bob@localhost/r',
  'carol@localhost/r',
  'root@localhost/c',
]
const ENTRY = ['nick', 'fullname', 'locality', 'country', 'email', 'about']
const NODES = ['edit-entry', 'show-entry', 'delete-entry', 'admin-list', 'admin-edit', 'admin-remove']
const value = oneOf(
  ["'; DROP TABLE entries; --", 'NEAR(a b)', '"*', 'ali', 'x'.repeat(70), 'a@b', 'é\u007f', ''],
  30,
)

const registerPayload = fc.oneof(
  fc
    .record(
      {
        nick: value,
        fullname: value,
        email: value,
        about: fc.array(value, { maxLength: 3 }),
        publish_email: fc.boolean(),
      },
      { requiredKeys: ['nick'] },
    )
    .map((v) => submitForm(v, { formType: NS_REGISTER })),
  fc
    .array(fc.tuple(fc.constantFrom('nick', 'name', 'city', 'email', 'password', 'remove'), value), {
      maxLength: 4,
    })
    .map((fields) => fields.map(([name, v]) => (name === 'remove' ? xml(name) : xml(name, {}, v)))),
  dataForm(ENTRY, [NS_REGISTER]),
)

const searchPayload = fc.oneof(
  fc
    .record({ text: value, nick: value, fullname: value }, { requiredKeys: [] })
    .map((v) => submitForm(v, { formType: NS_SEARCH })),
  fc
    .array(fc.tuple(fc.constantFrom('first', 'last', 'nick', 'email', 'city'), value), { maxLength: 3 })
    .map((fields) => fields.map(([name, v]) => xml(name, {}, v))),
  dataForm(['text', 'nick', 'fullname'], [NS_SEARCH]),
)

const request = fc.oneof(
  fc.record({
    kind: fc.constant('register' as const),
    type: fc.constantFrom('get', 'set', 'set'),
    payload: registerPayload,
  }),
  fc.record({
    kind: fc.constant('search' as const),
    payload: searchPayload,
    rsm: fc.option(rsmSet(['alice@localhost', 'bob@localhost']), { nil: undefined }),
  }),
  fc.record({
    kind: fc.constant('command' as const),
    node: fc.oneof({ arbitrary: fc.constantFrom(...NODES), weight: 5 }, { arbitrary: oneOf([]), weight: 1 }),
    values: fc.option(
      fc.record(
        {
          nick: value,
          jid: oneOf(['alice@localhost', 'nobody@localhost', 'not a jid']),
          confirm: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  }),
)

describe('user directory: fuzz', () => {
  it('answers every random request once, well-formed, never internal-server-error, within its limits', async () => {
    const s = await setup({
      admins: ['root@localhost'],
      maxEntries: 3,
      rateLimit: { burst: 5, perMinute: 600, maxRequesters: 3 },
      writeLimit: { burst: 5, perMinute: 600, maxRequesters: 3 },
      sessions: { max: 6, perRequester: 2, adminReserve: 2 },
    })
    const clients = USERS.map((jid) => s.client(jid))
    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.nat(USERS.length - 1), request), { minLength: 1, maxLength: 6 }),
          async (requests) => {
            await Promise.all(
              requests.map(async ([who, r]) => {
                const client = clients[who] as (typeof clients)[0]
                let reply: Element
                if (r.kind === 'register') {
                  const children = Array.isArray(r.payload) ? r.payload : [r.payload]
                  reply = await answer(client, iq(r.type as 'get' | 'set', query(NS_REGISTER, ...children)))
                } else if (r.kind === 'search') {
                  const children = Array.isArray(r.payload) ? r.payload : [r.payload]
                  reply = await answer(client, iq('set', query(NS_SEARCH, ...children, r.rsm)))
                } else {
                  reply = await answer(
                    client,
                    iq('set', xml('command', { xmlns: NS_COMMANDS, node: r.node })),
                  )
                  const cmd = reply.getChild('command', NS_COMMANDS) as Element | undefined
                  if (cmd?.attrs.status === 'executing' && r.values !== undefined) {
                    const next = xml(
                      'command',
                      {
                        xmlns: NS_COMMANDS,
                        node: r.node,
                        sessionid: cmd.attrs.sessionid,
                        action: 'complete',
                      },
                      submitForm(r.values),
                    )
                    reply = await answer(client, iq('set', next))
                  }
                }
                expect(
                  reply.getChild('error')?.getChild('internal-server-error'),
                  reply.toString(),
                ).toBeUndefined()
              }),
            )
            expect(await s.dir.store.count()).toBeLessThanOrEqual(3)
            expect(s.dir.limiters.searches.size).toBeLessThanOrEqual(3)
            expect(s.dir.limiters.writes.size).toBeLessThanOrEqual(3)
            expect(s.dir.commands.stats.sessions).toBeLessThanOrEqual(6)
          },
        ),
        { numRuns: 80 },
      )
    })
  })
})
