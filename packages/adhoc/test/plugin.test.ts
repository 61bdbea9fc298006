// commands() as a plugin (docs/plugins.md): each bad option is a fatal SAT_ERR_CONFIG naming
// `commands.option`, thrown before anything is installed; close() removes every route (the
// component then answers as it did without the plugin), ends the sessions and their timers, and
// may be called again. register() refuses a duplicate node with a coded error.
import {
  CommandDefinitionError,
  CommandRegistry,
  type CommandsOptions,
  commands,
  NS_COMMANDS,
} from '@satellite/adhoc'
import {
  type Component,
  isSatelliteError,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  type Plugin,
  type PluginHandle,
  SatelliteError,
  xml,
} from '@satellite/core'
import { serverAndComponent } from '@satellite/test-support/component'
import { type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import { afterEach, describe, expect, it, vi } from 'vitest'

const DOMAIN = 'cmd.localhost'
const admin = () => true

describe('commands(): option errors', () => {
  const cases: Array<[string, CommandsOptions, string]> = [
    ['sessionTimeout', { sessionTimeout: 0 }, 'commands.sessionTimeout: must be from 1 to 2147483647, got 0'],
    // beyond setTimeout's range Node fires at once: every session would expire immediately
    [
      'sessionTimeout',
      { sessionTimeout: 2 ** 31 },
      'commands.sessionTimeout: must be from 1 to 2147483647, got 2147483648',
    ],
    ['sessionTimeout', { sessionTimeout: 1.5 }, 'commands.sessionTimeout: must be an integer, got 1.5'],
    [
      'maxSessionsPerRequester',
      { maxSessionsPerRequester: 0 },
      'commands.maxSessionsPerRequester: must be at least 1, got 0',
    ],
    ['maxSessions', { maxSessions: 0 }, 'commands.maxSessions: must be at least 1, got 0'],
    ['maxSessions', { maxSessions: -1 }, 'commands.maxSessions: must be at least 1, got -1'],
    ['maxSessions', { maxSessions: 1.5 }, 'commands.maxSessions: must be an integer, got 1.5'],
    ['maxSessions', { maxSessions: Number.NaN }, 'commands.maxSessions: must be an integer, got NaN'],
    [
      'maxSessions',
      { maxSessions: '10' as unknown as number },
      'commands.maxSessions: must be an integer, got the string "10"',
    ],
    ['rememberExpired', { rememberExpired: -1 }, 'commands.rememberExpired: must be at least 0, got -1'],
    [
      'reservedSessions',
      { reservedSessions: 5 },
      'commands.reservedSessions: needs privileged (who may use them)',
    ],
    [
      'reservedSessions',
      { privileged: admin, maxSessions: 10, reservedSessions: 10 },
      'commands.reservedSessions: must be less than maxSessions (10), got 10',
    ],
    [
      'reservedSessions',
      { privileged: admin, reservedSessions: -2 },
      'commands.reservedSessions: must be at least 0, got -2',
    ],
    [
      'privileged',
      { privileged: 'root@localhost' as unknown as () => boolean },
      'commands.privileged: must be a function, got string',
    ],
    ['to', { to: 5 as unknown as string }, 'commands.to: must be a string (a local part), got number'],
  ]

  it.each(cases)('%s: %o', async (_name, options, message) => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    let err: unknown
    try {
      commands(xmpp, options)
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(SatelliteError)
    expect(err).not.toBeInstanceOf(TypeError)
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true, message })
    // nothing was installed: a command is answered as without the plugin
    expect(() => new CommandRegistry(xmpp, options)).toThrow(message)
    await xmpp.start()
    expect(await answer(srv.client('alice@localhost/pc'), execute('edit'))).toBe('error:service-unavailable')
  })

  it('takes the defaults and the bounds themselves', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const ok: CommandsOptions[] = [
      {},
      { sessionTimeout: 1 },
      { sessionTimeout: 2 ** 31 - 1 },
      { rememberExpired: 0, maxSessions: 1, maxSessionsPerRequester: 1 },
      // the default reserve fits small pools: half of maxSessions
      { privileged: admin, maxSessions: 3 },
      { privileged: admin, maxSessions: 1 },
      { privileged: admin, maxSessions: 10, reservedSessions: 9 },
      { to: '*' },
    ]
    for (const options of ok) commands(xmpp, options).close()
  })

  it('is a Plugin whose handle is a PluginHandle', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const plugin: Plugin<CommandsOptions, CommandRegistry> = commands
    const handle: PluginHandle = plugin(xmpp, {})
    expect(handle).toBeInstanceOf(CommandRegistry)
    expect(handle.close()).toBeUndefined()
  })
})

describe('commands(): register', () => {
  it('refuses a duplicate node with CommandDefinitionError (SAT_ERR_ADHOC_DEFINITION), keeping the first', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const registry = commands(xmpp).register({
      node: 'ping',
      name: 'Ping',
      complete: () => ({ notes: ['pong'] }),
    })
    let err: unknown
    try {
      registry.register({ node: 'ping', name: 'Again', complete: () => ({ notes: ['again'] }) })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CommandDefinitionError)
    expect(isSatelliteError(err, 'SAT_ERR_ADHOC_DEFINITION')).toBe(true)
    expect(err).toMatchObject({
      name: 'CommandDefinitionError',
      fatal: false,
      message: "command node 'ping' is already registered",
    })
    await xmpp.start()
    expect(await answer(srv.client('alice@localhost/pc'), execute('ping'))).toContain('pong')
  })
})

describe('commands(): close()', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  /** What the component answers to each request the plugin serves, as strings. */
  async function answers(client: SimulatedClient): Promise<string[]> {
    return Promise.all([
      answer(client, execute('edit')),
      answer(client, execute('ping')),
      answer(
        client,
        xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })),
      ),
      answer(
        client,
        xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_INFO, node: NS_COMMANDS })),
      ),
      answer(
        client,
        xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_INFO, node: 'edit' })),
      ),
      answer(client, xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_INFO }))),
      answer(client, xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO_ITEMS }))),
    ])
  }

  function install(xmpp: Component): CommandRegistry {
    return commands(xmpp, { sessionTimeout: 60_000 })
      .register({
        node: 'edit',
        name: 'Edit',
        stages: [{ form: { fields: [{ type: 'text-single', var: 'v' }] } }],
      })
      .register({ node: 'ping', name: 'Ping', complete: () => ({ notes: ['pong'] }) })
  }

  it('answers every request as without the plugin, ends the sessions and their timers, twice', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    await xmpp.start()
    const alice = srv.client('alice@localhost/pc')
    const without = await answers(alice)
    const registry = install(xmpp)
    const withPlugin = await answers(alice)
    for (let i = 0; i < 6; i++) expect(withPlugin[i]).not.toBe(without[i])
    expect(withPlugin[0]).toContain('status="executing"')
    // the component's own disco#info lists the commands feature while the route is there
    expect(withPlugin[5]).toContain(`<feature var="${NS_COMMANDS}"/>`)
    expect(without[5]).not.toContain(NS_COMMANDS)
    expect(registry.stats).toEqual({ sessions: 1, privileged: 0, requesters: 1, expired: 0 })
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const timers = vi.getTimerCount()
    const another = await answer(alice, execute('edit'))
    expect(another).toContain('status="executing"')
    expect(vi.getTimerCount()).toBe(timers + 1) // the new session's idle timer
    registry.close()
    expect(vi.getTimerCount()).toBe(timers) // cleared
    expect(registry.stats).toEqual({ sessions: 0, privileged: 0, requesters: 0, expired: 0 })
    vi.useRealTimers()
    expect(await answers(alice)).toEqual(without)
    expect(() => registry.close()).not.toThrow()
    expect(await answers(alice)).toEqual(without)
    // a new registry on the same component serves again
    install(xmpp)
    expect(await answers(alice)).toEqual(withPlugin)
  })
})

function execute(node: string) {
  return xml('iq', { type: 'set', to: DOMAIN }, xml('command', { xmlns: NS_COMMANDS, node }))
}

/** The answer's payload (without ids), or `error:<condition>`. */
async function answer(client: SimulatedClient, iq: ReturnType<typeof xml>): Promise<string> {
  try {
    const res = await client.request(iq)
    return res.children
      .map((c) => c.toString())
      .join('')
      .replace(/sessionid="[^"]+"/g, 'sessionid="…"')
  } catch (err) {
    if (err instanceof StanzaErrorResponse) return `error:${err.condition}`
    throw err
  }
}
