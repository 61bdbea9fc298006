import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { lifecycleLog, runModule } from '@satellite/cli'
import { xml } from '@satellite/core'
import { testServer } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'echo.localhost'
const SECRET = 'sécret-do-not-log-42'
const fixture = fileURLToPath(new URL('./fixtures/echo.ts', import.meta.url))
/** An embedded server for DOMAIN, closed after the test (a failure to close fails it). */
const server = () => testServer(DOMAIN, SECRET, { strict: true })
const parse = (lines: string[]) => lines.map((l) => JSON.parse(l) as Record<string, unknown>)

describe('structured lifecycle logs', () => {
  it('one JSON object per line: status, online, reconnecting (delay, reason), dropped; never the secret', async () => {
    const srv = await server()
    const lines: string[] = []
    const running = await runModule({
      module: fixture,
      env: {
        XMPP_SERVICE: srv.url,
        XMPP_DOMAIN: DOMAIN,
        XMPP_SECRET: SECRET,
        SATELLITE_LOG: 'json',
        SATELLITE_RECONNECT_BASE_MS: '50',
        SATELLITE_QUEUE_MAX: '1',
      },
      log: (l) => lines.push(l),
    })
    const conn = await srv.waitForComponent(DOMAIN)
    // Offline for a while: with full jitter, a reconnect can come back at once (and send() would not queue).
    await srv.refuseConnections(300)
    conn.drop('rst')
    await expect
      .poll(() => parse(lines).some((e) => e.msg === 'reconnecting'), { timeout: 5000, interval: 10 })
      .toBe(true)
    // While offline the queue holds one stanza; the second is dropped.
    const sends = [1, 2].map((i) =>
      running.xmpp.send(xml('message', { to: 'alice@localhost' }, xml('body', {}, `m${i}`))).catch((e) => e),
    )
    await Promise.all(sends)
    await expect
      .poll(() => parse(lines).filter((e) => e.msg === 'status' && e.status === 'online').length >= 2, {
        timeout: 5000,
        interval: 10,
      })
      .toBe(true)
    await running.stop()
    const events = parse(lines)
    for (const e of events) {
      expect(typeof e.time).toBe('string')
      expect(Number.isNaN(Date.parse(e.time as string))).toBe(false)
      expect(['info', 'warn', 'error']).toContain(e.level)
      expect(typeof e.msg).toBe('string')
    }
    expect(events.filter((e) => e.msg === 'status').map((e) => e.status)).toEqual(
      expect.arrayContaining(['connecting', 'online', 'reconnecting']),
    )
    expect(events.find((e) => e.msg === 'online')).toMatchObject({ level: 'info', jid: DOMAIN })
    const rec = events.find((e) => e.msg === 'reconnecting')
    expect(rec).toMatchObject({ level: 'warn', attempt: expect.any(Number), reason: expect.any(String) })
    expect(rec?.delay).toBeGreaterThanOrEqual(0)
    expect(events.find((e) => e.msg === 'dropped')).toMatchObject({
      level: 'warn',
      code: 'SAT_ERR_QUEUE_FULL',
      bytes: expect.any(Number),
    })
    expect(events.at(-1)).toMatchObject({ msg: 'stopped', level: 'info' })
    expect(lines.join('\n')).not.toContain(SECRET)
  })

  it('the satellite binary with --log-format json: an error with its code, never the secret', async () => {
    const srv = await testServer(DOMAIN, 'the-server-secret', { strict: true })
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url))
    const echo = fileURLToPath(new URL('../../../examples/echo-bot/dist/bot.js', import.meta.url))
    const child = spawn(process.execPath, [bin, 'run', echo, '--log-format', 'json'], {
      env: {
        PATH: process.env.PATH ?? '',
        XMPP_SERVICE: srv.url,
        XMPP_DOMAIN: DOMAIN,
        XMPP_SECRET: SECRET,
        DEBUG: 'satellite:*', // even with the debug logs on, on stderr
      },
      cwd: fileURLToPath(new URL('.', import.meta.url)),
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((r) => child.on('exit', r))
    const events = parse(out.trim().split('\n'))
    const error = events.find((e) => e.level === 'error' && e.code === 'SAT_ERR_AUTH')
    expect(error, out).toBeDefined()
    expect(error?.fatal).toBe(true)
    expect(events.at(-1)).toMatchObject({ msg: 'stopped', level: 'error', code: 'SAT_ERR_AUTH' })
    expect(code).toBe(1) // start() failed: the command exits non-zero, naming the error on stderr
    expect(err).toMatch(/^satellite: .*echo\.localhost/m)
    expect(out + err).not.toContain(SECRET)
  })

  it('never rewrites a line to hide the secret: a status that equals it is written as it is', async () => {
    // Substring redaction turned every line containing the secret into "[redacted]" (with a
    // one-letter secret: "c[redacted]nnecting"): the garbling itself told the secret.
    const secret = 'authenticating'
    const srv = await testServer(DOMAIN, secret, { strict: true })
    const lines: string[] = []
    const running = await runModule({
      module: fixture,
      env: { XMPP_SERVICE: srv.url, XMPP_DOMAIN: DOMAIN, XMPP_SECRET: secret },
      log: (l) => lines.push(l),
    })
    await running.stop()
    expect(lines).toContain('[satellite] authenticating')
    expect(lines).toContain('[satellite] connecting')
    expect(lines.join('\n')).not.toContain('[redacted]')
  })

  it('writes fields known to be secret as [redacted], at any depth; text lines are [satellite] msg', () => {
    const json: string[] = []
    lifecycleLog('json', (l) => json.push(l))('error', 'failed', {
      secret: 's3cr3t-value',
      detail: { password: 'pw-value', user: 'alice' },
      code: 'SAT_ERR_X',
    })
    expect(json[0]).not.toMatch(/s3cr3t-value|pw-value/)
    expect(JSON.parse(json[0] as string)).toMatchObject({
      level: 'error',
      msg: 'failed',
      secret: '[redacted]',
      detail: { password: '[redacted]', user: 'alice' },
      code: 'SAT_ERR_X',
    })
    const text: string[] = []
    lifecycleLog('text', (l) => text.push(l))('info', 'online', { secret: 'never-written' })
    expect(text).toEqual(['[satellite] online'])
  })
})
