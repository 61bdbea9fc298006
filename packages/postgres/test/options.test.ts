// What @satellite/postgres checks before talking to a server: options, URLs and their redaction,
// and a refused connection (a closed port), whose error never holds the URL's password.
import { createServer } from 'node:net'
import { inspect } from 'node:util'
import { isSatelliteError } from '@satellite/core'
import { isPostgresUrl, openPostgres, PostgresError, redactUrl } from '@satellite/postgres'
import { describe, expect, it } from 'vitest'

const SECRET = 'p@ss:w0rd/with%20odd'
const URL_WITH_SECRET = `postgres://app:${encodeURIComponent(SECRET)}@127.0.0.1:1/chat`

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('redactUrl / isPostgresUrl', () => {
  it('replaces the password, keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db.example:5432/chat?sslmode=require')).toBe(
      'postgres://app:***@db.example:5432/chat?sslmode=require',
    )
    expect(redactUrl('postgres://app@db.example/chat')).toBe('postgres://app@db.example/chat')
    expect(redactUrl(URL_WITH_SECRET)).not.toContain('w0rd')
    expect(redactUrl('s3cret not a url')).toBe('(not a URL)')
  })

  it('tells a PostgreSQL URL from a SQLite path', () => {
    expect(isPostgresUrl('postgres://h/db')).toBe(true)
    expect(isPostgresUrl('postgresql://h/db')).toBe(true)
    expect(isPostgresUrl('/var/lib/chat.db')).toBe(false)
    expect(isPostgresUrl(':memory:')).toBe(false)
  })
})

describe('openPostgres options', () => {
  it.each([
    [{ max: 0 }, /postgres\.max: must be from 1 to 1000, got 0/],
    [{ max: 1.5 }, /postgres\.max: must be an integer/],
    [{ connectTimeout: 10 }, /postgres\.connectTimeout: must be from 1000/],
    [{ idleTimeout: -1 }, /postgres\.idleTimeout/],
    [{ statementTimeout: Number.NaN }, /postgres\.statementTimeout/],
    [{ schema: 'Bad-Name' }, /postgres\.schema: must be a lower-case identifier/],
    [{ applicationName: 'x'.repeat(64) }, /postgres\.applicationName/],
  ])('refuses %o with SAT_ERR_CONFIG', async (options, message) => {
    const err = await openPostgres('postgres://127.0.0.1:1/x', options).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as Error).message).toMatch(message)
  })

  it('refuses what is not a postgres URL, without echoing it', async () => {
    const err = await openPostgres(SECRET).catch((e: unknown) => e)
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as Error).message).toBe('postgres.url: must be a postgres:// URL, got (not a URL)')
    const sqlite = await openPostgres('chat.db').catch((e: unknown) => e)
    expect((sqlite as Error).message).toMatch(/must be a postgres:\/\/ URL/)
  })

  it('refuses a bad migrations name', async () => {
    await expect(openPostgres('postgres://127.0.0.1:1/x', { name: 'has space' })).rejects.toThrow(
      /postgres\.name/,
    )
  })
})

describe('a refused connection', () => {
  it('is SAT_ERR_POSTGRES_CONNECT, names the redacted URL, never the password', async () => {
    const port = await closedPort()
    const url = URL_WITH_SECRET.replace(':1/', `:${port}/`)
    const err = await openPostgres(url, { connectTimeout: 1_000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PostgresError)
    expect((err as PostgresError).code).toBe('SAT_ERR_POSTGRES_CONNECT')
    expect((err as Error).message).toContain(`postgres://app:***@127.0.0.1:${port}/chat`)
    expect((err as Error).message).toMatch(/ECONNREFUSED/)
    for (const shown of [(err as Error).message, inspect(err, { depth: 10 }), JSON.stringify(err)]) {
      expect(shown).not.toContain(SECRET)
      expect(shown).not.toContain(encodeURIComponent(SECRET))
    }
  })
})
