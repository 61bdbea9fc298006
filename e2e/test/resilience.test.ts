// The failure modes users meet in production, against the real servers: a server restart
// under load, Prosody's kick_new conflict, ejabberd's several connections for one domain.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { type ReconnectInfo, type Stanza, xml } from '@satellite/core'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { info, KINDS, realClient, satellite, sleep } from './helpers.js'

const script = fileURLToPath(new URL('../../scripts/xmpp-server', import.meta.url))

function run(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(script, args, { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    p.stderr.on('data', (d) => (err += d))
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed: ${err}`))))
  })
}

describe.each(KINDS)('%s: restart while online', (kind) => {
  it('nothing the application submits while the server is down is lost; back online quickly', async () => {
    const xmpp = satellite(kind)
    const domain = info(kind).XMPP_ECHO_DOMAIN as string
    const got: number[] = []
    // The component sends to its own users: after the restart the server routes them back.
    xmpp.message({ to: 'sink' }, (m: Stanza) => void got.push(Number(m.getChildText('body'))))
    await xmpp.start()
    const whileOffline: number[] = []
    let sent = 0
    let sending = true
    const pump = (async () => {
      while (sending) {
        const n = sent++
        if (!xmpp.online) whileOffline.push(n)
        void xmpp.send(
          xml('message', { from: `src@${domain}`, to: `sink@${domain}` }, xml('body', {}, String(n))),
        )
        await sleep(5)
      }
    })()
    await sleep(100)
    const dir = info(kind).XMPP_DIR as string
    const offline = new Promise((r) => xmpp.once('offline', r))
    await run(['stop', dir])
    await offline
    await run(['start', kind, dir])
    const upAt = Date.now()
    const backOnline = await new Promise<number>((resolve) => {
      if (xmpp.online) resolve(Date.now())
      else xmpp.once('online', () => resolve(Date.now()))
    })
    await sleep(300)
    sending = false
    await pump
    await expect
      .poll(() => whileOffline.every((n) => got.includes(n)), {
        message: 'every message submitted while offline',
        timeout: 10_000,
        interval: 10,
      })
      .toBe(true)
    await sleep(200)
    // Order is kept, nothing is duplicated.
    expect(got).toEqual([...got].sort((a, b) => a - b))
    expect(new Set(got).size).toBe(got.length)
    expect(whileOffline.length).toBeGreaterThan(10)
    const lost = sent - got.length
    const reconnectMs = backOnline - upAt
    console.log(
      `${kind}: ${sent} sent, ${whileOffline.length} while offline (all delivered), ${lost} lost in flight when the server was killed; online again ${reconnectMs} ms after the server listened`,
    )
    expect(reconnectMs).toBeLessThan(5000)
  })
})

describe('prosody: a second instance meets kick_new', () => {
  it('the second gets <conflict/> and retries no sooner than the floor; the first keeps serving', async () => {
    const first = satellite('prosody')
    first.message((m) =>
      first.send(xml('message', { from: m.attrs.to, to: m.attrs.from }, xml('body', {}, 'first'))),
    )
    await first.start()
    const second = satellite('prosody', { reconnect: { conflictFloor: 2000 } })
    const retry = new Promise<ReconnectInfo>((r) => second.once('reconnecting', r))
    void second.start().catch(() => {})
    const info2 = await retry
    expect(info2.reason).toBe('conflict')
    expect(info2.delay).toBeGreaterThanOrEqual(2000)
    expect(info2.error?.message).toMatch(/another connection already serves/)
    await second.stop()
    const alice = await realClient('prosody')
    await alice.send(
      clientXml('message', { to: info('prosody').XMPP_ECHO_DOMAIN, id: 'k1' }, clientXml('body', {}, 'who?')),
    )
    // (Prosody's mod_privilege also sends every user an empty <privilege/> message on their
    // initial presence: only the echo's answer counts.)
    const reply = await alice.expect(
      (s: { name: string; attrs: Record<string, string> }) =>
        s.name === 'message' && s.attrs.from === info('prosody').XMPP_ECHO_DOMAIN,
    )
    expect(reply.getChildText('body')).toBe('first')
  })
})

describe('ejabberd: two instances of one component', () => {
  it('are both accepted and stanzas are spread between them (random balancing)', async () => {
    const counts = [0, 0]
    const instances = [0, 1].map((i) => {
      const c = satellite('ejabberd')
      c.message(() => void counts[i]!++)
      return c
    })
    for (const c of instances) await c.start()
    const alice = await realClient('ejabberd')
    const domain = info('ejabberd').XMPP_ECHO_DOMAIN
    const N = 60
    for (let i = 0; i < N; i++) {
      await alice.send(clientXml('message', { to: `u${i}@${domain}` }, clientXml('body', {}, String(i))))
    }
    await expect
      .poll(() => counts[0]! + counts[1]! === N, { message: 'all delivered', timeout: 5000, interval: 10 })
      .toBe(true)
    console.log(`ejabberd spread ${N} messages as ${counts[0]} / ${counts[1]}`)
    expect(counts[0]).toBeGreaterThan(0)
    expect(counts[1]).toBeGreaterThan(0)
  })
})
