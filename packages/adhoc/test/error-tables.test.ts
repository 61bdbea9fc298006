// Every row naming @satellite/adhoc in the error tables of docs/*.md and packages/*/README.md
// (packages/adhoc/README.md "Errors", docs/toolkit.md "Errors you can count on"), run against
// the code through the embedded server.

import { commands, stage } from '@satellite/adhoc'
import { type Element, StanzaError, xml } from '@satellite/core'
import { defineForm } from '@satellite/forms'
import { serverAndComponent } from '@satellite/test-support/component'
import { checkErrorTables, type Observed } from '@satellite/test-support/error-tables'
import { type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { expect, it } from 'vitest'

const DOMAIN = 'cmd.localhost'
const NS_COMMANDS = 'http://jabber.org/protocol/commands'

async function setup(options: Parameters<typeof commands>[1] = {}) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, 'cmd-secret')
  const registry = commands(xmpp, options)
  registry.register({
    node: 'form',
    name: 'A form',
    stages: [
      stage(
        defineForm({
          fields: [
            { type: 'text-single', var: 'nick', required: true },
            { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
            { type: 'boolean', var: 'adult' },
          ],
        }),
        (values) => {
          if (values.nick === 'taken') throw new StanzaError('conflict', 'taken')
          if (values.nick === 'boom') throw new Error('database down')
        },
      ),
      stage(defineForm({ fields: [{ type: 'text-single', var: 'end' }] })),
    ],
  })
  registry.register({ node: 'ping', name: 'Ping', complete: () => ({ notes: ['pong'] }) })
  registry.register({ node: 'closed', name: 'Closed', allowed: () => false, complete: () => ({}) })
  await xmpp.start()
  return { srv, registry }
}

/** The error answer to `p` (a client.command() step or a request). */
async function answer(p: Promise<unknown>): Promise<Observed> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof StanzaErrorResponse)) throw new Error(`expected an error answer, got ${String(err)}`)
  return err
}

/** The one answer all of `observed` agree on, or a mismatch the table cannot match. */
function same(observed: Observed[]): Observed {
  const shown = observed.map((o) => `${o.condition} ${String(o.application)}`)
  return new Set(shown).size === 1
    ? (observed[0] as Observed)
    : { condition: `differing: ${shown.join(', ')}` }
}

const raw = (c: SimulatedClient, attrs: Record<string, string>, ...children: Element[]) =>
  c.request(
    xml('iq', { type: 'set', to: DOMAIN }, xml('command', { xmlns: NS_COMMANDS, ...attrs }, ...children)),
  )

async function submitted(values: Record<string, string | string[]>): Promise<Observed> {
  const { srv } = await setup()
  const session = await srv.client('alice@localhost/r').command(DOMAIN, 'form')
  return answer(session.next(values))
}

it('every error table row for @satellite/adhoc matches what the code answers', async () => {
  const rows = await checkErrorTables('@satellite/adhoc', {
    'a command without a node': async () => {
      const { srv } = await setup()
      return answer(raw(srv.client('alice@localhost/r'), { action: 'execute' }))
    },
    'an unknown command node': async () => {
      const { srv } = await setup()
      return answer(srv.client('alice@localhost/r').command(DOMAIN, 'nope'))
    },
    '`allowed` refuses the requester': async () => {
      const { srv } = await setup()
      return answer(srv.client('alice@localhost/r').command(DOMAIN, 'closed'))
    },
    'an unknown action': async () => {
      const { srv } = await setup()
      return answer(raw(srv.client('alice@localhost/r'), { node: 'form', action: 'jump' }))
    },
    'an action the stage does not offer (`prev` at the first, `next` at the last)': async () => {
      const { srv } = await setup()
      const session = await srv.client('alice@localhost/r').command(DOMAIN, 'form')
      const first = await answer(session.prev())
      await session.next({ nick: 'a' })
      return same([first, await answer(session.next({ end: 'x' }))])
    },
    'an action other than `execute` without a session id': async () => {
      const { srv } = await setup()
      return answer(raw(srv.client('alice@localhost/r'), { node: 'form', action: 'next' }))
    },
    'an unknown session id, or one of another node or requester': async () => {
      const { srv } = await setup()
      const alice = srv.client('alice@localhost/r')
      const session = await alice.command(DOMAIN, 'form')
      const id = session.sessionId as string
      return same([
        await answer(raw(alice, { node: 'form', sessionid: 'made-up', action: 'cancel' })),
        await answer(raw(alice, { node: 'ping', sessionid: id, action: 'cancel' })),
        await answer(
          raw(srv.client('alice@localhost/other'), { node: 'form', sessionid: id, action: 'cancel' }),
        ),
      ])
    },
    'an expired session id': async () => {
      const { srv } = await setup({ sessionTimeout: 20 })
      const session = await srv.client('alice@localhost/r').command(DOMAIN, 'form')
      await new Promise((r) => setTimeout(r, 60))
      return answer(session.next({ nick: 'a' }))
    },
    'an unknown form field': () => submitted({ nick: 'a', colour: 'red' }),
    'a required field missing': () => submitted({ lang: 'en' }),
    'a value not among the options': () => submitted({ nick: 'a', lang: 'de' }),
    'a boolean that is not `true`, `false`, `1` or `0`': () => submitted({ nick: 'a', adult: 'maybe' }),
    'too many sessions (`maxSessionsPerRequester`, `maxSessions`)': async () => {
      const { srv } = await setup({ maxSessionsPerRequester: 1, maxSessions: 2 })
      await srv.client('alice@localhost/r').command(DOMAIN, 'form')
      const perRequester = await answer(srv.client('alice@localhost/other').command(DOMAIN, 'form'))
      await srv.client('bob@localhost/r').command(DOMAIN, 'form')
      return same([perRequester, await answer(srv.client('carol@localhost/r').command(DOMAIN, 'form'))])
    },
    "a callback throws `new StanzaError('conflict', 'taken')`": () => submitted({ nick: 'taken' }),
    'a callback throws anything else': async () => {
      const e = (await submitted({ nick: 'boom' })) as StanzaErrorResponse
      expect(e.text).toBeUndefined()
      return e
    },
    // docs/toolkit.md
    "a hook throws `new StanzaError('conflict')`": () => submitted({ nick: 'taken' }),
    'a hook throws anything else': () => submitted({ nick: 'boom' }),
    'refused by the access hook (`allow`, `allowed`)': async () => {
      const { srv } = await setup()
      return answer(srv.client('alice@localhost/r').command(DOMAIN, 'closed'))
    },
  })
  expect(rows.map((r) => r.where.split(':')[0])).toEqual(
    expect.arrayContaining(['packages/adhoc/README.md', 'docs/toolkit.md']),
  )
})
