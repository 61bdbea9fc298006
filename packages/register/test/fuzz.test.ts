// Fuzz test (fast-check) of the XEP-0077 boundary, through the embedded server: random
// registration iqs (legacy fields known or not, repeated, <remove/> with or without siblings,
// random data forms, well-formed submissions with random values) from a few requesters. Every
// request gets one well-formed answer (a result, or an error with an RFC 6120 condition and a
// short text without internal details), nothing rejects unhandled, and a stored password is
// never sent back.
import { type Element, xml } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { LEGACY_FIELDS, type Registration, registration } from '@satellite/register'
import { serverAndComponent } from '@satellite/test-support/component'
import { answer, dataForm, noUnhandledRejection, oneOf } from '@satellite/test-support/fuzz'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const NS = 'jabber:iq:register'
const SECRET_PASSWORD = 'hunter2-do-not-echo'

const legacyChild = fc
  .tuple(
    fc.oneof(
      {
        arbitrary: fc.constantFrom('username', 'password', 'email', 'instructions', 'registered'),
        weight: 6,
      },
      { arbitrary: fc.constantFrom(...LEGACY_FIELDS, 'remove', 'x', 'shoe'), weight: 2 },
    ),
    oneOf(['alice', 'boom', '', 'a@example.org']),
    fc.boolean(),
  )
  .map(([name, value, foreign]) =>
    // the secret only ever goes into <password/>: the property is that it never comes back
    xml(name, foreign ? { xmlns: 'urn:example:other' } : {}, name === 'password' ? SECRET_PASSWORD : value),
  )

const payload = fc.oneof(
  { arbitrary: fc.array(legacyChild, { maxLength: 4 }), weight: 4 },
  { arbitrary: fc.constant([xml('remove')]), weight: 1 },
  {
    arbitrary: fc
      .record({
        username: fc.constantFrom('alice', 'boom', ''),
        password: oneOf([SECRET_PASSWORD, '']),
        email: oneOf(['a@example.org']),
      })
      .map((v) => [submitForm(v, { formType: NS })]),
    weight: 3,
  },
  { arbitrary: dataForm(['username', 'password', 'email'], [NS]).map((x) => [x]), weight: 2 },
)

describe('register: fuzz', () => {
  it('answers every random registration iq once, well-formed, never echoing a password', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const users = new Map<string, Registration>()
    registration(xmpp, {
      fields: ['username', 'password', 'email'],
      optional: ['email'],
      instructions: 'Your legacy login',
      allow: (jid) => !jid.startsWith('mallory@'),
      hooks: {
        get: (jid) => users.get(jid) ?? null,
        register: (jid, values) => {
          if (values.username === 'boom') throw new Error('connect ECONNREFUSED 10.0.0.7:5432')
          users.set(jid, values)
        },
        remove: (jid) => void users.delete(jid),
      },
    })
    await xmpp.start()
    const clients = ['alice@localhost/a', 'alice@localhost/b', 'bob@localhost/r', 'mallory@localhost/r'].map(
      (jid) => srv.client(jid),
    )

    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              who: fc.nat(clients.length - 1),
              type: fc.constantFrom('get', 'set', 'set', 'set'),
              children: payload,
            }),
            { minLength: 1, maxLength: 8 },
          ),
          async (requests) => {
            await Promise.all(
              requests.map(async (r) => {
                const client = clients[r.who] as (typeof clients)[0]
                const reply = await answer(
                  client,
                  xml('iq', { type: r.type, to: DOMAIN }, xml('query', { xmlns: NS }, ...r.children)),
                )
                expect(reply.toString()).not.toContain('ECONNREFUSED')
                if (r.type === 'get') expect(reply.toString()).not.toContain(SECRET_PASSWORD)
                const q = reply.getChild('query', NS) as Element | undefined
                if (reply.attrs.type === 'result' && r.type === 'get') expect(q).toBeDefined()
              }),
            )
          },
        ),
        { numRuns: 80 },
      )
    })
    expect(users.size).toBeLessThanOrEqual(2) // alice and bob: at most one registration each
  })
})
