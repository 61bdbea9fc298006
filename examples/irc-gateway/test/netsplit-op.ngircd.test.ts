// A real netsplit (scripts/ngircd start-linked) with an op on the other side: bob, op of the channel on
// the leaf, is split off and back within splitDelay; ngircd sends his JOIN and then MODE +o again. The
// XMPP user in the channel must see no presence at all (no leave, no rejoin, no role change).
import { component, type Element } from '@satellite/core'
import { NS_MUC, NS_MUC_USER } from '@satellite/muc'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ircGateway } from '../src/gateway.js'
import { serversFromEnv } from '../src/servers.js'
import { type LinkedNgircd, startLinkedNgircd } from './ngircd.js'
import { RawIrcClient, type RawLine } from './raw-client.js'

const DOMAIN = 'irc.localhost'
const SECRET = 's3cret'
/** Long enough for a split and relink through scripts/ngircd (≈ 2-3 s), short for the test. */
const SPLIT_DELAY = 6000
let net: LinkedNgircd
let n = 0

beforeAll(async () => {
  net = await startLinkedNgircd()
}, 60_000)
afterAll(() => net?.stop())

async function setup() {
  const srv = await testServer(DOMAIN, SECRET)
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  afterTest(() => xmpp.stop())
  // The gateway reaches the network through the hub.
  const servers = serversFromEnv({ IRC_SERVERS: `net=127.0.0.1:${net.hub.port}` })
  const gateway = ircGateway(xmpp, { servers, flood: { burst: 20, interval: 50 }, splitDelay: SPLIT_DELAY })
  afterTest(() => gateway.close())
  await xmpp.start()
  return { srv }
}

async function raw(port: number, nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(port, nick)
  afterTest(() => c.close())
  return c
}

const codes = (el: Element) =>
  (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => Number(s.attrs.code))

/** The first line matching `match` among those an IRC client got from now on. */
function next(c: RawIrcClient, match: (l: string) => boolean, timeout = 30_000): () => Promise<RawLine> {
  const start = c.lines.length
  return async () => {
    const found = () => c.lines.slice(start).find((l) => match(l.line))
    await expect.poll(found, { timeout, interval: 10 }).toBeDefined()
    return found() as RawLine
  }
}

/** Resolves once `at` (performance.now() time) has passed: the end of an observation window. */
function windowEnds(at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - performance.now())))
}

/** bob speaks and alice hears it: everything the gateway had to show before it has been shown. */
async function marker(
  bob: RawIrcClient,
  channel: string,
  alice: SimulatedClient,
  text: string,
): Promise<void> {
  bob.send(`PRIVMSG ${channel} :${text}`)
  await alice.expectStanza({ name: 'message', type: 'groupchat', body: text }, 10_000)
}

describe('a netsplit between linked ngircd servers (an op on the other side)', () => {
  it('a short split: the op comes back with +o and the room shows no presence at all', async () => {
    const { srv } = await setup()
    const channel = `#op${process.pid % 1000}x${++n}`
    const room = `${channel}%net@${DOMAIN}`
    const bob = await raw(net.leaf.port, `bob${n}`)
    bob.send(`JOIN ${channel}`)
    await bob.waitFor((l) => l.includes(` 366 bob${n} ${channel} `))
    const carol = await raw(net.hub.port, `carol${n}`)
    carol.send(`JOIN ${channel}`)
    await carol.waitFor((l) => l.includes(` 366 carol${n} ${channel} `))
    const alice = srv.client('alice@localhost/phone')
    alice.send(`<presence to='${room}/Alice'><x xmlns='${NS_MUC}'/></presence>`)
    await alice.expectStanza((s) => s.name === 'presence' && codes(s).includes(110), 10_000)
    const mark = alice.received.length
    const quitLine = next(carol, (l) => l.startsWith(`:bob${n}!`) && l.includes(' QUIT '))
    await net.split()
    const quit = await quitLine()
    await net.relink()
    await windowEnds(quit.at + SPLIT_DELAY + 1000)
    await marker(bob, channel, alice, 'm1')
    const after = alice.received.slice(mark).filter((s) => s.name === 'presence')
    expect(after).toEqual([])
  }, 60_000)
})
