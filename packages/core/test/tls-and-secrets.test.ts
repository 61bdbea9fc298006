import { rmSync, writeFileSync } from 'node:fs'
import * as net from 'node:net'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { configFromEnv, enableDebug, isSatelliteError, type SatelliteError, xml } from '@satellite/core'
import { selfSignedCert } from '@satellite/test-support/tls'
import type { TestServer } from '@satellite/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DOMAIN, make, SECRET, server } from './helpers.js'

let dir: string
let cert: string
let key: string

beforeAll(() => {
  ;({ dir, cert, key } = selfSignedCert('satellite-tls-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** A direct-TLS front for the embedded server (as ejabberd's `tls: true` listener). */
async function tlsFront(srv: TestServer): Promise<{ port: number; close: () => Promise<void> }> {
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
  return {
    port: (front.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        front.close(() => r())
      }),
  }
}

describe('direct TLS (xmpps://)', () => {
  it('verifies the certificate by default: an untrusted one is a fatal, explained error', async () => {
    const srv = await server()
    const front = await tlsFront(srv)
    try {
      const xmpp = make(srv, { service: `xmpps://localhost:${front.port}` })
      const err = await xmpp.start().catch((e: unknown) => e)
      expect(isSatelliteError(err, 'SAT_ERR_TRANSPORT')).toBe(true)
      expect((err as SatelliteError).fatal).toBe(true)
      expect((err as Error).message).toMatch(/tls\.ca/)
    } finally {
      await front.close()
    }
  })

  it('connects and exchanges stanzas when the CA is given', async () => {
    const srv = await server()
    const front = await tlsFront(srv)
    try {
      const xmpp = make(srv, { service: `xmpps://localhost:${front.port}`, tls: { ca: cert } })
      xmpp.message((m) =>
        xmpp.send(xml('message', { to: m.attrs.from, from: m.attrs.to }, xml('body', {}, 'over tls'))),
      )
      await xmpp.start()
      const alice = srv.client('alice@localhost/a')
      alice.send(xml('message', { to: DOMAIN }, xml('body', {}, 'hi')))
      expect((await alice.expectStanza({ name: 'message' })).getChildText('body')).toBe('over tls')
    } finally {
      await front.close()
    }
  })

  it('checks the servername: a certificate for another name is rejected', async () => {
    const srv = await server()
    const front = await tlsFront(srv)
    try {
      const xmpp = make(srv, {
        service: `xmpps://127.0.0.1:${front.port}`,
        tls: { ca: cert, servername: 'other.example' },
      })
      const err = await xmpp.start().catch((e: unknown) => e)
      expect((err as SatelliteError).fatal).toBe(true)
    } finally {
      await front.close()
    }
  })
})

describe('the secret never appears in logs or errors', () => {
  it('at every debug level, through success, failure and reconnects', async () => {
    const lines: string[] = []
    const createDebug = enableDebug('satellite:*')
    const origLog = createDebug.log
    createDebug.log = (...args: unknown[]) => void lines.push(args.map(String).join(' '))
    const errors: string[] = []
    try {
      const srv = await server()
      const ok = make(srv)
      ok.on('error', (e) => errors.push(`${e.message} ${String(e.stack)}`))
      await ok.start()
      ;(await srv.waitForComponent(DOMAIN)).drop('rst')
      await new Promise((r) => ok.once('online', r))
      await ok.stop()
      const bad = make(srv, { secret: `${SECRET}-wrong` })
      const err = (await bad.start().catch((e: unknown) => e)) as Error
      errors.push(`${err.message} ${String(err.stack)} ${JSON.stringify(err)}`)
    } finally {
      createDebug.log = origLog
      createDebug.disable()
    }
    expect(lines.length).toBeGreaterThan(10)
    const all = lines.join('\n') + errors.join('\n')
    expect(all).not.toContain(SECRET)
    expect(all).not.toContain('sécret')
    expect(all).toMatch(/online as/)
  })
})

describe('configuration from the environment', () => {
  it('reads XMPP_SERVICE, XMPP_DOMAIN and XMPP_SECRET', () => {
    expect(configFromEnv({ XMPP_SERVICE: 'xmpps://h:1', XMPP_DOMAIN: 'd', XMPP_SECRET: 's' })).toEqual({
      service: 'xmpps://h:1',
      domain: 'd',
      secret: 's',
    })
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET: 's' }).service).toBe('xmpp://127.0.0.1:5347')
  })

  it('reads the secret from XMPP_SECRET_FILE, trimmed', () => {
    const f = join(dir, 'secret')
    writeFileSync(f, '  from-file\n')
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: f }).secret).toBe('from-file')
  })

  it('names the missing or broken setting', () => {
    expect(() => configFromEnv({ XMPP_SECRET: 's' })).toThrow(/XMPP_DOMAIN/)
    expect(() => configFromEnv({ XMPP_DOMAIN: 'd' })).toThrow(/XMPP_SECRET/)
    expect(() => configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: join(dir, 'missing') })).toThrow(
      /XMPP_SECRET_FILE/,
    )
    try {
      configFromEnv({})
    } catch (e) {
      expect(isSatelliteError(e, 'SAT_ERR_CONFIG')).toBe(true)
    }
  })

  it('validates component options, naming the setting', async () => {
    const { component } = await import('@satellite/core')
    const base = { service: 'xmpp://localhost', domain: 'd.example', secret: 's' }
    expect(() => component({ ...base, service: 'http://x' })).toThrow(/service: unsupported scheme/)
    expect(() => component({ ...base, domain: 'a@b' })).toThrow(/domain/)
    expect(() => component({ ...base, secret: '' })).toThrow(/secret/)
    expect(() => component({ ...base, queue: { max: -1 } })).toThrow(/queue\.max/)
    expect(() => component({ ...base, reconnect: { base: Number.NaN } })).toThrow(/reconnect\.base/)
    expect(component(base).options.service).toEqual({
      tls: false,
      host: 'localhost',
      port: 5347,
      url: 'xmpp://localhost',
    })
    expect(component({ ...base, service: 'xmpps://[::1]:5223' }).options.service).toMatchObject({
      tls: true,
      host: '::1',
      port: 5223,
    })
  })
})
