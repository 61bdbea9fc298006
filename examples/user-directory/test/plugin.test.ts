// The directory as a plugin (docs/plugins.md): a bad option is a fatal SAT_ERR_CONFIG naming it,
// thrown before anything is installed or opened; close() undoes everything, once.
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { component, type Element, xml } from '@satellite/core'
import { afterAll, describe, expect, it } from 'vitest'
import { type DirectoryOptions, directory } from '../src/service.js'
import {
  configError,
  DOMAIN,
  fails,
  iq,
  NS_COMMANDS,
  NS_REGISTER,
  NS_SEARCH,
  query,
  registerForm,
  SECRET,
  setup,
} from './helpers.js'

const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
const tmp = mkdtempSync(join(tmpdir(), 'directory-options-'))
afterAll(() => rmSync(tmp, { recursive: true, force: true }))

describe('directory(): option errors', () => {
  it('throws a fatal SAT_ERR_CONFIG naming the option, before it opens the database or installs anything', () => {
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: SECRET })
    const before = xmpp.disco.info('')
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ pageSize: 0 }, 'directory.pageSize: must be at least 1, got 0'],
      [{ maxResults: 1.5 }, 'directory.maxResults: must be an integer, got 1.5'],
      [{ maxQueryWords: 'many' }, 'directory.maxQueryWords: must be an integer, got the string "many"'],
      [{ maxEntries: -1 }, 'directory.maxEntries: must be at least 0, got -1'],
      [{ admins: 'alice@localhost' }, 'directory.admins: must be an array of strings'],
      [{ allowedDomains: [1] }, 'directory.allowedDomains: must be an array of strings'],
      [{ name: 5 }, 'directory.name: must be a string, got number'],
      [{ rateLimit: { burst: 0 } }, 'directory.rateLimit.burst: must be a positive number, got 0'],
      [{ rateLimit: { perMinute: -1 } }, 'directory.rateLimit.perMinute: must be a positive number, got -1'],
      [
        { writeLimit: { maxRequesters: 0.5 } },
        'directory.writeLimit.maxRequesters: must be a positive integer, got 0.5',
      ],
    ]
    for (const [i, [options, message]] of cases.entries()) {
      const dbPath = join(tmp, `case-${i}`, 'directory.db')
      const err = configError(() => directory(xmpp, { ...options, dbPath } as DirectoryOptions))
      expect(err.message).toBe(message)
      expect(existsSync(dbPath), message).toBe(false) // the database was not opened
    }
    expect(configError(() => directory(xmpp, null as unknown as DirectoryOptions)).message).toBe(
      'directory.options: must be an object, got null',
    )
    expect(xmpp.disco.info('')).toEqual(before)
  })

  it('a `sessions` option commands() refuses: what was installed before it is removed again', () => {
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: SECRET })
    const before = xmpp.disco.info('')
    const err = configError(() => directory(xmpp, { sessions: { max: 0 } }))
    expect(err.message).toMatch(/^commands\.maxSessions: /)
    expect(xmpp.disco.info('')).toEqual(before) // no identity, no register or search feature
  })
})

describe('directory(): close()', () => {
  it('removes the routes, the disco identity and features, ends the store; a request then gets what it gets without the directory; idempotent', async () => {
    const s = await setup()
    const c = s.client('alice@localhost/r')
    const info = async () =>
      (await c.request(iq('get', query(NS_DISCO_INFO)))).getChild('query', NS_DISCO_INFO) as Element
    await c.request(registerForm({ nick: 'Alice' }))
    const open = await info()
    expect(open.getChildren('identity').map((i) => i.attrs.category)).toContain('directory')
    const features = open.getChildren('feature').map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining([NS_REGISTER, NS_SEARCH, NS_COMMANDS]))

    const closing = s.dir.close() // the routes and the identity go at once
    const closed = await info()
    expect(closed.getChildren('identity').map((i) => i.attrs.category)).not.toContain('directory')
    for (const ns of [NS_REGISTER, NS_SEARCH, NS_COMMANDS]) {
      expect(closed.getChildren('feature').map((f) => f.attrs.var)).not.toContain(ns)
    }
    const requests = [
      iq('get', query(NS_REGISTER)),
      iq('set', query(NS_SEARCH, xml('nick', {}, 'ali'))),
      iq('set', xml('command', { xmlns: NS_COMMANDS, node: 'show-entry', action: 'execute' })),
    ]
    for (const request of requests) {
      const err = await fails(c, request)
      expect([err.condition, err.errorType], String(request)).toEqual(['service-unavailable', 'cancel'])
    }
    await closing
    await expect(s.dir.store.count()).rejects.toThrow(/not open/) // the store it opened is closed
    expect(s.dir.close()).toBe(closing) // idempotent
    await expect(s.dir.close()).resolves.toBeUndefined()
  })

  it('leaves a store it was given open', async () => {
    const first = await setup()
    const s = await setup({ store: first.dir.store }, 'directory2.localhost')
    await s.dir.close()
    expect(await first.dir.store.count()).toBe(0)
  })
})
