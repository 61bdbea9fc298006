// The directory program (dist/main.js) and DIRECTORY_DB: a SQLite path never loads the PostgreSQL
// client, a postgres:// URL opens PostgreSQL (an unreachable one fails loudly, its password never
// shown), and directory() refuses a URL as `dbPath`. Runs the built program: `pnpm run build` first.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { component, isSatelliteError } from '@satellite/core'
import { testServer } from '@satellite/test-support/component'
import { afterEach, describe, expect, it } from 'vitest'
import { directory, openDirectoryStore } from '../src/service.js'
import { DOMAIN, SECRET } from './helpers.js'

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/**
 * Runs the program with a module hook that writes every module it resolves to a file, until it
 * exits, or until its output matches `until` (then SIGTERM). Returns its output and the modules.
 */
async function run(env: Record<string, string>, until?: RegExp) {
  const dir = mkdtempSync(join(tmpdir(), 'directory-program-'))
  dirs.push(dir)
  const log = join(dir, 'resolved.txt')
  writeFileSync(log, '')
  const hooks = join(dir, 'hooks.mjs')
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs'
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context)
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n')
  return r
}`,
  )
  const register = `data:text/javascript,import{register}from'node:module';register(${JSON.stringify(pathToFileURL(hooks).href)})`
  const child = spawn(process.execPath, ['--import', register, main], {
    env: { PATH: process.env.PATH ?? '', XMPP_DOMAIN: DOMAIN, XMPP_SECRET: SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
  child.stdout.on('data', (d) => {
    stdout += d
    if (until?.test(stdout)) child.kill('SIGTERM')
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const [status] = (await once(child, 'exit')) as [number | null]
  clearTimeout(timer)
  const resolved = readFileSync(log, 'utf8').split('\n').filter(Boolean)
  return { status, stdout, stderr, resolved }
}

const postgresModules = (resolved: string[]) =>
  resolved.filter((url) => /\/postgres(-store\.js|\/)/.test(url))

describe('the directory program', () => {
  it('on SQLite (a path) never loads the PostgreSQL client nor the PostgreSQL store', async () => {
    const db = join(mkdtempSync(join(tmpdir(), 'directory-db-')), 'directory.db')
    dirs.push(join(db, '..'))
    const srv = await testServer(DOMAIN, SECRET)
    const r = await run({ DIRECTORY_DB: db, XMPP_SERVICE: srv.url }, /online as/)
    expect(r.stdout).toContain(`online as ${DOMAIN} (0 entries in ${db})`)
    expect(r.resolved.some((url) => url.endsWith('/dist/sqlite-store.js'))).toBe(true)
    expect(postgresModules(r.resolved)).toEqual([])
  })

  it('DIRECTORY_DB=postgres://…: opened as PostgreSQL (an unreachable one fails loudly, its password never shown)', async () => {
    const r = await run({
      DIRECTORY_DB: 'postgres://directory:s3cret-pw@127.0.0.1:1/directory',
      XMPP_SERVICE: 'xmpp://127.0.0.1:1',
    })
    expect(r.status).toBe(1)
    expect(r.stderr).toMatch(/could not open postgres:\/\/directory:\*\*\*@127\.0\.0\.1:1\/directory/)
    expect(r.stderr).toMatch(/SAT_ERR_POSTGRES_CONNECT|connect/i)
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cret-pw')
    // the hook sees the PostgreSQL store loaded: the check above is not blind
    expect(postgresModules(r.resolved).some((url) => url.endsWith('/dist/postgres-store.js'))).toBe(true)
  })
})

describe('directory() and a postgres:// dbPath', () => {
  it('refuses it (it opens SQLite files only, synchronously), never showing the URL: openDirectoryStore() opens it', async () => {
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: SECRET })
    let err: unknown
    try {
      directory(xmpp, { dbPath: 'postgresql://directory:s3cret-pw@db.example/directory' })
    } catch (e) {
      err = e
    }
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as Error).message).toMatch(/^directory\.dbPath: .*openDirectoryStore/)
    expect((err as Error).message).not.toContain('s3cret-pw')
    const sqlite = await openDirectoryStore(':memory:')
    expect('db' in sqlite && typeof (sqlite.db as { prepare?: unknown }).prepare).toBe('function')
    await sqlite.close()
  })
})
