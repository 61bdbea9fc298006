import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatConfig, loadConfig, redactedConfig, SETTINGS, settingsTable } from '@satellite/cli'
import { component, resolveOptions } from '@satellite/core'
import { describe, expect, it } from 'vitest'

const BASE = { XMPP_DOMAIN: 'echo.localhost', XMPP_SECRET: 'hunter2-secret' }
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
const doc = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url))

function errorOf(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env)
  } catch (err) {
    expect((err as { code?: string }).code).toBe('SAT_ERR_CONFIG')
    return (err as Error).message
  }
  throw new Error('loadConfig accepted the environment')
}

describe('configuration schema', () => {
  it('fills every default and the result is valid for component()', () => {
    const { options, logFormat, secretSource } = loadConfig(BASE)
    expect(options).toEqual({
      service: 'xmpp://127.0.0.1:5347',
      domain: 'echo.localhost',
      secret: 'hunter2-secret',
      reconnect: { base: 1000, cap: 60_000, maxAttempts: Number.POSITIVE_INFINITY },
      queue: { max: 10_000, ttl: 60_000 },
      limits: { maxStanzaBytes: 524_288, concurrency: 256 },
      keepalive: 30_000,
      ping: false,
      requestTimeout: 30_000,
    })
    expect(logFormat).toBe('text')
    expect(secretSource).toBe('XMPP_SECRET')
    // The schema's defaults agree with the core's own defaults.
    const core = resolveOptions({ service: 'xmpp://127.0.0.1:5347', domain: 'echo.localhost', secret: 'x' })
    const ours = resolveOptions(options)
    expect(ours.reconnect).toEqual(core.reconnect)
    expect(ours.queue).toEqual(core.queue)
    expect(ours.limits).toEqual(core.limits)
    expect([ours.keepalive, ours.ping, ours.requestTimeout]).toEqual([
      core.keepalive,
      core.ping,
      core.requestTimeout,
    ])
  })

  it('maps every SATELLITE_* knob to its core option', () => {
    const { options } = loadConfig({
      ...BASE,
      XMPP_SERVICE: 'xmpps://xmpp.example.org:5270',
      SATELLITE_RECONNECT_BASE_MS: '200',
      SATELLITE_RECONNECT_CAP_MS: '5000',
      SATELLITE_RECONNECT_MAX_ATTEMPTS: '7',
      SATELLITE_QUEUE_MAX: '50',
      SATELLITE_QUEUE_TTL_MS: 'infinity',
      SATELLITE_MAX_STANZA_BYTES: '65536',
      SATELLITE_CONCURRENCY: '8',
      SATELLITE_KEEPALIVE_MS: 'off',
      SATELLITE_PING_INTERVAL_MS: '15000',
      SATELLITE_PING_TIMEOUT_MS: '3000',
      SATELLITE_REQUEST_TIMEOUT_MS: '999',
      SATELLITE_LOG: 'JSON',
    })
    const r = resolveOptions(options)
    expect(r.service).toMatchObject({ tls: true, host: 'xmpp.example.org', port: 5270 })
    expect(r.reconnect).toMatchObject({ base: 200, cap: 5000, maxAttempts: 7 })
    expect(r.queue).toMatchObject({ max: 50, ttl: Number.POSITIVE_INFINITY })
    expect(r.limits).toMatchObject({ maxStanzaBytes: 65_536, concurrency: 8 })
    expect(r.keepalive).toBe(false)
    expect(r.ping).toEqual({ interval: 15_000, timeout: 3000, to: 'echo.localhost' })
    expect(r.requestTimeout).toBe(999)
    expect(loadConfig({ ...BASE, SATELLITE_RECONNECT_MAX_ATTEMPTS: 'off' }).options.reconnect).toBe(false)
    expect(loadConfig({ ...BASE, SATELLITE_LOG: 'json' }).logFormat).toBe('json')
  })

  it('names each bad setting and the value it got, all at once', () => {
    const msg = errorOf({
      ...BASE,
      SATELLITE_QUEUE_MAX: 'abc',
      SATELLITE_CONCURRENCY: '0',
      SATELLITE_REQUEST_TIMEOUT_MS: '1.5',
      SATELLITE_KEEPALIVE_MS: 'never',
      SATELLITE_LOG: 'xml',
      XMPP_SERVICE: 'http://example.org',
    })
    expect(msg).toContain('SATELLITE_QUEUE_MAX: expected a positive integer, got "abc"')
    expect(msg).toContain('SATELLITE_CONCURRENCY: expected a positive integer, got "0"')
    expect(msg).toContain('SATELLITE_REQUEST_TIMEOUT_MS: expected a positive integer, got "1.5"')
    expect(msg).toContain('SATELLITE_KEEPALIVE_MS: expected a positive integer or "off", got "never"')
    expect(msg).toContain('SATELLITE_LOG: expected "text" or "json", got "xml"')
    expect(msg).toContain(
      'XMPP_SERVICE: expected xmpp://host[:port] or xmpps://host[:port], got "http://example.org"',
    )
    expect(msg).not.toContain('hunter2-secret')
  })

  it('requires the domain and exactly one source of the secret', () => {
    expect(errorOf({ XMPP_SECRET: 's' })).toMatch(/XMPP_DOMAIN: is not set/)
    expect(errorOf({ XMPP_DOMAIN: 'a@b', XMPP_SECRET: 's' })).toMatch(/XMPP_DOMAIN: expected a domain/)
    expect(errorOf({ XMPP_DOMAIN: 'echo.localhost' })).toMatch(/XMPP_SECRET: is not set/)
    expect(errorOf({ ...BASE, XMPP_SECRET_FILE: '/nonexistent' })).toMatch(/not both/)
    expect(errorOf({ XMPP_DOMAIN: 'echo.localhost', XMPP_SECRET_FILE: '/nonexistent/secret' })).toMatch(
      /XMPP_SECRET_FILE: cannot read \/nonexistent\/secret: ENOENT/,
    )
  })

  it('reads the secret from XMPP_SECRET_FILE, trimmed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-config-'))
    writeFileSync(join(dir, 'secret'), '  file-secret\n')
    const c = loadConfig({ XMPP_DOMAIN: 'echo.localhost', XMPP_SECRET_FILE: join(dir, 'secret') })
    expect(c.options.secret).toBe('file-secret')
    expect(c.secretSource).toBe(`XMPP_SECRET_FILE (${join(dir, 'secret')})`)
    writeFileSync(join(dir, 'empty'), '\n')
    expect(errorOf({ XMPP_DOMAIN: 'echo.localhost', XMPP_SECRET_FILE: join(dir, 'empty') })).toMatch(
      /is empty/,
    )
  })

  it('prints the effective configuration with the secret redacted', () => {
    const c = loadConfig({ ...BASE, SATELLITE_PING_INTERVAL_MS: '5000' })
    const text = formatConfig(c)
    expect(text).toContain('secret = [redacted] from XMPP_SECRET\n')
    expect(text).toContain('ping.interval = 5000\n')
    expect(text).toContain('reconnect.maxAttempts = infinity\n')
    expect(text).not.toContain('hunter2-secret')
    expect(JSON.stringify(redactedConfig(c))).not.toContain('hunter2-secret')
    expect(component(c.options).options.secret).toBe('hunter2-secret') // the real options keep it
  })

  it('satellite config prints it and exits 0; exits 1 naming a bad setting', () => {
    const env = { PATH: process.env.PATH ?? '', ...BASE, SATELLITE_QUEUE_MAX: '42' }
    const ok = spawnSync(process.execPath, [bin, 'config'], { encoding: 'utf8', env, cwd: tmpdir() })
    expect(ok.status).toBe(0)
    expect(ok.stdout).toContain('queue.max = 42')
    expect(ok.stdout + ok.stderr).not.toContain('hunter2-secret')
    const json = spawnSync(process.execPath, [bin, 'config', '--json'], {
      encoding: 'utf8',
      env,
      cwd: tmpdir(),
    })
    expect(JSON.parse(json.stdout)).toMatchObject({
      queue: { max: 42 },
      reconnect: { maxAttempts: 'infinity' },
    })
    const bad = spawnSync(process.execPath, [bin, 'config'], {
      encoding: 'utf8',
      env: { ...env, SATELLITE_QUEUE_MAX: 'abc' },
      cwd: tmpdir(),
    })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toContain('SATELLITE_QUEUE_MAX: expected a positive integer, got "abc"')
  })

  it('docs/configuration.md lists every setting, generated from the schema', () => {
    const text = readFileSync(doc, 'utf8')
    const re = /(<!-- settings:start[^>]*-->\n)([\s\S]*?)(<!-- settings:end -->)/
    const table = `${settingsTable()}\n`
    if (process.env.UPDATE_SETTINGS_DOC)
      writeFileSync(
        doc,
        text.replace(re, (_m, a, _b, c) => a + table + c),
      )
    const current = re.exec(readFileSync(doc, 'utf8'))?.[2]
    expect(current, 'docs/configuration.md is out of date: rerun with UPDATE_SETTINGS_DOC=1').toBe(table)
    for (const name of SETTINGS) expect(table).toMatch(new RegExp(`^\\| \`${name}\` +\\|`, 'm'))
  })
})
