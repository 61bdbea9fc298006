// satellite run, config and check read XMPP_SERVICE, XMPP_DOMAIN, XMPP_SECRET and XMPP_SECRET_FILE
// with core's configFromEnv: one reader, one rule (exactly one of the two secret variables).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '@satellite/cli'
import { configFromEnv } from '@satellite/core'
import { testServer } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import { runCommand } from '../src/main.js'

const DOMAIN = 'echo.localhost'
const SECRET = 'the-right-secret'
const dir = mkdtempSync(join(tmpdir(), 'satellite-env-'))
const secretFile = join(dir, 'secret')
writeFileSync(secretFile, `${SECRET}\n`)

function io(env: NodeJS.ProcessEnv) {
  let out = ''
  let err = ''
  return {
    io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env },
    out: () => out,
    err: () => err,
  }
}

function messageOf(f: () => unknown): string {
  try {
    f()
  } catch (err) {
    expect((err as { code?: string }).code).toBe('SAT_ERR_CONFIG')
    return (err as Error).message
  }
  throw new Error('accepted')
}

describe('one reader of the XMPP_* settings', () => {
  it('loadConfig reports what configFromEnv reports, line for line, with the SATELLITE_* problems', () => {
    const env = { XMPP_SERVICE: 'http://x', XMPP_SECRET: 'env-secret-1', XMPP_SECRET_FILE: secretFile }
    const core = messageOf(() => configFromEnv(env)).split('\n')
    expect(core).toEqual([
      'XMPP_SERVICE: expected xmpp://host[:port] or xmpps://host[:port], got "http://x"',
      'XMPP_DOMAIN: is not set: the component domain, e.g. echo.localhost',
      'XMPP_SECRET: set either XMPP_SECRET or XMPP_SECRET_FILE, not both',
    ])
    const cli = messageOf(() => loadConfig({ ...env, SATELLITE_QUEUE_MAX: 'many' }))
    expect(cli).toBe(
      `invalid configuration:\n  ${[...core, 'SATELLITE_QUEUE_MAX: expected a positive integer, got "many"'].join('\n  ')}`,
    )
    expect(cli).not.toContain(SECRET)
    expect(cli).not.toContain('env-secret-1')
  })

  it('gives the same options as configFromEnv, normalized service included', () => {
    const env = {
      XMPP_SERVICE: ' xmpp://localhost:5347/ ',
      XMPP_DOMAIN: ` ${DOMAIN} `,
      XMPP_SECRET_FILE: secretFile,
    }
    const { service, domain, secret } = loadConfig(env).options
    expect({ service, domain, secret }).toEqual(configFromEnv(env))
    expect(service).toBe('xmpp://localhost:5347')
  })

  it('satellite run refuses XMPP_SECRET and XMPP_SECRET_FILE both set, and never connects', async () => {
    const srv = await testServer(DOMAIN, SECRET)
    let connections = 0
    srv.on('connection', () => connections++)
    const fixture = new URL('./fixtures/echo.ts', import.meta.url).pathname
    const t = io({
      XMPP_SERVICE: srv.url,
      XMPP_DOMAIN: DOMAIN,
      XMPP_SECRET: SECRET,
      XMPP_SECRET_FILE: secretFile,
    })
    expect(await runCommand(['run', fixture], t.io)).toBe(1)
    expect(t.err()).toBe(
      'satellite: invalid configuration:\n  XMPP_SECRET: set either XMPP_SECRET or XMPP_SECRET_FILE, not both\n',
    )
    expect(connections).toBe(0)
  })

  it('satellite check applies the same rule (exit 2), and its options override the environment', async () => {
    const srv = await testServer(DOMAIN, SECRET)
    const both = io({
      XMPP_SERVICE: srv.url,
      XMPP_DOMAIN: DOMAIN,
      XMPP_SECRET: SECRET,
      XMPP_SECRET_FILE: secretFile,
    })
    expect(await runCommand(['check'], both.io)).toBe(2)
    expect(both.err()).toMatch(
      /^satellite check: XMPP_SECRET: set either XMPP_SECRET or XMPP_SECRET_FILE, not both\n/,
    )
    expect(both.out()).toBe('')
    // --secret-file replaces XMPP_SECRET (a wrong one here): the check passes with the file's secret
    const flag = io({
      XMPP_SERVICE: 'xmpp://127.0.0.1:1',
      XMPP_DOMAIN: 'other.localhost',
      XMPP_SECRET: 'wrong-secret',
    })
    const args = ['check', '--secret-file', secretFile, '--service', srv.url, '--domain', DOMAIN]
    expect(await runCommand(args, flag.io)).toBe(0)
    expect(flag.out()).toContain(`satellite check: ${DOMAIN} at ${srv.url}`)
    expect(flag.out()).toContain('all checks passed')
    // every missing setting named, before connecting
    const none = io({})
    expect(await runCommand(['check'], none.io)).toBe(2)
    expect(none.err()).toMatch(/^satellite check: XMPP_DOMAIN: is not set/m)
    expect(none.err()).toMatch(/^satellite check: XMPP_SECRET: is not set/m)
    const unreadable = io({ XMPP_DOMAIN: DOMAIN })
    expect(await runCommand(['check', '--secret-file', join(dir, 'missing')], unreadable.io)).toBe(2)
    expect(unreadable.err()).toMatch(/^satellite check: XMPP_SECRET_FILE: cannot read .*missing: ENOENT$/m)
  })
})
