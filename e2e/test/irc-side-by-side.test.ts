// examples/irc-gateway side by side with biboumi 9.0 (Debian), issue #17: the same script
// (e2e/test/irc-side-by-side.ts: slixmpp bob joins #chan%127.0.0.1@<gateway>, carol on IRC and bob
// talk, a private message each way, Latin-1 from IRC, a 20-line paste, a nick change, leave) runs
// against both gateways, components of the same Prosody (ours on echo.localhost, biboumi on
// bridge.localhost), on the same ngircd. What must be the same is asserted for both; what
// differs is asserted apart and printed as a table (docs/irc-gateway.md has it).
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterTest } from '@satellite/test-support/cleanup'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ircGateway } from '../../examples/irc-gateway/src/gateway.js'
import { serversFromEnv } from '../../examples/irc-gateway/src/servers.js'
import { type Ngircd, startNgircd } from '../../examples/irc-gateway/test/ngircd.js'
import { RawIrcClient } from '../../examples/irc-gateway/test/raw-client.js'
import { info, realClient, satellite } from './helpers.js'
import {
  childNames,
  configureBiboumiPorts,
  features,
  identities,
  joinRoom,
  NS_MUC_USER,
  PASTE,
  type Run,
  scenario,
  utf8,
} from './irc-side-by-side.js'
import { codes, item, slixClient } from './muc-clients.js'

const run = promisify(execFile)
const biboumiScript = fileURLToPath(new URL('../../scripts/biboumi', import.meta.url))
const SERVER = '127.0.0.1'

let ircd: Ngircd
let biboumiDir: string
beforeAll(async () => {
  ircd = await startNgircd()
  biboumiDir = await mkdtemp(join(tmpdir(), 'biboumi-'))
  const s = info('prosody')
  await run(
    biboumiScript,
    ['start', biboumiDir, s.XMPP_BRIDGE_DOMAIN as string, s.XMPP_COMPONENT_PORT as string],
    {
      env: { ...process.env, BIBOUMI_SECRET: s.XMPP_BRIDGE_SECRET as string },
      timeout: 30_000,
    },
  )
})
afterAll(async () => {
  if (biboumiDir) {
    await run(biboumiScript, ['stop', biboumiDir], { timeout: 30_000 }).catch(() => {})
    await rm(biboumiDir, { recursive: true, force: true })
  }
  await ircd?.stop()
})

async function ours(): Promise<Run> {
  const xmpp = satellite('prosody') // echo.localhost
  const servers = serversFromEnv({ IRC_SERVERS: `${SERVER}=127.0.0.1:${ircd.port}` })
  const gateway = ircGateway(xmpp, { servers }) // default flood: burst 5, then 1 line per 2 s
  afterTest(() => gateway.close())
  await xmpp.start()
  const carol = await RawIrcClient.connect(ircd.port, 'carol1')
  afterTest(() => carol.close())
  const bob = await slixClient('prosody')
  try {
    return await scenario('ours', xmpp.domain, SERVER, '#sbsours', bob, carol, 'carol1', 'bobo')
  } finally {
    bob.kill()
  }
}

async function biboumi(): Promise<Run> {
  const domain = info('prosody').XMPP_BRIDGE_DOMAIN as string
  const admin = await realClient('prosody', 'bob', 'adhoc')
  const configured = await configureBiboumiPorts(admin, `${SERVER}@${domain}`, ircd.port)
  expect(configured.getChild('command')?.attrs.status).toBe('completed')
  await admin.stop()
  const carol = await RawIrcClient.connect(ircd.port, 'carol2')
  afterTest(() => carol.close())
  const bob = await slixClient('prosody')
  try {
    return await scenario('biboumi', domain, SERVER, '#sbsbib', bob, carol, 'carol2', 'bobb')
  } catch (err) {
    const log = await readFile(join(biboumiDir, 'biboumi.log'), 'utf8').catch(() => '')
    throw new Error(
      `${(err as Error).message}\nbiboumi's log ends:\n${log
        .split('\n')
        .filter((l) => / SENDING: \(| RECEIVING: <presence|RECEIVING: \(.*(NICK|ERROR|KILL)/.test(l))
        .slice(-30)
        .join('\n')}`,
    )
  } finally {
    bob.kill()
  }
}

/** What both gateways must do alike. */
function same(r: Run): void {
  const where = `(${r.label})`
  expect(r.self.attrs.from, where).toBe(`${r.room}/${r.nick}`)
  expect(codes(r.self), where).toContain(110)
  const carol = r.occupants.find((p) => p.attrs.from === `${r.room}/${r.carolNick}`)
  expect(carol && item(carol), where).toMatchObject({ role: 'moderator' })
  expect(r.subject.getChildText('subject'), where).toBe('side by side')
  expect([r.fromIrc.attrs.from, r.fromIrc.attrs.type], where).toEqual([
    `${r.room}/${r.carolNick}`,
    'groupchat',
  ])
  expect(r.ircJoin, where).toMatch(new RegExp(`^:${r.nick}!\\S+@\\S+ JOIN :?#sbs`))
  expect(r.ircLine, where).toMatch(/ PRIVMSG #sbs\w+ :hello from XMPP$/)
  expect(r.reflection.attrs.type, where).toBe('groupchat')
  expect(r.pmToIrc, where).toMatch(new RegExp(`^:${r.nick}!\\S+ PRIVMSG carol\\d :psst carol$`))
  expect(r.pmFromIrc.attrs.from, where).toBe(`${r.carolNick}%${SERVER}@${r.domain}`)
  expect(r.latin1.attrs.from, where).toBe(`${r.room}/${r.carolNick}`)
  expect(r.latin1.getChildText('body'), where).toBe('café')
  expect(
    r.paste.map((l) => utf8(l).split(' :').at(-1)),
    where,
  ).toEqual(PASTE)
  expect(r.killed, where).toBeUndefined()
  expect(r.ircNick, where).toMatch(new RegExp(`^:${r.nick}!\\S+ NICK :?${r.nick2}$`))
  expect(codes(r.nickOut), where).toContain(303)
  expect(r.nickOut.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs.nick, where).toBe(r.nick2)
  expect(codes(r.nickIn), where).toContain(110)
  expect(r.leave, where).toMatch(new RegExp(`^:${r.nick2}!\\S+ PART #sbs\\w+`))
}

const ms = (n: number) => `${Math.round(n)} ms`
const pasteSpan = (r: Run) => ms((r.paste.at(-1)?.at ?? 0) - r.pasteSentAt)
const gaps = (r: Run) => {
  const a = r.paste.map((l) => l.at)
  const d = a.slice(1).map((t, i) => t - (a[i] as number))
  return `${d.filter((x) => x < 200).length} lines within 200 ms of the previous, then ~${ms(
    d.filter((x) => x >= 200).reduce((s, x) => s + x, 0) / Math.max(1, d.filter((x) => x >= 200).length),
  )} apart`
}

/** The rows where the two differ (or may): printed, and asserted below. */
function table(a: Run, b: Run): Array<[string, string, string]> {
  const row = (name: string, f: (r: Run) => string): [string, string, string] => [name, f(a), f(b)]
  return [
    row('join: request to self-presence', (r) => ms(r.joinMs)),
    row('self-presence status codes', (r) => codes(r.self).join(' ')),
    row('self-presence children', (r) => childNames(r.self).join(', ')),
    row('carol (op) as occupant', (r) => {
      const p = r.occupants.find((o) => o.attrs.from === `${r.room}/${r.carolNick}`)
      return p ? JSON.stringify(item(p)) : 'absent'
    }),
    row('subject from', (r) => r.subject.attrs.from ?? ''),
    row('groupchat from IRC: children', (r) => childNames(r.fromIrc).join(', ')),
    row('reflection: children', (r) => childNames(r.reflection).join(', ')),
    row(
      'private message from IRC: type, children',
      (r) => `${r.pmFromIrc.attrs.type} ${childNames(r.pmFromIrc).join(', ')}`,
    ),
    row('IRC user@host of bob', (r) => r.ircJoin.split(' ')[0]?.split('!')[1] ?? ''),
    row('20-line paste: last line after', pasteSpan),
    row('20-line paste: pacing', gaps),
    row('nick change: XMPP to NICK seen on IRC', (r) => ms(r.nickMs)),
    row('nick change: unavailable codes', (r) => codes(r.nickOut).join(' ')),
    row('nick change: new presence codes', (r) => codes(r.nickIn).join(' ')),
    row('leave on IRC', (r) => r.leave.split(' ').slice(1).join(' ')),
    row('disco#info of the gateway: identities', (r) => identities(r.discoGateway).join('; ')),
    row('disco#info of the room: identities', (r) => identities(r.discoRoom).join('; ')),
    row('disco#info of the room: features', (r) => features(r.discoRoom).join(' ')),
    row('disco#info of the gateway: features', (r) => features(r.discoGateway).join(' ')),
  ]
}

describe('examples/irc-gateway side by side with biboumi 9.0, on Prosody and ngircd', () => {
  it('the same slixmpp script: same addresses, messages, order, Latin-1 and whole paste; the differences tabled', async () => {
    const a = await ours()
    const b = await biboumi()
    const rows = table(a, b)
    process.stdout.write(
      `\n| | examples/irc-gateway | biboumi 9.0 |\n|---|---|---|\n${rows
        .map((r) => `| ${r.join(' | ')} |`)
        .join('\n')}\n`,
    )
    same(a)
    same(b)

    // What differs, asserted apart (docs/irc-gateway.md explains each row).
    const NS_OID = 'occupant-id{urn:xmpp:occupant-id:0}'
    const NS_SID = 'stanza-id{urn:xmpp:sid:0}'
    // XEP-0421 occupant-id: ours on presences and messages; biboumi 9.0 has none.
    expect(childNames(a.fromIrc)).toEqual(['body', NS_OID, NS_SID])
    expect(childNames(b.fromIrc)).toEqual(['body', NS_SID])
    expect(childNames(a.self)).toContain(NS_OID)
    expect(childNames(b.self)).not.toContain(NS_OID)
    // Both give stanza-id by the room (both archive what they relayed, per user).
    expect(a.fromIrc.getChild('stanza-id')?.attrs.by).toBe(a.room)
    expect(b.fromIrc.getChild('stanza-id')?.attrs.by).toBe(b.room)
    // Self-presence: biboumi says non-anonymous (100) and "nick assigned" (210) on every join;
    // ours is semi-anonymous (IRC users' JIDs are not shown) and says 210 only when the nick
    // differs from the one asked for.
    expect(codes(a.self)).toEqual([110])
    expect(codes(b.self)).toEqual([100, 110, 210])
    const carolOf = (r: Run) => {
      const p = r.occupants.find((o) => o.attrs.from === `${r.room}/${r.carolNick}`)
      if (!p) throw new Error(`${r.label}: carol is not an occupant`)
      return item(p)
    }
    expect(carolOf(a).jid).toBeUndefined()
    expect(carolOf(b).jid).toBe(`${b.carolNick}%${SERVER}@${b.domain}`)
    // Disco identity: ours conference/text (XEP-0045's) and conference/irc, biboumi conference/irc.
    expect(identities(a.discoGateway).map((i) => i.split(' ')[0])).toEqual([
      'conference/text',
      'conference/irc',
    ])
    expect(identities(a.discoRoom).map((i) => i.split(' ')[0])).toEqual(['conference/text', 'conference/irc'])
    expect(identities(b.discoGateway)[0]).toMatch(/^conference\/irc/)
    expect(features(a.discoRoom)).toEqual(
      expect.arrayContaining(['urn:xmpp:occupant-id:0', 'muc_semianonymous']),
    )
    expect(features(b.discoRoom)).toEqual(expect.arrayContaining(['muc_nonanonymous', 'urn:xmpp:ping']))
    // Private messages from IRC: biboumi marks them no-copy and carbons-private; ours does not.
    expect(childNames(a.pmFromIrc)).toEqual(['body'])
    expect(childNames(b.pmFromIrc)).toEqual(
      expect.arrayContaining(['no-copy{urn:xmpp:hints}', 'private{urn:xmpp:carbons:2}']),
    )
    // IRC user name: ours "xmpp" for everyone, biboumi the nick.
    expect(a.ircJoin).toContain('!~xmpp@')
    expect(b.ircJoin).toContain(`!~${b.nick}@`)
    // Throttle: ours 1 line per 2 s after a burst of 5, biboumi 1 per second after 10: the
    // paste's last line cannot come sooner than (20 - burst) intervals.
    const span = (r: Run) => (r.paste.at(-1)?.at ?? 0) - r.pasteSentAt
    expect(span(a)).toBeGreaterThanOrEqual(15 * 2000 - 100)
    expect(span(b)).toBeGreaterThanOrEqual(10 * 1000 - 100)
  }, 240_000)

  it('an ngircd restart: what the XMPP user in a channel sees, and whether each gateway comes back by itself', async () => {
    const xmpp = satellite('prosody')
    const servers = serversFromEnv({ IRC_SERVERS: `${SERVER}=127.0.0.1:${ircd.port}` })
    const gateway = ircGateway(xmpp, { servers })
    afterTest(() => gateway.close())
    await xmpp.start()
    const bibDomain = info('prosody').XMPP_BRIDGE_DOMAIN as string
    const admin = await realClient('prosody', 'bob', 'adhoc2')
    await configureBiboumiPorts(admin, `${SERVER}@${bibDomain}`, ircd.port)
    await admin.stop()
    const bob = await slixClient('prosody')
    afterTest(() => bob.kill())
    const rooms = { ours: `#rsours%${SERVER}@${xmpp.domain}`, biboumi: `#rsbib%${SERVER}@${bibDomain}` }
    // The nicks asked for; the ones given are read from the self-presence (biboumi keeps bob's IRC
    // connection of the test above, with its nick, and gives that one with 210).
    const asked = { ours: 'bro', biboumi: 'brb' }
    const nicks = { ...asked }
    const join = async (g: 'ours' | 'biboumi') => {
      const self = await joinRoom(bob, rooms[g], asked[g], g)
      nicks[g] = (self.attrs.from ?? '').slice(rooms[g].length + 1)
    }
    for (const g of ['ours', 'biboumi'] as const) await join(g)
    const before = { ...nicks }
    bob.received.length = 0
    const t0 = performance.now()
    await ircd.restart()
    // What bob is told within 15 s of the restart, per gateway.
    const seen: Record<'ours' | 'biboumi', { at: number; what: string }[]> = { ours: [], biboumi: [] }
    const deadline = t0 + 15_000
    while (performance.now() < deadline) {
      const el = await bob
        .expect(() => true, Math.max(1, deadline - performance.now()))
        .catch(() => undefined)
      if (el === undefined) break
      const from = el.attrs.from ?? ''
      const g =
        from.endsWith(`@${xmpp.domain}`) || from.includes(`@${xmpp.domain}/`)
          ? 'ours'
          : from.includes(bibDomain)
            ? 'biboumi'
            : undefined
      if (g === undefined) continue
      const what = el.is('presence')
        ? `presence ${el.attrs.type ?? 'available'} ${from.split('/')[1] ?? ''} ${codes(el).join(' ')}`.trim()
        : `${el.name} ${el.attrs.type ?? ''} ${(el.getChildText('body') ?? '').slice(0, 60)}`.trim()
      seen[g].push({ at: Math.round(performance.now() - t0), what })
    }
    // Which of the two nicks are on IRC again without anyone doing anything (the gateway reconnected).
    const watcher = await RawIrcClient.connect(ircd.port, 'watcher')
    afterTest(() => watcher.close())
    watcher.send(`ISON ${before.ours} ${before.biboumi}`)
    const ison =
      (await watcher.waitFor((l) => / 303 watcher /.test(l))).line.split(':').at(-1)?.split(' ') ?? []
    // Joining again works on both.
    const rejoin: Record<string, number> = {}
    for (const g of ['ours', 'biboumi'] as const) {
      const t = performance.now()
      await join(g)
      rejoin[g] = Math.round(performance.now() - t)
    }
    process.stdout.write(
      `\n| ngircd restart | examples/irc-gateway | biboumi 9.0 |\n|---|---|---|\n` +
        `| told within 15 s | ${seen.ours.map((x) => x.what).join('; ') || 'nothing'} | ${
          seen.biboumi.map((x) => x.what).join('; ') || 'nothing'
        } |\n` +
        `| on IRC again by itself after 15 s | ${ison.includes(before.ours) ? 'yes' : 'no'} | ${ison.includes(before.biboumi) ? 'yes' : 'no'} |\n` +
        `| rejoin: request to self-presence | ${rejoin.ours} ms | ${rejoin.biboumi} ms |\n`,
    )
    // Ours: the room is closed with 110 and 332 (the service's link to it ended), and the
    // connection comes back by itself (backoff from 2 s).
    expect(seen.ours).toContainEqual(
      expect.objectContaining({ what: `presence unavailable ${before.ours} 110 332` }),
    )
    expect(ison).toContain(before.ours)
    // biboumi 9.0 closes the room the same way, but does not connect again until the user acts
    // (the rejoin then waits for a new IRC registration).
    expect(seen.biboumi).toContainEqual(
      expect.objectContaining({ what: `presence unavailable ${before.biboumi} 110 332` }),
    )
    expect(ison).not.toContain(before.biboumi)
  }, 120_000)
})
