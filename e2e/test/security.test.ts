// Issue #13 through real servers: the chat-state injection that delivered a forged message
// from it-support@bridge.localhost to bob (who never used the gateway), and the state that
// made Prosody and ejabberd close the gateway's stream for every user. A legacy user (zed)
// sends them as TYPING lines; the adapter, the bridge and core each refuse them, nothing
// forged reaches bob, the stream stays up, and zed's next (valid) chat state reaches alice.
import { sleep } from '@satellite/test-support/wait'
import { describe, expect, it } from 'vitest'
import { rawClient } from '../../examples/legacy-bridge/test/wire.js'
import { registerIq, startBridge } from './bridge-setup.js'
import { info, KINDS, realClient } from './helpers.js'

const CHATSTATES = 'http://jabber.org/protocol/chatstates'

describe.each(KINDS)('hostile legacy input through %s', (kind) => {
  it('a TYPING line carrying markup forges nothing and closes nothing', async () => {
    const { domain, net, xmpp } = await startBridge(kind, { alice: 'legacy-pw', zed: 'zed-pw' })
    const userDomain = info(kind).XMPP_DOMAIN as string
    let offline = 0
    xmpp.on('offline', () => void offline++)
    // zed is a hostile legacy user writing raw protocol lines.
    const zed = await rawClient(net.port)
    expect(await zed.ask('z0', 'LOGIN zed zed-pw')).toBe('z0 OK')
    const alice = await realClient(kind, 'alice', 'bridge')
    const bob = await realClient(kind, 'bob', 'victim')
    await alice.request(registerIq(domain, 'alice', 'legacy-pw'))
    await alice.expect((el) => el.is('presence') && el.attrs.from === `zed@${domain}`)

    const forged = [
      `active/></message><message\tto="bob@${userDomain}"\tfrom="it-support@${domain}"\ttype="chat"><body>Your\tpassword\texpired</body></message><message\tfrom="${domain}"\tto="alice@${userDomain}"><x`,
      'a><b',
    ]
    let tag = 0
    for (const state of forged) expect(await zed.ask(`t${++tag}`, `TYPING alice ${state}`)).toMatch(/ OK$/)
    expect(await zed.ask(`t${++tag}`, 'TYPING alice composing')).toMatch(/ OK$/)
    const composing = await alice.expect(
      (el) =>
        el.is('message') &&
        el.attrs.from === `zed@${domain}` &&
        el.getChild('composing', CHATSTATES) !== undefined,
    )
    expect(composing).toBeDefined()
    await sleep(500)
    // (Prosody's mod_privilege sends every user an empty <privilege/> from the server: not ours.)
    const fromGateway = (el: { attrs: Record<string, string> }) => String(el.attrs.from).endsWith(domain)
    expect(bob.received.filter((el) => el.is('message') && fromGateway(el)).map(String)).toEqual([])
    expect(alice.received.filter((el) => el.is('message') && el.attrs.from === domain).map(String)).toEqual(
      [],
    )
    expect(offline).toBe(0)
    expect(xmpp.status).toBe('online')
  })
})
