// privileges() as a plugin (docs/plugins.md): each bad option is a fatal SAT_ERR_CONFIG naming
// `privileges.option`, thrown before anything is installed; close() removes the routes and the
// listeners on the component (stanzas are then answered and routed as without the plugin),
// forgets the grants, rejects the pending waits and clears their timers, and may be called again.
// Bad input at call time is a PrivilegeInputError (a SatelliteError with its own code); the
// handle's events are typed.
import { once } from 'node:events'
import {
  type Element,
  isSatelliteError,
  type Plugin,
  type PluginHandle,
  SatelliteError,
  Stanza,
  xml,
} from '@satellite/core'
import {
  type Grant,
  NS_PRIVILEGE_1,
  NS_PRIVILEGE_2,
  NS_ROSTER,
  PrivilegeErrorCodes,
  PrivilegeInputError,
  type PrivilegeListener,
  type PrivilegeOptions,
  Privileges,
  parseGrant,
  privileges,
} from '@satellite/privilege'
import { serverAndComponent } from '@satellite/test-support/component'
import type { ServerConnection } from '@satellite/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'

const DOMAIN = 'privileged.localhost'
const SECRET = 's3cret'

const announcement = (perms: Record<string, string>) => {
  const p = xml('privilege', { xmlns: NS_PRIVILEGE_2 })
  for (const [access, type] of Object.entries(perms)) p.c('perm', { access, type })
  return xml('message', { from: 'localhost', to: DOMAIN }, p)
}

function rosterPush(id: string): Element {
  return xml(
    'iq',
    { type: 'set', from: 'alice@localhost', to: DOMAIN, id },
    xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'both' })),
  )
}

/** The answer to a roster push, without its id. */
async function pushAnswer(conn: ServerConnection, id: string): Promise<string> {
  conn.send(rosterPush(id))
  const answer = await conn.expectStanza({ name: 'iq', id })
  return answer.toString().replace(` id="${id}"`, '')
}

describe('privileges(): option errors', () => {
  const cases: Array<[string, PrivilegeOptions, string]> = [
    ['maxServers', { maxServers: 0 }, 'privileges.maxServers: must be at least 1, got 0'],
    ['maxItems', { maxItems: 0 }, 'privileges.maxItems: must be at least 1, got 0'],
    ['maxItems', { maxItems: 1.5 }, 'privileges.maxItems: must be an integer, got 1.5'],
    ['maxPerms', { maxPerms: -1 }, 'privileges.maxPerms: must be at least 1, got -1'],
    [
      'maxPerms',
      { maxPerms: Number.POSITIVE_INFINITY },
      'privileges.maxPerms: must be an integer, got Infinity',
    ],
    ['timeout', { timeout: -1 }, 'privileges.timeout: must be from 1 to 2147483647, got -1'],
    ['timeout', { timeout: 0 }, 'privileges.timeout: must be from 1 to 2147483647, got 0'],
    ['timeout', { timeout: 2 ** 31 }, 'privileges.timeout: must be from 1 to 2147483647, got 2147483648'],
    ['timeout', { timeout: Number.NaN }, 'privileges.timeout: must be a finite number, got NaN'],
    ['servers', { servers: [''] }, "privileges.servers: must be 'any' or a list of domains"],
    [
      'servers',
      { servers: 'example.org' as unknown as 'any' },
      "privileges.servers: must be 'any' or a list of domains",
    ],
    [
      'servers',
      { servers: [5] as unknown as string[] },
      "privileges.servers: must be 'any' or a list of domains",
    ],
  ]

  it.each(cases)('%s: %o', async (_name, options, message) => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const listeners = () => [xmpp.listenerCount('stanza'), xmpp.listenerCount('offline')]
    const before = listeners()
    let err: unknown
    try {
      privileges(xmpp, options)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SatelliteError)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(err).not.toBeInstanceOf(PrivilegeInputError)
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true, message })
    // nothing was installed, and no handle kept: the next call makes one
    expect(listeners()).toEqual(before)
    const priv = privileges(xmpp)
    expect(listeners()).toEqual(before.map((n) => n + 1))
    priv.close()
    expect(listeners()).toEqual(before)
  })

  it('takes the bounds themselves', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const ok: PrivilegeOptions[] = [
      {},
      { maxServers: 1, maxItems: 1, maxPerms: 1, timeout: 1 },
      { timeout: 2 ** 31 - 1 },
      { timeout: 1.5 },
      { servers: 'any' },
      { servers: [] },
      { servers: ['Example.org'] },
    ]
    for (const options of ok) privileges(xmpp, options).close()
  })

  it('is a Plugin whose handle is a PluginHandle', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const plugin: Plugin<PrivilegeOptions, Privileges> = privileges
    const handle: PluginHandle = plugin(xmpp, {})
    expect(handle).toBeInstanceOf(Privileges)
    expect(handle.close()).toBeUndefined()
  })
})

describe('privileges(): input errors', () => {
  it('PrivilegeInputError is a SatelliteError with its own code, not fatal', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const priv = privileges(xmpp)
    const err = await priv.rosterGet('alice@localhost/phone').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PrivilegeInputError)
    expect(err).toBeInstanceOf(SatelliteError)
    expect(isSatelliteError(err, PrivilegeErrorCodes.INPUT)).toBe(true)
    expect(err).toMatchObject({
      name: 'PrivilegeInputError',
      code: 'SAT_ERR_PRIVILEGE_INPUT',
      fatal: false,
      message: "expected the bare JID of a user (user@server), got 'alice@localhost/phone'",
    })
    // waitForGrant's own timeout is input of the call, not an option of the plugin
    for (const timeout of [0, -5, Number.NaN]) {
      expect(() => priv.waitForGrant('localhost', { timeout })).toThrow(
        `waitForGrant(): timeout must be a positive number, got ${timeout}`,
      )
      try {
        void priv.waitForGrant('localhost', { timeout })
      } catch (e) {
        expect(e).toMatchObject({ code: 'SAT_ERR_PRIVILEGE_INPUT', fatal: false })
      }
    }
  })

  it('parseGrant: a malformed announcement is SAT_ERR_PRIVILEGE_ANNOUNCEMENT', () => {
    const twice = xml(
      'privilege',
      { xmlns: NS_PRIVILEGE_1 },
      xml('perm', { access: 'roster', type: 'get' }),
      xml('perm', { access: 'roster', type: 'set' }),
    )
    let err: unknown
    try {
      parseGrant(twice, 'localhost')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(PrivilegeInputError)
    expect(isSatelliteError(err, PrivilegeErrorCodes.ANNOUNCEMENT)).toBe(true)
    expect(err).toMatchObject({
      code: 'SAT_ERR_PRIVILEGE_ANNOUNCEMENT',
      fatal: false,
      message: "permission 'roster' announced twice",
    })
    expect(PrivilegeErrorCodes).toEqual({
      INPUT: 'SAT_ERR_PRIVILEGE_INPUT',
      ANNOUNCEMENT: 'SAT_ERR_PRIVILEGE_ANNOUNCEMENT',
    })
  })
})

describe('privileges(): close()', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers and routes every stanza as without the plugin, forgets the grants, twice', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const listeners = () => [xmpp.listenerCount('stanza'), xmpp.listenerCount('offline')]
    const baseline = listeners()
    // without the plugin the component refuses the push
    const without = await pushAnswer(conn, 'w1')

    const priv = privileges(xmpp)
    // the application's message route, added after the plugin's
    const routed: string[] = []
    xmpp.message(
      {},
      (m) => void routed.push(m.getChild('privilege', NS_PRIVILEGE_2) ? 'announcement' : 'other'),
    )
    expect(listeners()).not.toEqual(baseline)
    const changed = once(priv, 'change') as Promise<[string, Grant | undefined]>
    conn.send(announcement({ roster: 'get' }))
    expect((await changed)[1]?.roster).toBe('get')
    expect(await pushAnswer(conn, 'p1')).not.toBe(without)
    expect(routed).toEqual([]) // the plugin's route kept it from the application

    const changes: unknown[] = []
    priv.on('change', (server) => changes.push(server))
    priv.close()
    expect(priv.grants()).toEqual([])
    expect(priv.granted('localhost')).toBeUndefined()
    expect(changes).toEqual([])
    expect(listeners()).toEqual(baseline)
    expect(await pushAnswer(conn, 'c1')).toBe(without)
    conn.send(announcement({ roster: 'both' }))
    await vi.waitFor(() => expect(routed).toEqual(['announcement'])) // as without the plugin
    expect(priv.grants()).toEqual([]) // not recorded
    expect(changes).toEqual([])

    // idempotent; a second close of the old handle leaves a new one alone
    const next = privileges(xmpp)
    expect(next).not.toBe(priv)
    expect(() => priv.close()).not.toThrow()
    expect(listeners()).not.toEqual(baseline) // next's listeners are still there
    next.close()
    next.close()
    expect(listeners()).toEqual(baseline)
  })

  it('rejects the pending waits with SAT_ERR_STOPPED and clears their timers', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const priv = privileges(xmpp)
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const waits = [priv.waitForGrant('localhost', { timeout: 60_000 }), priv.waitForGrant()]
    const settled = waits.map((w) => w.catch((e: unknown) => e))
    expect(vi.getTimerCount()).toBe(2)
    expect(priv.listenerCount('change')).toBe(2)
    priv.close()
    expect(vi.getTimerCount()).toBe(0)
    expect(priv.listenerCount('change')).toBe(0)
    for (const err of await Promise.all(settled)) {
      expect(isSatelliteError(err, 'SAT_ERR_STOPPED')).toBe(true)
      expect(err).toMatchObject({
        fatal: false,
        message: 'privileges: the handle was closed while waiting for a grant',
      })
    }
    // and at once after close()
    await expect(priv.waitForGrant('localhost')).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('privileges(): typed events', () => {
  it('on/once/off take the events of PrivilegeEvents with their arguments', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const priv = privileges(xmpp)
    const seen: unknown[] = []
    const onChange: PrivilegeListener<'change'> = (server, grant) => void seen.push(server, grant?.roster)
    expect(priv.on('change', onChange)).toBe(priv)
    priv.once(
      'invalid',
      ({ reason, partial, stanza }: { reason: string; partial: boolean; stanza: Stanza }) =>
        seen.push(reason, partial, stanza.name),
    )
    priv.on('rosterPush', ({ user, items }) => seen.push(user, items.length))
    expect(priv.listeners('change')).toEqual([onChange])
    priv.emit('change', 'localhost', undefined)
    priv.emit('rosterPush', { user: 'alice@localhost', items: [] })
    priv.emit('invalid', { stanza: new Stanza('message', {}), reason: 'why', partial: true })
    priv.off('change', onChange)
    expect(priv.listenerCount('change')).toBe(0)
    expect(seen).toEqual(['localhost', undefined, 'alice@localhost', 0, 'why', true, 'message'])
    priv.close()
  })

  it('refuses an unknown event name and a wrong listener at compile time', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const priv = privileges(xmpp)
    const calls: unknown[] = []
    // @ts-expect-error: no such event
    priv.on('nonsense', (x: unknown) => calls.push(x))
    // @ts-expect-error: no such event (the events are change, invalid, rosterPush)
    priv.once('changed', () => calls.push('changed'))
    // @ts-expect-error: 'change' gives a server name, not a number
    priv.on('change', (n: number) => calls.push(n.toFixed()))
    // @ts-expect-error: 'rosterPush' gives one object
    priv.on('rosterPush', (user: string, items: unknown[]) => calls.push(user, items))
    // @ts-expect-error: emit checks the arguments too
    priv.emit('change', 42)
    // @ts-expect-error: off takes the events' names only
    priv.off('nonsense', () => {})
    expect(priv.eventNames().sort()).toEqual(['change', 'changed', 'nonsense', 'rosterPush'])
    priv.removeAllListeners()
    priv.close()
  })
})
