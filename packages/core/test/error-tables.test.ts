// The error tables of docs/*.md and packages/*/README.md (marked `<!-- error-table … -->`, read
// by test-support/error-tables.ts): every package they name checks its rows in its own
// test/error-tables.test.ts; @satellite/core's rows (docs/iq.md) are checked here.

import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Component, component, xml } from '@satellite/core'
import { checkErrorTables, type Observed, ROOT, readErrorTables } from '@satellite/test-support/error-tables'
import { createServer, type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { afterEach, expect, it } from 'vitest'

const DOMAIN = 'iq.localhost'
let cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const c of cleanup.reverse()) await c()
  cleanup = []
})

async function setup(): Promise<{ xmpp: Component; alice: SimulatedClient }> {
  const server = await createServer({ components: { [DOMAIN]: 'iq-secret' } })
  const xmpp = component({ service: server.url, domain: DOMAIN, secret: 'iq-secret' })
  cleanup.push(
    () => server.close(),
    () => xmpp.stop(),
  )
  xmpp.on('error', () => {})
  xmpp.iqGet({ xmlns: 'urn:example:throws' }, () => {
    throw new Error('database down')
  })
  xmpp.iqGet({ xmlns: 'urn:example:returns' }, () => 'not an element' as never)
  await xmpp.start()
  return { xmpp, alice: server.client('alice@localhost/r') }
}

async function answer(p: Promise<unknown>): Promise<Observed> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof StanzaErrorResponse)) throw new Error(`expected an error answer, got ${String(err)}`)
  return err
}

const get = (...children: ReturnType<typeof xml>[]) => xml('iq', { type: 'get', to: DOMAIN }, ...children)

it('every error table row for @satellite/core matches what the code answers', async () => {
  await checkErrorTables('@satellite/core', {
    'no route matches': async () => {
      const { alice } = await setup()
      return answer(alice.request(get(xml('query', { xmlns: 'urn:example:nobody' }))))
    },
    'the iq does not carry exactly one payload, or its type is unknown': async () => {
      const { alice } = await setup()
      const none = await answer(alice.request(get()))
      const two = await answer(
        alice.request(
          get(xml('a', { xmlns: 'urn:example:throws' }), xml('b', { xmlns: 'urn:example:throws' })),
        ),
      )
      alice.send(xml('iq', { type: 'sideways', to: DOMAIN, id: 'odd' }, xml('query', { xmlns: 'urn:x' })))
      const odd = new StanzaErrorResponse(await alice.expectStanza({ name: 'iq', id: 'odd' }))
      const all = [none, two, odd].map((o) => o.condition)
      return new Set(all).size === 1 ? none : { condition: `differing: ${all.join(', ')}` }
    },
    'the handler throws something that is not a `StanzaError`': async () => {
      const { alice } = await setup()
      return answer(alice.request(get(xml('query', { xmlns: 'urn:example:throws' }))))
    },
    'the handler returns something that is not an `Element`': async () => {
      const { alice } = await setup()
      return answer(alice.request(get(xml('query', { xmlns: 'urn:example:returns' }))))
    },
  })
})

it('every package an error table names checks its rows; the tables are where the docs say', () => {
  const cells = readErrorTables()
  const packages = [...new Set(cells.map((c) => c.pkg))].sort()
  expect(packages).toEqual([
    '@satellite/adhoc',
    '@satellite/core',
    '@satellite/forms',
    '@satellite/register',
    '@satellite/search',
    '@satellite/vcard',
  ])
  for (const pkg of packages) {
    const test = join(ROOT, 'packages', pkg.slice('@satellite/'.length), 'test', 'error-tables.test.ts')
    expect(existsSync(test), `${pkg} has no test/error-tables.test.ts`).toBe(true)
    expect(readFileSync(test, 'utf8')).toContain(`checkErrorTables('${pkg}'`)
  }
  const files = [...new Set(cells.map((c) => c.where.split(':')[0]))].sort()
  expect(files).toEqual([
    'docs/iq.md',
    'docs/toolkit.md',
    'packages/adhoc/README.md',
    'packages/forms/README.md',
    'packages/register/README.md',
    'packages/search/README.md',
    'packages/vcard/README.md',
  ])
})
