// A 50-line paste: killed for Excess Flood when sent at once, delivered whole through the
// gateway's scheduler; against a scripted server with a hybrid/solanum-like flood rule (scaled
// to keep the test short: the rule and the scheduler keep the ratio of the defaults), and
// against a real ngircd.
import { connect } from 'node:net'
import { afterTest } from '@satellite/test-support/cleanup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IrcConnection } from '../src/connection.js'
import { ConnectGate } from '../src/gate.js'
import { schedulerOptions } from '../src/scheduler.js'
import { type FloodServer, startFloodServer } from './flood-server.js'
import { type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

const paste = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(300)}`)

describe('a 50-line paste against a server that kills for Excess Flood', () => {
  let server: FloodServer
  beforeAll(async () => {
    // 10 lines at once, then 1 per 40 ms, at most 10 lines over (a real server: 1 per ~1 s).
    server = await startFloodServer({ burst: 10, interval: 40, backlog: 10 })
  })
  afterAll(() => server.close())

  it('kills a client that sends it at once (the rule bites)', async () => {
    const socket = connect(server.port, '127.0.0.1')
    afterTest(() => socket.destroy())
    let got = ''
    socket.setEncoding('utf8')
    socket.on('data', (d) => {
      got += d
    })
    socket.write('NICK blaster\r\nUSER b 0 * :b\r\n')
    await expect.poll(() => got).toContain(' 001 ')
    socket.write(paste.map((l) => `PRIVMSG #c :${l}\r\n`).join(''))
    await expect.poll(() => got).toContain('ERROR :Closing Link: blaster (Excess Flood)')
    expect(server.killed).toContain('blaster')
  })

  it('delivers all 50 lines in order through the scheduler, without a kill', async () => {
    const conn = new IrcConnection({
      server: {
        name: 'flood.test',
        host: '127.0.0.1',
        port: server.port,
        tls: false,
        fallbackEncoding: 'latin1',
      },
      nick: 'paster',
      fallbackEncoding: 'latin1',
      // the default's ratio: burst 5 then 1 per 2 s against a server allowing ~1 per s, scaled by 1/25
      flood: schedulerOptions({ burst: 5, interval: 80 }),
      gate: new ConnectGate(),
    })
    afterTest(() => conn.close())
    const disconnects: unknown[] = []
    conn.on('disconnected', (d) => disconnects.push(d))
    await conn.connect()
    expect(conn.send('#c', paste.join('\n'))).toBe(50)
    await expect.poll(() => server.received.get('paster')?.length ?? 0, { timeout: 15_000 }).toBe(50)
    expect(server.received.get('paster')).toEqual(paste)
    expect(server.killed).not.toContain('paster')
    expect(disconnects).toEqual([])
    expect(conn.state.kind).toBe('registered')
  })
})

describe('a 50-line paste on ngircd', () => {
  let ircd: Ngircd
  beforeAll(async () => {
    ircd = await startNgircd()
  })
  afterAll(() => ircd?.stop())

  it('arrives whole and in order at another user, the sender still connected, at the scheduled pace', async () => {
    const watcher = await RawIrcClient.connect(ircd.port, 'watcher')
    afterTest(() => watcher.close())
    watcher.send('JOIN #paste')
    await watcher.waitFor((l) => / 366 watcher #paste /.test(l))
    const interval = 250
    const conn = new IrcConnection({
      server: { name: 'irc.test', host: ircd.host, port: ircd.port, tls: false, fallbackEncoding: 'latin1' },
      nick: 'paster',
      fallbackEncoding: 'latin1',
      flood: schedulerOptions({ burst: 5, interval }),
      gate: new ConnectGate(),
    })
    afterTest(() => conn.close())
    await conn.connect()
    conn.raw('JOIN #paste')
    await watcher.waitFor((l) => l.startsWith(':paster!') && l.includes(' JOIN '))
    const start = performance.now()
    expect(conn.send('#paste', paste.join('\n'))).toBe(50)
    const texts = (): string[] =>
      watcher.lines
        .filter((l) => l.line.startsWith(':paster!') && l.line.includes(' PRIVMSG #paste :'))
        .map((l) => l.line.slice(l.line.indexOf(' :') + 2))
    await expect.poll(() => texts().length, { timeout: 30_000 }).toBe(50)
    const took = performance.now() - start
    expect(texts()).toEqual(paste)
    expect(conn.state.kind).toBe('registered')
    expect(watcher.lines.some((l) => / QUIT /.test(l.line) && l.line.startsWith(':paster!'))).toBe(false)
    // 5 at once, then 45 at 250 ms: about 11 s; ngircd adds its own penalty delays when it sees more
    expect(took).toBeGreaterThanOrEqual(45 * interval - 50)
    console.log(
      `ngircd: 50 lines of 310 bytes through the scheduler (burst 5, 1 per ${interval} ms) in ${Math.round(took)} ms`,
    )
  }, 60_000)
})
