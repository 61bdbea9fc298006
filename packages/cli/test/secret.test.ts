// A secret shorter than SATELLITE_SECRET_MIN_LENGTH (default 8) is refused by satellite run,
// config and check, with a message that names the setting and never the secret, before
// anything connects.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig, MIN_SECRET_LENGTH } from '@satellite/cli'
import { testServer } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'
import { runCommand } from '../src/main.js'

const DOMAIN = 'echo.localhost'
const fixture = fileURLToPath(new URL('./fixtures/echo.ts', import.meta.url))

function io(env: NodeJS.ProcessEnv) {
  let out = ''
  let err = ''
  return {
    io: { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) }, env },
    out: () => out,
    err: () => err,
  }
}

function configError(env: NodeJS.ProcessEnv): string {
  try {
    loadConfig(env)
  } catch (err) {
    return (err as Error).message
  }
  throw new Error('loadConfig accepted the environment')
}

describe('minimum secret length', () => {
  it('loadConfig refuses a secret shorter than 8 characters, from the environment or a file', () => {
    expect(MIN_SECRET_LENGTH).toBe(8)
    const msg = configError({ XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'o' })
    expect(msg).toMatch(/XMPP_SECRET: shorter than 8 characters/)
    expect(msg).toMatch(/SATELLITE_SECRET_MIN_LENGTH/)
    // counted in characters, not bytes: seven accented letters are still too short
    expect(configError({ XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'ééééééé' })).toMatch(/shorter than 8/)
    expect(loadConfig({ XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'éééééééé' }).options.secret).toBe('éééééééé')
    const dir = mkdtempSync(join(tmpdir(), 'satellite-secret-'))
    writeFileSync(join(dir, 'secret'), 'short\n')
    expect(configError({ XMPP_DOMAIN: DOMAIN, XMPP_SECRET_FILE: join(dir, 'secret') })).toMatch(
      /XMPP_SECRET_FILE: shorter than 8 characters/,
    )
  })

  it('SATELLITE_SECRET_MIN_LENGTH lowers or raises the minimum; a bad value is named', () => {
    const env = { XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'short' }
    expect(loadConfig({ ...env, SATELLITE_SECRET_MIN_LENGTH: '4' }).options.secret).toBe('short')
    expect(
      configError({ ...env, XMPP_SECRET: 'sixteen-chars-ok', SATELLITE_SECRET_MIN_LENGTH: '32' }),
    ).toMatch(/shorter than 32 characters/)
    expect(configError({ ...env, SATELLITE_SECRET_MIN_LENGTH: 'zero' })).toMatch(
      /SATELLITE_SECRET_MIN_LENGTH: expected a positive integer, got "zero"/,
    )
  })

  it('satellite run with a short secret exits 1 naming the setting, and never connects', async () => {
    const srv = await testServer(DOMAIN, 'shhh')
    let connections = 0
    srv.on('connection', () => connections++)
    const t = io({ XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'shhh' })
    expect(await runCommand(['run', fixture], t.io)).toBe(1)
    expect(t.err()).toMatch(/^satellite: invalid configuration:\n {2}XMPP_SECRET: shorter than 8 characters/)
    expect(t.out() + t.err()).not.toContain('shhh')
    expect(connections).toBe(0)
  })

  it('satellite check with a short secret exits 2 naming the setting, and never connects', async () => {
    const srv = await testServer(DOMAIN, 'shhh')
    let connections = 0
    srv.on('connection', () => connections++)
    const t = io({ XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: 'shhh' })
    expect(await runCommand(['check'], t.io)).toBe(2)
    expect(t.err()).toMatch(/^satellite check: XMPP_SECRET: shorter than 8 characters/)
    expect(t.out() + t.err()).not.toContain('shhh')
    expect(connections).toBe(0)
    // with the minimum lowered it connects and the check passes
    const ok = io({
      XMPP_SERVICE: srv.url,
      XMPP_DOMAIN: DOMAIN,
      XMPP_SECRET: 'shhh',
      SATELLITE_SECRET_MIN_LENGTH: '4',
    })
    expect(await runCommand(['check'], ok.io)).toBe(0)
    expect(ok.out()).toContain('all checks passed')
  })
})

describe('satellite check reads a .env file as satellite run does', () => {
  it('--env-file F (or .env in the working directory); the environment wins; a missing file is named', async () => {
    const srv = await testServer(DOMAIN, 'env-file-secret')
    const dir = mkdtempSync(join(tmpdir(), 'satellite-envfile-'))
    const file = join(dir, 'check.env')
    writeFileSync(file, `XMPP_SERVICE=${srv.url}\nXMPP_DOMAIN=${DOMAIN}\nXMPP_SECRET=env-file-secret\n`)
    const ok = io({})
    expect(await runCommand(['check', '--env-file', file], ok.io)).toBe(0)
    expect(ok.out()).toContain('all checks passed')
    // a variable of the environment overrides the file's
    const wrong = io({ XMPP_SECRET: 'another-secret' })
    expect(await runCommand(['check', '--env-file', file], wrong.io)).toBe(1)
    const missing = io({})
    expect(await runCommand(['check', '--env-file', join(dir, 'nope.env')], missing.io)).toBe(1)
    expect(missing.err()).toMatch(/--env-file: .*nope\.env does not exist/)
  })
})
