// The simulated network against hostile TCP clients: malformed lines are answered
// `ERR bad-request` and the connection goes on; what one client can make the network hold is
// bounded (NetworkLimits); random lines never crash it.
import { afterTest } from '@satellite/test-support/cleanup'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LegacyClient, simulatedNetworkAdapter } from '../src/network/adapter.js'
import { type NetworkLimits, parseUsers, startNetwork } from '../src/network/server.js'
import { noUncaught } from './uncaught.js'
import { rawClient } from './wire.js'

async function network(limits: NetworkLimits = {}, users = 'alice:pw,zed:pw2') {
  const net = await startNetwork({ port: 0, users: parseUsers(users), limits })
  afterTest(() => net.close())
  return net
}

describe('the network against malformed lines', () => {
  it('LOGIN %zz x before login is bad-request; the same connection then logs in', async () => {
    const net = await network()
    const c = await rawClient(net.port)
    expect(await c.ask('t1', 'LOGIN %zz x')).toBe('t1 ERR bad-request malformed%20line')
    expect(await c.ask('t2', 'LOGIN alice %')).toBe('t2 ERR bad-request malformed%20line')
    expect(await c.ask('t3', 'LOGIN alice pw')).toBe('t3 OK')
    expect(net.online()).toEqual(['alice'])
  })

  it('after login, each field the network reads is decoded defensively; what it relays goes as sent', async () => {
    const net = await network()
    const zed = await rawClient(net.port)
    expect(await zed.ask('z1', 'LOGIN zed pw2')).toBe('z1 OK')
    const c = await rawClient(net.port)
    await c.ask('t0', 'LOGIN alice pw')
    for (const [n, bad] of [
      'SEND %E0%A4%A hi',
      'TYPING % composing',
      'RECEIPT %zz m1',
      'REACT zed %',
      'GETAVATAR %ED%A0%80',
      'MEMBERS %zz',
      'GSEND %23general %E0',
    ].entries()) {
      expect(await c.ask(`b${n}`, bad)).toBe(`b${n} ERR bad-request malformed%20line`)
    }
    // Relayed as the user sent them: the client on the other side must check them (the adapter does).
    expect(await c.ask('t1', 'SEND zed %E0%A4%A')).toMatch(/^t1 OK m\d+$/)
    expect(await c.ask('t2', 'RECEIPT zed %')).toBe('t2 OK')
    expect(await c.ask('t3', 'AVATAR %zz AAAA')).toBe('t3 OK')
    expect(await c.ask('t4', 'CONTACTS')).toBe('t4 OK zed=online')
    await expect
      .poll(() => zed.lines.includes('* AVATAR alice %zz AAAA'), {
        message: 'the picture push',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(zed.lines).toContain('* RECEIPT alice %')
    expect(zed.lines.some((l) => /^\* MSG alice m\d+ %E0%A4%A$/.test(l))).toBe(true)
  })

  it('a LOGIN as another user on a logged-in connection logs the first user out', async () => {
    const net = await network()
    const c = await rawClient(net.port)
    await c.ask('t1', 'LOGIN alice pw')
    expect(await c.ask('t2', 'LOGIN zed pw2')).toBe('t2 OK')
    expect(net.online()).toEqual(['zed'])
    c.socket.destroy()
    await expect
      .poll(() => net.online().length === 0, { message: 'the logout', timeout: 3000, interval: 5 })
      .toBe(true)
  })
})

describe('the network bounds what clients make it hold', () => {
  it('maxLineLength: a longer line is dropped unanswered, the next one is answered', async () => {
    const net = await network({ maxLineLength: 100 })
    const c = await rawClient(net.port)
    c.write(`t1 LOGIN alice ${'x'.repeat(100)}`)
    c.write(`${'y'.repeat(10_000)}\n`)
    expect(await c.ask('t2', 'LOGIN alice pw')).toBe('t2 OK')
    expect(c.lines).toEqual(['t2 OK'])
  })

  it('maxMessages: the ids of the oldest messages are forgotten (a reaction to them is item-not-found)', async () => {
    const net = await network({ maxMessages: 2 })
    const zed = await rawClient(net.port)
    await zed.ask('z1', 'LOGIN zed pw2')
    const c = await rawClient(net.port)
    await c.ask('t0', 'LOGIN alice pw')
    const ids: string[] = []
    for (const n of [1, 2, 3]) ids.push((await c.ask(`t${n}`, `SEND zed m${n}`)).split(' ')[2] as string)
    expect(net.stats().messages).toBe(2)
    expect(await c.ask('r1', `REACT zed ${ids[0]} x`)).toMatch(/^r1 ERR item-not-found /)
    expect(await c.ask('r3', `REACT zed ${ids[2]} x`)).toBe('r3 OK')
  })

  it('maxConnections: connections beyond it are closed at once', async () => {
    const net = await network({ maxConnections: 2 })
    const a = await rawClient(net.port)
    const b = await rawClient(net.port)
    await a.ask('t1', 'CONTACTS') // both connections are accepted
    await b.ask('t1', 'CONTACTS')
    const c = await rawClient(net.port)
    await expect
      .poll(() => c.closed, { message: 'the third connection to be closed', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(net.stats().connections).toBe(2)
    expect(await a.ask('t2', 'LOGIN alice pw')).toBe('t2 OK')
  })

  it('loginTimeout: a connection that does not log in in time is closed; one that did stays', async () => {
    const net = await network({ loginTimeout: 100 })
    const idle = await rawClient(net.port)
    const user = await rawClient(net.port)
    await user.ask('t1', 'LOGIN alice pw')
    await expect
      .poll(() => idle.closed, { message: 'the idle connection to be closed', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(await user.ask('t2', 'CONTACTS')).toBe('t2 OK zed=offline')
    expect(net.stats().connections).toBe(1)
  })

  it('maxBacklog: a user who does not read what is pushed to them is disconnected', async () => {
    const net = await network({ maxBacklog: 64 * 1024 })
    const zed = await rawClient(net.port)
    await zed.ask('z1', 'LOGIN zed pw2')
    zed.socket.pause() // zed stops reading: the kernel buffers fill, then the network's
    const c = await rawClient(net.port)
    await c.ask('t0', 'LOGIN alice pw')
    const text = 'x'.repeat(60_000)
    let n = 0
    while (net.online().includes('zed')) {
      const answer = await c.ask(`t${++n}`, `SEND zed ${text}`)
      if (n > 2000) throw new Error(`zed still online after ${n} messages (${answer})`)
    }
    expect(net.online()).toEqual(['alice'])
  })

  it('refuses limits that are not positive integers: a fatal SAT_ERR_CONFIG naming the limit', async () => {
    await expect(startNetwork({ users: {}, limits: { maxMessages: 0 } })).rejects.toMatchObject({
      code: 'SAT_ERR_CONFIG',
      fatal: true,
      message: 'startNetwork.limits.maxMessages: must be at least 1, got 0',
    })
    expect(() => simulatedNetworkAdapter({ port: 1, limits: { maxPending: 1.5 } })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_CONFIG',
        fatal: true,
        message: 'simulatedNetworkAdapter.limits.maxPending: must be an integer, got 1.5',
      }),
    )
    await expect(LegacyClient.login('127.0.0.1', 1, 'u', 'p', {}, { timeout: -1 })).rejects.toMatchObject({
      code: 'SAT_ERR_CONFIG',
      message: 'LegacyClient.login.limits.timeout: must be at least 1, got -1',
    })
  })
})

describe('the network under random lines (fast-check)', () => {
  const COMMANDS = [
    'LOGIN',
    'CONTACTS',
    'SEND',
    'TYPING',
    'RECEIPT',
    'REACT',
    'AVATAR',
    'GETAVATAR',
    'GROUPS',
    'MEMBERS',
    'GSEND',
  ]
  const hex = fc.constantFrom(...'0123456789abcdefABCDEFzZ%'.split(''))
  const percent = fc
    .array(
      fc.oneof(
        fc.tuple(fc.constant('%'), hex, hex).map((p) => p.join('')),
        fc.constantFrom('%', 'a', '=', '#'),
      ),
      {
        maxLength: 8,
      },
    )
    .map((p) => p.join(''))
  const field = fc.oneof(
    percent,
    fc.constantFrom('alice', 'zed', 'pw', 'pw2', '%23general', 'm1', 'composing', 'image%2Fpng', 'AAAA'),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 10,
    }),
  )
  const textLine = fc
    .tuple(
      fc.oneof(fc.constantFrom('t1', '*', '?', ''), fc.string({ maxLength: 5 })),
      fc.oneof(fc.constantFrom(...COMMANDS), fc.string({ maxLength: 8 })),
      fc.array(field, { maxLength: 6 }),
    )
    .map(([tag, cmd, args]) => [tag, cmd, ...args].join(' ').replace(/[\r\n]/g, ''))
    .filter((l) => l.split(' ')[1] !== 'LOGOUT')
  // Raw bytes, invalid UTF-8 included.
  const byteLine = fc
    .uint8Array({ maxLength: 40 })
    .map((b) => Buffer.from(b.filter((x) => x !== 0x0a)))
    .filter((b) => !b.toString().split(' ')[1]?.startsWith('LOGOUT'))
  const session = fc.record({
    login: fc.boolean(),
    lines: fc.array(fc.oneof(textLine, byteLine), { maxLength: 25 }),
  })

  it('no crash, no unhandled rejection; the session survives; what it holds stays bounded', async () => {
    const uncaught = noUncaught()
    // zed's password is not one the lines can guess (a LOGIN as zed would log him out).
    const net = await network({ maxMessages: 20 }, 'alice:pw,zed:zed-secret')
    const zed = await LegacyClient.login('127.0.0.1', net.port, 'zed', 'zed-secret', {
      disconnected: () => {},
    })
    afterTest(() => zed.logout())
    let run = 0
    await fc.assert(
      fc.asyncProperty(session, async ({ login, lines }) => {
        const c = await rawClient(net.port)
        if (login) await c.ask('l0', 'LOGIN alice pw')
        for (const l of lines) {
          c.socket.write(typeof l === 'string' ? `${l}\n` : Buffer.concat([l, Buffer.from('\n')]))
        }
        // The connection still answers, and so does the network to everyone else.
        const tag = `sync-${++run}`
        expect(await c.ask(tag, 'CONTACTS')).toMatch(new RegExp(`^${tag} (OK|ERR not-authorized)`))
        expect(c.closed).toBe(false)
        expect((await zed.contacts()).map((x) => x.id)).toContain('alice')
        expect(zed.closed).toBe(false)
        c.socket.destroy()
        await expect
          .poll(() => net.stats().connections === 1, {
            message: 'the connection to close',
            timeout: 3000,
            interval: 5,
          })
          .toBe(true)
        expect(net.stats().messages).toBeLessThanOrEqual(20)
        expect(uncaught()).toEqual([])
      }),
      { numRuns: 80 },
    )
  })
})
