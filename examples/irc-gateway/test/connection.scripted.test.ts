// IrcConnection against a scripted IRC server that sends what ngircd never would: nicks and
// channels that must not reach XMPP, overlong text, messages before registration.
import { createServer, type Server, type Socket } from 'node:net'
import { afterTest } from '@satellite/test-support/cleanup'
import { describe, expect, it } from 'vitest'
import { type IncomingMessage, IrcConnection } from '../src/connection.js'
import type { IrcGatewayError } from '../src/errors.js'
import { ConnectGate } from '../src/gate.js'
import { schedulerOptions } from '../src/scheduler.js'
import { freePort } from './ngircd.js'

/** A server that registers the client, then writes `script` (lines) to it. */
async function scripted(before: string[], after: string[]): Promise<number> {
  const sockets: Socket[] = []
  const server: Server = createServer((socket) => {
    sockets.push(socket)
    socket.on('error', () => {})
    for (const l of before) socket.write(`${l}\r\n`)
    socket.setEncoding('utf8')
    let buffer = ''
    socket.on('data', (d: string) => {
      buffer += d
      if (buffer.includes('USER ')) {
        buffer = ''
        socket.write(':s.test 001 alice :Welcome\r\n')
        for (const l of after) socket.write(`${l}\r\n`)
      }
    })
  })
  // cleanups run last first: the sockets are destroyed, then the server closes
  afterTest(() => new Promise<void>((resolve) => server.close(() => resolve())))
  afterTest(() => {
    for (const s of sockets) s.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return typeof address === 'object' && address ? address.port : 0
}

function connection(port: number): IrcConnection {
  const conn = new IrcConnection({
    server: { name: 's.test', host: '127.0.0.1', port, tls: false, fallbackEncoding: 'latin1' },
    nick: 'alice',
    fallbackEncoding: 'latin1',
    flood: schedulerOptions(),
    gate: new ConnectGate(),
    backoff: { base: 60_000, cap: 60_000, maxAttempts: Infinity, conflictFloor: 0 },
  })
  afterTest(() => conn.close())
  return conn
}

describe('IrcConnection: what it refuses from IRC', () => {
  it('drops, and reports as SAT_ERR_IRC_INPUT, forged nicks, bad channels and overlong text; relays the rest', async () => {
    const port = await scripted(
      [':early!u@h PRIVMSG alice :before registration'],
      [
        ':mallory@evil.example!u@h PRIVMSG alice :nick with @',
        ':a/b!u@h PRIVMSG alice :nick with /',
        ':bob!u@h PRIVMSG #a%b :channel with %',
        `:bob!u@h PRIVMSG alice :${'x'.repeat(9000)}`,
        ':bob!u@h PRIVMSG alice :\x03\x02\x0f',
        ':bob!u@h PRIVMSG alice :the good one',
        ':s.test NOTICE alice :from the server',
      ],
    )
    const conn = connection(port)
    const got: IncomingMessage[] = []
    const refused: IrcGatewayError[] = []
    conn.on('message', (m) => got.push(m))
    conn.on('refused', (e) => refused.push(e))
    await conn.connect()
    await expect.poll(() => got.length).toBe(2)
    expect(got).toEqual([
      { kind: 'privmsg', from: 'bob', channel: null, text: 'the good one' },
      { kind: 'notice', from: null, channel: null, text: 'from the server' },
    ])
    expect(refused.map((e) => e.code)).toEqual(Array(4).fill('SAT_ERR_IRC_INPUT'))
    expect(refused.map((e) => e.message)).toEqual([
      'nick "mallory@evil.example" from IRC has characters a nick cannot have',
      'nick "a/b" from IRC has characters a nick cannot have',
      'channel "#a%b" from IRC is not a channel name',
      `text "${'x'.repeat(80)}…" from IRC is longer than 8192`,
    ])
  })

  it('rejects connect() when the attempt fails, and keeps retrying with backoff', async () => {
    const port = await freePort() // nothing listens there
    const conn = connection(port)
    const drops: { retryIn: number | null }[] = []
    conn.on('disconnected', (d) => drops.push(d))
    await expect(conn.connect()).rejects.toMatchObject({
      code: 'SAT_ERR_IRC_CONNECTION',
      message: 'could not connect to s.test',
    })
    expect(conn.state.kind).toBe('backoff')
    expect(conn.everRegistered).toBe(false)
    expect(drops).toHaveLength(1)
    expect(drops[0]?.retryIn).toBeLessThanOrEqual(60_000)
  })
})
