// Issue #18, "Several instances", on the real ejabberd 23.01: its own server (own directory, free
// ports, so the run's shared servers are untouched) started with
// EJABBERD_BALANCING=balanced.localhost:bare_destination:3. Three instances of one component
// (three component() objects) each answer with their own name; a real client (alice over c2s)
// writes to 60 bare JIDs of the domain. Shown: the 60 JIDs stick to 3 slots; the slot of a
// stopped instance drops its stanzas silently; a survivor's openStream() takes exactly that slot
// (60/60 again, the dead one's JIDs answered by the survivor); a connection made while every slot
// is taken receives nothing, and does not take a slot that frees later: it must open a new stream;
// a stream opened at once after a SIGKILL takes the slot (the measurements are printed).
// "Nothing arrived" is checked behind a barrier: one more message to a JID of every live slot,
// sent after the round (c2s routes in order), and once more at the end of the test.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Component, component, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml, client as xmppClient } from '@xmpp/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ownServer, type ServerInfo } from '../setup/servers.js'

const DOMAIN = 'balanced.localhost'
const SECRET = 'balanced-secret'
const SLOTS = 3
const JIDS = Array.from({ length: 60 }, (_, i) => `user${i + 1}@${DOMAIN}`)
const script = fileURLToPath(new URL('../../scripts/xmpp-server', import.meta.url))
const e2eDir = fileURLToPath(new URL('..', import.meta.url))

let server: ServerInfo
let own: { info: ServerInfo; stop(): void } | undefined

beforeAll(async () => {
  own = await ownServer('ejabberd', {
    XMPP_EXTRA_COMPONENTS: `${DOMAIN}:${SECRET}`,
    EJABBERD_BALANCING: `${DOMAIN}:bare_destination:${SLOTS}`,
  })
  server = own.info
}, 120_000)

afterAll(() => own?.stop())

/** One instance of the balanced component, answering every chat message with its name. */
function instance(name: string): Component {
  const xmpp = component({
    service: `xmpp://${server.XMPP_HOST}:${server.XMPP_COMPONENT_PORT}`,
    domain: DOMAIN,
    secret: SECRET,
    reconnect: { base: 50, cap: 500, conflictFloor: 1000 },
  })
  xmpp.message({ type: 'chat' }, (m) => {
    const { from, to, id } = m.attrs
    return xmpp.send(xml('message', { from: to, to: from, id, type: 'chat' }, xml('body', {}, name)))
  })
  afterTest(() => xmpp.stop())
  return xmpp
}

/**
 * The same instance in a process of its own, so that it can be killed (SIGKILL: no stream close,
 * the kernel closes its socket). Resolves once it is online.
 */
async function processInstance(name: string): Promise<ChildProcess> {
  const code = `
    import { component, xml } from '@satellite/core'
    const [service, domain, secret, name] = process.argv.slice(1)
    const xmpp = component({ service, domain, secret })
    xmpp.message({ type: 'chat' }, (m) => xmpp.send(xml('message',
      { from: m.attrs.to, to: m.attrs.from, id: m.attrs.id, type: 'chat' }, xml('body', {}, name))))
    await xmpp.start()
    process.stdout.write('online\\n')`
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      code,
      `xmpp://${server.XMPP_HOST}:${server.XMPP_COMPONENT_PORT}`,
      DOMAIN,
      SECRET,
      name,
    ],
    { cwd: e2eDir, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  afterTest(() => child.kill('SIGKILL'))
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('online') && resolve())
    child.on('exit', (status) =>
      reject(new Error(`instance ${name} exited (${status}) before it was online`)),
    )
  })
  return child
}

type Answer = { from: string; body: string; at: number }

/** alice over c2s: sends chat messages, keeps every answer by message id. */
async function alice() {
  const c = xmppClient({
    service: `xmpp://${server.XMPP_HOST}:${server.XMPP_C2S_PORT}`,
    domain: server.XMPP_DOMAIN as string,
    resource: 'balancing',
    credentials: (auth: (c: { username: string; password: string }, m: string) => Promise<void>) =>
      auth({ username: 'alice', password: server.XMPP_PASSWORD as string }, 'PLAIN'),
  })
  c.reconnect?.stop?.()
  c.on('error', () => {})
  const answers = new Map<string, Answer>()
  c.on('stanza', (el: ReturnType<typeof clientXml>) => {
    const body = el.getChildText('body')
    if (el.name === 'message' && body !== null && el.attrs.id !== undefined) {
      answers.set(el.attrs.id, { from: el.attrs.from, body, at: performance.now() })
    }
  })
  await c.start()
  afterTest(async () => {
    c.reconnect?.stop?.()
    await c.stop().catch(() => {})
  })
  const send = (to: string, id: string) =>
    c.send(clientXml('message', { to, id, type: 'chat' }, clientXml('body', {}, 'who serves me?')))
  return { answers, send }
}

type Alice = Awaited<ReturnType<typeof alice>>

/**
 * Writes to the 60 JIDs, then once more to each barrier JID (one per live slot); resolves once
 * every barrier message is answered, with who answered each of the 60 (absent: no answer).
 */
async function round(a: Alice, label: string, barrier: string[]): Promise<Map<string, string>> {
  for (const [i, jid] of JIDS.entries()) await a.send(jid, `${label}-${i}`)
  for (const [i, jid] of barrier.entries()) await a.send(jid, `${label}-barrier-${i}`)
  const ids =
    barrier.length > 0 ? barrier.map((_, i) => `${label}-barrier-${i}`) : JIDS.map((_, i) => `${label}-${i}`)
  await expect
    .poll(() => ids.filter((id) => !a.answers.has(id)), { timeout: 10_000, interval: 20 })
    .toEqual([])
  return answeredBy(a, label)
}

function answeredBy(a: Alice, label: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const [i, jid] of JIDS.entries()) {
    const answer = a.answers.get(`${label}-${i}`)
    if (answer !== undefined) {
      expect(answer.from).toBe(jid) // answered from the JID written to
      out.set(jid, answer.body)
    }
  }
  return out
}

const jidsOf = (by: Map<string, string>, name: string) => JIDS.filter((j) => by.get(j) === name)
const count = (by: Map<string, string>) =>
  Object.fromEntries(['A', 'B', 'C', 'D', 'E'].map((n) => [n, jidsOf(by, n).length]))

describe('ejabberd domain_balancing bare_destination, component_number 3', () => {
  it('prints the setting back and writes it into ejabberd.yml', () => {
    expect(server.XMPP_BALANCING).toBe(`${DOMAIN}:bare_destination:${SLOTS}`)
    expect(server.XMPP_BALANCED_DOMAIN).toBe(DOMAIN)
  })

  it('sticky slots; a dead slot drops until a survivor opens one more stream; a spare gets nothing', async () => {
    const a = await alice()
    // One after the other: slots 1, 2, 3. B runs in a process of its own, to be killed.
    const A = instance('A')
    await A.start()
    const B = await processInstance('B')
    const C = instance('C')
    await C.start()

    // 1. Every JID answered, each by one instance, spread over the three slots.
    const first = await round(a, 'r1', [])
    expect(first.size).toBe(60)
    const slotA = jidsOf(first, 'A')
    const slotB = jidsOf(first, 'B')
    const slotC = jidsOf(first, 'C')
    for (const slot of [slotA, slotB, slotC]) expect(slot.length).toBeGreaterThan(0)
    // Sticky: the same JIDs to the same instances again.
    expect(await round(a, 'r1b', [slotA[0], slotB[0], slotC[0]] as string[])).toEqual(first)

    // 2. B is killed: its slot's stanzas are dropped, silently; the others are served as before.
    const exited = new Promise((resolve) => B.once('exit', resolve))
    B.kill('SIGKILL')
    await exited
    const stoppedAt = performance.now()
    const second = await round(a, 'r2', [slotA[0], slotC[0]] as string[])
    expect(jidsOf(second, 'A')).toEqual(slotA)
    expect(jidsOf(second, 'C')).toEqual(slotC)
    expect(jidsOf(second, 'B')).toEqual([])
    expect(second.size).toBe(60 - slotB.length)

    // 3. A survivor opens one more stream: it takes exactly B's slot.
    const openedAt = performance.now()
    const extra = A.openStream()
    await extra.start()
    const onlineMs = performance.now() - openedAt
    expect(A.streams).toBe(2)
    await a.send(slotB[0] as string, 'claim')
    await expect.poll(() => a.answers.get('claim')?.body, { timeout: 5000, interval: 5 }).toBe('A')
    const claimMs = (a.answers.get('claim') as Answer).at - openedAt
    const sinceStopMs = (a.answers.get('claim') as Answer).at - stoppedAt
    const third = await round(a, 'r3', [slotA[0], slotB[0], slotC[0]] as string[])
    expect(third.size).toBe(60)
    expect(jidsOf(third, 'A')).toEqual([...slotA, ...slotB].sort((x, y) => JIDS.indexOf(x) - JIDS.indexOf(y)))
    expect(jidsOf(third, 'C')).toEqual(slotC)

    // 4. A spare connection while every slot is taken: accepted, and it receives nothing.
    const D = instance('D')
    await D.start()
    const fourth = await round(a, 'r4', [slotA[0], slotB[0], slotC[0]] as string[])
    expect(fourth).toEqual(third)
    expect(jidsOf(fourth, 'D')).toEqual([])

    // 5. C stops with the spare connected: the spare does not take C's slot (dropped), until it
    // opens a new stream, which does.
    await C.stop()
    const fifth = await round(a, 'r5', [slotA[0], slotB[0]] as string[])
    expect(fifth.size).toBe(60 - slotC.length)
    expect(slotC.filter((j) => fifth.has(j))).toEqual([])
    const spare = D.openStream()
    await spare.start()
    const sixth = await round(a, 'r6', [slotA[0], slotB[0], slotC[0]] as string[])
    expect(sixth.size).toBe(60)
    expect(jidsOf(sixth, 'D')).toEqual(slotC)

    // 6. A closed extra stream frees its slot: a new instance E takes it. E is killed, and A
    // opens a stream at once (no round in between): it takes the slot as soon as E is gone.
    await extra.close()
    expect(A.streams).toBe(1)
    const E = await processInstance('E')
    const seventh = await round(a, 'r7', [slotA[0], slotB[0], slotC[0]] as string[])
    expect(jidsOf(seventh, 'E')).toEqual(slotB)
    const gone = new Promise((resolve) => E.once('exit', resolve))
    const killedAt = performance.now()
    E.kill('SIGKILL')
    await gone
    const again = A.openStream()
    await again.start()
    await a.send(slotB[0] as string, 'at-once')
    await expect.poll(() => a.answers.get('at-once')?.body, { timeout: 5000, interval: 5 }).toBe('A')
    const atOnceMs = (a.answers.get('at-once') as Answer).at - killedAt
    const eighth = await round(a, 'r8', [slotA[0], slotB[0], slotC[0]] as string[])
    expect(eighth).toEqual(sixth)

    // The dropped ones stayed dropped (not late): still unanswered now, rounds later.
    expect(answeredBy(a, 'r2').size).toBe(60 - slotB.length)
    expect(answeredBy(a, 'r5').size).toBe(60 - slotC.length)
    console.log(
      `ejabberd ${server.XMPP_SERVER_VERSION} bare_destination x${SLOTS}, 60 JIDs: ` +
        `slots ${JSON.stringify(count(first))}; B killed: ${second.size}/60 answered; ` +
        `A.openStream(): online in ${onlineMs.toFixed(0)} ms, first answer on B's slot ` +
        `${claimMs.toFixed(0)} ms after openStream() (${sinceStopMs.toFixed(0)} ms after B was killed, ` +
        `a drop round in between), then ${third.size}/60 ${JSON.stringify(count(third))}; ` +
        `spare D: ${jidsOf(fourth, 'D').length} received; C stopped with D connected: ${fifth.size}/60; ` +
        `D.openStream(): ${JSON.stringify(count(sixth))}; E killed, A.openStream() at once: ` +
        `B's slot answered by A ${atOnceMs.toFixed(0)} ms after the kill`,
    )
  }, 60_000)
})

describe('EJABBERD_BALANCING', () => {
  it('refuses a value ejabberd would refuse or crash on, before creating anything', () => {
    const tmp = mkdtempSync(join(tmpdir(), 'xs-balancing-refused-'))
    try {
      for (const [value, extra, message] of [
        ['balanced.localhost', '', /is not domain:type:number/],
        ['balanced.localhost:bare_destination', '', /is not domain:type:number/],
        ['balanced.localhost:bare_destination:3', '', /balanced.localhost is not a component domain/],
        [
          'echo.localhost:sticky:3',
          '',
          /must be random, source, destination, bare_source or bare_destination/,
        ],
        ['echo.localhost:bare_destination:1', '', /must be 2 to 1000/],
        ['echo.localhost:bare_destination:1001', '', /must be 2 to 1000/],
        ['echo.localhost:random:2,echo.localhost:source:2', '', /echo.localhost is given twice/],
        ['poll.localhost:bare_source:x', 'poll.localhost:s', /must be 2 to 1000/],
      ] as const) {
        const r = spawnSync(script, ['start', 'ejabberd'], {
          encoding: 'utf8',
          timeout: 30_000,
          env: { ...process.env, EJABBERD_BALANCING: value, XMPP_EXTRA_COMPONENTS: extra, TMPDIR: tmp },
        })
        expect(r.status, value).not.toBe(0)
        expect(r.stderr).toMatch(message)
      }
      expect(readdirSync(tmp)).toEqual([])
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })
})
