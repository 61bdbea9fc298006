// scripts/ngircd: a throwaway ngircd on loopback, configured as the gateway's tests need it.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterTest } from '@satellite/test-support/cleanup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { freePort, type Ngircd, startNgircd } from './ngircd.js'
import { RawIrcClient } from './raw-client.js'

let ircd: Ngircd

beforeAll(async () => {
  ircd = await startNgircd()
})
afterAll(async () => {
  await ircd?.stop()
})

async function raw(nick: string): Promise<RawIrcClient> {
  const c = await RawIrcClient.connect(ircd.port, nick)
  afterTest(() => c.close())
  return c
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1')
    s.once('connect', () => {
      s.destroy()
      resolve(false)
    })
    s.once('error', () => resolve(true))
  })
}

describe('scripts/ngircd', () => {
  it('runs a server on 127.0.0.1 that takes 30-character nicks and many connections from one address', async () => {
    const nick = 'a'.repeat(30)
    const c = await raw(nick)
    expect(c.lines.find((l) => / 001 /.test(l.line))?.line).toContain(` 001 ${nick} `)
    expect(c.lines.some((l) => /NICKLEN=30/.test(l.line))).toBe(true)
    // ngircd's default MaxConnectionsIP is 5: the config lifts it.
    const more = await Promise.all([1, 2, 3, 4, 5, 6, 7].map((i) => raw(`many${i}`)))
    expect(more.every((m) => !m.closed)).toBe(true)
  })

  it('writes a config readable by the user ngircd switches to, without PAM, ident or DNS', async () => {
    const conf = await readFile(`${ircd.dir}/ngircd.conf`, 'utf8')
    for (const line of [
      'Listen = 127.0.0.1',
      'MaxConnectionsIP = 0',
      'MaxNickLength = 30',
      'MaxJoins = 0',
      'PAM = no',
      'Ident = no',
      'DNS = no',
    ]) {
      expect(conf).toContain(line)
    }
    expect((await stat(`${ircd.dir}/ngircd.conf`)).mode & 0o777).toBe(0o644)
    expect((await stat(ircd.dir)).mode & 0o777).toBe(0o755)
  })

  it('restarts on the same port and stops for good', async () => {
    const before = await raw('before')
    await ircd.restart()
    await expect.poll(() => before.closed).toBe(true)
    const after = await raw('after')
    expect(after.closed).toBe(false)
    await ircd.stop()
    expect(await refused(ircd.port)).toBe(true)
  })
})

describe('scripts/irc-server', () => {
  const script = fileURLToPath(new URL('../../../scripts/irc-server', import.meta.url))
  const run = promisify(execFile)

  it('starts and stops ngircd as scripts/ngircd does, and refuses a server it does not know', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'irc-server-'))
    afterTest(() => rm(dir, { recursive: true, force: true }))
    const port = await freePort()
    const { stdout } = await run(script, ['start', 'ngircd', dir, String(port)], { timeout: 30_000 })
    afterTest(() => run(script, ['stop', dir], { timeout: 30_000 }).then(() => {}))
    expect(stdout).toContain(`NGIRCD_PORT=${port}`)
    const c = await RawIrcClient.connect(port, 'viafront')
    afterTest(() => c.close())
    expect(c.lines.some((l) => / 001 viafront /.test(l.line))).toBe(true)
    await run(script, ['stop', dir], { timeout: 30_000 })
    expect(await refused(port)).toBe(true)
    await expect(run(script, ['start', 'inspircd', dir])).rejects.toMatchObject({
      stderr: expect.stringContaining("unknown server 'inspircd'"),
    })
  })
})
