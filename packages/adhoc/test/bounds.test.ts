// The session pool of @satellite/adhoc: sessions reserved for privileged requesters, and every
// table keyed by what a remote party chooses (live sessions, requesters, expired ids) bounded.
import { type CommandsOptions, commands, NS_COMMANDS } from '@satellite/adhoc'
import { type Element, xml } from '@satellite/core'
import { serverAndComponent } from '@satellite/test-support/component'
import { type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const ADMINS = new Set(['root@localhost', 'ops@localhost'])
const isAdmin = (from: string) => ADMINS.has(from.split('/')[0] ?? '')

async function start(options: CommandsOptions) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
  const registry = commands(xmpp, options)
  registry.register({
    node: 'edit',
    name: 'Edit',
    stages: [{ form: { fields: [{ type: 'text-single', var: 'v' }] } }],
  })
  registry.register({ node: 'admin-remove', name: 'Remove', allowed: isAdmin, stages: [{ form: {} }] })
  await xmpp.start()
  return { srv, registry }
}

/** Executes `node`: the condition of the refusal, or 'executing'. */
async function execute(client: SimulatedClient, node: string): Promise<string | undefined> {
  try {
    const res = await client.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('command', { xmlns: NS_COMMANDS, node })),
    )
    return (res.getChild('command', NS_COMMANDS) as Element).attrs.status
  } catch (err) {
    if (err instanceof StanzaErrorResponse) return err.condition
    throw err
  }
}

describe('adhoc: sessions reserved for privileged requesters', () => {
  it('users of many accounts cannot take the reserve: the admin still gets a session', async () => {
    const { srv, registry } = await start({
      maxSessions: 10,
      maxSessionsPerRequester: 2,
      privileged: isAdmin,
      reservedSessions: 3,
    })
    // 20 accounts try twice each: they share 10 - 3 = 7 sessions
    const tries = await Promise.all(
      Array.from({ length: 40 }, (_, i) => execute(srv.client(`u${i % 20}@localhost/r`), 'edit')),
    )
    expect(tries.filter((t) => t === 'executing')).toHaveLength(7)
    expect(tries.filter((t) => t === 'resource-constraint')).toHaveLength(33)
    // the admins still get sessions, for any command (up to their per-requester cap)
    const root = srv.client('root@localhost/console')
    expect(await execute(root, 'admin-remove')).toBe('executing')
    expect(await execute(root, 'edit')).toBe('executing')
    expect(await execute(root, 'admin-remove')).toBe('resource-constraint') // per requester
    expect(await execute(srv.client('ops@localhost/r'), 'admin-remove')).toBe('executing')
    expect(registry.stats).toMatchObject({ sessions: 10, privileged: 3 })
    // now the pool is full for everybody
    expect(await execute(srv.client('ops@localhost/other'), 'admin-remove')).toBe('resource-constraint')
    expect(await execute(srv.client('new@localhost/r'), 'edit')).toBe('resource-constraint')
  })

  it('privileged requesters may use the shared sessions too', async () => {
    const { srv, registry } = await start({
      maxSessions: 4,
      maxSessionsPerRequester: 4,
      privileged: isAdmin,
      reservedSessions: 1,
    })
    const root = srv.client('root@localhost/console')
    for (let i = 0; i < 4; i++) expect(await execute(root, 'edit')).toBe('executing')
    expect(registry.stats).toMatchObject({ sessions: 4, privileged: 4 })
    expect(await execute(srv.client('u@localhost/r'), 'edit')).toBe('resource-constraint')
  })
  // The options' bounds and their errors: plugin.test.ts.
})

describe('adhoc: every table keyed by a remote party is bounded', () => {
  it('live sessions and requesters: a flood from 300 accounts holds at most maxSessions', async () => {
    const { srv, registry } = await start({ maxSessions: 50, maxSessionsPerRequester: 3 })
    const tries = await Promise.all(
      Array.from({ length: 600 }, (_, i) => execute(srv.client(`flood${i % 300}@localhost/r`), 'edit')),
    )
    expect(tries.filter((t) => t === 'executing')).toHaveLength(50)
    expect(registry.stats.sessions).toBe(50)
    expect(registry.stats.requesters).toBeLessThanOrEqual(50)
  })

  it('expired session ids: at most rememberExpired are remembered', async () => {
    const { srv, registry } = await start({
      sessionTimeout: 1,
      rememberExpired: 10,
      maxSessionsPerRequester: 100,
    })
    const alice = srv.client('alice@localhost/r')
    for (let i = 0; i < 60; i++) await execute(alice, 'edit')
    await expect
      .poll(() => registry.sessions === 0, { message: 'the sessions to expire', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(registry.stats).toEqual({ sessions: 0, privileged: 0, requesters: 0, expired: 10 })
  })
})
