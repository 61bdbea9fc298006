// The bridge's cluster pieces without a cluster: BRIDGE_LEASE_TTL and friends checked, the fences
// (nothing sent to XMPP, no login, no text to the network while the lease is not valid). The cluster
// itself, on the real ejabberd and PostgreSQL: e2e/test/bridge-cluster.test.ts.
import type { NetworkAdapter } from '@satellite/bridge'
import { component, isSatelliteError, StanzaError, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { clusterFromEnv, fenceAdapter, fenceSends } from '../src/cluster.js'

const PG = 'postgres://bridge:secret@127.0.0.1:5432/bridge'

describe('clusterFromEnv', () => {
  it('is undefined without BRIDGE_LEASE_TTL, and reads the ttl and the instance', () => {
    expect(clusterFromEnv({}, PG)).toBeUndefined()
    expect(clusterFromEnv({ BRIDGE_LEASE_TTL: '' }, 'bridge.db')).toBeUndefined()
    expect(clusterFromEnv({ BRIDGE_LEASE_TTL: '1500' }, PG)).toEqual({ ttl: 1500 })
    expect(clusterFromEnv({ BRIDGE_LEASE_TTL: '15000', BRIDGE_INSTANCE: 'b1' }, PG)).toEqual({
      ttl: 15000,
      instance: 'b1',
    })
  })

  it('lists every problem in one fatal SAT_ERR_CONFIG', () => {
    let caught: unknown
    try {
      clusterFromEnv(
        { BRIDGE_LEASE_TTL: '999', BRIDGE_LOGIN_AT_START: '1', BRIDGE_INSTANCE: 'has space' },
        'bridge.db',
      )
    } catch (err) {
      caught = err
    }
    expect(isSatelliteError(caught) && caught.code).toBe('SAT_ERR_CONFIG')
    expect(isSatelliteError(caught) && caught.fatal).toBe(true)
    const lines = (caught as Error).message.split('\n')
    expect(lines).toHaveLength(4)
    expect(lines[0]).toContain('BRIDGE_LEASE_TTL: expected milliseconds from 1000 to 3600000, got "999"')
    expect(lines[1]).toContain('BRIDGE_DB=postgres://')
    expect(lines[2]).toContain('BRIDGE_LOGIN_AT_START')
    expect(lines[3]).toContain('BRIDGE_INSTANCE')
    for (const bad of ['1.5e3', '-1500', '3600001', 'abc'])
      expect(() => clusterFromEnv({ BRIDGE_LEASE_TTL: bad }, PG), bad).toThrow(/BRIDGE_LEASE_TTL/)
  })
})

describe('the fences', () => {
  it('fenceSends: nothing goes out while not serving (SAT_ERR_STOPPED, counted), everything again once serving', async () => {
    const srv = await createServer({ components: { 'gw.localhost': 'secret' } })
    afterTest(() => srv.close())
    const xmpp = component({ service: srv.url, domain: 'gw.localhost', secret: 'secret' })
    afterTest(() => xmpp.stop())
    await xmpp.start()
    const alice = srv.client('alice@localhost/phone')
    let serving = false
    const fence = fenceSends(xmpp, () => serving)
    const msg = xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'stale'))
    await expect(xmpp.send(msg)).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
    await expect(xmpp.sendEach(msg, ['alice@localhost/phone'])).rejects.toMatchObject({
      code: 'SAT_ERR_STOPPED',
    })
    await expect(
      xmpp.request(
        xml('iq', { type: 'get', to: 'alice@localhost/phone' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
      ),
    ).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
    expect(fence.dropped()).toBe(3)
    await new Promise((r) => setTimeout(r, 50))
    expect(alice.received).toHaveLength(0)
    serving = true
    await xmpp.send(xml('message', { to: 'alice@localhost/phone', type: 'chat' }, xml('body', {}, 'fresh')))
    await expect.poll(() => alice.received.length).toBe(1)
    expect(fence.dropped()).toBe(3)
  })

  it('fenceAdapter: no login and no text while not serving; the rest passes through', async () => {
    const calls: string[] = []
    const adapter: NetworkAdapter<string> = {
      network: { type: 'test', name: 'Test network' },
      login: async (c) => {
        calls.push(`login ${c.username}`)
        return 'session'
      },
      logout: async () => void calls.push('logout'),
      sendText: async (_s, to) => {
        calls.push(`send ${to}`)
        return 'm1'
      },
      listContacts: async () => [],
    }
    let serving = false
    const fenced = fenceAdapter(adapter, () => serving)
    const events = {} as Parameters<typeof adapter.login>[1]
    await expect(fenced.login({ username: 'alice', password: 'pw' }, events)).rejects.toBeInstanceOf(
      StanzaError,
    )
    await expect(fenced.sendText('session', 'zed', 'hi')).rejects.toMatchObject({
      condition: 'service-unavailable',
    })
    await fenced.logout('session') // letting users go is always allowed
    expect(calls).toEqual(['logout'])
    serving = true
    expect(await fenced.login({ username: 'alice', password: 'pw' }, events)).toBe('session')
    expect(await fenced.sendText('session', 'zed', 'hi')).toBe('m1')
    expect(calls).toEqual(['logout', 'login alice', 'send zed'])
  })
})
