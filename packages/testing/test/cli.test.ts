import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningCli, runCli } from '../src/cli.js'
import { rawComponent } from './helpers.js'

function io(env: Record<string, string> = {}) {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  const stdin = new PassThrough()
  let out = ''
  stdout.on('data', (d) => {
    out += String(d)
  })
  return { io: { stdout, stderr, stdin, env }, stdin, output: () => out }
}

let cli: RunningCli | undefined
afterEach(async () => {
  await cli?.close()
  cli = undefined
})

describe('satellite-dev-server CLI', () => {
  it('starts, prints the URL, routes stdin messages and logs them without the secret', async () => {
    const t = io({ SATELLITE_DEV_SECRET: 'env-secret-123' })
    cli = await runCli(
      [
        '--port',
        '0',
        '--component',
        'echo.localhost',
        '--component',
        'dir.localhost=s3cr3t-dir',
        '--client',
        'alice@localhost/cli',
      ],
      t.io,
    )
    expect(t.output()).toContain(`listening on xmpp://127.0.0.1:${cli.server.port}`)
    expect(t.output()).toContain('components: echo.localhost, dir.localhost')
    const c = await rawComponent(cli.server.port, 'echo.localhost', 'env-secret-123')
    t.stdin.write('/msg echo.localhost hello from cli\n')
    await c.waitFor('<body>hello from cli</body>')
    c.write("<message from='echo.localhost' to='alice@localhost/cli'><body>pong</body></message>")
    await cli.clients[0]!.expectStanza({ body: 'pong' })
    await expect
      .poll(() => t.output())
      .toContain('echo.localhost -> alice@localhost/cli message delivered: "pong"')
    expect(t.output()).toContain(
      'alice@localhost/cli -> echo.localhost message(chat) delivered: "hello from cli"',
    )
    expect(t.output()).toContain('component echo.localhost authenticated')
    expect(t.output()).not.toContain('env-secret-123')
    expect(t.output()).not.toContain('s3cr3t-dir')
    c.destroy()
  })

  it('rejects a component without a secret and bad options', async () => {
    await expect(runCli(['--component', 'echo.localhost'], io().io)).rejects.toThrow(/SATELLITE_DEV_SECRET/)
    await expect(runCli([], io().io)).rejects.toThrow(/at least one --component/)
    await expect(runCli(['--component', 'a=b', '--flavour', 'openfire'], io().io)).rejects.toThrow(
      /bad --flavour/,
    )
    await expect(runCli(['--nope'], io().io)).rejects.toThrow()
  })

  it('supports the ejabberd flavour and conflict policy', async () => {
    const t = io()
    cli = await runCli(
      ['--port', '0', '--component', 'echo.localhost=x', '--flavour', 'ejabberd', '--conflict', 'kick_old'],
      t.io,
    )
    expect(cli.server.options.flavour).toBe('ejabberd')
    expect(cli.server.options.conflict).toBe('kick_old')
    expect(t.output()).toContain('(ejabberd)')
  })
})
