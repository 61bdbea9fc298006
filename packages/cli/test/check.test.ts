import { rmSync } from 'node:fs'
import * as net from 'node:net'
import * as tls from 'node:tls'
import { checkConnection } from '@satellite/cli'
import { component, isSatelliteError, type SatelliteError } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { greetWith, testServer } from '@satellite/test-support/component'
import { selfSignedCert } from '@satellite/test-support/tls'
import type { TestServer } from '@satellite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const DOMAIN = 'echo.localhost'
const SECRET = 'sécret-42'
const server = () => testServer(DOMAIN, SECRET, { strict: true })
const HEADER =
  "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams'"

let dir: string
let cert: string
let key: string

beforeAll(() => {
  ;({ dir, cert, key } = selfSignedCert('satellite-check-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A direct-TLS front for the embedded server (as ejabberd's `tls: true` listener), closed after the test. */
async function tlsFront(srv: TestServer): Promise<number> {
  const sockets = new Set<net.Socket>()
  const front = tls.createServer({ cert, key }, (clear) => {
    const upstream = net.connect(srv.port, '127.0.0.1')
    sockets.add(clear).add(upstream)
    clear.pipe(upstream).pipe(clear)
    const end = () => {
      clear.destroy()
      upstream.destroy()
    }
    clear.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r))
  afterTest(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        front.close(() => r())
      }),
  )
  return (front.address() as net.AddressInfo).port
}

describe('satellite check drives the component connection', () => {
  it('judges a certificate as the component does: untrusted fails, with the fix; trusted passes every step', async () => {
    const srv = await server()
    const port = await tlsFront(srv)
    const service = `xmpps://localhost:${port}`
    const untrusted = await checkConnection({ service, domain: DOMAIN, secret: SECRET, timeout: 2000 })
    expect(untrusted.steps).toHaveLength(1)
    expect(untrusted.steps[0]).toMatchObject({ name: 'TLS connect', ok: false })
    expect(untrusted.steps[0]?.detail).toMatch(/certificate not trusted/)
    expect(untrusted.steps[0]?.fix).toMatch(/--ca/)
    // The component meets the same certificate: a fatal transport error, no retry.
    const xmpp = component({ service, domain: DOMAIN, secret: SECRET })
    afterTest(() => xmpp.stop())
    const err = await xmpp.start().catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_TRANSPORT')).toBe(true)
    expect((err as SatelliteError).fatal).toBe(true)
    const trusted = await checkConnection({ service, domain: DOMAIN, secret: SECRET, ca: cert })
    expect(trusted.steps.map((s) => [s.name, s.ok])).toEqual([
      ['TLS connect', true],
      ['stream header', true],
      ['handshake', true],
      ['round trip', true],
    ])
  })

  it('reads stream features after the header as a client port, at the handshake step', async () => {
    const srv = await server()
    greetWith(srv, `${HEADER} id='abc'><stream:features/>`, 5)
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: SECRET, timeout: 2000 })
    expect(r.steps.map((s) => [s.name, s.ok])).toEqual([
      ['TCP connect', true],
      ['stream header', true],
      ['handshake', false],
    ])
    expect(r.steps.at(-1)?.detail).toMatch(/stream features: this is a client port/)
  })

  it('sends no handshake without a stream id (as the component): an empty id and silence fail the header step', async () => {
    // A raw listener: it answers with an empty stream id, then says nothing, and records what comes.
    let data = ''
    const sockets = new Set<net.Socket>()
    const raw = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.setEncoding('utf8')
      socket.on('data', (d: string) => {
        data += d
        if (data.includes('<stream:stream') && !data.includes("id=''>")) socket.write(`${HEADER} id=''>`)
      })
    })
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r))
    afterTest(
      () =>
        new Promise<void>((r) => {
          for (const s of sockets) s.destroy()
          raw.close(() => r())
        }),
    )
    const port = (raw.address() as net.AddressInfo).port
    const r = await checkConnection({
      service: `xmpp://127.0.0.1:${port}`,
      domain: DOMAIN,
      secret: SECRET,
      timeout: 300,
    })
    expect(r.steps.map((s) => [s.name, s.ok])).toEqual([
      ['TCP connect', true],
      ['stream header', false],
    ])
    expect(r.steps.at(-1)?.detail).toMatch(/no stream id.*timed out/)
    expect(data).toContain(`to='${DOMAIN}'`)
    expect(data).not.toContain('<handshake')
  })

  it('lowercases the domain as the component does', async () => {
    const srv = await server()
    const r = await checkConnection({ service: srv.url, domain: 'Echo.LOCALHOST', secret: SECRET })
    expect(r.ok).toBe(true)
    expect(r.steps.at(-1)?.detail).toContain(`a ping to ${DOMAIN} went through the server and back`)
  })

  it('closes the stream when done: the server sees </stream:stream> and no connection is left', async () => {
    const srv = await server()
    const seen: Array<Promise<unknown>> = []
    const closedCleanly: boolean[] = []
    srv.on('connection', (conn) => {
      seen.push(conn.closed.then(() => closedCleanly.push(conn.peerClosedStream)))
    })
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: SECRET })
    expect(r.ok).toBe(true)
    await Promise.all(seen)
    expect(closedCleanly).toEqual([true])
    await expect
      .poll(() => srv.connections.length === 0, { message: 'no connection left', timeout: 2000, interval: 5 })
      .toBe(true)
  })
})
