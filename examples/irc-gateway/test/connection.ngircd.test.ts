// IrcConnection against a real ngircd (scripts/ngircd): registration, messages both ways,
// Latin-1 and formatting from IRC, CTCP ACTION and VERSION, nick fallback, a 50-line paste.

import { afterTest } from '@satellite/test-support/cleanup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type ConnectionOptions,
  type IncomingMessage,
  IrcConnection,
  type NickRefused,
} from '../src/connection.js'
import { ConnectGate } from '../src/gate.js'
import { schedulerOptions } from '../src/scheduler.js'
import { type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

let ircd: Ngircd

beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(async () => {
  await ircd?.stop()
})

function connection(nick: string, extra: Partial<ConnectionOptions> = {}): IrcConnection {
  const conn = new IrcConnection({
    server: { name: 'irc.test', host: ircd.host, port: ircd.port, tls: false, fallbackEncoding: 'latin1' },
    nick,
    fallbackEncoding: 'latin1',
    flood: schedulerOptions({ burst: 5, interval: 100 }),
    gate: new ConnectGate(),
    ...extra,
  })
  afterTest(() => conn.close())
  return conn
}

async function raw(nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(ircd.port, nick)
  afterTest(() => c.close())
  return c
}

function messages(conn: IrcConnection): IncomingMessage[] {
  const got: IncomingMessage[] = []
  conn.on('message', (m) => got.push(m))
  return got
}

describe('IrcConnection on ngircd', () => {
  it('registers and relays PRIVMSG both ways, to the nick and in a channel', async () => {
    const conn = connection('alice')
    const got = messages(conn)
    expect(await conn.connect()).toBe('alice')
    const bob = await raw('bob')
    bob.send('PRIVMSG alice :hello alice')
    await expect
      .poll(() => got)
      .toContainEqual({ kind: 'privmsg', from: 'bob', channel: null, text: 'hello alice' })
    expect(conn.send('bob', 'hi bob\nsecond line')).toBe(2)
    await bob.waitFor((l) => l.startsWith(':alice!') && l.endsWith('PRIVMSG bob :hi bob'))
    await bob.waitFor((l) => l.endsWith('PRIVMSG bob :second line'))
    conn.raw('JOIN #room')
    bob.send('JOIN #room')
    await bob.waitFor((l) => / 353 bob = #room :.*\balice\b/.test(l))
    bob.send('PRIVMSG #room :to everyone')
    await expect
      .poll(() => got)
      .toContainEqual({ kind: 'privmsg', from: 'bob', channel: '#room', text: 'to everyone' })
    bob.send('NOTICE alice :a notice')
    await expect
      .poll(() => got)
      .toContainEqual({ kind: 'notice', from: 'bob', channel: null, text: 'a notice' })
  })

  it('decodes Latin-1 bytes as Latin-1 and UTF-8 as UTF-8, strips formatting and controls', async () => {
    const conn = connection('carol')
    const got = messages(conn)
    await conn.connect()
    const dave = await raw('dave')
    dave.send(Buffer.concat([Buffer.from('PRIVMSG carol :'), Buffer.from('café crème', 'latin1')]))
    dave.send(Buffer.concat([Buffer.from('PRIVMSG carol :'), Buffer.from('naïve ☕', 'utf8')]))
    dave.send('PRIVMSG carol :\x02bold\x02 \x0304,12red\x03 \x1ditalic\x1d \x07bell\x0f')
    await expect
      .poll(() => got.map((m) => m.text))
      .toEqual(['café crème', 'naïve ☕', 'bold red italic bell'])
  })

  it('maps CTCP ACTION both ways and answers CTCP VERSION', async () => {
    const conn = connection('erin')
    const got = messages(conn)
    await conn.connect()
    const frank = await raw('frank')
    frank.send('PRIVMSG erin :\x01ACTION waves\x01')
    await expect
      .poll(() => got)
      .toContainEqual({ kind: 'action', from: 'frank', channel: null, text: 'waves' })
    conn.send('frank', 'waves back', 'action')
    await frank.waitFor((l) => l.endsWith('PRIVMSG frank :\x01ACTION waves back\x01'))
    frank.send('PRIVMSG erin :\x01VERSION\x01')
    const reply = await frank.waitFor((l) => l.includes('NOTICE frank :\x01VERSION'))
    expect(reply.line.endsWith('NOTICE frank :\x01VERSION Satellite IRC gateway\x01')).toBe(true)
    expect(got.some((m) => m.text.includes('VERSION'))).toBe(false)
  })

  it('falls back to nick_ when the nick is in use, and says so with a typed error', async () => {
    await raw('grace')
    const conn = connection('grace')
    const refused: NickRefused[] = []
    conn.on('nick-refused', (r) => refused.push(r))
    expect(await conn.connect()).toBe('grace_')
    expect(refused).toHaveLength(1)
    expect(refused[0]).toMatchObject({ requested: 'grace', reason: 'in-use', using: 'grace_' })
    expect(refused[0]?.error.code).toBe('SAT_ERR_IRC_NICK')
    expect(refused[0]?.error.message).toMatch(/^irc\.test: the nick grace is in use .*; using grace_$/)
  })

  it('falls back from an erroneous nick to a cleaned one, and refuses a later change visibly', async () => {
    const conn = connection('hé llo')
    const refused: NickRefused[] = []
    conn.on('nick-refused', (r) => refused.push(r))
    const nick = await conn.connect()
    expect(nick).toBe('hllo_')
    expect(refused[0]).toMatchObject({ requested: 'hé llo', reason: 'erroneous', using: 'hllo_' })
    await raw('taken')
    conn.changeNick('taken')
    await expect.poll(() => refused.length).toBe(2)
    expect(refused[1]).toMatchObject({ requested: 'taken', reason: 'in-use', using: 'hllo_' })
    expect(conn.nick).toBe('hllo_')
  })

  it('comes back after an ngircd restart, every user, never more than the cap of the gate connecting at once', async () => {
    const gate = new ConnectGate({ concurrent: 3 })
    const users = Array.from({ length: 12 }, (_, i) =>
      connection(`user${i}`, {
        gate,
        backoff: { base: 300, cap: 1000, maxAttempts: Infinity, conflictFloor: 0 },
      }),
    )
    expect(await Promise.all(users.map((u) => u.connect()))).toEqual(users.map((_, i) => `user${i}`))
    expect(gate.peak).toBeLessThanOrEqual(3)
    const again = users.map(
      (u) => new Promise<string>((resolve) => u.once('registered', ({ nick }) => resolve(nick))),
    )
    const drops: { retryIn: number | null }[] = []
    for (const u of users) u.on('disconnected', (d) => drops.push(d))
    await ircd.restart()
    expect(await Promise.all(again)).toEqual(users.map((_, i) => `user${i}`))
    expect(drops.length).toBeGreaterThanOrEqual(12)
    for (const d of drops) expect(d.retryIn).toBeLessThanOrEqual(1000)
    expect(gate.peak).toBeLessThanOrEqual(3)
    expect(gate.active).toBe(0)
    expect(users.every((u) => u.state.kind === 'registered')).toBe(true)
  }, 60_000)

  it('close() QUITs, stops reconnecting, and rejects connect() afterwards', async () => {
    const conn = connection('ivan')
    await conn.connect()
    const judy = await raw('judy')
    judy.send('JOIN #q')
    await judy.waitFor((l) => / 366 judy #q /.test(l))
    // judy sees ivan arrive, whichever order the two lines reach the server in
    conn.raw('JOIN #q')
    await judy.waitFor((l) => l.startsWith(':ivan!') && l.endsWith('JOIN :#q'))
    conn.close('bye now')
    // ngircd quotes the reason
    await judy.waitFor((l) => l.startsWith(':ivan!') && l.endsWith('QUIT :"bye now"'))
    expect(conn.state.kind).toBe('closed')
    await expect(conn.connect()).rejects.toMatchObject({ code: 'SAT_ERR_IRC_CONNECTION' })
    expect(() => conn.send('judy', 'x')).toThrow(/not connected/)
  })
})
