// The reference adapter (LegacyClient) against a hostile network (a fake one, test/wire.ts):
// every field that becomes a name, a condition, an id or a JID is checked; a bad line is dropped
// and the session goes on; users get short fixed texts; what the network can make the client
// hold is bounded (LegacyClientLimits).
import { once } from 'node:events'
import { createServer } from 'node:net'
import { StanzaError } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { describe, expect, it } from 'vitest'
import { LegacyClient, type LegacyClientLimits, TEXTS } from '../src/network/adapter.js'
import { type FakeNetwork, fakeNetwork } from './wire.js'

/** alice logged in to `fake`, recording every event as a line. */
async function alice(fake: FakeNetwork, limits: LegacyClientLimits = {}) {
  const got: string[] = []
  const rec =
    (name: string) =>
    (...args: unknown[]) =>
      void got.push(`${name} ${JSON.stringify(args)}`)
  const client = await LegacyClient.login(
    '127.0.0.1',
    fake.port,
    'alice',
    'pw',
    {
      message: rec('message'),
      presence: rec('presence'),
      contacts: rec('contacts'),
      disconnected: rec('disconnected'),
      typing: rec('typing'),
      receipt: rec('receipt'),
      reaction: rec('reaction'),
      avatar: (c, a) => void got.push(`avatar ${c} ${a === null ? 'null' : `${a.type} ${a.data.length}`}`),
      groupMessage: rec('groupMessage'),
      groupMembers: rec('groupMembers'),
      groupSubject: rec('groupSubject'),
    },
    limits,
  )
  afterTest(() => client.logout())
  /** Writes lines as the network; resolves once the client has read them all. */
  const push = async (...lines: string[]) => {
    fake.write(lines.map((l) => `${l}\n`).join(''))
    expect(await client.contacts()).toEqual([{ id: 'a', name: 'a', online: true }])
  }
  return { client, got, push }
}

const stanzaError = async (p: Promise<unknown>): Promise<StanzaError> => {
  try {
    await p
  } catch (err) {
    if (err instanceof StanzaError) return err
    throw err
  }
  throw new Error('expected a StanzaError')
}

describe('the adapter against malformed lines from the network', () => {
  it("the issue's lines (SEND %E0%A4%A, RECEIPT %, AVATAR %zz AAAA as relayed) are dropped; the session goes on", async () => {
    const fake = await fakeNetwork()
    const { client, got, push } = await alice(fake)
    await push(
      '* MSG zed m1 %E0%A4%A',
      '* RECEIPT zed %',
      '* AVATAR zed %zz AAAA',
      '* MSG zed m2 still%20here',
    )
    expect(got).toEqual(['message [{"from":"zed","id":"m2","text":"still here"}]'])
    expect(client.closed).toBe(false)
  })

  it('a TYPING state outside the five of XEP-0085 is dropped (the injection of the issue)', async () => {
    const fake = await fakeNetwork()
    const { got, push } = await alice(fake)
    await push(
      '* TYPING zed active/></message><message\tto="bob@localhost"\tfrom="it-support@bridge.localhost"\ttype="chat"><body>Your\tpassword\texpired</body></message><message\tfrom="bridge.localhost"\tto="alice@localhost"><x',
      '* TYPING zed a><b',
      '* TYPING zed',
      '* TYPING zed Composing',
      '* TYPING zed composing',
      '* TYPING zed gone',
    )
    expect(got).toEqual(['typing ["zed","composing"]', 'typing ["zed","gone"]'])
  })

  it('ids, JIDs-to-be, nicks, states, MIME types and base64 are checked; bad items leave a list, bad fields drop the line', async () => {
    const fake = await fakeNetwork()
    const { got, push } = await alice(fake)
    const long = 'x'.repeat(1100)
    await push(
      '* MSG %00zed m1 control', // a control character in a user id
      '* MSG  m1 empty', // an empty user id
      `* MSG ${long} m1 long`, // its JID would be over 1023 bytes
      '* MSG zed %0A newline-id', // a control character in a message id
      `* MSG zed ${'i'.repeat(201)} long-id`,
      '* MSG Ann%20Lee m3 ok',
      '* PRESENCE zed maybe',
      '* PRESENCE zed online',
      '* CONTACTS a=online %zz=online b=weird c=offline d=online=x =online',
      '* AVATAR zed text/html%3Cb%3E AAAA',
      '* AVATAR zed image/png !!!!',
      '* AVATAR zed image/png AAA',
      '* AVATAR zed image/png',
      '* AVATAR zed image/png AAAA',
      '* AVATAR zed',
      '* REACT zed m3 %F0%9F%91%8D %00',
      '* REACT zed m3 %F0%9F%91%8D',
      '* GMSG %23g%00 zed g1 hi',
      '* GMSG %23g zed g1 hi',
      '* MEMBERS %23g alice zed %zz %01x',
      '* TOPIC %zz topic',
      '* TOPIC %23g new%20topic',
      '* NOPE zed',
    )
    expect(got).toEqual([
      'message [{"from":"Ann Lee","id":"m3","text":"ok"}]',
      'presence ["zed",true]',
      'contacts [[{"id":"a","name":"a","online":true},{"id":"c","name":"c","online":false}]]',
      'avatar zed image/png 3',
      'avatar zed null',
      'reaction ["zed","m3",["👍"]]',
      'groupMessage [{"group":"#g","from":"zed","id":"g1","text":"hi"}]',
      'groupMembers ["#g",[{"id":"zed","nick":"zed"}]]',
      'groupSubject ["#g","new topic"]',
    ])
  })

  it('answers are checked too: a malformed one fails the command with undefined-condition', async () => {
    const fake = await fakeNetwork((tag, cmd) => {
      if (cmd === 'GETAVATAR') return `${tag} OK image/png %%%`
      if (cmd === 'SEND') return `${tag} OK %00`
      if (cmd === 'GROUPS') return `${tag} OK %23ok=Ok=topic %zz=x=y %00=a=b %23x=a=b=c`
      if (cmd === 'MEMBERS') return `${tag} MAYBE`
      return undefined
    })
    const { client } = await alice(fake)
    for (const p of [client.avatar('zed'), client.send('zed', 'hi'), client.members('#ok')]) {
      const err = await stanzaError(p)
      expect([err.condition, err.text]).toEqual(['undefined-condition', TEXTS.malformed])
    }
    expect(await client.groups()).toEqual([{ id: '#ok', name: 'Ok', subject: 'topic', nick: 'alice' }])
    expect(client.closed).toBe(false)
  })

  it('an ERR condition outside RFC 6120 becomes undefined-condition with a fixed text; texts are short', async () => {
    const answers = [
      'ERR a><b some%20text',
      'ERR item-not-found no%20user%20x',
      'ERR recipient-unavailable %zz',
      `ERR not-acceptable ${'y'.repeat(5000)}`,
      'ERR',
    ]
    const fake = await fakeNetwork((tag, cmd) => (cmd === 'SEND' ? `${tag} ${answers.shift()}` : undefined))
    const { client } = await alice(fake)
    const errors: Array<[string, string | undefined]> = []
    for (let i = 0; i < 5; i++) {
      const err = await stanzaError(client.send('x', 'hi'))
      errors.push([err.condition, err.text])
    }
    expect(errors).toEqual([
      ['undefined-condition', TEXTS.refused],
      ['item-not-found', 'no user x'],
      ['recipient-unavailable', TEXTS.refused],
      ['not-acceptable', `${'y'.repeat(199)}…`],
      ['undefined-condition', TEXTS.refused],
    ])
  })

  it('the adapter refuses to send a chat state that is not one (nothing written)', async () => {
    const fake = await fakeNetwork()
    const { client } = await alice(fake)
    const err = await stanzaError(client.typing('zed', 'a><b' as 'active'))
    expect(err.condition).toBe('bad-request')
    expect(fake.received.some((l) => l.includes('TYPING'))).toBe(false)
  })
})

describe('the adapter tells users short fixed texts; the details go to the log', () => {
  it('an unreachable network: service-unavailable without its address', async () => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1')
    await once(srv, 'listening')
    const port = (srv.address() as { port: number }).port
    await new Promise((r) => srv.close(r))
    const err = await stanzaError(LegacyClient.login('127.0.0.1', port, 'alice', 'pw'))
    expect([err.condition, err.text]).toEqual(['service-unavailable', TEXTS.unreachable])
  })

  it('a reset connection: disconnected with a fixed reason; waiting commands fail with a fixed text', async () => {
    const fake = await fakeNetwork((_tag, cmd) => (cmd === 'SEND' ? null : undefined))
    const { client, got } = await alice(fake)
    const pending = stanzaError(client.send('zed', 'hi'))
    await expect
      .poll(() => fake.received.some((l) => l.includes('SEND')), {
        message: 'the SEND',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    fake.socket().resetAndDestroy()
    const err = await pending
    expect([err.condition, err.text]).toEqual(['service-unavailable', TEXTS.notConnected])
    await expect
      .poll(() => got.length > 0, { message: 'the disconnected event', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(got).toEqual([`disconnected ["${TEXTS.lost}"]`])
  })

  it("the network's BYE reason is passed on, decoded and cut; a malformed one is a fixed text", async () => {
    for (const [bye, reason] of [
      ['maintenance%20tonight', 'maintenance tonight'],
      ['%zz', TEXTS.bye],
      [`a%0Ab${'c'.repeat(300)}`, `a b${'c'.repeat(196)}…`],
    ] as const) {
      const fake = await fakeNetwork()
      const { got } = await alice(fake)
      fake.write(`* BYE ${bye}\n`)
      await expect
        .poll(() => got.length > 0, { message: 'the disconnected event', timeout: 3000, interval: 5 })
        .toBe(true)
      expect(got).toEqual([`disconnected ${JSON.stringify([reason])}`])
    }
  })
})

describe('the adapter bounds what the network makes it hold', () => {
  it('maxPending: commands beyond it are refused with resource-constraint', async () => {
    const fake = await fakeNetwork((_tag, cmd) => (cmd === 'SEND' ? null : undefined))
    const { client } = await alice(fake, { maxPending: 3 })
    const waiting = [1, 2, 3].map((n) => client.send('zed', `m${n}`).catch((e: Error) => e))
    const err = await stanzaError(client.send('zed', 'm4'))
    expect([err.condition, err.text]).toEqual(['resource-constraint', TEXTS.busy])
    expect(client.pending).toBe(3)
    await client.logout()
    expect((await Promise.all(waiting)).every((e) => e instanceof StanzaError)).toBe(true)
  })

  it('timeout: a command without an answer fails with remote-server-timeout and is forgotten', async () => {
    const fake = await fakeNetwork((_tag, cmd) => (cmd === 'SEND' ? null : undefined))
    const { client } = await alice(fake, { timeout: 50 })
    const err = await stanzaError(client.send('zed', 'hi'))
    expect([err.condition, err.text]).toEqual(['remote-server-timeout', TEXTS.timeout])
    expect(client.pending).toBe(0)
    expect(await client.contacts()).toHaveLength(1)
  })

  it('maxLineLength: a longer command is refused (not-acceptable, nothing written); a longer line read is dropped', async () => {
    const fake = await fakeNetwork()
    const { client, got, push } = await alice(fake, { maxLineLength: 1000 })
    const err = await stanzaError(client.send('zed', 'é'.repeat(200))) // 1,200 characters encoded
    expect([err.condition, err.text]).toEqual(['not-acceptable', TEXTS.tooLong])
    expect(fake.received.some((l) => l.includes('SEND'))).toBe(false)
    await push(`* MSG zed m1 ${'x'.repeat(5000)}`, '* MSG zed m2 short')
    expect(got).toEqual(['message [{"from":"zed","id":"m2","text":"short"}]'])
  })

  it('refuses limits that are not positive integers', async () => {
    await expect(LegacyClient.login('127.0.0.1', 1, 'a', 'b', {}, { maxPending: 0 })).rejects.toThrow(
      /maxPending/,
    )
  })
})
