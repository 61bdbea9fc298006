// Every row naming @satellite/vcard in the error tables of docs/*.md and packages/*/README.md
// (packages/vcard/README.md, docs/toolkit.md "Errors you can count on"), run against the code
// through the embedded server.

import { component, type Element, StanzaError, xml } from '@satellite/core'
import { checkErrorTables, type Observed } from '@satellite/test-support/error-tables'
import { createServer, StanzaErrorResponse } from '@satellite/testing'
import { NS_VCARD, type VcardOptions, vcard } from '@satellite/vcard'
import { afterEach, it } from 'vitest'

const DOMAIN = 'card.localhost'
let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

const throwing = (local: string) => {
  if (local === 'taken') throw new StanzaError('conflict', 'taken')
  if (local === 'boom') throw new Error('database down')
}

async function asks(request: Element, { readOnly = false } = {}): Promise<Observed> {
  const server = await createServer({ components: { [DOMAIN]: 'card-secret' } })
  const xmpp = component({ service: server.url, domain: DOMAIN, secret: 'card-secret' })
  cleanup.push(
    () => server.close(),
    () => xmpp.stop(),
  )
  const get: VcardOptions['get'] = (local) => {
    throwing(local)
    return local === '' ? { FN: 'Cards' } : null
  }
  vcard(xmpp, readOnly ? { get } : { get, set: (local) => throwing(local) })
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

const iq = (type: 'get' | 'set', local: string, payload = xml('vCard', { xmlns: NS_VCARD })) =>
  xml('iq', { type, to: local ? `${local}@${DOMAIN}` : DOMAIN }, payload)

/** The one answer all of `observed` agree on, or a mismatch the table cannot match. */
function same(observed: Observed[]): Observed {
  const all = observed.map((o) => o.condition)
  return new Set(all).size === 1 ? (observed[0] as Observed) : { condition: `differing: ${all.join(', ')}` }
}

it('every error table row for @satellite/vcard matches what the code answers', async () => {
  await checkErrorTables('@satellite/vcard', {
    'a get for an unknown user (`get` returns `null`)': () => asks(iq('get', 'nobody')),
    'a set without a `set` option': () => asks(iq('set', ''), { readOnly: true }),
    "an iq whose payload is not `<vCard xmlns='vcard-temp'/>`": async () =>
      same([
        await asks(iq('set', '', xml('vcard', { xmlns: NS_VCARD }))),
        await asks(iq('get', '', xml('vCard', { xmlns: 'urn:example:other' }))),
      ]),
    "a hook throws `new StanzaError('conflict')`": async () =>
      same([await asks(iq('get', 'taken')), await asks(iq('set', 'taken'))]),
    'a hook throws anything else': async () =>
      same([await asks(iq('get', 'boom')), await asks(iq('set', 'boom'))]),
  })
})
