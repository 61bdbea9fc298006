import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { checkConnection, runModule } from '@satellite/cli'
import { xml } from '@satellite/core'
import { greetWith, testServer } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'echo.localhost'
const SECRET = 'sécret-42'
/** An embedded server for DOMAIN, closed after the test (a failure to close fails it). */
const server = () => testServer(DOMAIN, SECRET, { strict: true })

describe('satellite check', () => {
  it('passes every step against a working server, including the round trip', async () => {
    const srv = await server()
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: SECRET })
    expect(r.steps.map((s) => [s.name, s.ok])).toEqual([
      ['TCP connect', true],
      ['stream header', true],
      ['handshake', true],
      ['round trip', true],
    ])
    expect(r.ok).toBe(true)
  })

  it('diagnoses a wrong secret with the config line to fix, never printing the secret', async () => {
    const srv = await server()
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: 'wrong-one' })
    const last = r.steps.at(-1)
    expect(r.ok).toBe(false)
    expect(last?.name).toBe('handshake')
    expect(last?.detail).toMatch(/not-authorized/)
    expect(last?.fix).toMatch(/component_secret/)
    expect(JSON.stringify(r)).not.toContain('wrong-one')
  })

  it('diagnoses an unknown domain (host-unknown)', async () => {
    const srv = await server()
    const r = await checkConnection({ service: srv.url, domain: 'nope.localhost', secret: SECRET })
    expect(r.steps.at(-1)?.detail).toMatch(/host-unknown/)
    expect(r.steps.at(-1)?.fix).toMatch(/Component "nope.localhost"/)
  })

  it('diagnoses a closed port', async () => {
    const srv = await server()
    const port = srv.port
    await srv.close()
    const r = await checkConnection({ service: `xmpp://127.0.0.1:${port}`, domain: DOMAIN, secret: SECRET })
    expect(r.steps[0]).toMatchObject({ name: 'TCP connect', ok: false })
    expect(r.steps[0]?.detail).toMatch(/nothing listens/)
    expect(r.steps[0]?.fix).toMatch(/component_ports/)
  })

  it('diagnoses a client port (jabber:client stream)', async () => {
    const srv = await server()
    greetWith(
      srv,
      "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' id='x'>",
      10,
    )
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: SECRET })
    expect(r.steps.at(-1)?.detail).toMatch(/client \(c2s\) port/)
  })

  it('diagnoses TLS to a plain port', async () => {
    const srv = await server()
    const r = await checkConnection({
      service: `xmpps://127.0.0.1:${srv.port}`,
      domain: DOMAIN,
      secret: SECRET,
      timeout: 2000,
    })
    expect(r.steps[0]).toMatchObject({ name: 'TLS connect', ok: false })
    expect(`${r.steps[0]?.detail} ${r.steps[0]?.fix}`).toMatch(/TLS|xmpp:\/\//)
  })

  it('reports a silent server as a timeout at the header step', async () => {
    const srv = await server()
    srv.behave({ noHeader: true })
    const r = await checkConnection({ service: srv.url, domain: DOMAIN, secret: SECRET, timeout: 300 })
    expect(r.steps.at(-1)).toMatchObject({ name: 'stream header', ok: false })
    expect(r.steps.at(-1)?.detail).toMatch(/timed out/)
  })

  it('the satellite binary prints the steps and exits non-zero on failure', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
    const run = spawnSync(
      process.execPath,
      [bin, 'check', '--service', 'xmpp://127.0.0.1:1', '--domain', DOMAIN],
      {
        encoding: 'utf8',
        env: { ...process.env, XMPP_SECRET: 'long-enough-secret' },
      },
    )
    expect(run.stdout).toMatch(/✘ TCP connect/)
    expect(run.stdout).toMatch(/fix:/)
    expect(run.status).toBe(1)
  })
})

describe('satellite run', () => {
  it('runs a component module with settings from the environment, serves health and metrics, stops cleanly', async () => {
    const srv = await server()
    const fixture = fileURLToPath(new URL('./fixtures/echo.ts', import.meta.url))
    const lines: string[] = []
    const running = await runModule({
      module: fixture,
      env: { XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET },
      healthPort: 0,
      log: (l) => lines.push(l),
    })
    const alice = srv.client('alice@localhost/a')
    alice.send(xml('message', { to: DOMAIN }, xml('body', {}, 'hi')))
    expect((await alice.expectStanza({ name: 'message' })).getChildText('body')).toBe('echo: hi')
    const health = await fetch(`http://127.0.0.1:${running.healthPort}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ online: true, domain: DOMAIN, status: 'online' })
    const m = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text()
    expect(m).toMatch(/^satellite_up 1$/m)
    expect(m).toMatch(/^satellite_stanzas_in_total 1$/m)
    expect(m).toMatch(/^satellite_queue_depth 0$/m)
    // iq latency histogram: one request to ourselves, counted in a bucket and in +Inf
    await running.xmpp.request(
      xml('iq', { type: 'get', to: DOMAIN }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
    )
    const h = await (await fetch(`http://127.0.0.1:${running.healthPort}/metrics`)).text()
    expect(h).toMatch(/^# TYPE satellite_iq_latency_seconds histogram$/m)
    expect(h).toMatch(/^satellite_iq_latency_seconds_bucket\{le="\+Inf"\} 1$/m)
    expect(h).toMatch(/^satellite_iq_latency_seconds_bucket\{le="10"\} 1$/m)
    expect(h).toMatch(/^satellite_iq_latency_seconds_count 1$/m)
    await running.stop()
    const mod = await import('./fixtures/echo.js')
    expect(mod.cleaned).toBe(1)
    expect(lines.some((l) => l.includes('online'))).toBe(true)
    expect(JSON.stringify(lines)).not.toContain(SECRET)
  })

  it('names the missing setting', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/echo.ts', import.meta.url))
    await expect(runModule({ module: fixture, env: { XMPP_SECRET: 's' } })).rejects.toThrow(/XMPP_DOMAIN/)
  })
})
