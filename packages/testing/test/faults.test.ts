import { connect, createServer as createNetServer } from 'node:net'
import { sleep } from '@satellite/test-support/wait'
import {
  everyByte,
  garbage,
  hugeStanza,
  messageXml,
  splitUtf8Message,
  utf8SplitPoints,
  whitespace,
} from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { connected, echoServer, rawComponent, rawConnect } from './helpers.js'

describe('writing to the component', () => {
  it('write() with splitAt arrives as separate reads', async () => {
    const { c, conn } = await connected()
    const before = c.reads
    const stanza = messageXml({ to: 'echo.localhost', body: 'split me', id: 's1' })
    await conn.write(stanza, { splitAt: [5, 30, 50] })
    await c.waitFor(stanza)
    expect(c.reads - before).toBe(4)
    c.destroy()
  })

  it('splitUtf8Message splits inside multi-byte characters; a StringDecoder reassembles them', async () => {
    const { c, conn } = await connected()
    const chunks: Buffer[] = []
    c.socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    const { xml, splitAt, body } = splitUtf8Message({ to: 'echo.localhost' })
    expect(splitAt.length).toBeGreaterThan(10)
    await conn.write(xml, { splitAt, delayMs: 2 })
    await c.waitFor(`<body>${body}</body>`)
    // a naive per-chunk decode would corrupt the text
    expect(chunks.map((b) => b.toString('utf8')).join('')).toContain('\uFFFD')
    c.destroy()
  })

  it('streamError() sends the error and </stream:stream>, then closes', async () => {
    const { c, conn, server } = await connected()
    conn.streamError('system-shutdown', 'bye <now>')
    await c.closed
    await conn.closed
    expect(c.text).toMatch(
      /<handshake\/><stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/><text [^>]*>bye &lt;now&gt;<\/text><\/stream:error><\/stream:stream>$/,
    )
    expect(conn.streamErrorSent).toEqual({ condition: 'system-shutdown', text: 'bye <now>' })
    expect(conn.authenticated).toBe(false)
    expect(server.connectionsFor('echo.localhost')).toEqual([])
  })

  it("drop('fin') closes cleanly without a stream close, drop('rst') resets", async () => {
    const { c, conn, server } = await connected()
    conn.drop('fin')
    const fin = await c.closed
    expect(fin.hadError).toBe(false)
    expect(c.text).toMatch(/<handshake\/>$/)

    const c2 = await rawComponent(server.port, 'echo.localhost', 'secret')
    const conn2 = await server.waitForComponent('echo.localhost')
    conn2.drop('rst')
    const rst = await c2.closed
    expect(rst.hadError).toBe(true)
    expect((rst.error as NodeJS.ErrnoException).code).toBe('ECONNRESET')
  })

  it('closeStream() sends </stream:stream> and closes after the component answers', async () => {
    const { c, conn } = await connected()
    conn.closeStream()
    await c.waitFor('</stream:stream>')
    expect(conn.isClosed).toBe(false)
    c.write('</stream:stream>')
    await conn.closed
    expect(conn.peerClosedStream).toBe(true)
  })
})

describe('reading from the component', () => {
  it('pauseReading() makes the component socket back up; resumeReading() drains it', async () => {
    const { c, conn, server } = await connected()
    const alice = server.client('alice@localhost/a')
    conn.pauseReading()
    const body = 'x'.repeat(16 * 1024)
    let sent = 0
    let full = false
    while (sent < 4000) {
      const ok = c.socket.write(messageXml({ from: 'echo.localhost', to: alice.jid, body, id: `p${sent}` }))
      sent++
      if (!ok) {
        full = true
        break
      }
    }
    expect(full).toBe(true)
    await sleep(50)
    const stalled = conn.bytesReceived
    await sleep(50)
    expect(conn.bytesReceived).toBe(stalled)
    expect(c.socket.writableLength).toBeGreaterThan(0)
    const drained = new Promise((resolve) => c.socket.once('drain', resolve))
    conn.resumeReading()
    await drained
    await expect.poll(() => alice.received.length, { timeout: 5000 }).toBe(sent)
    c.destroy()
  })

  it('readDelay() delays processing of each read', async () => {
    const { c, conn } = await connected()
    conn.readDelay(150)
    const start = Date.now()
    c.write(messageXml({ from: 'echo.localhost', to: 'alice@localhost', id: 'late' }))
    await conn.expectStanza({ id: 'late' }, 1000)
    expect(Date.now() - start).toBeGreaterThanOrEqual(145)
    conn.readDelay(0)
    const again = Date.now()
    c.write(messageXml({ from: 'echo.localhost', to: 'alice@localhost', id: 'prompt' }))
    await conn.expectStanza({ id: 'prompt' }, 1000)
    expect(Date.now() - again).toBeLessThan(145)
    c.destroy()
  })

  it('counts whitespace keepalives and ignores them', async () => {
    const { c, conn } = await connected()
    c.write(whitespace(10))
    c.write(messageXml({ from: 'echo.localhost', to: 'alice@localhost', id: 'w' }))
    c.write(whitespace(5, '\n'))
    await conn.expectStanza({ id: 'w' })
    await expect.poll(() => conn.whitespaceReceived).toBe(15)
    expect(conn.authenticated).toBe(true)
    c.destroy()
  })

  it('prosody: a stanza over stanzaSizeLimit gets <not-well-formed/>; one under it is delivered', async () => {
    const { c, conn, server } = await connected({ stanzaSizeLimit: 10_000 })
    const alice = server.client('alice@localhost/a')
    c.write(hugeStanza(10_000, { from: 'echo.localhost', to: alice.jid }))
    await alice.expectStanza({ name: 'message' })
    c.write(hugeStanza(10_001, { from: 'echo.localhost', to: alice.jid }))
    await conn.closed
    expect(conn.streamErrorSent?.condition).toBe('not-well-formed')
    expect(alice.received).toHaveLength(1)
  })

  it('prosody default limit is 512 KiB, split across many reads', async () => {
    const { c, conn, server } = await connected()
    expect(server.options.stanzaSizeLimit).toBe(524_288)
    c.write(hugeStanza(600_000, { from: 'echo.localhost', to: 'alice@localhost' }))
    await c.closed
    expect(conn.streamErrorSent?.condition).toBe('not-well-formed')
    expect(conn.received).toHaveLength(0)
  })

  it('ejabberd: no limit by default; policy-violation when set', async () => {
    const { c, server } = await connected({ flavour: 'ejabberd' })
    const alice = server.client('alice@localhost/a')
    const huge = hugeStanza(2_000_000, { from: 'echo.localhost', to: alice.jid })
    c.write(huge)
    const big = await alice.expectStanza({ name: 'message' }, 5000)
    expect(big.getChildText('body')).toHaveLength(huge.indexOf('</body>') - huge.indexOf('<body>') - 6)
    await server.close()

    const limited = await connected({ flavour: 'ejabberd', stanzaSizeLimit: 1000 })
    limited.c.write(hugeStanza(1001, { from: 'echo.localhost', to: 'alice@localhost' }))
    await limited.c.closed
    expect(limited.c.text).toContain("<policy-violation xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
    expect(limited.c.text).toContain('XML stanza is too big')
  })

  it.each([
    ['comment', '<!-- hi -->', 'restricted-xml'],
    ['processing instruction', garbage.processingInstruction(), 'restricted-xml'],
    ['DOCTYPE', garbage.doctype(), 'restricted-xml'],
    [
      'undeclared entity',
      garbage.undeclaredEntity({ from: 'echo.localhost', to: 'a@localhost' }),
      'not-well-formed',
    ],
    [
      'mismatched tags',
      garbage.notWellFormed({ from: 'echo.localhost', to: 'a@localhost' }),
      'not-well-formed',
    ],
    ['invalid UTF-8', garbage.invalidUtf8({ from: 'echo.localhost', to: 'a@localhost' }), 'not-well-formed'],
    ['text at stream level', 'hello', 'not-well-formed'],
    ['unknown top-level element', '<foo/>', 'unsupported-stanza-type'],
  ])('rejects %s from the component with <%s/>', async (_name, payload, condition) => {
    const { c, conn } = await connected()
    c.write(payload)
    await c.closed
    expect(conn.streamErrorSent?.condition).toBe(condition)
  })

  it('parses a stanza written one byte per read', async () => {
    const { c, conn } = await connected()
    const stanza = Buffer.from(
      messageXml({ from: 'echo.localhost', to: 'a@localhost', body: 'hé 😀 <&>', id: 'b' }),
    )
    for (const [i, end] of [...everyByte(stanza), stanza.length].entries()) {
      c.socket.write(stanza.subarray(i === 0 ? 0 : everyByte(stanza)[i - 1], end))
      if (i % 20 === 0) await sleep(1)
    }
    const got = await conn.expectStanza({ id: 'b' })
    expect(got.getChildText('body')).toBe('hé 😀 <&>')
    c.destroy()
  })
})

describe('payload helpers', () => {
  it('hugeStanza has the exact byte size; utf8SplitPoints fall inside characters', () => {
    expect(Buffer.byteLength(hugeStanza(1234, { to: 'é.localhost' }))).toBe(1234)
    expect(utf8SplitPoints('a😀é')).toEqual([2, 3, 4, 6])
    expect(garbage.entityBomb()).toContain('<!ENTITY lol9')
    expect(whitespace(3, '\r\n')).toBe('\r\n\r')
    expect(() => whitespace(3, 'x')).toThrow(RangeError)
  })
})

describe('close()', () => {
  it('closes sockets, timers and the port; idempotent', async () => {
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const server = await echoServer({ handshakeTimeout: 60_000 })
    const port = server.port
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const pending = await rawConnect(port) // unauthenticated, handshake timer running
    const alice = server.client('alice@localhost/a')
    const expectation = alice.expectStanza({ name: 'message' }, 60_000).catch((e: Error) => e)
    const waiting = server.waitForComponent('nope.localhost', { timeout: 60_000 }).catch((e: Error) => e)
    await Promise.all([server.close(), server.close()])
    expect(await expectation).toBeInstanceOf(Error)
    expect(String(await waiting)).toMatch(/closed/)
    await c.closed
    await pending.closed
    expect(server.connections).toEqual([])
    expect(server.listening).toBe(false)
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    expect(after).toBeLessThanOrEqual(before)
    // the port is free again
    const probe = createNetServer()
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject)
      probe.listen(port, '127.0.0.1', resolve)
    })
    await new Promise((r) => probe.close(r))
    const refused = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.on('connect', () => resolve('connected'))
      s.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)))
    })
    expect(refused).toBe('ECONNREFUSED')
  })
})
