// Several streams for one component domain: openStream() (ejabberd's domain_balancing).
import { component, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer } from '@satellite/testing'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'echo.localhost'

async function balanced(options: Parameters<typeof createServer>[0] = {}) {
  const srv = await createServer({
    components: { [DOMAIN]: 's' },
    conflict: 'balance',
    balance: 'round_robin',
    ...options,
  })
  afterTest(() => srv.close())
  const xmpp = component({
    service: srv.url,
    domain: DOMAIN,
    secret: 's',
    reconnect: { base: 20, cap: 100, conflictFloor: 50 },
  })
  afterTest(() => xmpp.stop())
  xmpp.message({ type: 'chat', to: '*' }, (m) =>
    xmpp.send(
      xml(
        'message',
        { to: m.attrs.from, from: m.attrs.to, type: 'chat' },
        xml('body', {}, `echo ${m.getChildText('body')}`),
      ),
    ),
  )
  await xmpp.start()
  return { srv, xmpp }
}

describe('openStream(): more than one stream for the domain', () => {
  it('stanzas the server routes to the extra stream go through the same routes; replies go out on the main stream', async () => {
    const { srv, xmpp } = await balanced()
    const extra = xmpp.openStream()
    await extra.start()
    expect(extra.online).toBe(true)
    expect(xmpp.streams).toBe(2)
    expect(srv.connectionsFor(DOMAIN)).toHaveLength(2)
    const alice = srv.client('alice@localhost/a')
    const seen: string[] = []
    xmpp.on('stanza', (st) => seen.push(String(st.attrs.to)))
    for (let i = 0; i < 10; i++)
      alice.send(xml('message', { to: `u${i}@${DOMAIN}`, type: 'chat' }, xml('body', {}, `m${i}`)))
    await expect
      .poll(() => alice.received.filter((s) => s.getChildText('body')?.startsWith('echo ')).length)
      .toBe(10)
    const [main, second] = srv.connectionsFor(DOMAIN)
    // round robin: both streams got stanzas; every answer went out on the main one
    expect(second?.received.filter((s) => s.name === 'message')).toHaveLength(0)
    expect(main?.received.filter((s) => s.name === 'message')).toHaveLength(10)
    expect(seen).toHaveLength(10)
    // The extra stream carried half of them: closing it before the next round loses none of those.
    await extra.close()
    for (let i = 10; i < 14; i++)
      alice.send(xml('message', { to: `u${i}@${DOMAIN}`, type: 'chat' }, xml('body', {}, `m${i}`)))
    await expect
      .poll(() => alice.received.filter((s) => s.getChildText('body')?.startsWith('echo ')).length)
      .toBe(14)
  })

  it('an extra stream reconnects when the server drops it; close() ends it for good; stop() closes every stream', async () => {
    const { srv, xmpp } = await balanced()
    const extra = xmpp.openStream()
    await extra.start()
    const statuses: string[] = []
    extra.on('status', (s) => statuses.push(s))
    srv.connectionsFor(DOMAIN)[1]?.destroy()
    await expect.poll(() => statuses.at(-1)).toBe('online')
    expect(statuses).toEqual(['offline', 'reconnecting', 'connecting', 'authenticating', 'online'])
    expect(srv.connectionsFor(DOMAIN)).toHaveLength(2)
    await extra.close()
    expect(extra.status).toBe('stopped')
    await expect.poll(() => srv.connectionsFor(DOMAIN).length).toBe(1)
    expect(xmpp.online).toBe(true)
    const another = xmpp.openStream()
    await another.start()
    await xmpp.stop()
    expect(another.status).toBe('stopped')
    await expect.poll(() => srv.connectionsFor(DOMAIN).length).toBe(0)
  })

  it("with Prosody's policy (kick_new) the extra stream is refused with conflict and keeps retrying, the main one unharmed", async () => {
    const { srv, xmpp } = await balanced({ conflict: 'kick_new' })
    const extra = xmpp.openStream()
    const reasons: string[] = []
    extra.on('reconnecting', (info) => reasons.push(info.reason))
    void extra.start().catch(() => {})
    await expect.poll(() => reasons.length).toBeGreaterThanOrEqual(2)
    expect(reasons[0]).toBe('conflict')
    expect(xmpp.online).toBe(true)
    expect(srv.connectionsFor(DOMAIN)).toHaveLength(1)
    await extra.close()
  })

  it("ejabberd's fixed slots (bare_destination, component_number 2): a dead instance's slot drops its stanzas until a survivor claims it with openStream()", async () => {
    const srv = await createServer({
      components: { [DOMAIN]: 's' },
      conflict: 'balance',
      balance: 'bare_destination',
      componentNumber: 2,
    })
    afterTest(() => srv.close())
    const instance = async (name: string) => {
      const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 's' })
      afterTest(() => xmpp.stop())
      xmpp.message({ type: 'chat', to: '*' }, (m) =>
        xmpp.send(
          xml('message', { to: m.attrs.from, from: m.attrs.to, type: 'chat' }, xml('body', {}, name)),
        ),
      )
      await xmpp.start()
      return xmpp
    }
    const a = await instance('a')
    const b = await instance('b')
    const alice = srv.client('alice@localhost/a')
    const round = async (expected: number) => {
      const start = alice.received.length
      for (let i = 0; i < 40; i++)
        alice.send(xml('message', { to: `u${i}@${DOMAIN}`, type: 'chat' }, xml('body', {}, 'hi')))
      await expect.poll(() => alice.received.length - start).toBe(expected)
      await new Promise((r) => setTimeout(r, 50))
      return alice.received.slice(start).map((m) => m.getChildText('body'))
    }
    const both = await round(40)
    const fromB = both.filter((x) => x === 'b').length
    expect(fromB).toBeGreaterThan(0)
    expect(fromB).toBeLessThan(40)
    await b.stop()
    // b's slot: dropped silently (ejabberd 23.01), not bounced
    const halved = await round(40 - fromB)
    expect(halved.every((x) => x === 'a')).toBe(true)
    expect(srv.undelivered.length).toBeGreaterThanOrEqual(fromB)
    const extra = a.openStream()
    await extra.start()
    expect(await round(40)).toEqual(Array(40).fill('a'))
  })
})
