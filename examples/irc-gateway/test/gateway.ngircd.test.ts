// The gateway's first slice end to end in one process: the embedded XMPP server
// (@satellite/testing), the component with ircGateway(), and a real ngircd with a raw IRC user.
import { component } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ircGateway } from '../src/gateway.js'
import { serversFromEnv } from '../src/servers.js'
import { freePort, type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

const DOMAIN = 'irc.localhost'
const SECRET = 's3cret'
let ircd: Ngircd

beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(() => ircd?.stop())

async function setup(env: Record<string, string> = {}) {
  const srv = await testServer(DOMAIN, SECRET)
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  afterTest(() => xmpp.stop())
  const servers = serversFromEnv({ IRC_SERVERS: `local=127.0.0.1:${ircd.port}`, ...env })
  const gateway = ircGateway(xmpp, { servers, flood: { burst: 5, interval: 100 } })
  afterTest(() => gateway.close())
  await xmpp.start()
  return { srv, xmpp, gateway }
}

async function raw(nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(ircd.port, nick)
  afterTest(() => c.close())
  return c
}

describe('ircGateway: one-to-one messages through ngircd', () => {
  it('relays XMPP -> IRC PRIVMSG (multi-line, /me) and IRC -> XMPP (PRIVMSG, Latin-1, ACTION) on one connection per user', async () => {
    const { srv, gateway } = await setup()
    const bob = await raw('bob')
    const alice = srv.client('alice@localhost/phone')
    alice.send(`<message to='bob%local@${DOMAIN}' type='chat'><body>hello bob\nhow are you?</body></message>`)
    await bob.waitFor((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG bob :hello bob'))
    await bob.waitFor((l) => l.endsWith('PRIVMSG bob :how are you?'))
    alice.send(`<message to='bob%local@${DOMAIN}' type='chat'><body>/me waves</body></message>`)
    await bob.waitFor((l) => l.endsWith('PRIVMSG bob :\x01ACTION waves\x01'))
    expect(gateway.connection('alice@localhost', 'local')?.state.kind).toBe('registered')

    bob.send('PRIVMSG alice :fine, thanks')
    await alice.expectStanza(
      { name: 'message', type: 'chat', from: `bob%local@${DOMAIN}`, body: 'fine, thanks' },
      5000,
    )
    bob.send(Buffer.concat([Buffer.from('PRIVMSG alice :'), Buffer.from('un café', 'latin1')]))
    await alice.expectStanza({ name: 'message', from: `bob%local@${DOMAIN}`, body: 'un café' }, 5000)
    bob.send('PRIVMSG alice :\x01ACTION smiles\x01')
    await alice.expectStanza({ name: 'message', from: `bob%local@${DOMAIN}`, body: '/me smiles' }, 5000)
    // the second resource of the same user shares the connection: still one alice on IRC
    const tablet = srv.client('alice@localhost/tablet')
    tablet.send(`<message to='bob%local@${DOMAIN}' type='chat'><body>from the tablet</body></message>`)
    await bob.waitFor((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG bob :from the tablet'))
    expect(bob.lines.some((l) => l.line.startsWith(':alice_!'))).toBe(false)
  })

  it('tells the user from server@gateway when the nick was taken, and relays under the fallback', async () => {
    const { srv } = await setup()
    await raw('carol')
    const dave = await raw('dave')
    const carol = srv.client('carol@localhost/pc')
    carol.send(`<message to='dave%local@${DOMAIN}' type='chat'><body>hi</body></message>`)
    const notice = await carol.expectStanza({ name: 'message', from: `local@${DOMAIN}` }, 5000)
    expect(notice.getChildText('body')).toMatch(/^local: the nick carol is in use .*; using carol_$/)
    await dave.waitFor((l) => l.startsWith(':carol_!') && l.endsWith('PRIVMSG dave :hi'))
  })

  it('answers errors: a server outside the list, a malformed address, a chat message to a channel not joined', async () => {
    const { srv } = await setup()
    const erin = srv.client('erin@localhost/pc')
    const cases: [string, string][] = [
      [`bob%evil.example@${DOMAIN}`, 'remote-server-not-found'],
      [`%local@${DOMAIN}`, 'jid-malformed'],
      [`#chan%local@${DOMAIN}`, 'item-not-found'],
    ]
    for (const [to, condition] of cases) {
      erin.send(`<message to='${to}' type='chat' id='m1'><body>x</body></message>`)
      const reply = await erin.expectStanza({ name: 'message', type: 'error', from: to }, 5000)
      expect(reply.getChild('error')?.getChild(condition), to).toBeDefined()
    }
  })

  it('answers recipient-unavailable when the IRC server cannot be reached, and keeps no connection', async () => {
    const dead = await freePort()
    const { srv, gateway } = await setup({
      IRC_SERVERS: `local=127.0.0.1:${ircd.port},dead=127.0.0.1:${dead}`,
    })
    const kim = srv.client('kim@localhost/pc')
    kim.send(`<message to='bob%dead@${DOMAIN}' type='chat' id='d1'><body>anyone?</body></message>`)
    const reply = await kim.expectStanza(
      { name: 'message', type: 'error', from: `bob%dead@${DOMAIN}`, id: 'd1' },
      5000,
    )
    expect(reply.getChild('error')?.getChild('recipient-unavailable')).toBeDefined()
    expect(reply.getChild('error')?.getChildText('text')).toBe('could not connect to dead')
    expect(gateway.connection('kim@localhost', 'dead')).toBeUndefined()
  })

  it('close() QUITs every connection and stops relaying', async () => {
    const { srv, gateway } = await setup()
    const frank = await raw('frank')
    const grace = srv.client('grace@localhost/pc')
    grace.send(`<message to='frank%local@${DOMAIN}' type='chat'><body>bye soon</body></message>`)
    await frank.waitFor((l) => l.endsWith('PRIVMSG frank :bye soon'))
    frank.send('JOIN #x')
    await frank.waitFor((l) => / 366 frank #x /.test(l))
    gateway.connection('grace@localhost', 'local')?.raw('JOIN #x')
    await frank.waitFor((l) => l.startsWith(':grace!') && l.includes(' JOIN '))
    gateway.close()
    await frank.waitFor((l) => l.startsWith(':grace!') && l.includes(' QUIT '))
    expect(gateway.connection('grace@localhost', 'local')).toBeUndefined()
  })
})
