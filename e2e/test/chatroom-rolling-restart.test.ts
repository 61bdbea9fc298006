// A rolling restart of the chatroom cluster on the real ejabberd 23.01 (issue #18): three
// examples/chatroom processes (CHATROOM_LEASE_TTL 15 s, one PostgreSQL database) on one domain with
// `domain_balancing: bare_destination, component_number: 3` (its own ejabberd). alice, bob and carol
// talk in twelve persistent rooms spread over the three slots (a message every 25 ms between them);
// examples/chatroom/scripts/rolling-restart.mjs restarts the three instances one at a time: each new
// process takes its predecessor's lease and, once the old one has closed its stream, its slot
// (docs/scaling.md, "A rolling restart"). Counted: every message sent is reflected, refused
// (not-acceptable from a new process until the sender rejoins: it rejoins at once) or lost (dropped
// by ejabberd while the slot was free, or in flight on the old socket); the longest gap between two
// reflections in a room; every reflected message is in the archive; every room answers afterwards.
// Then the rebalancing: one instance killed, a survivor takes its slot after the ttl; a newcomer (a
// new instance id) gets the slot from the survivor at once (no lease to wait for); killed in turn,
// its slot claimed again, the newcomer's new process (same id) gets it back the same way. And
// the script on Prosody (its own, kick_old): SIGUSR2 to the old process, the new one takes the
// domain, the old one exits 0; the same counts.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import type { PostgresDb } from '../../packages/postgres/src/index.js'
import { ownServer, type ServerInfo } from '../setup/servers.js'
import {
  everyRoomAnswersAndIsArchived as answersAndArchived,
  talker as loadTalker,
  makePersistent,
  type Talker,
  talk,
  tally,
} from './chatroom-load.js'
import { chatroomInstance, freshDatabase } from './chatroom-process.js'
import { ownServerAndDatabase } from './own-server.js'

const DOMAIN = 'rolling.localhost'
const SECRET = 'rolling-secret'
const OCCUPANT_SECRET = 'e2e rolling restart occupant secret'
const SCRIPT = fileURLToPath(new URL('../../examples/chatroom/scripts/rolling-restart.mjs', import.meta.url))
const ROOMS = Array.from({ length: 12 }, (_, i) => `talk${i}@${DOMAIN}`)

let server: ServerInfo
let admin: PostgresDb
ownServerAndDatabase(
  'ejabberd',
  {
    XMPP_EXTRA_COMPONENTS: `${DOMAIN}:${SECRET}`,
    EJABBERD_BALANCING: `${DOMAIN}:bare_destination:3`,
  },
  (s, a) => {
    server = s
    admin = a
  },
)

const service = (srv: ServerInfo) => `xmpp://${srv.XMPP_HOST}:${srv.XMPP_COMPONENT_PORT}`
const instance = (name: string, db: string, leaseTtl?: number, srv: ServerInfo = server) =>
  chatroomInstance({
    service: service(srv),
    domain: DOMAIN,
    secret: SECRET,
    db,
    occupantSecret: OCCUPANT_SECRET,
    ...(leaseTtl === undefined ? {} : { leaseTtl }),
    name,
  })

/** Runs the rolling-restart script; resolves with its JSON lines. The new processes are killed after the test. */
async function rollingRestart(
  db: string,
  leaseTtl: number | undefined,
  olds: Array<[string, number]>,
  kind: 'ejabberd' | 'prosody' = 'ejabberd',
  srv: ServerInfo = server,
) {
  const logs = mkdtempSync(join(tmpdir(), 'chatroom-rolling-'))
  const proc = spawn(
    process.execPath,
    [SCRIPT, '--server', kind, '--log-dir', logs, ...olds.map(([n, pid]) => `${n}=${pid}`)],
    {
      env: {
        ...process.env,
        XMPP_SERVICE: service(srv),
        XMPP_DOMAIN: DOMAIN,
        XMPP_SECRET: SECRET,
        CHATROOM_DB: db,
        CHATROOM_OCCUPANT_SECRET: OCCUPANT_SECRET,
        ...(leaseTtl === undefined ? {} : { CHATROOM_LEASE_TTL: String(leaseTtl) }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let out = ''
  let err = ''
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString()
  })
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString()
  })
  const code = await new Promise<number | null>((r) => proc.on('exit', (c) => r(c)))
  const lines = out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map(
      (l) =>
        JSON.parse(l) as { instance: string; old: number; pid: number; onlineMs: number; goneMs: number },
    )
  const steps = lines.map((l) => {
    const log = readFileSync(join(logs, `${l.instance}.log`), 'utf8')
    const waited = /let the slot go in (\d+) ms/.exec(log)?.[1]
    const free = /online (\d+) ms after the slot was let go/.exec(log)?.[1]
    return { ...l, waited: Number(waited), free: Number(free) }
  })
  afterTest(() => {
    for (const l of lines) {
      try {
        process.kill(l.pid, 'SIGKILL')
      } catch {}
    }
    rmSync(logs, { recursive: true, force: true })
  })
  expect(code, err).toBe(0)
  return steps
}

const talker = (user: string, srv: ServerInfo = server) => loadTalker(srv, user, ROOMS)

describe('a rolling restart of three chatroom instances on ejabberd (bare_destination, component_number 3)', () => {
  it('each new process takes its slot over from the old one: every room answers, nothing reflected is missing from the archive, the gap is short', async () => {
    const TTL = 15_000
    const db = await freshDatabase(admin, 'rolling')
    const olds = [await instance('r1', db, TTL), await instance('r2', db, TTL), await instance('r3', db, TTL)]
    const talkers = [await talker('alice'), await talker('bob'), await talker('carol')]
    await makePersistent((talkers[0] as Talker).c, ROOMS)

    const traffic = talk(talkers, ROOMS)
    await new Promise((r) => setTimeout(r, 1500))
    const started = Date.now()
    const steps = await rollingRestart(
      db,
      TTL,
      olds.map((o, i) => [`r${i + 1}`, o.proc.pid as number]),
    )
    const took = Date.now() - started
    const doneAt = Date.now()
    await new Promise((r) => setTimeout(r, 2000))
    const sent = await traffic.stop()

    // Each old process stopped by itself (exit 0) once its new process took the lease.
    for (const o of olds) {
      await expect.poll(() => o.proc.exitCode, { timeout: 5000 }).toBe(0)
      expect(o.out.join('\n')).toMatch(/handover: a new process of r\d took the lease, stopping/)
    }
    const handovers = steps.map((s) => s.goneMs)

    const {
      reflected,
      refused,
      lost,
      gap,
      gapRoom,
      silence,
      silentRoom,
      sendGap,
      pause,
      latency,
      conditions,
      rejoins,
    } = tally(talkers, sent)
    console.info(
      `rolling restart on ejabberd (3 instances, 12 rooms, a message every 25 ms, each room every 300 ms): script ${took} ms; ` +
        `old process gone ${handovers.join('/')} ms after its new one started (online ${steps.map((s) => s.onlineMs).join('/')} ms); ` +
        `sent ${sent.length}, reflected ${reflected.size}, refused ${refused.size} ${JSON.stringify(conditions)} (${rejoins} rejoins), ` +
        `lost ${lost.length}; longest gap between reflections in a room ${gap} ms (${gapRoom}), without any answer ${silence} ms (${silentRoom}); longest pause of the sender in a room ${sendGap} ms; longest time to a reflection ${latency} ms; ` +
        `each new process waited ${steps.map((s) => s.waited).join('/')} ms for the old one to let the slot go, then was online ${steps.map((s) => s.free).join('/')} ms later; ` +
        `the test's own longest pause between two sends ${pause} ms`,
    )

    await answersAndArchived(talkers, ROOMS, sent, reflected, doneAt)
    // Bounds (measured here: lost 0 to 3, a room without any answer 320 to 660 ms, the longest gap
    // between reflections 1.2 to 1.6 s): a few messages lost in the tens of milliseconds a slot is
    // free or in flight on an old socket (three handovers, 40 messages a second); a room silent for
    // about one round of its traffic (300 ms) plus those; the reflections back once each of the three
    // users has been refused once and rejoined (a lease ttl is 15 s).
    expect(reflected.size).toBeGreaterThan(sent.length * 0.7)
    expect(lost.length).toBeLessThanOrEqual(9)
    expect(silence).toBeLessThan(1500)
    expect(gap).toBeLessThan(3000)
    for (const s of steps) expect(s.waited + s.free, JSON.stringify(s)).toBeLessThan(1000)
  }, 60_000)

  it("rebalancing: a survivor holding a killed instance's slot hands it to a newcomer, or back to the instance's new process, at once", async () => {
    const TTL = 1500
    const db = await freshDatabase(admin, 'rebalance')
    const procs = [
      await instance('b1', db, TTL),
      await instance('b2', db, TTL),
      await instance('b3', db, TTL),
    ]
    const a = await talker('alice')
    let n = 0
    /** Whether `room` answers (a reflection or an error) a message within `ms`. */
    const answers = async (room: string, ms: number) => {
      const id = `alice-probe-${n++}`
      await a.c.send(clientXml('message', { to: room, type: 'groupchat', id }, clientXml('body', {}, id)))
      const deadline = Date.now() + ms
      while (Date.now() < deadline) {
        if (a.reflected.has(id) || a.refused.has(id)) return true
        await new Promise((r) => setTimeout(r, 20))
      }
      return false
    }
    const silentRooms = async () => {
      const got = await Promise.all(ROOMS.map((r) => answers(r, 700)))
      return ROOMS.filter((_, i) => !got[i])
    }
    expect(await silentRooms()).toEqual([])

    const killedAt = Date.now()
    procs[1]?.proc.kill('SIGKILL')
    const silent = await silentRooms()
    expect(silent.length).toBeGreaterThan(0)
    expect(silent.length).toBeLessThan(ROOMS.length)
    /** Polls until the silent rooms answer again (a survivor took the slot after the ttl); the time since `from`. */
    const claimedAfter = async (from: number) => {
      for (const room of silent)
        await expect.poll(() => answers(room, 500), { timeout: 15_000, interval: 100 }).toBe(true)
      return Date.now() - from
    }
    /** Starts `name`; its log line `pattern` gives the ms it waited for the survivor; every room answers then. */
    const takesTheSlot = async (name: string, pattern: RegExp) => {
      const started = Date.now()
      const p = await instance(name, db, TTL)
      const online = Date.now() - started
      const line = p.out.find((l) => pattern.test(l))
      expect(line, p.out.join('\n')).toBeDefined()
      const waited = Number(/go in (\d+) ms/.exec(line as string)?.[1])
      expect(await silentRooms()).toEqual([])
      // The slot is the new process's, not the survivor's: killing it silences the same rooms.
      const killed = Date.now()
      p.proc.kill('SIGKILL')
      expect(await silentRooms()).toEqual(silent)
      return { online, waited, killed }
    }
    const claimed = await claimedAfter(killedAt)
    // A newcomer (a new id): the survivor hands it the slot it holds for b2.
    const newcomer = await takesTheSlot('b4', /rebalance: b[13] let the slot of b2 go in \d+ ms/)
    // b4 killed in turn: a survivor takes its slot; b4's new process (same id) gets it back.
    const claimedAgain = await claimedAfter(newcomer.killed)
    const returning = await takesTheSlot('b4', /handover: survivor b[13] let the slot go in \d+ ms/)
    console.info(
      `rebalancing on ejabberd (lease ttl ${TTL} ms): ${silent.length} of ${ROOMS.length} rooms on the killed instance, answering again ${claimed} ms after the kill (a survivor's stream); ` +
        `a newcomer online ${newcomer.online} ms after its start, of which ${newcomer.waited} ms waiting for the survivor to hand it the slot; ` +
        `the newcomer killed, its slot claimed ${claimedAgain} ms later; its new process online ${returning.online} ms after its start, of which ${returning.waited} ms waiting for the survivor; ` +
        `killing the newcomer or its new process silenced the same rooms each time`,
    )
    expect(newcomer.waited).toBeLessThan(1000)
    expect(returning.waited).toBeLessThan(1000)
    expect(procs[0]?.proc.exitCode).toBeNull()
    expect(procs[2]?.proc.exitCode).toBeNull()
  }, 60_000)
})

describe('the rolling-restart script on Prosody (kick_old, one connection per domain)', () => {
  it('tells the old process (SIGUSR2) and starts the new one: it takes the domain, the old one exits 0, every room answers', async () => {
    const prosody = await ownServer('prosody', {
      XMPP_EXTRA_COMPONENTS: `${DOMAIN}:${SECRET}`,
      PROSODY_CONFLICT: 'kick_old',
    })
    afterTest(() => prosody.stop())
    const srv = prosody.info
    const db = await freshDatabase(admin, 'rollingprosody')
    const old = await instance('p1', db, undefined, srv)
    const talkers = [await talker('alice', srv), await talker('bob', srv), await talker('carol', srv)]
    await makePersistent((talkers[0] as Talker).c, ROOMS)
    const traffic = talk(talkers, ROOMS)
    await new Promise((r) => setTimeout(r, 1500))
    const started = Date.now()
    const [step] = await rollingRestart(db, undefined, [['p1', old.proc.pid as number]], 'prosody', srv)
    const took = Date.now() - started
    const doneAt = Date.now()
    await new Promise((r) => setTimeout(r, 2000))
    const sent = await traffic.stop()
    await expect.poll(() => old.proc.exitCode, { timeout: 5000 }).toBe(0)
    expect(old.out.join('\n')).toMatch(/handover: replaced by a new instance, stopping/)
    const { reflected, refused, lost, gap, silence, conditions, rejoins } = tally(talkers, sent)
    console.info(
      `rolling restart on Prosody (kick_old; 12 rooms, a message every 25 ms): script ${took} ms (SIGUSR2, then 200 ms, then the new process), ` +
        `new process online ${step?.onlineMs} ms and old one gone ${step?.goneMs} ms after its start; ` +
        `sent ${sent.length}, reflected ${reflected.size}, refused ${refused.size} ${JSON.stringify(conditions)} (${rejoins} rejoins), lost ${lost.length}; ` +
        `longest gap between reflections in a room ${gap} ms, without any answer ${silence} ms`,
    )
    await answersAndArchived(talkers, ROOMS, sent, reflected, doneAt)
    expect(reflected.size).toBeGreaterThan(sent.length * 0.7)
    expect(lost.length).toBeLessThanOrEqual(5)
    expect(silence).toBeLessThan(1500)
  }, 60_000)
})
