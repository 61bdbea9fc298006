// client.command(): drives a XEP-0050 session over the wire. The responder here is written by
// hand on @xmpp/component (no @satellite package), so the helper is checked against the wire
// format only.

import {
  type CommandSession,
  createServer,
  type Element,
  formSubmission,
  readForm,
  StanzaErrorResponse,
  type TestServer,
  type xml,
} from '@satellite/testing'
import { component, xml as xmppXml } from '@xmpp/component'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const NS_COMMANDS = 'http://jabber.org/protocol/commands'
const NS_DATA = 'jabber:x:data'
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
const DOMAIN = 'poll.localhost'

interface XmppComponent {
  start(): Promise<unknown>
  stop(): Promise<unknown>
  on(event: 'stanza', fn: (stanza: Element) => void): void
  on(event: 'error', fn: (error: Error) => void): void
  reconnect: { stop(): void }
  iqCallee: { set(ns: string, name: string, fn: (ctx: { stanza: Element }) => Element): void }
}
const build = xmppXml as typeof xml

/** What the responder received: action and submitted values (var → values) of each request. */
interface Received {
  action: string | undefined
  sessionid: string | undefined
  values: Record<string, string[]> | undefined
}

const questionForm = () =>
  build(
    'x',
    { xmlns: NS_DATA, type: 'form' },
    build('title', {}, 'New poll'),
    build('instructions', {}, 'Ask something.'),
    build('instructions', {}, 'Keep it short.'),
    build('field', { var: 'FORM_TYPE', type: 'hidden' }, build('value', {}, 'urn:example:poll')),
    build('field', { var: 'note', type: 'fixed' }, build('value', {}, 'Step 1 of 2')),
    build(
      'field',
      { var: 'question', type: 'text-single', label: 'Question' },
      build('desc', {}, 'What to ask'),
      build('required'),
    ),
    build(
      'field',
      { var: 'kind', type: 'list-single', label: 'Kind' },
      build('value', {}, 'single'),
      build('option', { label: 'One answer' }, build('value', {}, 'single')),
      build('option', {}, build('value', {}, 'multi')),
    ),
    build('field', { var: 'plain' }),
  )

const choicesForm = (question: string) =>
  build(
    'x',
    { xmlns: NS_DATA, type: 'form' },
    build(
      'field',
      { var: 'choices', type: 'text-multi', label: `Choices for ${question}` },
      build('required'),
    ),
    build('field', { var: 'anonymous', type: 'boolean' }, build('value', {}, 'false')),
    build('field', { var: 'max', type: 'text-single' }),
  )

/** A hand-written two-stage XEP-0050 responder (node 'create'), plus 'ping' without stages. */
async function responder(server: TestServer, received: Received[]): Promise<XmppComponent> {
  const xmpp = (component as (o: object) => XmppComponent)({
    service: server.url,
    domain: DOMAIN,
    password: 'secret',
  })
  xmpp.on('error', () => {})
  const sessions = new Map<string, { stage: number; question: string }>()
  let ids = 0
  // xmpp.js answers with the element returned: a result carrying it, or the error for an <error/>
  const reply = (_iq: Element, child: Element) => child
  const fail = (_iq: Element, type: string, condition: string, app?: string, text?: string) =>
    build(
      'error',
      { type },
      build(condition, { xmlns: NS_STANZAS }),
      ...(app ? [build(app, { xmlns: NS_COMMANDS })] : []),
      ...(text ? [build('text', { xmlns: NS_STANZAS }, text)] : []),
    )
  const answer = (node: string, id: string, status: string, ...children: Element[]) =>
    build('command', { xmlns: NS_COMMANDS, node, sessionid: id, status }, ...children)
  xmpp.iqCallee.set(NS_COMMANDS, 'command', ({ stanza: iq }) => {
    const cmd = iq.getChild('command', NS_COMMANDS) as Element
    const x = cmd.getChild('x', NS_DATA)
    const values: Record<string, string[]> | undefined = x
      ? Object.fromEntries(
          x.getChildren('field').map((f) => [f.attrs.var, f.getChildren('value').map((v) => v.getText())]),
        )
      : undefined
    const action = cmd.attrs.action
    const sessionid = cmd.attrs.sessionid
    received.push({ action, sessionid, values })
    if (cmd.attrs.node === 'ping')
      return reply(iq, answer('ping', 'p1', 'completed', build('note', {}, 'pong')))
    if (sessionid === undefined) {
      const id = `s${++ids}`
      sessions.set(id, { stage: 0, question: '' })
      return reply(
        iq,
        answer(
          'create',
          id,
          'executing',
          build('actions', { execute: 'next' }, build('next')),
          questionForm(),
        ),
      )
    }
    const s = sessions.get(sessionid)
    if (!s) return fail(iq, 'modify', 'bad-request', 'bad-sessionid')
    if (action === 'cancel') {
      sessions.delete(sessionid)
      return reply(iq, answer('create', sessionid, 'canceled'))
    }
    if (action === 'prev') {
      s.stage = 0
      return reply(
        iq,
        answer(
          'create',
          sessionid,
          'executing',
          build('actions', { execute: 'next' }, build('next')),
          questionForm(),
        ),
      )
    }
    if (s.stage === 0) {
      const question = values?.question?.[0] ?? ''
      if (question === '') return fail(iq, 'modify', 'bad-request', 'bad-payload', 'question is required')
      s.stage = 1
      s.question = question
      return reply(
        iq,
        answer(
          'create',
          sessionid,
          'executing',
          build('actions', { execute: 'complete' }, build('prev'), build('complete')),
          build('note', { type: 'warn' }, 'long question'),
          choicesForm(question),
        ),
      )
    }
    sessions.delete(sessionid)
    return reply(
      iq,
      answer(
        'create',
        sessionid,
        'completed',
        build('note', {}, 'created'),
        build('note', { type: 'error' }, 'but nobody votes'),
        build(
          'x',
          { xmlns: NS_DATA, type: 'result' },
          build('reported', {}, build('field', { var: 'choice', label: 'Choice' })),
          ...(values?.choices ?? []).map((c) =>
            build('item', {}, build('field', { var: 'choice' }, build('value', {}, c))),
          ),
        ),
      ),
    )
  })
  await xmpp.start()
  return xmpp
}

let server: TestServer
let xmpp: XmppComponent
let received: Received[]

beforeEach(async () => {
  server = await createServer({ components: { [DOMAIN]: 'secret' } })
  received = []
  xmpp = await responder(server, received)
})

afterEach(async () => {
  xmpp.reconnect.stop()
  await xmpp.stop().catch(() => {})
  await server.close()
})

describe('client.command()', () => {
  it('executes, reads the form, submits each stage and reads the result', async () => {
    const alice = server.client('alice@localhost/phone')
    const poll: CommandSession = await alice.command(DOMAIN, 'create')
    expect(received[0]).toEqual({ action: 'execute', sessionid: undefined, values: undefined })
    expect([poll.status, poll.sessionId, poll.actions, poll.defaultAction]).toEqual([
      'executing',
      's1',
      ['next'],
      'next',
    ])
    const form = poll.form
    expect(form?.type).toBe('form')
    expect(form?.title).toBe('New poll')
    expect(form?.instructions).toEqual(['Ask something.', 'Keep it short.'])
    expect(form?.field('question')).toEqual({
      var: 'question',
      type: 'text-single',
      label: 'Question',
      desc: 'What to ask',
      required: true,
      values: [],
      options: [],
    })
    expect(form?.field('kind')?.options).toEqual([
      { label: 'One answer', value: 'single' },
      { label: undefined, value: 'multi' },
    ])
    expect(form?.value('kind')).toBe('single')
    expect(form?.field('plain')?.type).toBe('text-single') // the XEP-0004 default
    expect(form?.fields.map((f) => f.var)).toEqual(['FORM_TYPE', 'note', 'question', 'kind', 'plain'])

    expect(await poll.next({ question: 'Lunch?', kind: 'multi' })).toBe(poll)
    // the hidden FORM_TYPE goes back with the submission, as a client returns it
    expect(received[1]).toEqual({
      action: 'next',
      sessionid: 's1',
      values: { FORM_TYPE: ['urn:example:poll'], question: ['Lunch?'], kind: ['multi'] },
    })
    expect(poll.actions).toEqual(['prev', 'complete'])
    expect(poll.defaultAction).toBe('complete')
    expect(poll.notes).toEqual([{ type: 'warn', text: 'long question' }])
    expect(poll.form?.field('choices')?.label).toBe('Choices for Lunch?')

    await poll.complete({ choices: ['pizza', 'sushi'], anonymous: true, max: 2, ignored: undefined })
    expect(received[2]?.values).toEqual({ choices: ['pizza', 'sushi'], anonymous: ['true'], max: ['2'] })
    expect(poll.status).toBe('completed')
    expect(poll.notes).toEqual([
      { type: 'info', text: 'created' },
      { type: 'error', text: 'but nobody votes' },
    ])
    expect(poll.form?.type).toBe('result')
    expect(poll.form?.reported.map((f) => f.label)).toEqual(['Choice'])
    expect(poll.form?.items).toEqual([{ choice: ['pizza'] }, { choice: ['sushi'] }])
    expect(poll.response.attrs).toMatchObject({ type: 'result', from: DOMAIN, to: 'alice@localhost/phone' })
    expect(alice.received.map((iq) => iq.attrs.type)).toEqual(['result', 'result', 'result']) // one answer each
  })

  it('an error answer rejects with the condition and the XEP-0050 one, and leaves the session as it was', async () => {
    const alice = server.client('alice@localhost/phone')
    const poll = await alice.command(DOMAIN, 'create')
    const error = await poll.next({ question: '' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StanzaErrorResponse)
    const { condition, application, errorType, text } = error as StanzaErrorResponse
    expect({ condition, application, errorType, text }).toEqual({
      condition: 'bad-request',
      application: 'bad-payload',
      errorType: 'modify',
      text: 'question is required',
    })
    expect([poll.status, poll.form?.title, poll.actions]).toEqual(['executing', 'New poll', ['next']])
    await poll.next({ question: 'Again?' })
    expect(poll.form?.field('choices')?.label).toBe('Choices for Again?')
  })

  it('goes back with prev() and cancels with cancel()', async () => {
    const alice = server.client('alice@localhost/phone')
    const poll = await alice.command(DOMAIN, 'create')
    await poll.next({ question: 'Tea?' })
    await poll.prev()
    expect(received.at(-1)).toEqual({ action: 'prev', sessionid: 's1', values: undefined })
    expect(poll.form?.title).toBe('New poll')
    await poll.cancel()
    expect(received.at(-1)).toEqual({ action: 'cancel', sessionid: 's1', values: undefined })
    expect(poll.status).toBe('canceled')
    expect(poll.form).toBeUndefined()
    const late = await poll.next({ question: 'x' }).catch((e: unknown) => e)
    expect((late as StanzaErrorResponse).application).toBe('bad-sessionid')
  })

  it('a command without stages completes at execute; execute() inside a session sends the default', async () => {
    const alice = server.client('alice@localhost/phone')
    const ping = await alice.command(DOMAIN, 'ping')
    expect([ping.status, ping.notes, ping.form, ping.actions]).toEqual([
      'completed',
      [{ type: 'info', text: 'pong' }],
      undefined,
      [],
    ])
    const poll = await alice.command(DOMAIN, 'create')
    await poll.execute({ question: 'Now?' })
    expect(received.at(-1)).toMatchObject({ action: 'execute', values: { question: ['Now?'] } })
    expect(poll.actions).toEqual(['prev', 'complete'])
  })

  it('rejects after the given timeout when nobody answers', async () => {
    const alice = server.client('alice@localhost/phone')
    const started = Date.now()
    server.client('bob@localhost/desk') // a simulated client: never answers
    const error = await alice.command('bob@localhost/desk', 'x', { timeout: 150 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect(error).not.toBeInstanceOf(StanzaErrorResponse)
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
    expect(Date.now() - started).toBeLessThan(1500)
  })
})

describe('readForm() and formSubmission()', () => {
  it('read any data form and build submissions', () => {
    const form = readForm(questionForm())
    expect(form.field('FORM_TYPE')?.values).toEqual(['urn:example:poll'])
    const x = formSubmission({ question: 'Q', FORM_TYPE: 'urn:other' }, form)
    expect(x.toString()).toBe(
      '<x xmlns="jabber:x:data" type="submit"><field var="question"><value>Q</value></field>' +
        '<field var="FORM_TYPE"><value>urn:other</value></field></x>',
    )
    expect(formSubmission({ a: [] }).toString()).toBe(
      '<x xmlns="jabber:x:data" type="submit"><field var="a"/></x>',
    )
  })
})
