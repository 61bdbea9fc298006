// Identifying to IRC services (ngircd has neither SASL nor NickServ): a scripted server checks
// the AUTHENTICATE lines and the PRIVMSG NickServ line, for a connection and through the gateway
// (the Configure command of server@gateway, then the next connection).
import { component } from '@satellite/core'
import { openDatabase } from '@satellite/sqlite'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import { type AuthOutcome, type ConnectionAuth, IrcConnection } from '../src/connection.js'
import { ConnectGate } from '../src/gate.js'
import { ircGateway } from '../src/gateway.js'
import { schedulerOptions } from '../src/scheduler.js'
import { serversFromEnv } from '../src/servers.js'
import { SettingsStore } from '../src/settings.js'
import { configure } from './adhoc.js'
import { type AuthServerOptions, authServer } from './auth-server.js'

const PLAIN = (account: string, password: string) =>
  `AUTHENTICATE ${Buffer.from(`${account}\0${account}\0${password}`).toString('base64')}`

async function connect(server: Partial<AuthServerOptions>, auth: ConnectionAuth | undefined) {
  const opts = { tls: true, sasl: true, account: 'alice', password: 'hunter2', ...server }
  const s = await authServer(opts)
  const conn = new IrcConnection({
    server: { name: 's.test', host: '127.0.0.1', port: s.port, tls: opts.tls, fallbackEncoding: 'latin1' },
    nick: 'alice',
    fallbackEncoding: 'latin1',
    flood: schedulerOptions({ burst: 50, interval: 10 }),
    gate: new ConnectGate(),
    backoff: { base: 60_000, cap: 60_000, maxAttempts: Infinity, conflictFloor: 0 },
    ...(auth === undefined ? {} : { auth }),
  })
  afterTest(() => conn.close())
  const outcomes: AuthOutcome[] = []
  conn.on('auth', (a) => outcomes.push(a))
  await conn.connect()
  return { lines: s.lines, outcomes, conn }
}

const nickserv = (lines: string[]) => lines.filter((l) => l.startsWith('PRIVMSG NickServ'))
const authenticate = (lines: string[]) => lines.filter((l) => l.startsWith('AUTHENTICATE'))

describe('IrcConnection: SASL PLAIN over TLS, else NickServ IDENTIFY', () => {
  it('logs in with SASL PLAIN over TLS when the server offers it, and sends nothing to NickServ', async () => {
    const { lines, outcomes } = await connect({}, { password: 'hunter2', sasl: true })
    expect(authenticate(lines)).toEqual(['AUTHENTICATE PLAIN', PLAIN('alice', 'hunter2')])
    expect(lines.indexOf('CAP END')).toBeGreaterThan(lines.indexOf(PLAIN('alice', 'hunter2')))
    expect(outcomes).toEqual([{ method: 'sasl', ok: true }])
    expect(nickserv(lines)).toEqual([])
  })

  it('reports a password SASL refused, and does not send it to NickServ as well', async () => {
    const { lines, outcomes } = await connect({ password: 'other' }, { password: 'hunter2', sasl: true })
    expect(authenticate(lines)).toEqual(['AUTHENTICATE PLAIN', PLAIN('alice', 'hunter2')])
    expect(outcomes).toEqual([{ method: 'sasl', ok: false, reason: 'SASL authentication failed' }])
    expect(nickserv(lines)).toEqual([])
  })

  it('identifies to NickServ after registration when the server does not offer SASL', async () => {
    const { lines, outcomes } = await connect({ sasl: false }, { password: 'hunter2', sasl: true })
    await expect.poll(() => nickserv(lines)).toEqual(['PRIVMSG NickServ :IDENTIFY hunter2'])
    expect(authenticate(lines)).toEqual([])
    expect(lines.some((l) => l.startsWith('CAP REQ') && l.includes('sasl'))).toBe(false)
    expect(outcomes).toEqual([{ method: 'nickserv', ok: null }])
  })

  it('never uses SASL on a plain TCP connection: NickServ instead', async () => {
    const { lines } = await connect({ tls: false }, { password: 'hunter2', sasl: true })
    await expect.poll(() => nickserv(lines)).toEqual(['PRIVMSG NickServ :IDENTIFY hunter2'])
    expect(authenticate(lines)).toEqual([])
  })

  it('uses NickServ when the user turned SASL off, and identifies to nobody without a password', async () => {
    const off = await connect({}, { password: 'hunter2', sasl: false })
    await expect.poll(() => nickserv(off.lines)).toEqual(['PRIVMSG NickServ :IDENTIFY hunter2'])
    expect(authenticate(off.lines)).toEqual([])
    const none = await connect({}, undefined)
    none.conn.send('bob', 'marker')
    await expect.poll(() => none.lines.includes('PRIVMSG bob :marker')).toBe(true)
    expect(authenticate(none.lines)).toEqual([])
    expect(nickserv(none.lines)).toEqual([])
  })
})

const DOMAIN = 'irc.localhost'

async function gateway(server: Partial<AuthServerOptions>) {
  const opts = { tls: true, sasl: true, account: 'zed', password: 'correct horse', ...server }
  const s = await authServer(opts)
  const srv = await testServer(DOMAIN, 's3cret')
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 's3cret' })
  afterTest(() => xmpp.stop())
  const db = openDatabase()
  afterTest(() => db.close())
  const settings = new SettingsStore({ db, key: Buffer.alloc(32, 7) })
  const servers = serversFromEnv({ IRC_SERVERS: `s=127.0.0.1:${s.port}${opts.tls ? '/tls' : ''}` })
  const gw = ircGateway(xmpp, { servers, settings, flood: { burst: 50, interval: 10 } })
  afterTest(() => gw.close())
  await xmpp.start()
  return { lines: s.lines, srv, settings, gw }
}

describe('ircGateway: the stored nick and password on the next connection', () => {
  it('Configure stores nick and password; the next connection logs in with SASL under that nick', async () => {
    const { lines, srv, settings } = await gateway({})
    const zoe = srv.client('zoe@localhost/pc')
    const done = await configure(zoe, `s@${DOMAIN}`, { nick: 'zed', password: 'correct horse', sasl: 'true' })
    expect(done.getChild('command')?.attrs.status).toBe('completed')
    expect(settings.get('zoe@localhost', 's')).toEqual({ nick: 'zed', password: 'correct horse', sasl: true })
    zoe.send(`<message to='bob%s@${DOMAIN}' type='chat'><body>hi</body></message>`)
    await expect.poll(() => lines.includes('PRIVMSG bob :hi')).toBe(true)
    expect(lines).toContain('NICK zed')
    expect(authenticate(lines)).toEqual(['AUTHENTICATE PLAIN', PLAIN('zed', 'correct horse')])
    expect(nickserv(lines)).toEqual([])
    await zoe.expectStanza({ name: 'message', from: `s@${DOMAIN}`, body: 's: logged in with SASL' }, 5000)
  })

  it('without SASL on offer, IDENTIFYs to NickServ with the stored password', async () => {
    const { lines, srv } = await gateway({ sasl: false })
    const yan = srv.client('yan@localhost/pc')
    await configure(yan, `s@${DOMAIN}`, { nick: '', password: 'pw one', sasl: 'true' })
    yan.send(`<message to='bob%s@${DOMAIN}' type='chat'><body>hello</body></message>`)
    await expect.poll(() => nickserv(lines)).toEqual(['PRIVMSG NickServ :IDENTIFY pw one'])
    expect(lines).toContain('NICK yan')
    expect(authenticate(lines)).toEqual([])
  })

  it('a second Configure keeps the stored password when the field is left empty, forgets it when asked', async () => {
    const { srv, settings } = await gateway({})
    const xia = srv.client('xia@localhost/pc')
    await configure(xia, `s@${DOMAIN}`, { nick: 'xia', password: 'first', sasl: 'false' })
    await configure(xia, `s@${DOMAIN}`, { nick: 'xia2', password: '', sasl: 'true' })
    expect(settings.get('xia@localhost', 's')).toEqual({ nick: 'xia2', password: 'first', sasl: true })
    await configure(xia, `s@${DOMAIN}`, { nick: '', password: '', forget: 'true', sasl: 'true' })
    expect(settings.get('xia@localhost', 's')).toEqual({ sasl: true })
  })
})
