// The bridge kit through real servers and a real client: alice (@xmpp/client) registers her
// legacy account with the legacy-bridge example (a Satellite component on bridge.localhost),
// her legacy contact appears (presence subscribe), messages flow both ways, bad input is
// answered with stanza errors, and unregistering removes every trace.
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { LegacyClient } from '../../examples/legacy-bridge/src/network/adapter.js'
import { registerIq, startBridge } from './bridge-setup.js'
import { info, KINDS, realClient } from './helpers.js'

const NS_REGISTER = 'jabber:iq:register'

function conditionOf(el: { getChild(name: string): unknown }): string | undefined {
  const error = el.getChild('error') as
    | { children: Array<{ name?: string; attrs?: Record<string, string> }> }
    | undefined
  return error?.children.find(
    (c) => c.attrs?.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
  )?.name
}

describe.each(KINDS)('bridge through %s', (kind) => {
  it('alice registers her legacy account, chats with zed both ways, and unregisters leaving no trace', async () => {
    const { domain, net, store } = await startBridge(kind, { alice: 'legacy-pw', zed: 'zed-pw' })
    const zedJid = `zed@${domain}`
    const inbox: string[] = []
    const zed = await LegacyClient.login('127.0.0.1', net.port, 'zed', 'zed-pw', {
      message: (m) => inbox.push(`${m.from}: ${m.text}`),
      disconnected: () => {},
    })
    afterTest(() => zed.logout())
    const alice = await realClient(kind, 'alice', 'bridge')
    const register = (password: string) => registerIq(domain, 'alice', password)

    // Wrong legacy password: not-authorized, nothing stored.
    const refused = await alice.request(register('nope')).then(
      () => undefined,
      (err: { name?: string; condition?: string }) => err.condition ?? err.name,
    )
    expect(refused).toBe('not-authorized')
    expect(store.users()).toEqual([])

    await alice.request(register('legacy-pw'))
    const sub = await alice.expect(
      (el) => el.is('presence') && el.attrs.type === 'subscribe' && el.attrs.from === zedJid,
    )
    expect(sub).toBeDefined()
    await alice.send(clientXml('presence', { to: zedJid, type: 'subscribed' }))

    // alice → zed
    await alice.send(
      clientXml('message', { to: zedJid, type: 'chat', id: 'e2e-1' }, clientXml('body', {}, 'hi zed ✓')),
    )
    await expect
      .poll(() => inbox.includes('alice: hi zed ✓'), {
        message: 'zed to get the message',
        timeout: 5000,
        interval: 10,
      })
      .toBe(true)
    // zed → alice
    const legacyId = await zed.send('alice', 'hello alice')
    const got = await alice.expect((el) => el.is('message') && el.getChildText('body') === 'hello alice')
    expect(got.attrs.from).toBe(zedJid)
    expect(got.attrs.id).toBe(legacyId)

    // Unknown legacy contact: item-not-found.
    await alice.send(
      clientXml('message', { to: `ghost@${domain}`, type: 'chat', id: 'e2e-2' }, clientXml('body', {}, 'x')),
    )
    const e2 = await alice.expect(
      (el) => el.is('message') && el.attrs.id === 'e2e-2' && el.attrs.type === 'error',
    )
    expect(conditionOf(e2)).toBe('item-not-found')

    // Unregister: every trace is gone.
    await alice.request(
      clientXml(
        'iq',
        { type: 'set', to: domain },
        clientXml('query', { xmlns: NS_REGISTER }, clientXml('remove')),
      ),
    )
    expect(store.counts(`alice@${info(kind).XMPP_DOMAIN}`)).toEqual({
      registrations: 0,
      contacts: 0,
      messages: 0,
    })
    await expect
      .poll(() => !net.online().includes('alice'), {
        message: 'the legacy logout',
        timeout: 5000,
        interval: 10,
      })
      .toBe(true)
    await alice.send(
      clientXml('message', { to: zedJid, type: 'chat', id: 'e2e-3' }, clientXml('body', {}, 'x')),
    )
    const e3 = await alice.expect(
      (el) => el.is('message') && el.attrs.id === 'e2e-3' && el.attrs.type === 'error',
    )
    expect(conditionOf(e3)).toBe('registration-required')
  })
})
