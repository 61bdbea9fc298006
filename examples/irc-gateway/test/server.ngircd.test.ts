// The server address against a real ngircd: the Configure command's nick used on the next
// connection, Disconnect, raw commands (/quote) answered by the server's notices, and the rooms'
// archive in IRC_GATEWAY_DB surviving a restart of the gateway.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { component, type Element } from '@satellite/core'
import { NS_MUC, SqliteMucStore } from '@satellite/muc'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type IrcGatewayOptions, ircGateway } from '../src/gateway.js'
import { serversFromEnv } from '../src/servers.js'
import { SettingsStore } from '../src/settings.js'
import { configure } from './adhoc.js'
import { type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

const DOMAIN = 'irc.localhost'
const SECRET = 's3cret'
const SERVER = `local@${DOMAIN}`
let ircd: Ngircd

beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(() => ircd?.stop())

async function setup(options: Partial<IrcGatewayOptions> = {}, env: Record<string, string> = {}) {
  const srv = await testServer(DOMAIN, SECRET)
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  afterTest(() => xmpp.stop())
  const servers = serversFromEnv({ IRC_SERVERS: `local=127.0.0.1:${ircd.port}`, ...env })
  const gateway = ircGateway(xmpp, { servers, flood: { burst: 20, interval: 50 }, ...options })
  afterTest(() => gateway.close())
  await xmpp.start()
  return { srv, xmpp, gateway }
}

async function raw(nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(ircd.port, nick)
  afterTest(() => c.close())
  return c
}

const command = (node: string) =>
  `<iq type='set' to='${SERVER}'><command xmlns='http://jabber.org/protocol/commands' node='${node}' action='execute'/></iq>`
const notes = (iq: Element) => (iq.getChild('command')?.getChildren('note') ?? []).map((n) => n.text())

describe('server@gateway: ad-hoc commands against ngircd', () => {
  it('lists Configure and Disconnect; the configured nick is used from the next connection', async () => {
    const { srv, gateway } = await setup()
    const bob = await raw('bobn')
    const amy = srv.client('amy@localhost/pc')
    const items = await amy.request(
      `<iq type='get' to='${SERVER}'><query xmlns='http://jabber.org/protocol/disco#items' node='http://jabber.org/protocol/commands'/></iq>`,
    )
    expect(
      items
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs.node),
    ).toEqual(['configure', 'disconnect'])

    amy.send(`<message to='bobn%local@${DOMAIN}' type='chat'><body>as amy</body></message>`)
    await bob.waitFor((l) => l.startsWith(':amy!') && l.endsWith('PRIVMSG bobn :as amy'))
    await configure(amy, SERVER, { nick: 'amelia', password: '', sasl: 'true' })
    // still the old nick until the next connection
    expect(gateway.connection('amy@localhost', 'local')?.nick).toBe('amy')
    // share a channel with bob (through a raw command) so that he sees the QUIT
    bob.send('JOIN #dis')
    await bob.waitFor((l) => l.includes(' 366 bobn #dis '))
    amy.send(`<message to='${SERVER}' type='chat'><body>/quote JOIN #dis</body></message>`)
    await bob.waitFor((l) => l.startsWith(':amy!') && l.includes(' JOIN '))
    const done = await amy.request(command('disconnect'), 5000)
    expect(notes(done)).toEqual(['Disconnected from local'])
    await bob.waitFor((l) => l.startsWith(':amy!') && l.includes(' QUIT '))
    expect(gateway.connection('amy@localhost', 'local')).toBeUndefined()
    expect(notes(await amy.request(command('disconnect'), 5000))).toEqual(['You were not connected to local'])

    amy.send(`<message to='bobn%local@${DOMAIN}' type='chat'><body>as amelia</body></message>`)
    await bob.waitFor((l) => l.startsWith(':amelia!') && l.endsWith('PRIVMSG bobn :as amelia'))
  })

  it('refuses a nick IRC does not accept in the form; acts only on the requester’s own connection', async () => {
    const { srv, gateway } = await setup()
    const cid = srv.client('cid@localhost/pc')
    await expect(
      configure(cid, SERVER, { nick: 'bad nick', password: '', sasl: 'true' }),
    ).rejects.toMatchObject({
      condition: 'not-acceptable',
    })
    const dee = srv.client('dee@localhost/pc')
    const bob = await raw('bobd')
    dee.send(`<message to='bobd%local@${DOMAIN}' type='chat'><body>hi</body></message>`)
    await bob.waitFor((l) => l.startsWith(':dee!'))
    expect(notes(await cid.request(command('disconnect'), 5000))).toEqual(['You were not connected to local'])
    expect(gateway.connection('dee@localhost', 'local')?.state.kind).toBe('registered')
  })

  it('serves the commands on the gateway itself with IRC_FIXED_SERVER=1', async () => {
    const { srv } = await setup({}, { IRC_FIXED_SERVER: '1' })
    const eve = srv.client('eve@localhost/pc')
    const first = await eve.request(
      `<iq type='set' to='${DOMAIN}'><command xmlns='http://jabber.org/protocol/commands' node='configure' action='execute'/></iq>`,
    )
    const form = first.getChild('command')?.getChild('x', 'jabber:x:data')
    expect(form?.getChildren('field').map((f) => f.attrs.var)).toEqual(['nick', 'password', 'forget', 'sasl'])
  })
})

describe('server@gateway: raw commands', () => {
  it('sends /quote LINE as it is and relays the server’s notices in answer', async () => {
    const { srv } = await setup()
    const bob = await raw('bobq')
    const fay = srv.client('fay@localhost/pc')
    fay.send(`<message to='${SERVER}' type='chat'><body>/quote PRIVMSG bobq :raw hello</body></message>`)
    await bob.waitFor((l) => l.startsWith(':fay!') && l.endsWith('PRIVMSG bobq :raw hello'))
    fay.send(`<message to='${SERVER}' type='chat'><body>/quote HELP</body></message>`)
    const notice = await fay.expectStanza({ name: 'message', from: SERVER, body: /ngIRCd/ }, 5000)
    expect(notice.attrs.type).toBe('chat')
    // numerics no other event carries, and errors, come back too
    fay.send(`<message to='${SERVER}' type='chat'><body>/quote TIME</body></message>`)
    await fay.expectStanza({ name: 'message', from: SERVER, body: /^391 irc\.test \w+day / }, 5000)
    fay.send(`<message to='${SERVER}' type='chat'><body>/quote FROBNICATE now</body></message>`)
    await fay.expectStanza({ name: 'message', from: SERVER, body: 'FROBNICATE: Unknown command' }, 5000)
    // the numerics of registration (250, 265, 266: before any raw line) were not relayed
    const bodies = fay.received.map((s) => s.getChildText('body') ?? '')
    expect(bodies.filter((b) => /^2[56][0-9] /.test(b))).toEqual([])
  })

  it('relays WHOIS and LIST replies, at most replyLines of them per raw line, then says the rest is cut', async () => {
    const { srv } = await setup({ replyLines: 3 })
    const whoisme = await raw('whoisme')
    for (const c of ['#l1', '#l2', '#l3', '#l4', '#l5']) whoisme.send(`JOIN ${c}`)
    await whoisme.waitFor((l) => / 366 whoisme #l5 /.test(l))
    const jo = srv.client('jo@localhost/pc')
    jo.send(`<message to='${SERVER}' type='chat'><body>/quote WHOIS whoisme</body></message>`)
    // RPL_WHOISUSER: nick, user, host, *, real name
    await jo.expectStanza(
      { name: 'message', from: SERVER, body: /^311 whoisme ~whoisme 127\.0\.0\.1 \* whoisme$/ },
      5000,
    )
    const notice = '(more replies to that line are not shown: the limit is 3)'
    const bodies = () => jo.received.map((m) => m.getChildText('body') ?? '')
    // WHOIS answers with more than 3 numerics (311, 319, 312, 317, 318): cut after 3
    await expect.poll(() => bodies().filter((b) => b === notice)).toHaveLength(1)
    expect(bodies().slice(0, 4)).toEqual([
      expect.stringMatching(/^311 /),
      expect.anything(),
      expect.anything(),
      notice,
    ])
    jo.send(`<message to='${SERVER}' type='chat'><body>/quote LIST</body></message>`)
    await expect.poll(() => bodies().filter((b) => b === notice)).toHaveLength(2)
    await new Promise((r) => setTimeout(r, 300))
    // the count starts again with each raw line: three of LIST's (321 start, 322 per channel), the notice, nothing after
    expect(bodies().slice(4)).toEqual([
      expect.stringMatching(/^32[12] /),
      expect.stringMatching(/^322 /),
      expect.stringMatching(/^322 /),
      notice,
    ])
  })

  it('relays no unhandled numeric with replyWindow 0 (errors still come back)', async () => {
    const { srv } = await setup({ replyWindow: 0 })
    const ida = srv.client('ida@localhost/pc')
    ida.send(`<message to='${SERVER}' type='chat'><body>/quote TIME</body></message>`)
    ida.send(`<message to='${SERVER}' type='chat'><body>/quote FROBNICATE</body></message>`)
    // the server answers in order: TIME's 391 came before this error
    await ida.expectStanza({ name: 'message', from: SERVER, body: 'FROBNICATE: Unknown command' }, 5000)
    expect(ida.received.filter((s) => /^391 /.test(s.getChildText('body') ?? ''))).toEqual([])
  })

  it('tells the user from server@gateway when a one-to-one message names no such nick', async () => {
    const { srv } = await setup()
    const hil = srv.client('hil@localhost/pc')
    hil.send(`<message to='nobodyhere%local@${DOMAIN}' type='chat'><body>anyone?</body></message>`)
    await hil.expectStanza({ name: 'message', from: SERVER, body: /^nobodyhere: No such nick/ }, 5000)
  })

  it('refuses what is not a raw line: a second line, an empty /quote, an overlong line, plain text', async () => {
    const { srv, gateway } = await setup({ rawMaxBytes: 100 })
    const gus = srv.client('gus@localhost/pc')
    const cases: [string, RegExp][] = [
      ['/quote PRIVMSG x :a\nQUIT', /CR, LF or NUL/],
      ['/quote ', /needs an IRC line/],
      [`/quote PRIVMSG x :${'é'.repeat(60)}`, /at most 100 bytes, got 131/],
      ['hello', /\/quote LINE/],
    ]
    for (const [body, text] of cases) {
      gus.send(`<message to='${SERVER}' type='chat' id='q'><body>${body}</body></message>`)
      const reply = await gus.expectStanza({ name: 'message', type: 'error', from: SERVER }, 5000)
      expect(reply.getChild('error')?.getChild('bad-request'), body).toBeDefined()
      expect(reply.getChild('error')?.getChildText('text'), body).toMatch(text)
    }
    expect(gateway.connection('gus@localhost', 'local')).toBeUndefined()
  })
})

describe('IRC_GATEWAY_DB: the archive survives a restart', () => {
  it('history of a channel relayed before a restart is served after it (SqliteMucStore on the settings file)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'irc-gw-db-'))
    afterTest(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'gw.db')
    const key = Buffer.alloc(32, 3)
    const channel = `#keep${process.pid % 1000}`
    const jid = `${channel}%local@${DOMAIN}`
    const run = async () => {
      const store = new SqliteMucStore({ path })
      const settings = new SettingsStore({ db: store.db, key })
      const gw = await setup({ store, settings })
      return { ...gw, store }
    }
    const enter = async (c: SimulatedClient) => {
      const start = c.received.length
      c.send(`<presence to='${jid}/hal'><x xmlns='${NS_MUC}'/></presence>`)
      await c.expectStanza((s) => s.name === 'message' && s.getChild('subject') !== undefined, 10_000)
      return c.received.slice(start)
    }
    const bob = await raw('bobh')
    bob.send(`JOIN ${channel}`)
    await bob.waitFor((l) => l.includes(` 366 bobh ${channel} `))

    const first = await run()
    const hal = first.srv.client('hal@localhost/pc')
    await enter(hal)
    bob.send(`PRIVMSG ${channel} :before the restart`)
    await hal.expectStanza({ name: 'message', type: 'groupchat', body: 'before the restart' }, 5000)
    first.gateway.close()
    await first.xmpp.stop()
    first.store.close()

    const second = await run()
    afterTest(() => second.store.close())
    const hal2 = second.srv.client('hal@localhost/pc')
    const got = await enter(hal2)
    const history = got.filter(
      (s) => s.name === 'message' && s.getChild('delay', 'urn:xmpp:delay') !== undefined,
    )
    expect(history.map((s) => s.getChildText('body'))).toEqual(['before the restart'])
  })
})
