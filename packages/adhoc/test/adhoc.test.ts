import {
  CommandRegistry,
  type CommandsOptions,
  commandError,
  commands,
  NS_COMMANDS,
  type Session,
  stage,
} from '@satellite/adhoc'
import { type Element, StanzaError, xml } from '@satellite/core'
import { defineForm, NS_DATA, parseForm, submitForm } from '@satellite/forms'
import { serverAndComponent } from '@satellite/test-support/component'
import type { SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const SECRET = 's3cret'

const DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'
const ADMIN = 'admin@localhost'

interface Signup {
  nick?: string
  lang?: string
}

const nickForm = defineForm({
  title: 'Step 1',
  fields: [{ type: 'text-single', var: 'nick', required: true, maxLength: 16 }],
})
const langForm = defineForm({
  title: 'Step 2',
  fields: [
    {
      type: 'list-single',
      var: 'lang',
      required: true,
      options: [{ value: 'en' }, { value: 'fr' }],
    },
  ],
})

async function start(options: CommandsOptions = {}) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
  const canceled: string[] = []
  const registry = commands(xmpp, options)
  registry.register({
    node: 'ping',
    name: 'Ping',
    complete: () => ({ notes: ['pong', { type: 'warn', text: 'careful' }] }),
  })
  registry.register<Signup>({
    node: 'signup',
    name: 'Sign up',
    stages: [
      stage(nickForm, (values, session: Session<Signup>) => {
        if (values.nick === 'root') throw new StanzaError('not-acceptable', { text: 'reserved' })
        if (values.nick === 'boom') throw new Error('database down')
        session.state.nick = values.nick
        return { notes: [`hello ${values.nick}`] }
      }),
      stage(
        (session: Session<Signup>) => ({ ...langForm, instructions: `Language for ${session.state.nick}` }),
        (values, session: Session<Signup>) => {
          session.state.lang = values.lang
        },
      ),
    ],
    complete: (session) => ({
      notes: [{ type: 'info', text: 'done' }],
      form: {
        type: 'result',
        fields: [
          { type: 'text-single', var: 'nick', value: session.state.nick ?? '' },
          { type: 'text-single', var: 'lang', value: session.state.lang ?? '' },
        ],
      },
    }),
    cancel: (session) => void canceled.push(session.id),
  })
  registry.register({
    node: 'admin',
    name: 'Admin only',
    allowed: async (from) => from.startsWith(`${ADMIN}/`),
    complete: () => ({ notes: ['ok'] }),
  })
  await xmpp.start()
  return { srv, xmpp, registry, canceled, alice: srv.client('alice@localhost/pc') }
}

const command = (attrs: Record<string, string>, ...children: Element[]) =>
  xml('iq', { type: 'set', to: DOMAIN }, xml('command', { xmlns: NS_COMMANDS, ...attrs }, ...children))

async function run(client: SimulatedClient, attrs: Record<string, string>, ...children: Element[]) {
  const res = await client.request(command(attrs, ...children))
  return res.getChild('command', NS_COMMANDS) as Element
}

async function errorOf(p: Promise<unknown>): Promise<StanzaErrorResponse> {
  try {
    await p
  } catch (err) {
    return err as StanzaErrorResponse
  }
  throw new Error('expected an error reply')
}

/** [defined condition, XEP-0050 application condition] of a failed request. */
async function failure(p: Promise<unknown>): Promise<[string | undefined, string | undefined]> {
  const err = await errorOf(p)
  const app = err.error?.getChildElements().find((c) => c.attrs.xmlns === NS_COMMANDS)
  return [err.condition, app?.name]
}

const notes = (cmd: Element) => cmd.getChildren('note').map((n) => `${n.attrs.type}:${n.getText()}`)
const actionsOf = (cmd: Element) => {
  const a = cmd.getChild('actions')
  return a === undefined ? undefined : [a.attrs.execute, ...a.getChildElements().map((c) => c.name)]
}

describe('adhoc: discovery', () => {
  it('advertises the commands feature and lists the commands the requester may run', async () => {
    const { srv, alice } = await start()
    const info = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_INFO })),
    )
    const features = (info.getChild('query') as Element).getChildren('feature').map((f) => f.attrs.var)
    expect(features).toContain(NS_COMMANDS)

    const list = async (client: SimulatedClient) => {
      const res = await client.request(
        xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_ITEMS, node: NS_COMMANDS })),
      )
      const q = res.getChild('query', DISCO_ITEMS) as Element
      expect(q.attrs.node).toBe(NS_COMMANDS)
      return q.getChildren('item').map((i) => `${i.attrs.jid}|${i.attrs.node}|${i.attrs.name}`)
    }
    expect(await list(alice)).toEqual([`${DOMAIN}|ping|Ping`, `${DOMAIN}|signup|Sign up`])
    expect(await list(srv.client(`${ADMIN}/x`))).toEqual([
      `${DOMAIN}|ping|Ping`,
      `${DOMAIN}|signup|Sign up`,
      `${DOMAIN}|admin|Admin only`,
    ])
    // plain disco#items (no node) is still answered by the core responder
    const plain = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_ITEMS })),
    )
    expect(plain.getChild('query', DISCO_ITEMS)?.attrs.node).toBeUndefined()
  })

  it("answers each command's disco#info and the command list node's", async () => {
    const { alice } = await start()
    const res = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_INFO, node: 'signup' })),
    )
    const q = res.getChild('query', DISCO_INFO) as Element
    expect(q.attrs.node).toBe('signup')
    expect(q.getChild('identity')?.attrs).toMatchObject({
      category: 'automation',
      type: 'command-node',
      name: 'Sign up',
    })
    expect(q.getChildren('feature').map((f) => f.attrs.var)).toEqual([NS_COMMANDS, NS_DATA])
    const listInfo = await alice.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_INFO, node: NS_COMMANDS })),
    )
    expect(listInfo.getChild('query', DISCO_INFO)?.getChild('identity')?.attrs).toMatchObject({
      category: 'automation',
      type: 'command-list',
    })
    const unknown = await failure(
      alice.request(
        xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: DISCO_INFO, node: 'nope' })),
      ),
    )
    expect(unknown[0]).toBe('item-not-found')
  })
})

describe('adhoc: execution', () => {
  it('completes a command without stages at once, with notes', async () => {
    const { alice, registry } = await start()
    const res = await run(alice, { node: 'ping', action: 'execute' })
    expect(res.attrs).toMatchObject({ node: 'ping', status: 'completed' })
    expect(res.attrs.sessionid).toBeTruthy()
    expect(notes(res)).toEqual(['info:pong', 'warn:careful'])
    expect(registry.sessions).toBe(0)
  })

  it('runs a multi-stage session: execute, next, prev, next, complete', async () => {
    const { alice, registry } = await start()
    const first = await run(alice, { node: 'signup' })
    expect(first.attrs.status).toBe('executing')
    const id = first.attrs.sessionid as string
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(actionsOf(first)).toEqual(['next', 'next'])
    const form1 = parseForm(first.getChild('x', NS_DATA) as Element)
    expect(form1.type).toBe('form')
    expect(form1.title).toBe('Step 1')
    expect(form1.fields.map((f) => f.var)).toEqual(['nick'])
    expect(registry.sessions).toBe(1)

    const second = await run(
      alice,
      { node: 'signup', sessionid: id, action: 'next' },
      submitForm({ nick: 'alice' }),
    )
    expect(second.attrs).toMatchObject({ status: 'executing', sessionid: id })
    expect(actionsOf(second)).toEqual(['complete', 'prev', 'complete'])
    expect(notes(second)).toEqual(['info:hello alice'])
    const form2 = parseForm(second.getChild('x', NS_DATA) as Element)
    expect(form2.instructions).toEqual(['Language for alice'])

    const back = await run(alice, { node: 'signup', sessionid: id, action: 'prev' })
    expect(parseForm(back.getChild('x', NS_DATA) as Element).title).toBe('Step 1')
    expect(actionsOf(back)).toEqual(['next', 'next'])

    // 'execute' within a session is the stage's default action (here: next)
    await run(alice, { node: 'signup', sessionid: id, action: 'execute' }, submitForm({ nick: 'alicia' }))
    const done = await run(
      alice,
      { node: 'signup', sessionid: id, action: 'complete' },
      submitForm({ lang: 'fr' }),
    )
    expect(done.attrs).toMatchObject({ status: 'completed', sessionid: id, node: 'signup' })
    expect(done.getChild('actions')).toBeUndefined()
    expect(notes(done)).toEqual(['info:done'])
    const result = parseForm(done.getChild('x', NS_DATA) as Element)
    expect(result.type).toBe('result')
    expect(result.fields.map((f) => [f.var, f.values])).toEqual([
      ['nick', ['alicia']],
      ['lang', ['fr']],
    ])
    expect(registry.sessions).toBe(0)
    // a finished session is gone
    expect(await failure(run(alice, { node: 'signup', sessionid: id, action: 'prev' }))).toEqual([
      'bad-request',
      'bad-sessionid',
    ])
  })

  it('cancels a session', async () => {
    const { alice, registry, canceled } = await start()
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    const res = await run(alice, { node: 'signup', sessionid: id, action: 'cancel' })
    expect(res.attrs).toMatchObject({ status: 'canceled', sessionid: id })
    expect(canceled).toEqual([id])
    expect(registry.sessions).toBe(0)
  })

  it('keeps the session at its stage when a submission is refused', async () => {
    const { alice } = await start()
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    const at = { node: 'signup', sessionid: id, action: 'next' }
    expect(await failure(run(alice, at))).toEqual(['bad-request', 'bad-payload']) // no form
    expect(await failure(run(alice, at, submitForm({})))).toEqual(['bad-request', 'bad-payload']) // required
    expect(await failure(run(alice, at, submitForm({ nick: 'x'.repeat(17) })))).toEqual([
      'bad-request',
      'bad-payload',
    ])
    expect(await failure(run(alice, at, submitForm({ nick: 'a', other: 'b' })))).toEqual([
      'bad-request',
      'bad-payload',
    ])
    expect(await failure(run(alice, at, submitForm({ nick: 'a' }, { type: 'cancel' })))).toEqual([
      'bad-request',
      'bad-payload',
    ])
    expect(await failure(run(alice, at, submitForm({ nick: 'root' })))).toEqual(['not-acceptable', undefined])
    expect(await failure(run(alice, at, submitForm({ nick: 'boom' })))).toEqual([
      'internal-server-error',
      undefined,
    ])
    const ok = await run(alice, at, submitForm({ nick: 'bob' }))
    expect(notes(ok)).toEqual(['info:hello bob'])
  })

  it('serializes concurrent requests of one session', async () => {
    const { alice } = await start()
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    const [a, b] = await Promise.allSettled([
      run(alice, { node: 'signup', sessionid: id, action: 'next' }, submitForm({ nick: 'one' })),
      run(alice, { node: 'signup', sessionid: id, action: 'next' }, submitForm({ nick: 'two' })),
    ])
    expect(a.status).toBe('fulfilled')
    // the second one arrives at the last stage, where next is not allowed
    expect(b.status).toBe('rejected')
    expect(await failure(Promise.reject((b as PromiseRejectedResult).reason))).toEqual([
      'bad-request',
      'bad-action',
    ])
  })
})

describe('adhoc: malformed requests and access', () => {
  it('answers item-not-found for an unknown node and bad-request without a node', async () => {
    const { alice } = await start()
    expect(await failure(run(alice, { node: 'nope' }))).toEqual(['item-not-found', undefined])
    expect(await failure(run(alice, {}))).toEqual(['bad-request', undefined])
  })

  it('answers malformed-action to an unknown action', async () => {
    const { alice } = await start()
    expect(await failure(run(alice, { node: 'ping', action: 'jump' }))).toEqual([
      'bad-request',
      'malformed-action',
    ])
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    expect(await failure(run(alice, { node: 'signup', sessionid: id, action: 'EXECUTE' }))).toEqual([
      'bad-request',
      'malformed-action',
    ])
  })

  it('answers bad-action to an action the stage does not offer', async () => {
    const { alice } = await start()
    for (const action of ['next', 'prev', 'complete', 'cancel']) {
      expect(await failure(run(alice, { node: 'signup', action }))).toEqual(['bad-request', 'bad-action'])
    }
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    expect(await failure(run(alice, { node: 'signup', sessionid: id, action: 'prev' }))).toEqual([
      'bad-request',
      'bad-action',
    ])
    expect(await failure(run(alice, { node: 'signup', sessionid: id, action: 'complete' }))).toEqual([
      'bad-request',
      'bad-action',
    ])
    await run(alice, { node: 'signup', sessionid: id, action: 'next' }, submitForm({ nick: 'a' }))
    expect(
      await failure(
        run(alice, { node: 'signup', sessionid: id, action: 'next' }, submitForm({ lang: 'en' })),
      ),
    ).toEqual(['bad-request', 'bad-action'])
  })

  it('answers bad-sessionid for unknown ids, another node, or another requester', async () => {
    const { srv, alice } = await start()
    expect(await failure(run(alice, { node: 'signup', sessionid: 'made-up', action: 'next' }))).toEqual([
      'bad-request',
      'bad-sessionid',
    ])
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    expect(await failure(run(alice, { node: 'ping', sessionid: id, action: 'cancel' }))).toEqual([
      'bad-request',
      'bad-sessionid',
    ])
    const other = srv.client('alice@localhost/tablet')
    expect(await failure(run(other, { node: 'signup', sessionid: id, action: 'cancel' }))).toEqual([
      'bad-request',
      'bad-sessionid',
    ])
    // the rightful requester still owns it
    expect((await run(alice, { node: 'signup', sessionid: id, action: 'cancel' })).attrs.status).toBe(
      'canceled',
    )
  })

  it('expires idle sessions: session-expired (not-allowed), then the id is usable no more', async () => {
    const { alice, registry } = await start({ sessionTimeout: 60 })
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    // activity resets the idle timer
    await new Promise((r) => setTimeout(r, 40))
    await run(alice, { node: 'signup', sessionid: id, action: 'next' }, submitForm({ nick: 'a' }))
    await new Promise((r) => setTimeout(r, 40))
    expect(registry.sessions).toBe(1)
    await new Promise((r) => setTimeout(r, 60))
    expect(registry.sessions).toBe(0)
    expect(await failure(run(alice, { node: 'signup', sessionid: id, action: 'prev' }))).toEqual([
      'not-allowed',
      'session-expired',
    ])
  })

  it('forgets the oldest expired ids beyond rememberExpired', async () => {
    const { alice } = await start({ sessionTimeout: 20, rememberExpired: 1 })
    const a = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    const b = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    await new Promise((r) => setTimeout(r, 60))
    const seen = [
      await failure(run(alice, { node: 'signup', sessionid: a, action: 'cancel' })),
      await failure(run(alice, { node: 'signup', sessionid: b, action: 'cancel' })),
    ].map((f) => f[1])
    expect(seen.sort()).toEqual(['bad-sessionid', 'session-expired'])
  })

  it('answers forbidden to requesters the command does not allow', async () => {
    const { srv, alice } = await start()
    expect(await failure(run(alice, { node: 'admin' }))).toEqual(['forbidden', undefined])
    const admin = srv.client(`${ADMIN}/x`)
    expect(notes(await run(admin, { node: 'admin' }))).toEqual(['info:ok'])
  })

  it('bounds the live sessions per requester (bare JID) with resource-constraint', async () => {
    const { srv, alice, registry } = await start({ maxSessionsPerRequester: 2 })
    const first = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    await run(srv.client('alice@localhost/tablet'), { node: 'signup' })
    const err = await errorOf(run(alice, { node: 'signup' }))
    expect(err.condition).toBe('resource-constraint')
    expect(err.errorType).toBe('wait')
    // other requesters are not affected; commands without stages hold no session
    await run(srv.client('bob@localhost/pc'), { node: 'signup' })
    expect((await run(alice, { node: 'ping' })).attrs.status).toBe('completed')
    expect(registry.sessions).toBe(3)
    await run(alice, { node: 'signup', sessionid: first, action: 'cancel' })
    expect((await run(alice, { node: 'signup' })).attrs.status).toBe('executing')
  })

  it('bounds the live sessions in all with maxSessions', async () => {
    const { srv, alice } = await start({ maxSessions: 1 })
    await run(alice, { node: 'signup' })
    expect(await failure(run(srv.client('bob@localhost/pc'), { node: 'signup' }))).toEqual([
      'resource-constraint',
      undefined,
    ])
  })
})

describe('adhoc: registry', () => {
  it('refuses a duplicate node; unregister and close remove commands and routes', async () => {
    const { alice, registry } = await start()
    expect(registry).toBeInstanceOf(CommandRegistry)
    expect(() => registry.register({ node: 'ping', name: 'again' })).toThrow(/already registered/)
    const id = (await run(alice, { node: 'signup' })).attrs.sessionid as string
    expect(registry.unregister('signup')).toBe(true)
    expect(registry.sessions).toBe(0)
    expect(await failure(run(alice, { node: 'signup' }))).toEqual(['item-not-found', undefined])
    registry.close()
    expect(await failure(run(alice, { node: 'ping' }))).toEqual(['service-unavailable', undefined])
    expect(id).toBeTruthy()
  })

  it('serves commands at virtual users with to: "*"', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
    commands(xmpp, { to: '*' }).register({
      node: 'whoami',
      name: 'Who am I',
      complete: (s) => ({ notes: [s.to] }),
    })
    await xmpp.start()
    const alice = srv.client('alice@localhost/pc')
    const res = await alice.request(
      xml('iq', { type: 'set', to: `bot@${DOMAIN}` }, xml('command', { xmlns: NS_COMMANDS, node: 'whoami' })),
    )
    expect(notes(res.getChild('command', NS_COMMANDS) as Element)).toEqual([`info:bot@${DOMAIN}`])
    const items = await alice.request(
      xml(
        'iq',
        { type: 'get', to: `bot@${DOMAIN}` },
        xml('query', { xmlns: DISCO_ITEMS, node: NS_COMMANDS }),
      ),
    )
    expect(items.getChild('query', DISCO_ITEMS)?.getChild('item')?.attrs.jid).toBe(`bot@${DOMAIN}`)
    const onDomain = await errorOf(alice.request(command({ node: 'whoami' })))
    expect(onDomain.condition).toBe('service-unavailable')
  })

  it('commandError builds the XEP-0050 pairs', () => {
    expect(commandError('session-expired').condition).toBe('not-allowed')
    const e = commandError('bad-payload', 'why')
    expect([e.condition, e.text, (e.application as Element).toString()]).toEqual([
      'bad-request',
      'why',
      `<bad-payload xmlns="${NS_COMMANDS}"/>`,
    ])
  })
})
