// The requester's address in parts (session.requester, the second argument of allowed and
// privileged), forms built per session and what an exception there becomes, and commandError's
// two forms. Driven from a simulated client with @satellite/testing's client.command().

import {
  type CommandsOptions,
  commandError,
  commands,
  type Requester,
  requesterOf,
  stage,
} from '@satellite/adhoc'
import { type Element, StanzaError } from '@satellite/core'
import { defineForm } from '@satellite/forms'
import { serverAndComponent } from '@satellite/test-support/component'
import { StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'poll.localhost'
const NS_COMMANDS = 'http://jabber.org/protocol/commands'

interface Poll {
  question?: string
  choices?: string[]
}

const polls = new Map<string, string[]>([
  ['lunch', ['pizza', 'sushi']],
  ['tea', ['green', 'black']],
])

async function start(options: CommandsOptions = {}) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, 'poll-secret')
  const seen: Array<{ where: string; from: string; requester: Requester }> = []
  const registry = commands(xmpp, {
    ...options,
    privileged: (from, requester) => {
      seen.push({ where: 'privileged', from, requester })
      return requester.bare === 'root@localhost'
    },
  })
  registry.register<Poll>({
    node: 'vote',
    name: 'Vote',
    allowed: (from, requester) => {
      seen.push({ where: 'allowed', from, requester })
      return requester.domain === 'localhost'
    },
    stages: [
      stage(
        defineForm({
          // 'closed' has no choices any more (polls has no entry for it)
          fields: [
            {
              type: 'list-single',
              var: 'poll',
              required: true,
              options: ['lunch', 'tea', 'closed'].map((value) => ({ value })),
            },
          ],
        }),
        (values, session) => {
          session.state.question = values.poll
        },
      ),
      // built per session: the choices of the poll picked at the first stage
      stage(
        (session) => {
          const choices = polls.get(session.state.question ?? '')
          if (choices === undefined) throw new StanzaError('item-not-found', 'that poll was closed meanwhile')
          if (session.state.question === 'tea' && session.requester.resource === 'broken') {
            throw new Error('database down')
          }
          return defineForm({
            title: `${session.state.question} (for ${session.requester.bare})`,
            fields: [
              {
                type: 'list-single',
                var: 'choice',
                required: true,
                options: choices.map((value) => ({ value })),
              },
            ],
          })
        },
        (values, session) => {
          session.state.choices = [values.choice]
        },
      ),
    ],
    complete: (session) => ({
      notes: [`${session.requester.local} (${session.requester.resource}) voted ${session.state.choices}`],
    }),
  })
  registry.register({
    node: 'open-first',
    name: 'A first form that fails',
    stages: [
      stage(() => {
        throw new StanzaError('not-allowed', 'no polls today')
      }),
    ],
  })
  registry.register<{ locked?: boolean }>({
    node: 'back',
    name: 'A first form that cannot be shown again',
    stages: [
      stage(
        (session) => {
          if (session.state.locked) throw new StanzaError('not-allowed', 'locked')
          return defineForm({ fields: [{ type: 'boolean', var: 'lock' }] })
        },
        (values, session) => {
          session.state.locked = values.lock === true
        },
      ),
      stage(defineForm({ fields: [{ type: 'text-single', var: 'end' }] })),
    ],
    complete: (session) => {
      if (session.state.locked === false) throw new StanzaError('conflict', 'not locked')
      return {}
    },
  })
  await xmpp.start()
  return { srv, registry, seen }
}

describe('the requester in parts', () => {
  it('requesterOf() splits a full JID: bare and parts lower-cased, the full JID and resource as given', () => {
    expect(requesterOf('Alice@LocalHost/Phone')).toEqual({
      full: 'Alice@LocalHost/Phone',
      bare: 'alice@localhost',
      local: 'alice',
      domain: 'localhost',
      resource: 'Phone',
    })
    expect(requesterOf('localhost')).toEqual({
      full: 'localhost',
      bare: 'localhost',
      local: '',
      domain: 'localhost',
      resource: '',
    })
    expect(requesterOf('c\\3a\\net@gw.localhost/r/x').local).toBe('c\\3a\\net') // as on the wire
    expect(requesterOf('c\\3a\\net@gw.localhost/r/x').resource).toBe('r/x')
    expect(requesterOf('').bare).toBe('') // not a JID: split as written
  })

  it('is session.requester, and the second argument of allowed and privileged', async () => {
    const { srv, seen } = await start()
    const vote = await srv.client('Alice@localhost/Phone').command(DOMAIN, 'vote')
    await vote.next({ poll: 'lunch' })
    expect(vote.form?.title).toBe('lunch (for alice@localhost)')
    await vote.complete({ choice: 'sushi' })
    expect(vote.notes).toEqual([{ type: 'info', text: 'alice (Phone) voted sushi' }])
    const alice = {
      full: 'alice@localhost/Phone',
      bare: 'alice@localhost',
      local: 'alice',
      domain: 'localhost',
      resource: 'Phone',
    }
    expect(seen[0]).toEqual({ where: 'allowed', from: alice.full, requester: alice })
    expect(seen.find((s) => s.where === 'privileged')).toEqual({
      where: 'privileged',
      from: alice.full,
      requester: alice,
    })
  })
})

describe('a form built per session', () => {
  it('a StanzaError thrown there is the answer, and the session stays at the stage it was at', async () => {
    const { srv, registry } = await start()
    const vote = await srv.client('carol@localhost/r').command(DOMAIN, 'vote')
    const error = await vote.next({ poll: 'closed' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StanzaErrorResponse)
    const e = error as StanzaErrorResponse
    expect([e.condition, e.errorType, e.text]).toEqual([
      'item-not-found',
      'cancel',
      'that poll was closed meanwhile',
    ])
    // still at the first stage: the same form, and another answer moves on
    expect(registry.sessions).toBe(1)
    expect(vote.form?.field('poll')?.options.map((o) => o.value)).toEqual(['lunch', 'tea', 'closed'])
    await vote.next({ poll: 'lunch' })
    expect(vote.form?.field('choice')?.options.map((o) => o.value)).toEqual(['pizza', 'sushi'])
    await vote.complete({ choice: 'pizza' })
    expect(vote.status).toBe('completed')
    expect(registry.sessions).toBe(0)
  })

  it('after prev, too: the session stays at the later stage', async () => {
    const { srv } = await start()
    const back = await srv.client('frank@localhost/r').command(DOMAIN, 'back')
    await back.next({ lock: true })
    const error = await back.prev().catch((e: unknown) => e)
    expect([(error as StanzaErrorResponse).condition, (error as StanzaErrorResponse).text]).toEqual([
      'not-allowed',
      'locked',
    ])
    await back.complete({ end: 'x' }) // only the last stage may complete
    expect(back.status).toBe('completed')
  })

  it('a StanzaError from complete leaves the session at the last stage', async () => {
    const { srv, registry } = await start()
    const back = await srv.client('gina@localhost/r').command(DOMAIN, 'back')
    await back.next({ lock: false })
    const error = await back.complete({ end: 'x' }).catch((e: unknown) => e)
    expect((error as StanzaErrorResponse).condition).toBe('conflict')
    expect(registry.sessions).toBe(1)
    await back.prev() // the first stage can be shown again (not locked)
    await back.next({ lock: true })
    await back.complete({ end: 'x' })
    expect([back.status, registry.sessions]).toEqual(['completed', 0])
  })

  it('any other exception is internal-server-error, without its message; the session stays', async () => {
    const { srv, registry } = await start()
    const vote = await srv.client('dave@localhost/broken').command(DOMAIN, 'vote')
    const error = await vote.next({ poll: 'tea' }).catch((e: unknown) => e)
    expect((error as StanzaErrorResponse).condition).toBe('internal-server-error')
    expect((error as StanzaErrorResponse).text).toBeUndefined()
    expect(registry.sessions).toBe(1)
    await vote.next({ poll: 'lunch' }) // the submission of stage 1 again, then stage 2
    await vote.complete({ choice: 'pizza' })
    expect(registry.sessions).toBe(0)
  })

  it('thrown by the first stage: the answer to execute, and no session is kept', async () => {
    const { srv, registry } = await start()
    const error = await srv
      .client('erin@localhost/r')
      .command(DOMAIN, 'open-first')
      .catch((e: unknown) => e)
    expect([(error as StanzaErrorResponse).condition, (error as StanzaErrorResponse).text]).toEqual([
      'not-allowed',
      'no polls today',
    ])
    expect(registry.stats).toMatchObject({ sessions: 0, requesters: 0 })
  })
})

describe('commandError()', () => {
  it('takes a text or { text, type }, like new StanzaError()', () => {
    const a = commandError('bad-payload', 'the amount must be positive')
    expect([a.condition, a.type, a.text, (a.application as Element).toString()]).toEqual([
      'bad-request',
      'modify',
      'the amount must be positive',
      `<bad-payload xmlns="${NS_COMMANDS}"/>`,
    ])
    const b = commandError('bad-payload', { text: 'counting', type: 'wait' })
    expect([b.condition, b.type, b.text]).toEqual(['bad-request', 'wait', 'counting'])
    const c = commandError('session-expired', {})
    expect([c.condition, c.type, c.text]).toEqual(['not-allowed', 'cancel', undefined])
  })
})
