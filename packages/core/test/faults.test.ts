import { xml } from '@satellite/core'
import { garbage, hugeStanza, splitUtf8Message, utf8SplitPoints, whitespace } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, once, server, sleep } from './helpers.js'

const addr = { from: 'alice@localhost/a', to: `bot@${DOMAIN}` }

async function online() {
  const srv = await server()
  const xmpp = make(srv)
  const bodies: string[] = []
  xmpp.message((m) => void bodies.push(m.getChildText('body') ?? ''))
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  return { srv, xmpp, conn, bodies }
}

describe('byte layer under fault injection', () => {
  it('decodes UTF-8 split inside multi-byte sequences across TCP reads', async () => {
    const { conn, bodies } = await online()
    const body = 'é😀世界'
    const raw = `<message from='${addr.from}' to='${addr.to}'><body>${body}</body></message>`
    const prefix = Buffer.byteLength(raw.slice(0, raw.indexOf(body)))
    const cuts = utf8SplitPoints(body).map((p) => p + prefix)
    await conn.write(raw, { splitAt: cuts, delayMs: 5 })
    await expect.poll(() => bodies.length === 1, { timeout: 3000, interval: 5 }).toBe(true)
    expect(bodies[0]).toBe(body)
    const m = splitUtf8Message({ ...addr, body: '🚀 ünïcødé' })
    await conn.write(m.xml, { splitAt: m.splitAt, delayMs: 5 })
    await expect.poll(() => bodies.length === 2, { timeout: 3000, interval: 5 }).toBe(true)
    expect(bodies[1]).toBe('🚀 ünïcødé')
  })

  it('survives a whitespace flood without growing its buffers', async () => {
    const { xmpp, conn, bodies } = await online()
    for (let i = 0; i < 20; i++) await conn.write(whitespace(64 * 1024, ' \n\t'))
    conn.send(`<message from='${addr.from}' to='${addr.to}'><body>after</body></message>`)
    await expect.poll(() => bodies.length === 1, { timeout: 3000, interval: 5 }).toBe(true)
    expect(bodies).toEqual(['after'])
    expect(xmpp.online).toBe(true)
  })

  const cases: Array<[string, string | Buffer, string]> = [
    ['a DOCTYPE', garbage.doctype(), 'restricted-xml'],
    ['an entity bomb', garbage.entityBomb(addr), 'restricted-xml'],
    ['an undeclared entity', garbage.undeclaredEntity(addr), 'restricted-xml'],
    ['a processing instruction', garbage.processingInstruction(), 'restricted-xml'],
    ['a comment', garbage.comment(), 'restricted-xml'],
    ['an unbound prefix', garbage.unboundPrefix(addr), 'not-well-formed'],
    ['mismatched tags', garbage.notWellFormed(addr), 'not-well-formed'],
    ['invalid UTF-8', garbage.invalidUtf8(addr), 'not-well-formed'],
  ]
  for (const [what, payload, condition] of cases) {
    it(`closes the stream with <${condition}/> on ${what}, never crashes, reconnects`, async () => {
      const { xmpp, conn, bodies } = await online()
      const errors: Error[] = []
      xmpp.on('error', (e) => errors.push(e))
      const reconnecting = once<{ reason: string }>(xmpp, 'reconnecting')
      await conn.write(payload)
      expect((await reconnecting).reason).toBe(condition)
      await expect
        .poll(() => conn.streamErrorSent !== undefined || conn.isClosed, { timeout: 3000, interval: 5 })
        .toBe(true)
      await conn.closed
      expect(errors[0]?.message).toMatch(/invalid XML/)
      expect(bodies).toEqual([])
      await once(xmpp, 'online')
    })
  }

  it('rejects a stanza over limits.maxStanzaBytes with policy-violation before buffering it', async () => {
    const srv = await server()
    const xmpp = make(srv, { limits: { maxStanzaBytes: 64 * 1024 } })
    const bodies: string[] = []
    xmpp.message((m) => void bodies.push(m.getChildText('body') ?? ''))
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    conn.send(`<message from='${addr.from}' to='${addr.to}'><body>small</body></message>`)
    const reconnecting = once<{ reason: string }>(xmpp, 'reconnecting')
    void conn.write(hugeStanza(10 * 1024 * 1024, addr))
    expect((await reconnecting).reason).toBe('policy-violation')
    expect(bodies).toEqual(['small'])
    await once(xmpp, 'online')
  })

  it('reconnects after a TCP reset and after a FIN', async () => {
    const { srv, xmpp, conn } = await online()
    const r1 = once<{ reason: string }>(xmpp, 'offline')
    conn.drop('rst')
    expect((await r1).reason).toMatch(/ECONNRESET|closed/)
    await once(xmpp, 'online')
    const conn2 = await srv.waitForComponent(DOMAIN)
    const r2 = once<{ reason: string }>(xmpp, 'offline')
    conn2.drop('fin')
    expect((await r2).reason).toBe('closed')
    await once(xmpp, 'online')
  })

  it('rides out a server restart; nothing submitted while offline is lost, order kept', async () => {
    const { srv, xmpp } = await online()
    const alice = srv.client('alice@localhost/a')
    const offline = once(xmpp, 'offline')
    const restarting = srv.restart({ downMs: 200 })
    await offline
    const sends = Array.from({ length: 50 }, (_, i) =>
      xmpp.send(xml('message', { to: alice.jid, from: `bot@${DOMAIN}` }, xml('body', {}, String(i)))),
    )
    expect(xmpp.stats.queueDepth).toBe(50)
    await restarting
    await Promise.all(sends)
    await expect.poll(() => alice.received.length === 50, { timeout: 3000, interval: 5 }).toBe(true)
    expect(alice.received.map((s) => s.getChildText('body'))).toEqual(
      Array.from({ length: 50 }, (_, i) => String(i)),
    )
  })

  it('keeps retrying while connections are refused, with growing (capped) delays', async () => {
    const srv = await server()
    const xmpp = make(srv, { reconnect: { base: 20, cap: 80 } })
    await xmpp.start()
    const delays: number[] = []
    xmpp.on('reconnecting', (i) => delays.push(i.delay))
    await srv.refuseConnections(400)
    ;(await srv.waitForComponent(DOMAIN)).drop('rst')
    await sleep(450)
    await expect.poll(() => xmpp.online, { message: 'back online', timeout: 3000, interval: 5 }).toBe(true)
    expect(delays.length).toBeGreaterThan(2)
    for (const d of delays) expect(d).toBeLessThanOrEqual(80)
  })
})
