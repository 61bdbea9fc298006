// configFromEnv(): the one reader of XMPP_SERVICE, XMPP_DOMAIN, XMPP_SECRET and XMPP_SECRET_FILE
// (satellite run, config and check build on it).
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { configFromEnv, isSatelliteError } from '@satellite/core'
import { describe, expect, it } from 'vitest'

const dir = mkdtempSync(join(tmpdir(), 'satellite-config-env-'))
const secretFile = join(dir, 'secret')
writeFileSync(secretFile, '  from-the-file\n')

/** The SatelliteError configFromEnv throws for `env`, checked to be a fatal SAT_ERR_CONFIG. */
function errorOf(env: NodeJS.ProcessEnv): Error {
  try {
    configFromEnv(env)
  } catch (err) {
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as { fatal?: boolean }).fatal).toBe(true)
    return err as Error
  }
  throw new Error('configFromEnv accepted the environment')
}

describe('configFromEnv', () => {
  it('refuses XMPP_SECRET and XMPP_SECRET_FILE both set, naming both and never the secret', () => {
    const err = errorOf({
      XMPP_DOMAIN: 'echo.localhost',
      XMPP_SECRET: 'env-secret',
      XMPP_SECRET_FILE: secretFile,
    })
    expect(err.message).toBe('XMPP_SECRET: set either XMPP_SECRET or XMPP_SECRET_FILE, not both')
    expect(err.message).not.toContain('env-secret')
    expect(err.message).not.toContain('from-the-file')
  })

  it('takes the secret from whichever one is set; a blank one counts as not set', () => {
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET: 'env-secret' }).secret).toBe('env-secret')
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: secretFile }).secret).toBe('from-the-file')
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET: '  ', XMPP_SECRET_FILE: secretFile }).secret).toBe(
      'from-the-file',
    )
    expect(configFromEnv({ XMPP_DOMAIN: 'd', XMPP_SECRET: 'env-secret', XMPP_SECRET_FILE: '' }).secret).toBe(
      'env-secret',
    )
    expect(errorOf({ XMPP_DOMAIN: 'd', XMPP_SECRET: ' \t' }).message).toBe(
      'XMPP_SECRET: is not set (set XMPP_SECRET or XMPP_SECRET_FILE)',
    )
  })

  it('names an empty or unreadable secret file by its path and the reason', () => {
    const empty = join(dir, 'empty')
    writeFileSync(empty, ' \n')
    expect(errorOf({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: empty }).message).toBe(
      `XMPP_SECRET_FILE: ${empty} is empty`,
    )
    expect(errorOf({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: join(dir, 'missing') }).message).toBe(
      `XMPP_SECRET_FILE: cannot read ${join(dir, 'missing')}: ENOENT`,
    )
    expect(errorOf({ XMPP_DOMAIN: 'd', XMPP_SECRET_FILE: dir }).message).toMatch(
      /^XMPP_SECRET_FILE: cannot read .*: EISDIR$/,
    )
  })

  it('validates the service and the domain, naming the value it got', () => {
    expect(errorOf({ XMPP_SERVICE: 'http://example.org', XMPP_DOMAIN: 'd', XMPP_SECRET: 's' }).message).toBe(
      'XMPP_SERVICE: expected xmpp://host[:port] or xmpps://host[:port], got "http://example.org"',
    )
    expect(errorOf({ XMPP_DOMAIN: 'a@b', XMPP_SECRET: 's' }).message).toBe(
      'XMPP_DOMAIN: expected a domain such as echo.localhost (no @, / or spaces), got "a@b"',
    )
    expect(errorOf({ XMPP_DOMAIN: '', XMPP_SECRET: 's' }).message).toMatch(/^XMPP_DOMAIN: is not set/)
    // surrounding whitespace is not part of the service or the domain; a trailing slash is dropped
    expect(
      configFromEnv({ XMPP_SERVICE: ' xmpps://example.org:5270/ ', XMPP_DOMAIN: ' d ', XMPP_SECRET: 's' }),
    ).toEqual({ service: 'xmpps://example.org:5270', domain: 'd', secret: 's' })
    expect(configFromEnv({ XMPP_SERVICE: '', XMPP_DOMAIN: 'd', XMPP_SECRET: 's' }).service).toBe(
      'xmpp://127.0.0.1:5347',
    )
  })

  it('lists every problem at once, one line per variable', () => {
    const err = errorOf({ XMPP_SERVICE: 'nope' })
    expect(err.message.split('\n')).toEqual([
      'XMPP_SERVICE: expected xmpp://host[:port] or xmpps://host[:port], got "nope"',
      'XMPP_DOMAIN: is not set: the component domain, e.g. echo.localhost',
      'XMPP_SECRET: is not set (set XMPP_SECRET or XMPP_SECRET_FILE)',
    ])
  })
})
