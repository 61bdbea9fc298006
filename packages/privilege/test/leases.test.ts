// Each privileges(xmpp) call returns its own handle (a lease) on the component's one privileges
// state: the announcement is read once and every open handle hears it; close() releases only
// that handle (its waits rejected, its listeners removed) and is idempotent; the routes, the
// listeners on the component and the grants go with the last handle. `servers`, `maxServers`
// and `maxPerms` belong to the shared state (a differing one throws SAT_ERR_CONFIG); `timeout`
// and `maxItems` are each handle's own.
import { type Element, isSatelliteError, xml } from '@satellite/core'
import {
  type Grant,
  NS_PRIVILEGE_2,
  NS_ROSTER,
  PrivilegeError,
  PrivilegeInputError,
  type Privileges,
  privileges,
} from '@satellite/privilege'
import { serverAndComponent } from '@satellite/test-support/component'
import type { ServerConnection } from '@satellite/testing'
import { describe, expect, it, vi } from 'vitest'

const DOMAIN = 'privileged.localhost'
const SECRET = 's3cret'

const announcement = (perms: Record<string, string>) => {
  const p = xml('privilege', { xmlns: NS_PRIVILEGE_2 })
  for (const [access, type] of Object.entries(perms)) p.c('perm', { access, type })
  return xml('message', { from: 'localhost', to: DOMAIN }, p)
}

/** The component's answer to a roster push from alice, without its id. */
async function pushAnswer(conn: ServerConnection, id: string): Promise<string> {
  conn.send(
    xml(
      'iq',
      { type: 'set', from: 'alice@localhost', to: DOMAIN, id },
      xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'both' })),
    ),
  )
  const answer = await conn.expectStanza({ name: 'iq', id })
  return answer.toString().replace(` id="${id}"`, '')
}

/** Answers each roster get of the component with one item (server side). */
function serveRoster(conn: ServerConnection): void {
  conn.on('stanza', (iq: Element) => {
    if (iq.name !== 'iq' || iq.attrs.type !== 'get') return
    conn.send(
      xml(
        'iq',
        { type: 'result', from: iq.attrs.to, to: iq.attrs.from, id: iq.attrs.id },
        xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'both' })),
      ),
    )
  })
}

/** Every `change` of `priv`, as [server, roster]. */
function changesOf(priv: Privileges): Array<[string, string | undefined]> {
  const seen: Array<[string, string | undefined]> = []
  priv.on('change', (server, grant) => seen.push([server, grant?.roster]))
  return seen
}

async function setup() {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  const listeners = () => [xmpp.listenerCount('stanza'), xmpp.listenerCount('offline')]
  return { srv, xmpp, conn, listeners, baseline: listeners(), without: await pushAnswer(conn, 'w0') }
}

describe('privileges(): one handle per call', () => {
  it('two handles share one state; closing one leaves the other working, the last removes it all', async () => {
    const { xmpp, conn, listeners, baseline, without } = await setup()
    const a = privileges(xmpp)
    const withOne = listeners()
    const b = privileges(xmpp)
    expect(b).not.toBe(a)
    expect(listeners()).toEqual(withOne) // one state: the second handle installs nothing more
    expect(withOne).not.toEqual(baseline)
    const changesA = changesOf(a)
    const changesB = changesOf(b)
    const waitA = a.waitForGrant('other.localhost', { timeout: 60_000 }).catch((e: unknown) => e)
    const waitB = b.waitForGrant('localhost', { timeout: 60_000 })

    // the announcement is read once and both handles hear it
    conn.send(announcement({ roster: 'both', message: 'outgoing' }))
    expect((await waitB).roster).toBe('both')
    expect(changesA).toEqual([['localhost', 'both']])
    expect(changesB).toEqual([['localhost', 'both']])
    expect(a.granted('localhost')).toBe(b.granted('localhost'))

    // close a: its wait is rejected, its listeners removed; b keeps everything
    const pushesA: string[] = []
    a.on('rosterPush', ({ user }) => pushesA.push(user))
    const waitB2 = b.waitForGrant('other.localhost', { timeout: 60_000 })
    let b2Settled = false
    void waitB2.then(
      () => (b2Settled = true),
      () => (b2Settled = true),
    )
    a.close()
    const errA = await waitA
    expect(isSatelliteError(errA, 'SAT_ERR_STOPPED')).toBe(true)
    expect(a.eventNames()).toEqual([])
    expect(a.granted('localhost')).toBeUndefined()
    expect(a.grants()).toEqual([])
    expect(a.can('localhost', 'roster', 'get')).toBe(false)
    await expect(a.waitForGrant('localhost')).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
    expect(listeners()).toEqual(withOne)
    expect(b.granted('localhost')?.roster).toBe('both')
    expect(b.can('localhost', 'roster', 'set')).toBe(true)
    serveRoster(conn)
    expect(await b.rosterGet('alice@localhost')).toEqual([{ jid: 'bob@localhost', subscription: 'both' }])
    const pushesB: string[] = []
    b.on('rosterPush', ({ user }) => pushesB.push(user))
    expect(await pushAnswer(conn, 'p1')).not.toBe(without)
    expect(pushesB).toEqual(['alice@localhost'])
    expect(pushesA).toEqual([])
    conn.send(announcement({ roster: 'get' }))
    await vi.waitFor(() =>
      expect(changesB).toEqual([
        ['localhost', 'both'],
        ['localhost', 'get'],
      ]),
    )
    expect(changesA).toEqual([['localhost', 'both']])
    expect(b2Settled).toBe(false) // b's other wait is still waiting

    // closing a again changes nothing; closing b removes the routes, listeners and grants
    a.close()
    expect(listeners()).toEqual(withOne)
    expect(b.granted('localhost')?.roster).toBe('get')
    b.close()
    await expect(waitB2).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
    expect(listeners()).toEqual(baseline)
    expect(b.grants()).toEqual([])
    expect(await pushAnswer(conn, 'c1')).toBe(without)
    b.close()
    expect(listeners()).toEqual(baseline)

    // the next call makes a new state, which knows no grant until announced again
    const c = privileges(xmpp)
    expect(listeners()).toEqual(withOne)
    expect(c.granted('localhost')).toBeUndefined()
    c.close()
    expect(listeners()).toEqual(baseline)
  })

  it('a handle closed from a change listener does not stop the others hearing that change', async () => {
    const { xmpp, conn } = await setup()
    const a = privileges(xmpp)
    const b = privileges(xmpp)
    a.on('change', () => b.close())
    const changesB = changesOf(b)
    const seen = new Promise<Grant | undefined>((resolve) => a.once('change', (_s, g) => resolve(g)))
    conn.send(announcement({ roster: 'get' }))
    expect((await seen)?.roster).toBe('get')
    expect(changesB).toEqual([]) // its listeners went with close()
    expect(a.granted('localhost')?.roster).toBe('get')
    a.close()
  })
})

describe('privileges(): options of a second handle', () => {
  const config = (option: string, live: string) => ({
    code: 'SAT_ERR_CONFIG',
    fatal: true,
    message: `privileges.${option}: differs from the live privileges(xmpp) (${live})`,
  })

  it('throws SAT_ERR_CONFIG naming a shared option that differs, installing nothing', async () => {
    const { xmpp, listeners, baseline } = await setup()
    const a = privileges(xmpp, { servers: ['localhost', 'other.localhost'], maxServers: 4, maxPerms: 8 })
    const withOne = listeners()
    const refused: Array<[Parameters<typeof privileges>[1], ReturnType<typeof config>]> = [
      [{ servers: 'any' }, config('servers', '[localhost, other.localhost]')],
      [{ servers: ['localhost'] }, config('servers', '[localhost, other.localhost]')],
      [{ maxServers: 16 }, config('maxServers', '4')],
      [{ maxPerms: 64 }, config('maxPerms', '8')],
    ]
    for (const [options, expected] of refused) {
      let err: unknown
      try {
        privileges(xmpp, options)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject(expected)
      expect(listeners()).toEqual(withOne)
    }
    // the same values (servers in any order or case), or left out: a handle on the same state
    const same = [
      privileges(xmpp, { servers: ['OTHER.localhost', 'localhost'], maxServers: 4, maxPerms: 8 }),
      privileges(xmpp),
      privileges(xmpp, { timeout: 100, maxItems: 2 }),
    ]
    expect(listeners()).toEqual(withOne)
    a.close()
    for (const h of same) h.close()
    // the refused calls took no lease: the last close removed everything
    expect(listeners()).toEqual(baseline)
  })

  it('keeps timeout and maxItems per handle', async () => {
    const { srv, xmpp, conn } = await setup()
    srv.client('alice@localhost/phone') // so that the server passes the iqs to her on to the test
    const a = privileges(xmpp, { maxItems: 1, timeout: 50 })
    const b = privileges(xmpp, { maxItems: 3 })
    const items = [{ jid: 'bob@localhost' }, { jid: 'carol@localhost' }]
    await expect(a.rosterSet('alice@localhost', items)).rejects.toBeInstanceOf(PrivilegeInputError)
    // b takes two items: it goes on to the grant check (nothing announced)
    await expect(b.rosterSet('alice@localhost', items)).rejects.toMatchObject({ reason: 'not-granted' })
    await expect(b.rosterSet('alice@localhost', items)).rejects.toBeInstanceOf(PrivilegeError)
    // nobody answers the roster gets: a's times out after its 50 ms, b's (the component's
    // requestTimeout) is still waiting
    const granted = b.waitForGrant('localhost')
    conn.send(announcement({ roster: 'both' }))
    await granted
    let bSettled = false
    void b.rosterGet('alice@localhost').then(
      () => (bSettled = true),
      () => (bSettled = true),
    )
    const started = Date.now()
    await expect(a.rosterGet('alice@localhost')).rejects.toMatchObject({ code: 'SAT_ERR_IQ_TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(bSettled).toBe(false)
    a.close()
    b.close()
  })
})
