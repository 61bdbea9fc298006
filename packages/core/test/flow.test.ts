import { isSatelliteError, type Stanza, StanzaError, xml } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, once, server, sleep } from './helpers.js'

const msg = (to: string, body: string, from = `bot@${DOMAIN}`) =>
  xml('message', { to, from }, xml('body', {}, body))

describe('outbound: queue, TTL, coalescing, backpressure', () => {
  it('queues stanzas sent before start() and flushes them in order after the handshake', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const alice = srv.client('alice@localhost/a')
    const sends = ['1', '2', '3'].map((b) => xmpp.send(msg(alice.jid, b)))
    expect(xmpp.stats.queueDepth).toBe(3)
    await xmpp.start()
    await Promise.all(sends)
    await expect.poll(() => alice.received.length === 3, { timeout: 3000, interval: 5 }).toBe(true)
    expect(alice.received.map((s) => s.getChildText('body'))).toEqual(['1', '2', '3'])
  })

  it('rejects with SAT_ERR_QUEUE_FULL beyond queue.max and reports the drop', async () => {
    const srv = await server()
    const xmpp = make(srv, { queue: { max: 2 } })
    const dropped: string[] = []
    xmpp.on('dropped', (d) => dropped.push(d.error.code))
    const a = xmpp.send(msg('x@localhost', '1'))
    const b = xmpp.send(msg('x@localhost', '2'))
    const err = await xmpp.send(msg('x@localhost', '3')).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_QUEUE_FULL')).toBe(true)
    expect(dropped).toEqual(['SAT_ERR_QUEUE_FULL'])
    await xmpp.start()
    await Promise.all([a, b])
  })

  it('counts queue.maxBytes in UTF-8 bytes, not string length', async () => {
    const srv = await server()
    const body = '€'.repeat(100) // 100 UTF-16 code units, 300 UTF-8 bytes
    const size = Buffer.byteLength(msg('x@localhost', body).toString())
    const xmpp = make(srv, { queue: { maxBytes: 2 * size } })
    const dropped: string[] = []
    xmpp.on('dropped', (d) => dropped.push(d.error.code))
    const a = xmpp.send(msg('x@localhost', body))
    const b = xmpp.send(msg('x@localhost', body))
    expect(xmpp.stats.queueDepth).toBe(2)
    const err = await xmpp.send(msg('x@localhost', '€')).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_QUEUE_FULL')).toBe(true)
    expect((err as Error).message).toContain(`${2 * size} bytes`)
    expect(dropped).toEqual(['SAT_ERR_QUEUE_FULL'])
    await xmpp.start()
    await Promise.all([a, b])
  })

  it('expires queued stanzas after queue.ttl with SAT_ERR_STANZA_EXPIRED (even if nobody awaits)', async () => {
    const srv = await server()
    const xmpp = make(srv, { queue: { ttl: 50 } })
    const dropped: string[] = []
    xmpp.on('dropped', (d) => dropped.push(d.error.code))
    const p = xmpp.send(msg('x@localhost', 'old'))
    xmpp.send(msg('x@localhost', 'ignored')) // not awaited: must not be an unhandled rejection
    const err = await p.catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_STANZA_EXPIRED')).toBe(true)
    await expect.poll(() => dropped.length === 2, { timeout: 3000, interval: 5 }).toBe(true)
    expect(xmpp.stats.queueDepth).toBe(0)
  })

  it('rejects queued stanzas with SAT_ERR_STOPPED on stop()', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const p = xmpp.send(msg('x@localhost', 'never'))
    await xmpp.stop()
    expect(isSatelliteError(await p.catch((e: unknown) => e), 'SAT_ERR_STOPPED')).toBe(true)
    expect(
      isSatelliteError(
        await xmpp.send(msg('x@localhost', 'late')).catch((e: unknown) => e),
        'SAT_ERR_STOPPED',
      ),
    ).toBe(true)
  })

  it('validates addressing locally so the server never kills the stream', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    const bad = await xmpp.send(msg('alice@localhost', 'x', 'mallory@evil.example')).catch((e: unknown) => e)
    expect(isSatelliteError(bad, 'SAT_ERR_ADDRESS')).toBe(true)
    expect((bad as Error).message).toMatch(/invalid-from/)
    for (const from of [`x@evil${DOMAIN}`, `x@a@${DOMAIN}`, `evil.${DOMAIN}`]) {
      expect(
        isSatelliteError(
          await xmpp.send(msg('a@localhost', 'x', from)).catch((e: unknown) => e),
          'SAT_ERR_ADDRESS',
        ),
        from,
      ).toBe(true)
    }
    const noTo = await xmpp.send(xml('message', {}, xml('body', {}, 'x'))).catch((e: unknown) => e)
    expect(isSatelliteError(noTo, 'SAT_ERR_ADDRESS')).toBe(true)
    const notEl = await xmpp.send('<message/>' as never).catch((e: unknown) => e)
    expect(isSatelliteError(notEl, 'SAT_ERR_INVALID_STANZA')).toBe(true)
    const alice = srv.client('alice@localhost/a')
    const stamped = xml('message', { to: alice.jid }, xml('body', {}, 'no from'))
    await xmpp.send(stamped)
    expect((await alice.expectStanza({ name: 'message' })).attrs.from).toBe(DOMAIN)
    await xmpp.send(msg(alice.jid, 'ok', `User@${DOMAIN.toUpperCase()}/res`))
    await alice.expectStanza({ body: 'ok' })
    expect(xmpp.online).toBe(true)
    expect(xmpp.stats.reconnects).toBe(0)
  })

  it('coalesces a burst of sends: one socket write per 64 stanzas', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const socket = (xmpp as unknown as { [k: string]: unknown }) && conn
    expect(socket).toBeTruthy()
    // count writes on the component's socket
    let writes = 0
    const net = await import('node:net')
    const orig = net.Socket.prototype.write
    net.Socket.prototype.write = function (this: unknown, ...args: unknown[]) {
      writes++
      return (orig as (...a: unknown[]) => boolean).apply(this, args)
    } as typeof orig
    try {
      for (let i = 0; i < 500; i++) void xmpp.send(msg('alice@localhost/a', String(i)))
      await sleep(20)
    } finally {
      net.Socket.prototype.write = orig
    }
    // one write per 64 stanzas (BATCH_STANZAS), instead of one per stanza
    expect(writes).toBeGreaterThanOrEqual(Math.ceil(500 / 64))
    expect(writes).toBeLessThanOrEqual(Math.ceil(500 / 64) + 1)
    expect(xmpp.stats.stanzasOut).toBe(500)
  })

  it('honours socket backpressure: a server that stops reading fills the queue, then everything arrives in order', async () => {
    const srv = await server()
    const xmpp = make(srv, { queue: { max: 1_000_000, maxBytes: 1 << 30 } })
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const alice = srv.client('alice@localhost/a')
    conn.pauseReading()
    const big = 'x'.repeat(1000)
    const N = 20_000
    let last: Promise<void> = Promise.resolve()
    for (let i = 0; i < N; i++) last = xmpp.send(msg(alice.jid, `${i} ${big}`))
    await sleep(100)
    expect(xmpp.stats.queueDepth).toBeGreaterThan(0)
    const outstanding = xmpp.stats.queueDepth
    conn.resumeReading()
    await last
    await expect
      .poll(() => alice.received.length === N, { message: 'all delivered', timeout: 10_000, interval: 5 })
      .toBe(true)
    expect(outstanding).toBeLessThan(N)
    const order = alice.received.map((s) => Number.parseInt(s.getChildText('body') ?? '', 10))
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i))
  })
})

describe('inbound backpressure', () => {
  it('runs at most limits.concurrency handlers and stops reading the socket when they fall behind', async () => {
    const srv = await server()
    const xmpp = make(srv, { limits: { concurrency: 4 } })
    let running = 0
    let peak = 0
    let done = 0
    let peakBacklog = 0
    xmpp.message(async () => {
      running++
      peak = Math.max(peak, running)
      peakBacklog = Math.max(peakBacklog, xmpp.stats.inboundBacklog)
      await sleep(1)
      running--
      done++
    })
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const N = 3000
    const one = `<message from='alice@localhost/a' to='bot@${DOMAIN}'><body>${'y'.repeat(200)}</body></message>`
    await conn.write(one.repeat(N))
    await expect.poll(() => done === N, { message: 'all handled', timeout: 15_000, interval: 5 }).toBe(true)
    expect(peak).toBe(4)
    // the backlog is bounded by what one socket read holds, not by the flood
    expect(peakBacklog).toBeLessThan(N / 2)
    expect(xmpp.stats.stanzasIn).toBe(N)
  })

  it('reports handler exceptions on the error event and keeps going', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const errors: string[] = []
    xmpp.on('error', (e) => errors.push(e.message))
    let n = 0
    xmpp.message(() => {
      n++
      throw new Error('sync boom')
    })
    xmpp.presence(async () => {
      throw new Error('async boom')
    })
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    alice.send(msg(DOMAIN, 'a', alice.jid))
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(msg(DOMAIN, 'b', alice.jid))
    await expect.poll(() => errors.length === 3, { timeout: 3000, interval: 5 }).toBe(true)
    expect(n).toBe(2)
    expect(errors.sort()).toEqual(['async boom', 'sync boom', 'sync boom'])
    expect(xmpp.online).toBe(true)
  })
})

describe('iq caller', () => {
  async function setup(options = {}) {
    const srv = await server()
    const xmpp = make(srv, options)
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    return { srv, xmpp, alice }
  }

  it('resolves with the result, matched on id and sender', async () => {
    const { xmpp, alice } = await setup()
    alice.on('stanza', (s) => {
      if (s.name === 'iq' && s.attrs.type === 'get') {
        alice.send(
          xml(
            'iq',
            { type: 'result', to: s.attrs.from, id: s.attrs.id },
            xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, 'Alice')),
          ),
        )
      }
    })
    const res = await xmpp.request(
      xml('iq', { type: 'get', to: alice.jid }, xml('query', { xmlns: 'jabber:iq:version' })),
    )
    expect(res.getChild('query')?.getChildText('name')).toBe('Alice')
    expect(xmpp.stats.iqLatency.count).toBe(1)
  })

  it('ignores a reply with the right id from the wrong JID (spoofing), then times out', async () => {
    const { srv, xmpp, alice } = await setup()
    const mallory = srv.client('mallory@localhost/m')
    alice.on('stanza', (s) => {
      if (s.name === 'iq') mallory.send(xml('iq', { type: 'result', to: s.attrs.from, id: s.attrs.id }))
    })
    const err = await xmpp
      .request(xml('iq', { type: 'get', to: alice.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })), {
        timeout: 150,
      })
      .catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_IQ_TIMEOUT')).toBe(true)
    expect(xmpp.stats.iqLatency.timeouts).toBe(1)
  })

  it('rejects with a StanzaError for an error answer', async () => {
    const { xmpp, alice } = await setup()
    alice.on('stanza', (s) => {
      if (s.name === 'iq')
        alice.send(
          xml(
            'iq',
            { type: 'error', to: s.attrs.from, id: s.attrs.id },
            xml(
              'error',
              { type: 'cancel' },
              xml('item-not-found', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
              xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'gone'),
            ),
          ),
        )
    })
    const err = await xmpp
      .request(xml('iq', { type: 'get', to: alice.jid }, xml('q', { xmlns: 'urn:q' })))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(StanzaError)
    expect((err as StanzaError).condition).toBe('item-not-found')
    expect((err as StanzaError).text).toBe('gone')
  })

  it('rejects pending requests with SAT_ERR_IQ_DISCONNECTED when the link drops', async () => {
    const { srv, xmpp, alice } = await setup()
    const p = xmpp.request(xml('iq', { type: 'get', to: alice.jid }, xml('q', { xmlns: 'urn:q' })), {
      timeout: 10_000,
    })
    await alice.expectStanza({ name: 'iq' })
    ;(await srv.waitForComponent(DOMAIN)).drop('rst')
    const t0 = Date.now()
    const err = await p.catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_IQ_DISCONNECTED')).toBe(true)
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  it('caps requests in flight', async () => {
    const { xmpp, alice } = await setup({ limits: { maxPendingRequests: 2 } })
    const ask = () =>
      xmpp.request(xml('iq', { type: 'get', to: alice.jid }, xml('q', { xmlns: 'urn:q' })), { timeout: 200 })
    const a = ask().catch(() => {})
    const b = ask().catch(() => {})
    expect(isSatelliteError(await ask().catch((e: unknown) => e), 'SAT_ERR_IQ_TOO_MANY')).toBe(true)
    await Promise.all([a, b])
  })

  it('round-trips a request to itself through the server', async () => {
    const { xmpp } = await setup()
    const res: Stanza = await xmpp.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    expect(res.attrs.type).toBe('result')
  })
})

describe('dead links and lifecycle', () => {
  it('sends whitespace keepalives when idle', async () => {
    const srv = await server()
    const xmpp = make(srv, { keepalive: 40 })
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    await expect
      .poll(() => conn.whitespaceReceived >= 2, { message: 'keepalives', timeout: 2000, interval: 5 })
      .toBe(true)
  })

  it('reconnects when a ping to the server goes unanswered', async () => {
    const srv = await server()
    const xmpp = make(srv, { ping: { interval: 60, timeout: 100 } })
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    conn.pauseReading()
    const info = await once<{ reason: string; error: Error }>(xmpp, 'reconnecting', 3000)
    expect(info.reason).toBe('ping-timeout')
    expect(isSatelliteError(info.error, 'SAT_ERR_PING_TIMEOUT')).toBe(true)
    // Like a real server, the test server only notices the dead socket once it reads
    // again; until then the domain is taken and the component meets <conflict/>.
    conn.resumeReading()
    await once(xmpp, 'online')
  })

  it('stop() closes the stream, is idempotent and leaves nothing running', async () => {
    const srv = await server()
    const xmpp = make(srv, { ping: { interval: 50 }, keepalive: 50 })
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const statuses: string[] = []
    xmpp.on('status', (s) => statuses.push(s))
    const [a, b] = [xmpp.stop(), xmpp.stop()]
    expect(a).toBe(b)
    await a
    await conn.closed
    expect(conn.peerClosedStream).toBe(true)
    expect(statuses).toEqual(['stopping', 'offline', 'stopped'])
    await sleep(150)
    expect(statuses).toHaveLength(3)
    expect(srv.connections).toHaveLength(0)
  })

  it('stop() while reconnecting cancels the pending attempt and rejects start()', async () => {
    const srv = await server()
    srv.behave({ rejectHandshake: 'conflict' })
    let connections = 0
    srv.on('connection', () => connections++)
    const xmpp = make(srv, { reconnect: { conflictFloor: 200 } })
    const started = xmpp.start().catch((e: unknown) => e)
    await once(xmpp, 'reconnecting')
    await xmpp.stop()
    expect(isSatelliteError(await started, 'SAT_ERR_STOPPED')).toBe(true)
    await sleep(300)
    expect(connections).toBe(1)
  })

  it('stops on the AbortSignal', async () => {
    const srv = await server()
    const ac = new AbortController()
    const xmpp = make(srv, { signal: ac.signal })
    await xmpp.start()
    const stopped = once(xmpp, 'stopped')
    ac.abort()
    await stopped
    expect(xmpp.status).toBe('stopped')
  })

  it('gives up after reconnect.maxAttempts with SAT_ERR_RECONNECT_EXHAUSTED', async () => {
    const srv = await server()
    const port = srv.port
    await srv.close()
    const xmpp = make(srv, {
      service: `xmpp://127.0.0.1:${port}`,
      reconnect: { base: 5, cap: 10, maxAttempts: 3 },
    })
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_RECONNECT_EXHAUSTED')).toBe(true)
    expect((err as Error).message).toMatch(/ECONNREFUSED/)
  })

  it('with reconnect: false, a lost connection stops the component', async () => {
    const srv = await server()
    const xmpp = make(srv, { reconnect: false })
    await xmpp.start()
    const stopped = once<{ error: Error }>(xmpp, 'stopped')
    ;(await srv.waitForComponent(DOMAIN)).drop('fin')
    expect((await stopped).error.message).toMatch(/reconnect is disabled/)
  })

  it('can start again after stop()', async () => {
    const srv = await server()
    const xmpp = make(srv)
    await xmpp.start()
    await xmpp.stop()
    await xmpp.start()
    expect(xmpp.online).toBe(true)
  })
})

describe('backpressure end to end', () => {
  it('a peer that floods but does not read our answers is pushed back: reading pauses, memory stays bounded, nothing is lost', async () => {
    const srv = await server()
    const xmpp = make(srv)
    xmpp.message((m) =>
      xmpp.send(
        xml('message', { from: m.attrs.to, to: m.attrs.from }, xml('body', {}, m.getChildText('body') ?? '')),
      ),
    )
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const alice = srv.client('alice@localhost/a')
    conn.pauseReading()
    const N = 20_000
    const pad = 'z'.repeat(1000)
    const one = (i: number) =>
      `<message from='${alice.jid}' to='bot@${DOMAIN}'><body>${i} ${pad}</body></message>`
    let batch = ''
    for (let i = 0; i < N; i++) batch += one(i)
    void conn.write(batch)
    await sleep(300)
    // The component stopped reading long before the flood was over, and holds little.
    expect(xmpp.stats.stanzasIn).toBeLessThan(N / 2)
    expect(xmpp.stats.queueDepth).toBeLessThan(2000)
    conn.resumeReading()
    await expect
      .poll(() => alice.received.length === N, { message: 'every echo', timeout: 20_000, interval: 5 })
      .toBe(true)
    expect(
      alice.received
        .at(-1)
        ?.getChildText('body')
        ?.startsWith(`${N - 1} `),
    ).toBe(true)
  })
})
