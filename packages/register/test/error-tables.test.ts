// Every row naming @satellite/register in the error tables of docs/*.md and packages/*/README.md
// (packages/register/README.md, docs/toolkit.md "Errors you can count on"), run against the code
// through the embedded server.

import { component, type Element, StanzaError, xml } from '@satellite/core'
import { NS_DATA, submitForm } from '@satellite/forms'
import { type RegistrationOptions, registration } from '@satellite/register'
import { checkErrorTables, type Observed } from '@satellite/test-support/error-tables'
import { createServer, type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { afterEach, it } from 'vitest'

const DOMAIN = 'reg.localhost'
const NS = 'jabber:iq:register'
let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

const hooks: RegistrationOptions['hooks'] = {
  get: () => null,
  register: (_jid, values) => {
    if (values.username === 'taken' || values.nick === 'taken') throw new StanzaError('conflict', 'taken')
    if (values.username === 'boom' || values.nick === 'boom') throw new Error('database down')
  },
  remove: () => {},
}

/** A registrar with legacy username/password and a data form; alice asks it. */
async function setup(options: Partial<RegistrationOptions> = {}): Promise<SimulatedClient> {
  const server = await createServer({ components: { [DOMAIN]: 'reg-secret' } })
  const xmpp = component({ service: server.url, domain: DOMAIN, secret: 'reg-secret' })
  cleanup.push(
    () => server.close(),
    () => xmpp.stop(),
  )
  registration(xmpp, {
    fields: ['username', 'password'],
    form: {
      fields: [
        { type: 'text-single', var: 'nick', required: true, maxLength: 8 },
        { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
        { type: 'boolean', var: 'adult' },
      ],
    },
    hooks,
    ...options,
  })
  await xmpp.start()
  return server.client('alice@localhost/r')
}

async function answer(p: Promise<unknown>): Promise<Observed> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof StanzaErrorResponse)) throw new Error(`expected an error answer, got ${String(err)}`)
  return err
}

const set = (...children: Element[]) =>
  xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS }, ...children))
const legacy = (fields: Array<[string, string]>) => set(...fields.map(([k, v]) => xml(k, {}, v)))
const form = (values: Record<string, string | string[]>, formType = NS) =>
  set(submitForm(values, { formType }))

async function asks(request: Element, options: Partial<RegistrationOptions> = {}): Promise<Observed> {
  return answer((await setup(options)).request(request))
}

it('every error table row for @satellite/register matches what the code answers', async () => {
  await checkErrorTables('@satellite/register', {
    'an empty `<query/>` in a set': () => asks(set()),
    'an unknown legacy field (`<colour/>`)': () =>
      asks(
        legacy([
          ['username', 'al'],
          ['password', 'pw'],
          ['colour', 'red'],
        ]),
      ),
    'a legacy field given twice': () =>
      asks(
        legacy([
          ['username', 'al'],
          ['username', 'bo'],
          ['password', 'pw'],
        ]),
      ),
    '`<remove/>` with other children': () => asks(set(xml('remove'), xml('username', {}, 'al'))),
    'a malformed data form': () =>
      asks(set(xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', {}, xml('value', {}, 'no var'))))),
    'an unknown form field': () => asks(form({ nick: 'al', colour: 'red' })),
    'a wrong FORM_TYPE': () => asks(form({ nick: 'al' }, 'urn:example:other')),
    'a boolean that is not `true`, `false`, `1` or `0`': () => asks(form({ nick: 'al', adult: 'maybe' })),
    'a required field missing': () => asks(form({ lang: 'en' })),
    'a required legacy field empty': () =>
      asks(
        legacy([
          ['username', ''],
          ['password', 'pw'],
        ]),
      ),
    'a value not among the options': () => asks(form({ nick: 'al', lang: 'de' })),
    "a value longer than the field's `maxLength`": () => asks(form({ nick: 'abcdefghij' })),
    'refused by the access hook (`allow`, `allowed`)': () =>
      asks(form({ nick: 'al' }), { allow: () => false }),
    '`<remove/>` when not registered': () => asks(set(xml('remove'))),
    "a hook throws `new StanzaError('conflict')`": () => asks(form({ nick: 'taken' })),
    'a hook throws anything else': () => asks(form({ nick: 'boom' })),
  })
})
