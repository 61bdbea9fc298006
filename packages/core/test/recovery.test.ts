// Faster recovery without storms (#15): a refused connection (ECONNREFUSED) is retried on its own
// steady schedule, measured against the embedded server's unlisten faults; a session reports the
// refusal as its own class; TLS errors are classified once.
import type { ReconnectInfo, Status } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { Session, type SessionEnd, tlsProblem } from '../src/internal.js'
import { REFUSED_CAP_FACTOR, REFUSED_FLAT, RefusedSchedule } from '../src/stream/refused.js'
import { DOMAIN, make, SECRET, server } from './helpers.js'

describe('the refused schedule', () => {
  it('waits base (plus a random part of base, once per series), grows after 30, caps at 5 × base', () => {
    const s = new RefusedSchedule({ base: 1000, cap: 60_000 }, () => 0.25)
    const delays = Array.from({ length: 80 }, () => s.next())
    expect(delays[0]).toBe(1250)
    expect(delays.slice(1, REFUSED_FLAT)).toEqual(Array(REFUSED_FLAT - 1).fill(1000))
    expect(delays.slice(REFUSED_FLAT, REFUSED_FLAT + 3)).toEqual([1100, 1200, 1300])
    expect(Math.max(...delays)).toBe(REFUSED_CAP_FACTOR * 1000)
    expect(delays.at(-1)).toBe(5000)
    for (let i = 2; i < delays.length; i++) expect(delays[i]).toBeGreaterThanOrEqual(delays[i - 1] as number)
    s.reset()
    expect(s.next()).toBe(1250)
    expect(s.streak).toBe(1)
  })

  it('never waits more than cap, nor less than min(base, cap)', () => {
    const small = new RefusedSchedule({ base: 20, cap: 100 }, () => 0.999)
    const d = Array.from({ length: 100 }, () => small.next())
    expect(Math.min(...d)).toBe(20)
    expect(Math.max(...d)).toBe(100)
    const capped = new RefusedSchedule({ base: 1000, cap: 500 }, () => 0)
    expect(Array.from({ length: 60 }, () => capped.next())).toEqual(Array(60).fill(500))
  })
})

describe('a session', () => {
  it('reports a refused TCP connection as the refused class', async () => {
    const srv = await server()
    const port = srv.port
    await srv.close()
    const end = await new Promise<SessionEnd>((resolve) => {
      new Session(
        {
          service: { tls: false, host: '127.0.0.1', port, url: `xmpp://127.0.0.1:${port}` },
          tls: {},
          domain: DOMAIN,
          secret: SECRET,
          handshakeTimeout: 5000,
          limits: { maxStanzaBytes: 65536, maxDepth: 64 },
        },
        { connected() {}, online() {}, stanza() {}, closed: resolve },
      )
    })
    expect(end).toMatchObject({ reason: 'ECONNREFUSED', class: 'refused', wasOnline: false })
    expect(end.error?.message).toMatch(/ECONNREFUSED/)
  })

  it('classifies TLS errors once: certificate and not-TLS problems are configuration errors', () => {
    for (const code of [
      'DEPTH_ZERO_SELF_SIGNED_CERT',
      'SELF_SIGNED_CERT_IN_CHAIN',
      'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
      'CERT_HAS_EXPIRED',
      'CERT_NOT_YET_VALID',
      'ERR_TLS_CERT_ALTNAME_INVALID',
      'HOSTNAME_MISMATCH',
      'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
      'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
      'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    ]) {
      expect(tlsProblem(code), code).toBe('certificate')
    }
    expect(tlsProblem('ERR_SSL_WRONG_VERSION_NUMBER')).toBe('not-tls')
    expect(tlsProblem('ERR_SSL_PACKET_LENGTH_TOO_LONG')).toBe('not-tls')
    for (const code of [
      'ECONNRESET',
      'ECONNREFUSED',
      'ETIMEDOUT',
      'EPIPE',
      'ERR_SSL_DECRYPTION_FAILED',
      undefined,
    ]) {
      expect(tlsProblem(code), String(code)).toBeUndefined()
    }
  })
})

describe('recovery from a refused-connection outage (measured)', () => {
  it('after 5 s of refused connections, back within 1 s of the listener; about one attempt a second', async () => {
    const srv = await server()
    // The production defaults (base 1 s), not the test helpers' fast ones.
    const xmpp = make(srv, {
      reconnect: { base: 1000, cap: 60_000, conflictFloor: 30_000 },
      handshakeTimeout: 2000,
    })
    await xmpp.start()
    const infos: ReconnectInfo[] = []
    const attempts: number[] = []
    let last = 0
    xmpp.on('reconnecting', (i) => infos.push(i))
    xmpp.on('status', (s: Status) => {
      if (s === 'connecting') attempts.push(Date.now())
      if (s === 'authenticating') last = Date.now()
    })
    const down = Date.now()
    // Every connection closed at TCP level, the port closed (ECONNREFUSED) for 5 s, then back.
    await srv.restart({ downMs: 5000 })
    const back = Date.now()
    const online = await new Promise<number>((resolve) => xmpp.once('online', () => resolve(Date.now())))
    const refusals = infos.filter((i) => i.reason === 'ECONNREFUSED')
    console.log(
      `refused for ${back - down} ms: ${refusals.length} refused attempts, online ${online - back} ms after the listener returned (the handshake took ${online - last} ms)`,
    )
    expect(refusals.length).toBeGreaterThanOrEqual(3)
    // The attempt that got through started within 1 s of the listener's return (timers may fire
    // a little late on a busy machine); the rest is the TCP connect and the handshake.
    expect(last - back).toBeLessThan(1000 + 100)
    expect(online - back).toBeLessThan(1000 + 100 + (online - last))
    // While refused: never more than one attempt a second on average (the first after the drop
    // is the ordinary backoff).
    const refusedAttempts = attempts.filter((t) => t < back)
    expect(refusedAttempts.length).toBeLessThanOrEqual(1 + (back - down) / 1000)
    for (const r of refusals) expect(r.delay).toBeGreaterThanOrEqual(1000)
  }, 20_000)

  it("the refuse fault in 'unlisten' mode: ECONNREFUSED retries every base ms, then online", async () => {
    const srv = await server()
    const xmpp = make(srv, { reconnect: { base: 50, cap: 1000 } })
    await xmpp.start()
    const infos: ReconnectInfo[] = []
    xmpp.on('reconnecting', (i) => infos.push(i))
    const conn = await srv.waitForComponent(DOMAIN)
    // (The fault resolves once the listener is closed, which Node's server.close() reports only
    // when no connection is left: the drop comes first.)
    const refusing = srv.refuseConnections(600, { mode: 'unlisten' })
    conn.drop('rst')
    await refusing
    await new Promise((r) => xmpp.once('online', r))
    const refused = infos.filter((i) => i.reason === 'ECONNREFUSED').map((i) => i.delay)
    expect(refused.length).toBeGreaterThanOrEqual(4)
    expect(refused[0]).toBeGreaterThanOrEqual(50)
    expect(refused[0]).toBeLessThanOrEqual(100)
    expect(refused.slice(1)).toEqual(Array(refused.length - 1).fill(50))
  })
})
