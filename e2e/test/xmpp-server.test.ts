// scripts/xmpp-server's own component domains (XMPP_EXTRA_COMPONENTS), on a second Prosody
// started on free ports next to the run's servers (2 s; a second ejabberd would cost 10 s, and
// its configuration writes every domain with the same loop as the fixed ones, which the run's
// ejabberd uses): printed like the fixed ones and as docs/servers.md shows, accepted by the
// server, covered by the certificate; bad values refused before anything is created.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { component, isSatelliteError } from '@satellite/core'
import { afterAll, describe, expect, it } from 'vitest'
import { type ServerInfo, stopServer } from '../setup/servers.js'

const script = fileURLToPath(new URL('../../scripts/xmpp-server', import.meta.url))
const docs = fileURLToPath(new URL('../../docs/servers.md', import.meta.url))
const EXTRA = 'poll.localhost:poll-secret,other-bot.localhost:other-secret'

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

function run(args: string[], env: Record<string, string>) {
  return spawnSync(script, args, { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } })
}

function parse(text: string): ServerInfo {
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
}

/** The keys of the sample output in docs/servers.md, in order. */
function documentedKeys(): string[] {
  const text = readFileSync(docs, 'utf8')
  const block = /<!-- xmpp-server-output -->\s*```\n([\s\S]*?)```/.exec(text)?.[1] ?? ''
  return Object.keys(parse(block))
}

const started: string[] = []
afterAll(() => {
  for (const dir of started) stopServer(dir)
  for (const dir of started) rmSync(dir, { recursive: true, force: true })
})

describe('XMPP_EXTRA_COMPONENTS', () => {
  it('adds the domains, prints them like the fixed ones, and the server accepts them', async () => {
    const ports: Record<string, string> = {
      PROSODY_C2S_PORT: String(await freePort()),
      PROSODY_COMPONENT_PORT: String(await freePort()),
      PROSODY_COMPONENT_TLS_PORT: String(await freePort()),
    }
    const dir = mkdtempSync(join(tmpdir(), 'xs-extra-prosody-'))
    started.push(dir)
    const r = run(['start', 'prosody', dir], { ...ports, XMPP_EXTRA_COMPONENTS: EXTRA })
    expect(r.status, r.stderr).toBe(0)
    const s = parse(r.stdout)
    expect(s).toMatchObject({
      XMPP_POLL_DOMAIN: 'poll.localhost',
      XMPP_POLL_SECRET: 'poll-secret',
      XMPP_OTHER_BOT_DOMAIN: 'other-bot.localhost',
      XMPP_OTHER_BOT_SECRET: 'other-secret',
      XMPP_EXTRA_DOMAINS: 'poll.localhost,other-bot.localhost',
      XMPP_CHAT_DOMAIN: 'chat.localhost', // examples/chatroom's fixed domain
      XMPP_CHAT_SECRET: 'chat-secret',
    })
    // docs/servers.md shows the output with one extra domain, poll.localhost
    const keys = Object.keys(s).filter((k) => !k.startsWith('XMPP_OTHER_BOT_'))
    expect(keys).toEqual(documentedKeys())

    for (const [domain, secret] of [
      ['poll.localhost', 'poll-secret'],
      ['other-bot.localhost', 'other-secret'],
      ['echo.localhost', 'echo-secret'],
      ['chat.localhost', 'chat-secret'],
    ] as const) {
      const xmpp = component({ service: `xmpp://127.0.0.1:${s.XMPP_COMPONENT_PORT}`, domain, secret })
      await xmpp.start()
      await xmpp.stop()
    }
    // direct TLS: the certificate names the extra domains too
    const tls = component({
      service: `xmpps://127.0.0.1:${s.XMPP_COMPONENT_TLS_PORT}`,
      domain: 'poll.localhost',
      secret: 'poll-secret',
      tls: { ca: readFileSync(s.XMPP_CA_FILE as string, 'utf8'), servername: 'poll.localhost' },
    })
    await tls.start()
    await tls.stop()
    const wrong = component({
      service: `xmpp://127.0.0.1:${s.XMPP_COMPONENT_PORT}`,
      domain: 'poll.localhost',
      secret: 'not-the-secret',
    })
    const error = await wrong.start().catch((e: unknown) => e)
    await wrong.stop()
    expect(isSatelliteError(error, 'SAT_ERR_AUTH')).toBe(true)
  })
})

it('refuses a value it cannot use before creating anything', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'xs-refused-'))
  try {
    for (const [value, message] of [
      ['poll.localhost', /'poll.localhost' is not domain:secret/],
      ['Poll.localhost:x', /not a lower-case domain/],
      ['poll.localhost:"x"', /must be letters, digits/],
      ['echo.localhost:x', /echo.localhost is already a component domain/],
      ['chat.localhost:x', /chat.localhost is already a component domain/],
      ['chat.example.org:x', /would print XMPP_CHAT_DOMAIN/],
      ['poll.localhost:x,poll.example.org:y', /would print XMPP_POLL_DOMAIN/],
    ] as const) {
      const r = run(['start', 'prosody'], { XMPP_EXTRA_COMPONENTS: value, TMPDIR: tmp })
      expect(r.status).not.toBe(0)
      expect(r.stderr).toMatch(message)
    }
    expect(readdirSync(tmp)).toEqual([])
  } finally {
    rmSync(tmp, { recursive: true, force: true })
  }
})
