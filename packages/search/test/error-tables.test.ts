// Every row naming @satellite/search in the error tables of docs/*.md and packages/*/README.md
// (packages/search/README.md, docs/toolkit.md "Errors you can count on"), run against the code
// through the embedded server.

import { component, type Element, StanzaError, xml } from '@satellite/core'
import { NS_DATA, submitForm } from '@satellite/forms'
import { NS_RSM, paginate, type SearchOptions, search } from '@satellite/search'
import { checkErrorTables, type Observed } from '@satellite/test-support/error-tables'
import { createServer, StanzaErrorResponse } from '@satellite/testing'
import { afterEach, it } from 'vitest'

const DOMAIN = 'search.localhost'
const NS = 'jabber:iq:search'
let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

const people = ['a@localhost', 'b@localhost', 'c@localhost']

const query: SearchOptions['query'] = (criteria, paging) => {
  if (criteria.nick === 'taken' || criteria.first === 'taken') throw new StanzaError('conflict', 'taken')
  if (criteria.nick === 'boom' || criteria.first === 'boom') throw new Error('database down')
  return paginate(
    people.map((jid) => ({ jid })),
    paging,
    (p) => p.jid,
    paging.max,
  )
}

async function asks(request: Element, options: Partial<SearchOptions> = {}): Promise<Observed> {
  const server = await createServer({ components: { [DOMAIN]: 'search-secret' } })
  const xmpp = component({ service: server.url, domain: DOMAIN, secret: 'search-secret' })
  cleanup.push(
    () => server.close(),
    () => xmpp.stop(),
  )
  search(xmpp, {
    fields: ['first', 'nick'],
    form: {
      fields: [
        { type: 'text-single', var: 'nick', required: true },
        { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
        { type: 'boolean', var: 'online' },
      ],
    },
    query,
    ...options,
  })
  await xmpp.start()
  const err = await server
    .client('alice@localhost/r')
    .request(request)
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  if (!(err instanceof StanzaErrorResponse)) throw new Error(`expected an error answer, got ${String(err)}`)
  return err
}

const set = (...children: Element[]) =>
  xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS }, ...children))
const form = (values: Record<string, string | string[]>, formType = NS, ...rest: Element[]) =>
  set(submitForm(values, { formType }), ...rest)
const rsm = (children: Record<string, string>) =>
  xml('set', { xmlns: NS_RSM }, ...Object.entries(children).map(([k, v]) => xml(k, {}, v)))

it('every error table row for @satellite/search matches what the code answers', async () => {
  await checkErrorTables('@satellite/search', {
    'a search without criteria': () => asks(set()),
    'an unknown legacy field (`<colour/>`)': () => asks(set(xml('first', {}, 'a'), xml('colour', {}, 'red'))),
    'a malformed data form': () =>
      asks(set(xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', {}, xml('value', {}, 'no var'))))),
    'an unknown form field': () => asks(form({ nick: 'a', colour: 'red' })),
    'a wrong FORM_TYPE': () => asks(form({ nick: 'a' }, 'urn:example:other')),
    'a boolean that is not `true`, `false`, `1` or `0`': () => asks(form({ nick: 'a', online: 'maybe' })),
    'malformed RSM (a negative `<max/>`, `<after/>` with `<before/>`)': async () => {
      const negative = await asks(form({ nick: 'a' }, NS, rsm({ max: '-1' })))
      const both = await asks(form({ nick: 'a' }, NS, rsm({ after: 'a@localhost', before: 'c@localhost' })))
      return negative.condition === both.condition ? negative : { condition: 'differing' }
    },
    'a required field missing': () => asks(form({ lang: 'en' })),
    'a value not among the options': () => asks(form({ nick: 'a', lang: 'de' })),
    'refused by the access hook (`allow`, `allowed`)': () =>
      asks(form({ nick: 'a' }), { allow: () => false }),
    'an unknown RSM anchor': () => asks(form({ nick: 'a' }, NS, rsm({ after: 'nobody@localhost' }))),
    "a hook throws `new StanzaError('conflict')`": () => asks(form({ nick: 'taken' })),
    'a hook throws anything else': () => asks(form({ nick: 'boom' })),
  })
})
