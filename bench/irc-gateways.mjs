#!/usr/bin/env node
// Measures examples/irc-gateway and biboumi 9.0 side by side on this machine (issue #17;
// docs/irc-gateway.md has the results): relay latency XMPP→IRC and IRC→XMPP (p50/p99, one message
// at a time), and the RSS of each gateway process and the time to join with N bridged users, each
// joined to a channel of their own. Not a test: it prints a Markdown table and a JSON line.
//
//   pnpm run build   # examples/irc-gateway/dist
//   node bench/irc-gateways.mjs [--users 1,10,100,1000] [--messages 200] [--pace 600] [--only ours|biboumi]
//                               [--node-flags '<flags for our gateway's node; default: its start script's>']
//
// It starts its own Prosody (scripts/xmpp-server, ports 17222/17347/17348, component domains
// irc.localhost, biboumi.localhost and load.localhost), ngircd (scripts/ngircd, port 17667),
// biboumi (scripts/biboumi) and our gateway as its own process (bench/irc-gateway-process.mjs:
// examples/irc-gateway's main with the flood options from the environment), all in a temporary
// directory, and stops them at the end. The bridged users are load.localhost's users u0..uN, sent
// by a component of its own (so no account needs registering); user i joins #<g>i%127.0.0.1@domain.
// The throttles are opened for the latency runs (ours: burst 100, one line per ms; biboumi:
// throttle_limit 1000 through its "configure" ad-hoc command), so what is measured is the relay,
// not the queue; ngircd's own per-client penalty still applies.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { component, xml } from '@xmpp/component'

const root = fileURLToPath(new URL('..', import.meta.url))
// Node's flags for our gateway's process: by default those of its `start` script
// (examples/irc-gateway/package.json), so the bench measures what users run; `--node-flags ''`
// measures Node's defaults.
const startScript = JSON.parse(readFileSync(join(root, 'examples/irc-gateway/package.json'), 'utf8')).scripts
  .start
const NODE_FLAGS = (() => {
  const i = process.argv.indexOf('--node-flags')
  const flags =
    i > 0 ? process.argv[i + 1] : (/\bnode ((?:--\S+ )*)dist\/main\.js/.exec(startScript)?.[1] ?? '')
  return flags.split(' ').filter((f) => f !== '')
})()
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : dflt
}
const USERS = arg('users', '1,10,100')
  .split(',')
  .map(Number)
  .sort((a, b) => a - b)
const MESSAGES = Number(arg('messages', '200'))
const ONLY = arg('only', '')
const SERVER = '127.0.0.1'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_COMMANDS = 'http://jabber.org/protocol/commands'

const dir = mkdtempSync(join(tmpdir(), 'irc-gateways-'))
const stops = []
const log = (...a) => console.error('[irc-gateways]', ...a)

function script(name, args, env = {}) {
  const r = spawnSync(join(root, 'scripts', name), args, {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  })
  if (r.status !== 0) throw new Error(`scripts/${name} ${args.join(' ')}: ${r.stderr}`)
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
}

const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1])
const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]
}
const withTimeout = (p, ms, what) => {
  let timer
  const limit = new Promise((_, rej) => {
    timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms)
  })
  return Promise.race([p, limit]).finally(() => clearTimeout(timer))
}

/** A raw IRC client (the meter on the IRC side). */
async function ircClient(port, nick) {
  const sock = connect(port, '127.0.0.1')
  await new Promise((res, rej) => {
    sock.once('connect', res)
    sock.once('error', rej)
  })
  const waiters = []
  let buf = ''
  sock.on('data', (d) => {
    buf += d.toString('latin1')
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).replace(/\r$/, '')
      buf = buf.slice(i + 1)
      if (process.env.IRC_GATEWAYS_DEBUG) log(nick, '<', line)
      if (line.startsWith('PING ')) sock.write(`PONG ${line.slice(5)}\r\n`)
      const at = performance.now()
      for (const w of [...waiters]) if (w.match(line)) waiters.splice(waiters.indexOf(w), 1) && w.resolve(at)
    }
  })
  const c = {
    send: (l) => sock.write(`${l}\r\n`),
    wait: (match, ms = 20_000) =>
      withTimeout(new Promise((resolve) => waiters.push({ match, resolve })), ms, 'IRC line'),
    close: () => sock.destroy(),
  }
  const welcomed = c.wait((l) => / 001 /.test(l))
  c.send(`NICK ${nick}`)
  c.send(`USER ${nick} 0 * :${nick}`)
  await welcomed
  return c
}

/** The load component: XMPP users u0..uN of load.localhost. */
async function loadComponent(env) {
  const xmpp = component({
    service: `xmpp://127.0.0.1:${env.XMPP_COMPONENT_PORT}`,
    domain: env.XMPP_LOAD_DOMAIN,
    password: env.XMPP_LOAD_SECRET,
  })
  xmpp.on('error', () => {})
  const waiters = []
  xmpp.on('stanza', (el) => {
    const at = performance.now()
    if (process.env.IRC_GATEWAYS_DEBUG) log('xmpp <', String(el).slice(0, 300))
    for (const w of [...waiters])
      if (w.match(el)) waiters.splice(waiters.indexOf(w), 1) && w.resolve({ el, at })
  })
  await xmpp.start()
  let id = 0
  return {
    domain: env.XMPP_LOAD_DOMAIN,
    send: (el) => xmpp.send(el),
    wait: (match, ms = 60_000) =>
      withTimeout(new Promise((resolve) => waiters.push({ match, resolve })), ms, 'stanza'),
    async iq(from, to, child) {
      const i = `q${id++}`
      const got = this.wait((el) => el.is('iq') && el.attrs.id === i, 20_000)
      await xmpp.send(xml('iq', { type: 'set', from, to, id: i }, child))
      return (await got).el
    },
    stop: () => xmpp.stop(),
  }
}

async function configureBiboumi(load, user, domain, port) {
  const to = `${SERVER}@${domain}`
  const first = await load.iq(
    user,
    to,
    xml('command', { xmlns: NS_COMMANDS, node: 'configure', action: 'execute' }),
  )
  const sessionid = first.getChild('command', NS_COMMANDS)?.attrs.sessionid
  const field = (v, ...vals) => xml('field', { var: v }, ...vals.map((x) => xml('value', {}, x)))
  const done = await load.iq(
    user,
    to,
    xml(
      'command',
      { xmlns: NS_COMMANDS, node: 'configure', sessionid },
      xml(
        'x',
        { xmlns: 'jabber:x:data', type: 'submit' },
        field('ports', String(port)),
        field('tls_ports'),
        field('throttle_limit', '1000'),
      ),
    ),
  )
  if (done.getChild('command', NS_COMMANDS)?.attrs.status !== 'completed')
    throw new Error(`biboumi configure: ${done}`)
  if (process.env.IRC_GATEWAYS_DEBUG) log('configured', user, String(first).slice(0, 300), String(done))
}

async function measure(g, load, ircPort) {
  const user = (i) => `u${i}@${load.domain}/r`
  const room = (i) => `#${g.prefix}${i}%${SERVER}@${g.domain}`
  const out = { gateway: g.name, baselineKiB: rssKiB(g.pid), stages: [] }
  let joined = 0
  for (const n of USERS) {
    if (g.biboumi) for (let i = joined; i < n; i++) await configureBiboumi(load, user(i), g.domain, ircPort)
    const t0 = performance.now()
    const selves = []
    for (let i = joined; i < n; i++) {
      selves.push(
        load.wait(
          (el) =>
            el.is('presence') &&
            el.attrs.from === `${room(i)}/n${g.prefix}${i}` &&
            (el.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).some((s) => s.attrs.code === '110'),
          600_000,
        ),
      )
      await load.send(
        xml('presence', { from: user(i), to: `${room(i)}/n${g.prefix}${i}` }, xml('x', { xmlns: NS_MUC })),
      )
    }
    await Promise.all(selves)
    const joinMs = performance.now() - t0
    await new Promise((r) => setTimeout(r, 3000)) // let the process settle before reading its RSS
    const kib = rssKiB(g.pid)
    out.stages.push({
      users: n,
      joinMs: Math.round(joinMs),
      rssKiB: kib,
      perUserKiB: Math.round((kib - out.baselineKiB) / n),
    })
    log(g.name, n, 'users joined in', Math.round(joinMs), 'ms; RSS', kib, 'KiB')
    joined = n
    if (n === USERS[0] && MESSAGES > 0) out.latency = await latency(g, load, ircPort, user(0), room(0))
  }
  return out
}

// ngircd reads at most about 3 commands a second from a client and holds the rest back (its
// anti-flood), and @satellite/muc refuses more than 2 messages a second from an occupant after a
// burst of 10 (resource-constraint): messages are sent one at a time and at most one per PACE ms
// (default 600), so that no message waits in a queue and what is measured is the relay itself.
const PACE = Number(arg('pace', '600'))
let last = 0
const pace = async () => {
  const wait = last + PACE - performance.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  last = performance.now()
}

async function latency(g, load, ircPort, user0, room0) {
  const channel = `#${g.prefix}0`
  const meter = await ircClient(ircPort, `meter${g.prefix}`)
  const joinedSeen = meter.wait((l) => l.includes(` JOIN `) && l.includes(channel))
  meter.send(`JOIN ${channel}`)
  await joinedSeen
  const toIrc = []
  const toXmpp = []
  for (let k = 0; k < MESSAGES; k++) {
    await pace()
    const body = `x2i ${k}`
    const got = meter.wait((l) => l.endsWith(`PRIVMSG ${channel} :${body}`))
    const t0 = performance.now()
    await load.send(xml('message', { from: user0, to: room0, type: 'groupchat' }, xml('body', {}, body)))
    toIrc.push((await got) - t0)
  }
  for (let k = 0; k < MESSAGES; k++) {
    await pace()
    const body = `i2x ${k}`
    const got = load.wait(
      (el) => el.is('message') && el.attrs.to === user0 && el.getChildText('body') === body,
      20_000,
    )
    const t0 = performance.now()
    meter.send(`PRIVMSG ${channel} :${body}`)
    toXmpp.push((await got).at - t0)
  }
  meter.close()
  const r = (xs) => ({ p50: +pct(xs, 50).toFixed(1), p99: +pct(xs, 99).toFixed(1), n: xs.length })
  return { xmppToIrc: r(toIrc), ircToXmpp: r(toXmpp) }
}

async function main() {
  const env = script('xmpp-server', ['start', 'prosody', join(dir, 'prosody')], {
    PROSODY_C2S_PORT: '17222',
    PROSODY_COMPONENT_PORT: '17347',
    PROSODY_COMPONENT_TLS_PORT: '17348',
    XMPP_EXTRA_COMPONENTS:
      'irc.localhost:irc-secret,biboumi.localhost:biboumi-secret,load.localhost:load-secret',
  })
  stops.push(() => script('xmpp-server', ['stop', join(dir, 'prosody')]))
  const ircd = script('ngircd', ['start', join(dir, 'ngircd'), '17667'])
  stops.push(() => script('ngircd', ['stop', join(dir, 'ngircd')]))
  const ircPort = Number(ircd.NGIRCD_PORT)
  const load = await loadComponent(env)
  stops.push(() => load.stop())
  const results = []

  if (ONLY !== 'biboumi') {
    const p = spawn(process.execPath, [...NODE_FLAGS, join(root, 'bench', 'irc-gateway-process.mjs')], {
      env: {
        ...process.env,
        XMPP_SERVICE: `xmpp://127.0.0.1:${env.XMPP_COMPONENT_PORT}`,
        XMPP_DOMAIN: env.XMPP_IRC_DOMAIN,
        XMPP_SECRET: env.XMPP_IRC_SECRET,
        IRC_SERVERS: `${SERVER}=127.0.0.1:${ircPort}`,
        IRC_FLOOD_BURST: '100',
        IRC_FLOOD_INTERVAL: '1',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    stops.push(() => p.kill('SIGTERM'))
    await withTimeout(
      new Promise((res) => p.stdout.on('data', (d) => String(d).includes('online as') && res())),
      30_000,
      'our gateway online',
    )
    results.push(
      await measure(
        { name: 'examples/irc-gateway', domain: env.XMPP_IRC_DOMAIN, pid: p.pid, prefix: 'o' },
        load,
        ircPort,
      ),
    )
    p.kill('SIGTERM')
  }
  if (ONLY !== 'ours') {
    const b = script(
      'biboumi',
      ['start', join(dir, 'biboumi'), env.XMPP_BIBOUMI_DOMAIN, env.XMPP_COMPONENT_PORT],
      {
        BIBOUMI_SECRET: env.XMPP_BIBOUMI_SECRET,
      },
    )
    stops.push(() => script('biboumi', ['stop', join(dir, 'biboumi')]))
    results.push(
      await measure(
        {
          name: 'biboumi 9.0',
          biboumi: true,
          domain: b.BIBOUMI_DOMAIN,
          pid: Number(b.BIBOUMI_PID),
          prefix: 'b',
        },
        load,
        ircPort,
      ),
    )
  }

  console.log(
    `\n${MESSAGES} messages each way, one at a time, at most one per ${PACE} ms; users each in a channel of their own; our gateway's node flags: ${NODE_FLAGS.join(' ') || '(none)'}; ${new Date().toISOString()}\n`,
  )
  console.log(
    '| gateway | XMPP→IRC p50 / p99 | IRC→XMPP p50 / p99 | RSS idle |',
    USERS.map((n) => `${n} users: join, RSS, per user`).join(' | '),
    '|',
  )
  console.log('|---|---|---|---|', USERS.map(() => '---').join('|'), '|')
  for (const r of results) {
    const l = r.latency ?? { xmppToIrc: { p50: '-', p99: '-' }, ircToXmpp: { p50: '-', p99: '-' } }
    console.log(
      `| ${r.gateway} | ${l.xmppToIrc.p50} / ${l.xmppToIrc.p99} ms | ${l.ircToXmpp.p50} / ${l.ircToXmpp.p99} ms | ${(r.baselineKiB / 1024).toFixed(1)} MiB |`,
      r.stages
        .map(
          (s) =>
            `${(s.joinMs / 1000).toFixed(1)} s, ${(s.rssKiB / 1024).toFixed(1)} MiB, ${s.perUserKiB} KiB`,
        )
        .join(' | '),
      '|',
    )
  }
  console.log(JSON.stringify(results))
}

try {
  await main()
} finally {
  for (const stop of stops.reverse()) {
    try {
      await stop()
    } catch (err) {
      log('cleanup:', err.message)
    }
  }
  rmSync(dir, { recursive: true, force: true })
}
