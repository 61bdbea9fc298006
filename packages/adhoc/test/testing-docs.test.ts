// docs/testing.md "Ad-hoc commands", kept runnable: a two-stage @satellite/adhoc command on the
// first test's component, driven with @satellite/testing's client.command().

import { commands, stage } from '@satellite/adhoc'
import { type Component, component } from '@satellite/core'
import { defineForm } from '@satellite/forms'
import { createServer, StanzaErrorResponse, type TestServer } from '@satellite/testing'
import { afterEach, beforeEach, expect, it } from 'vitest'

let server: TestServer
let xmpp: Component

beforeEach(async () => {
  server = await createServer({ components: { 'echo.localhost': 'secret' } })
  xmpp = component({ service: server.url, domain: 'echo.localhost', secret: 'secret' })
  // in beforeEach, before xmpp.start()
  commands(xmpp).register<{ question?: string }>({
    node: 'create-poll',
    name: 'Create a poll',
    stages: [
      stage(
        defineForm({ fields: [{ type: 'text-single', var: 'question', required: true }] }),
        (values, session) => {
          session.state.question = values.question
        },
      ),
      stage(defineForm({ fields: [{ type: 'text-multi', var: 'choices', required: true }] })),
    ],
    complete: (session) => ({ notes: [`Poll created: ${session.state.question}`] }),
  })
  await xmpp.start()
})

afterEach(async () => {
  await xmpp.stop()
  await server.close()
})

it('creates a poll in two stages', async () => {
  const alice = server.client('alice@localhost/phone')
  const poll = await alice.command('echo.localhost', 'create-poll')
  expect(poll.form?.field('question')?.required).toBe(true)
  await poll.next({ question: 'Lunch?' })
  expect(poll.actions).toEqual(['prev', 'complete'])
  await poll.complete({ choices: ['pizza', 'sushi'] })
  expect(poll.status).toBe('completed')
  expect(poll.notes).toEqual([{ type: 'info', text: 'Poll created: Lunch?' }])
})

it('refuses an empty question and keeps the stage', async () => {
  const poll = await server.client('bob@localhost/desk').command('echo.localhost', 'create-poll')
  const error = await poll.next({ question: '' }).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(StanzaErrorResponse)
  expect([(error as StanzaErrorResponse).condition, (error as StanzaErrorResponse).application]).toEqual([
    'bad-request',
    'bad-payload',
  ])
  await poll.next({ question: 'Tea?' }) // still at the first stage
  expect(poll.form?.field('choices')).toBeDefined()
})
