// A real netsplit: two linked ngircd servers (scripts/ngircd start-linked), the gateway on the hub,
// a raw IRC user on the leaf, an XMPP user in the same channel through the embedded XMPP server and
// the component with ircGateway(). The hub's operator drops the link (DISCONNECT) and makes it
// again (CONNECT): a split shorter than splitDelay shows nothing in the room; a longer one shows
// one leave with the netsplit reason, and the user comes back once when the servers relink.
// Also: a user in two channels (the hold is per channel) and an op who gets +o again on the rejoin.
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

/**
 * A channel created on the hub by carol (who watches the network from the hub's side), joined by
 * bob on the leaf and by alice from XMPP through the gateway.
 */
async function scene() {
  const { srv } = await setup()
  const channel = `#split${process.pid % 1000}x${++n}`
  const room = `${channel}%net@${DOMAIN}`
  const carol = await raw(net.hub.port, `carol${n}`)
  carol.send(`JOIN ${channel}`)
  await carol.waitFor((l) => l.includes(` 366 carol${n} ${channel} `))
  const bobNick = `bob${n}`
  const bob = await raw(net.leaf.port, bobNick)
  bob.send(`JOIN ${channel}`)
  await carol.waitFor((l) => l.startsWith(`:${bobNick}!`) && l.endsWith(`JOIN :${channel}`))
  const alice = srv.client('alice@localhost/phone')
  alice.send(`<presence to='${room}/Alice'><x xmlns='${NS_MUC}'/></presence>`)
  await alice.expectStanza((s) => s.name === 'presence' && codes(s).includes(110), 10_000)
  const bobJid = `${room}/${bobNick}`
  // bob's presence in the occupant list, consumed so that later expectations see only new ones.
  await alice.expectStanza({ name: 'presence', from: bobJid }, 1000)
  // Presences of bob's from here on: what the split and the relink show in the room.
  const mark = alice.received.length
  const bobPresences = () =>
    alice.received.slice(mark).filter((s) => s.name === 'presence' && s.attrs.from === bobJid)
  return { channel, room, carol, bob, bobNick, alice, bobPresences }
}

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

describe('a netsplit between two linked ngircd servers', () => {
  it('a split shorter than splitDelay shows no leave and no second occupant when the user comes back', async () => {
    const { channel, carol, bob, bobNick, alice, bobPresences } = await scene()
    const quitLine = next(carol, (l) => l.startsWith(`:${bobNick}!`) && l.includes(' QUIT '))
    const t0 = performance.now()
    await net.split()
    const quit = await quitLine()
    expect(quit.line).toBe(`:${bobNick}!~${bobNick}@127.0.0.1 QUIT :${net.hub.name} ${net.leaf.name}`)
    const joinLine = next(carol, (l) => l.startsWith(`:${bobNick}!`) && l.endsWith(`JOIN :${channel}`))
    const t1 = performance.now()
    const relinkMs = await net.relink()
    const back = await joinLine()
    console.info(
      `netsplit (short): split command → QUIT on the hub ${Math.round(quit.at - t0)} ms; ` +
        `relink command → JOIN on the hub ${Math.round(back.at - t1)} ms (CONNECT → LINKS lists the leaf ` +
        `${relinkMs} ms); QUIT → JOIN ${Math.round(back.at - quit.at)} ms`,
    )
    const quitAt = quit.at
    expect(back.at - quitAt).toBeLessThan(SPLIT_DELAY)
    // Past the moment the held QUIT would have been told, plus a margin; then bob's words reach alice.
    await windowEnds(quitAt + SPLIT_DELAY + 1000)
    await marker(bob, channel, alice, 'still here')
    expect(bobPresences()).toEqual([])
  }, 60_000)

  it('a split longer than splitDelay shows one leave with the netsplit reason, and one join after the relink', async () => {
    const { channel, carol, bob, bobNick, alice, bobPresences } = await scene()
    const quitLine = next(carol, (l) => l.startsWith(`:${bobNick}!`) && l.includes(' QUIT '))
    await net.split()
    const quitAt = (await quitLine()).at
    const left = await alice.expectStanza(
      (s) => s.name === 'presence' && s.attrs.type === 'unavailable' && s.attrs.from?.endsWith(`/${bobNick}`),
      SPLIT_DELAY + 10_000,
    )
    const leftAt = performance.now()
    expect(left.getChildText('status')).toBe(`Quit: ${net.hub.name} ${net.leaf.name}`)
    // Held for splitDelay, not shown at once (the poll of expectStanza adds a little).
    expect(leftAt - quitAt).toBeGreaterThanOrEqual(SPLIT_DELAY - 50)
    const joinLine = next(carol, (l) => l.startsWith(`:${bobNick}!`) && l.endsWith(`JOIN :${channel}`))
    const backPresence = alice
      .expectStanza(
        (s) =>
          s.name === 'presence' &&
          s.attrs.type === undefined &&
          s.attrs.from?.endsWith(`/${bobNick}`) === true,
        30_000,
      )
      .then((s) => ({ s, at: performance.now() }))
    const t1 = performance.now()
    const relinkMs = await net.relink()
    const backAt = (await joinLine()).at
    const { s: back, at: presenceAt } = await backPresence
    console.info(
      `netsplit (long): QUIT → leave shown ${Math.round(leftAt - quitAt)} ms (splitDelay ${SPLIT_DELAY}); ` +
        `relink command → JOIN on the hub ${Math.round(backAt - t1)} ms (CONNECT → LINKS lists the leaf ` +
        `${relinkMs} ms); JOIN on the hub → presence at alice ${Math.round(presenceAt - backAt)} ms`,
    )
    expect(back.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.role).toBe('participant')
    // Then a while for any duplicate to show, and bob's words to close the window.
    await windowEnds(backAt + 2000)
    await marker(bob, channel, alice, 'back again')
    const shown = bobPresences().map((p) => p.attrs.type ?? 'available')
    expect(shown).toEqual(['unavailable', 'available'])
  }, 90_000)

  it('scripts/ngircd reports the link: down after split, up after relink', async () => {
    expect(await net.linked()).toBe(true)
    await net.split()
    expect(await net.linked()).toBe(false)
    const ms = await net.relink()
    expect(Number.isFinite(ms)).toBe(true)
    expect(await net.linked()).toBe(true)
  }, 60_000)

  it('after a SQUIT the hub links again by itself (ConnectRetry)', async () => {
    const t0 = performance.now()
    await net.squit()
    expect(await net.linked()).toBe(false)
    await expect.poll(() => net.linked(), { timeout: 60_000, interval: 200 }).toBe(true)
    console.info(`netsplit: SQUIT → linked again by itself in ${Math.round(performance.now() - t0)} ms`)
  }, 90_000)
  it('a user in two channels, a short split: no presence in either room when the user comes back', async () => {
    const a = await scene()
    // second channel with bob and alice
    const channel2 = `${a.channel}b`
    const room2 = `${channel2}%net@${DOMAIN}`
    a.carol.send(`JOIN ${channel2}`)
    await a.carol.waitFor(
      (l) => l.includes(` 366 ${a.carol.lines.length >= 0 ? '' : ''}`) && l.includes(channel2),
    )
    a.bob.send(`JOIN ${channel2}`)
    await a.carol.waitFor((l) => l.startsWith(`:${a.bobNick}!`) && l.endsWith(`JOIN :${channel2}`))
    a.alice.send(`<presence to='${room2}/Alice'><x xmlns='${NS_MUC}'/></presence>`)
    await a.alice.expectStanza(
      (s) => s.name === 'presence' && codes(s).includes(110) && s.attrs.from === `${room2}/Alice`,
      10_000,
    )
    const bob2 = `${room2}/${a.bobNick}`
    await a.alice.expectStanza({ name: 'presence', from: bob2 }, 1000)
    const mark = a.alice.received.length
    const quitLine = next(a.carol, (l) => l.startsWith(`:${a.bobNick}!`) && l.includes(' QUIT '))
    await net.split()
    const quit = await quitLine()
    await net.relink()
    await windowEnds(quit.at + SPLIT_DELAY + 1000)
    await marker(a.bob, a.channel, a.alice, 'm1')
    await marker(a.bob, channel2, a.alice, 'm2')
    const after = a.alice.received.slice(mark).filter((s) => s.name === 'presence')
    expect(after).toEqual([])
  }, 60_000)

  it('an op on the other side, a short split: back with +o, and the room shows no presence at all', async () => {
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
