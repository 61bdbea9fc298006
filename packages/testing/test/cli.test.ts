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

  it('console: /iq and /disco print the answer, raw iq waits for it, /as switches client, /join and /say, /help', async () => {
    const t = io()
    const errors: string[] = []
    t.io.stderr.on('data', (d) => errors.push(String(d)))
    cli = await runCli(
      ['--port', '0', '--component', 'echo.localhost=pw', '--client', 'alice@localhost/cli'],
      t.io,
    )
    const c = await rawComponent(cli.server.port, 'echo.localhost', 'pw')
    const answerIq = (xmlns: string, payload: string) => async () => {
      const text = await c.waitFor(
        new RegExp(`<iq[^>]*type=.get.[^>]*>[\\s\\S]*?${xmlns.replace(/[#/.]/g, '.')}[\\s\\S]*?</iq>`),
      )
      const id = /id=['"]([^'"]+)['"]/.exec(text.slice(text.lastIndexOf('<iq')))?.[1]
      const from = /from=['"]([^'"]+)['"]/.exec(text.slice(text.lastIndexOf('<iq')))?.[1]
      c.write(`<iq type='result' id='${id}' from='echo.localhost' to='${from}'>${payload}</iq>`)
    }
    t.stdin.write('/disco echo.localhost\n')
    await answerIq(
      'disco#info',
      "<query xmlns='http://jabber.org/protocol/disco#info'><identity category='component' type='generic' name='Echo'/><feature var='urn:xmpp:ping'/></query>",
    )()
    await expect.poll(() => t.output()).toContain('identity component/generic "Echo"')
    expect(t.output()).toContain('feature urn:xmpp:ping')

    t.stdin.write('/iq echo.localhost jabber:iq:version\n')
    await answerIq('jabber:iq:version', "<query xmlns='jabber:iq:version'><name>echo</name></query>")()
    await expect.poll(() => t.output()).toContain('<name>echo</name>')

    t.stdin.write("<iq type='get' to='echo.localhost' id='raw1'><ping xmlns='urn:xmpp:ping'/></iq>\n")
    await answerIq('urn:xmpp:ping', '')()
    await expect.poll(() => t.output()).toMatch(/answer: <iq[^>]*id=.raw1./)

    t.stdin.write('/as bob@localhost/r\n')
    await expect.poll(() => t.output()).toContain('acting as bob@localhost/r')
    t.stdin.write('/join room@echo.localhost/bob\n')
    const presence = /<presence[^>]*to=.room@echo.localhost\/bob.[\s\S]*?<\/presence>/
    const join = presence.exec(await c.waitFor(presence))?.[0] ?? ''
    expect(join).toMatch(/from=.bob@localhost\/r./)
    expect(join).toContain('http://jabber.org/protocol/muc')
    t.stdin.write('/say room@echo.localhost hello room\n')
    await c.waitFor(/type=.groupchat.[\s\S]*<body>hello room<\/body>/)
    t.stdin.write('/clients\n')
    await expect.poll(() => t.output()).toContain('clients: bob@localhost/r, alice@localhost/cli')

    t.stdin.write('/iq\n/bogus\n/help\n')
    await expect.poll(() => errors.join('')).toContain('/join ROOM@DOMAIN/NICK')
    expect(errors.join('')).toContain('missing arguments')
    expect(errors.join('')).toContain('unknown input')
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
