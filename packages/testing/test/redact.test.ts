// Secrets in stanzas never reach what the dev server prints: registration and login passwords,
// secret data-form values, in the routed-stanza log, in printed iq answers and in the text of
// expectation errors.
import { PassThrough } from 'node:stream'
import { format } from 'node:util'
import { ExpectTimeoutError, redactStanza, xml } from '@satellite/testing'
import createDebug from 'debug'
import { afterEach, describe, expect, it } from 'vitest'
import { type RunningCli, runCli } from '../src/cli.js'
import { connected, echoServer, rawComponent } from './helpers.js'

const PASSWORD = 'hunter2-pw'

/** A registration with the password twice: as jabber:iq:register <password/> and as a form field. */
const registration = (id: string) =>
  xml(
    'iq',
    { type: 'set', to: 'echo.localhost', id },
    xml(
      'query',
      { xmlns: 'jabber:iq:register' },
      xml('username', {}, 'alice'),
      xml('password', {}, PASSWORD),
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        xml('field', { var: 'username' }, xml('value', {}, 'alice')),
        xml('field', { var: 'password' }, xml('value', {}, `${PASSWORD}-form`)),
        xml('field', { var: 'pin', type: 'text-private' }, xml('value', {}, `${PASSWORD}-private`)),
      ),
    ),
  )

let cli: RunningCli | undefined
afterEach(async () => {
  await cli?.close()
  cli = undefined
})

describe('redaction of secrets in printed stanzas', () => {
  it('redactStanza masks passwords, secret form values and digests, and keeps everything else', () => {
    const clean = redactStanza(registration('r0')).toString()
    expect(clean).not.toContain(PASSWORD)
    expect(clean).toContain('<password>[redacted]</password>')
    expect(clean).toContain('<username>alice</username>')
    expect(clean).toContain('<field var="username"><value>alice</value></field>')
    expect(clean.match(/\[redacted\]/g)).toHaveLength(3)
    const auth = xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: 'jabber:iq:auth' }, xml('digest', {}, 'abc123')),
    )
    expect(redactStanza(auth).toString()).not.toContain('abc123')
    // XEP-0077's <key/> and a form field named key (the bridge kit's private registration field)
    const keyed = xml(
      'iq',
      { type: 'set' },
      xml(
        'query',
        { xmlns: 'jabber:iq:register' },
        xml('key', {}, 'k-secret-1'),
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          xml('field', { var: 'key' }, xml('value', {}, 'k-secret-2')),
        ),
      ),
    )
    const keyedText = redactStanza(keyed).toString()
    expect(keyedText).not.toContain('k-secret')
    expect(keyedText.match(/\[redacted\]/g)).toHaveLength(2)
    // a <key/> of another namespace (OMEMO's, say) is not a registration secret
    const omemo = xml(
      'message',
      {},
      xml('encrypted', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('key', {}, 'pub')),
    )
    expect(redactStanza(omemo)).toBe(omemo)
    const plain = xml('message', {}, xml('body', {}, 'my password is in the body'))
    expect(redactStanza(plain)).toBe(plain)
  })

  it('the dev server logs a routed registration and prints the answer without the password', async () => {
    const stdout = new PassThrough()
    const stdin = new PassThrough()
    const stderr = new PassThrough()
    let out = ''
    stdout.on('data', (d) => {
      out += String(d)
    })
    cli = await runCli(
      ['--port', '0', '--component', 'echo.localhost=secret', '--client', 'alice@localhost/cli'],
      {
        stdout,
        stderr,
        stdin,
        env: {},
      },
    )
    const c = await rawComponent(cli.server.port, 'echo.localhost', 'secret')
    stdin.write(`${registration('r1').toString()}\n`)
    await c.waitFor(`${PASSWORD}-private`)
    // the component answers with the registration, password included (as a registration get would)
    c.write(
      `<iq type='result' id='r1' from='echo.localhost' to='alice@localhost/cli'><query xmlns='jabber:iq:register'><registered/><password>${PASSWORD}</password></query></iq>`,
    )
    await expect.poll(() => out).toContain('answer: <iq')
    expect(out).toContain('alice@localhost/cli -> echo.localhost iq(set) delivered')
    expect(out).toContain('<password>[redacted]</password>')
    expect(out).not.toContain(PASSWORD)
    c.destroy()
  })

  it('the text of an expectation error lists received stanzas without their secrets', async () => {
    const server = await echoServer()
    const c = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    const conn = await server.waitForComponent('echo.localhost')
    c.write(registration('r2').attr('from', 'echo.localhost').attr('to', alice.jid).toString())
    await conn.expectStanza({ id: 'r2' })
    const error = await alice.expectStanza({ id: 'nope' }, 50).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExpectTimeoutError)
    expect((error as Error).message).toContain('<password>[redacted]</password>')
    expect((error as Error).message).not.toContain(PASSWORD)
    // the stanzas themselves are intact for the test's own assertions
    expect((error as ExpectTimeoutError).received[0]?.toString()).toContain(PASSWORD)
  })

  it('the debug log of a write dropped on a dead connection names the stanza, not its content', async () => {
    const lines: string[] = []
    const log = createDebug.log
    createDebug.log = (...args: unknown[]) => lines.push(format(...args))
    createDebug.enable('satellite:testing:connection')
    try {
      const { conn, server } = await connected()
      conn.blackhole()
      server.client('alice@localhost/a').send(registration('r3'))
      expect(lines.join('\n')).toMatch(/blackholed, dropped <iq> \(\d+ chars\)/)
      expect(lines.join('\n')).not.toContain(PASSWORD)
    } finally {
      createDebug.disable()
      createDebug.log = log
    }
  })
})
