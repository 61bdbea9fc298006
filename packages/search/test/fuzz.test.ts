// Fuzz test (fast-check) of the XEP-0055/XEP-0059 boundary, through the embedded server:
// random search iqs (legacy fields, random children, data forms, RSM sets with random
// values). Every request gets one well-formed answer (a result of at most maxItems items, or
// an error with an RFC 6120 condition and a short text without internal details), nothing
// rejects unhandled. The search service keeps no state per requester.
import { type Element, xml } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { NS_RSM, paginate, search } from '@satellite/search'
import { serverAndComponent } from '@satellite/test-support/component'
import { answer, dataForm, noUnhandledRejection, oneOf, rsmSet } from '@satellite/test-support/fuzz'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'search.localhost'
const NS = 'jabber:iq:search'
const PEOPLE = Array.from({ length: 30 }, (_, i) => ({
  jid: `u${i}@localhost`,
  first: `First${i}`,
  nick: `n${i}`,
}))
const VARS = ['first', 'online', 'kind', 'owner']

const payload = fc.oneof(
  // legacy fields, known or not, possibly repeated, with random text
  fc
    .array(
      fc.tuple(
        fc.constantFrom('first', 'first', 'first', 'nick', 'nick', 'nick', 'instructions', 'email', 'shoe'),
        oneOf(['F', 'First1', 'n']),
      ),
      { maxLength: 3 },
    )
    .map((fields) => fields.map(([name, value]) => xml(name, {}, value))),
  // a well-formed form submission with random values
  fc
    .record({
      first: oneOf(['First1', 'boom', 'gone', '']),
      online: fc.constantFrom('true', '0', 'maybe'),
      kind: oneOf(['a', 'b']),
    })
    .map((v) => [submitForm(v, { formType: NS })]),
  // anything shaped like a data form
  dataForm(VARS, [NS]).map((x) => [x]),
)

describe('search: fuzz', () => {
  it('answers every random search iq once, well-formed', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    search(xmpp, {
      instructions: 'Find people',
      fields: ['first', 'nick'],
      form: {
        fields: [
          { type: 'text-single', var: 'first', maxLength: 16 },
          { type: 'boolean', var: 'online' },
          { type: 'list-single', var: 'kind', options: [{ value: 'a' }, { value: 'b' }] },
          { type: 'jid-single', var: 'owner' },
        ],
      },
      maxItems: 7,
      allow: (jid) => jid !== 'b@localhost',
      query: (criteria, paging) => {
        if (criteria.first === 'boom') throw new Error('connect ECONNREFUSED 10.0.0.7:5432')
        const hits = PEOPLE.filter(
          (p) => typeof criteria.first !== 'string' || p.first.startsWith(criteria.first),
        )
        return paginate(hits, paging, (p) => p.jid, paging.max)
      },
    })
    await xmpp.start()
    const clients = ['a@localhost/r', 'b@localhost/r'].map((jid) => srv.client(jid))

    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              who: fc.constantFrom(0, 0, 0, 1),
              type: fc.constantFrom('get', 'set', 'set', 'set'),
              children: payload,
              rsm: fc.option(rsmSet(PEOPLE.slice(0, 5).map((p) => p.jid)), { nil: undefined }),
            }),
            { minLength: 1, maxLength: 8 },
          ),
          async (requests) => {
            await Promise.all(
              requests.map(async (r) => {
                const q = xml('query', { xmlns: NS }, ...r.children)
                if (r.rsm !== undefined) q.cnode(r.rsm)
                const reply = await answer(
                  clients[r.who] as (typeof clients)[0],
                  xml('iq', { type: r.type, to: DOMAIN }, q),
                )
                expect(reply.toString()).not.toContain('ECONNREFUSED')
                const result = reply.getChild('query', NS) as Element | undefined
                if (reply.attrs.type === 'result' && r.type === 'set') {
                  const x = result?.getChild('x', 'jabber:x:data')
                  const items = x === undefined ? result?.getChildren('item') : x.getChildren('item')
                  expect((items ?? []).length).toBeLessThanOrEqual(7)
                  const set = result?.getChild('set', NS_RSM)
                  if (set !== undefined) expect(set.getChildText('count')).toMatch(/^\d+$/)
                }
              }),
            )
          },
        ),
        { numRuns: 120 },
      )
    })
  })

  it('quotes long values from the request in short error texts', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    search(xmpp, {
      fields: ['first'],
      query: (_criteria, paging) => paginate(PEOPLE, paging, (p) => p.jid, paging.max),
    })
    await xmpp.start()
    const alice = srv.client('alice@localhost/r')
    const long = 'é'.repeat(5000)
    const ask = (...children: Element[]) =>
      answer(alice, xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS }, ...children)))
    const rsm = (name: string, value: string) => xml('set', { xmlns: NS_RSM }, xml(name, {}, value))
    const cases = [
      await ask(xml('first', {}, 'F'), rsm('after', long)),
      await ask(xml('first', {}, 'F'), rsm('max', long)),
      await ask(xml(`f${'x'.repeat(3000)}`, {}, 'F')),
    ]
    for (const reply of cases) {
      expect(reply.attrs.type).toBe('error')
      const t = reply.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? ''
      expect(t.length).toBeLessThan(120)
      expect(t).toMatch(/…/)
    }
  })
})
