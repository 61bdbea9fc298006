// Load on chatrooms from real clients (@xmpp/client over c2s) for the e2e tests that restart or
// kill chatroom instances under traffic (chatroom-rolling-restart, chatroom-failover-load): users
// in every room, a message generator, and the tally of what came back: reflected, refused (an error,
// e.g. `not-acceptable` from a process that does not know the occupant: the user rejoins at once)
// or lost (no answer at all: dropped by the server, or in flight on a dying socket).
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml, client as xmppClient } from '@xmpp/client'
import { expect } from 'vitest'
import type { ServerInfo } from '../setup/servers.js'

type El = ReturnType<typeof clientXml>
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'

/**
 * A user in every room of `rooms`: what it sent, what came back reflected (by id, when) or
 * refused (by id). `joinNow` false: the caller joins (`join`) when it wants.
 */
export async function talker(
  srv: ServerInfo,
  user: string,
  rooms: readonly string[],
  { resource = 'rolling', joinNow = true }: { resource?: string; joinNow?: boolean } = {},
) {
  const c = xmppClient({
    service: `xmpp://${srv.XMPP_HOST}:${srv.XMPP_C2S_PORT}`,
    domain: srv.XMPP_DOMAIN as string,
    resource,
    credentials: (auth: (c: { username: string; password: string }, m: string) => Promise<void>) =>
      auth({ username: user, password: srv.XMPP_PASSWORD as string }, 'PLAIN'),
  })
  c.reconnect?.stop?.()
  c.on('error', () => {})
  const reflected = new Map<string, { room: string; at: number }>()
  const refused = new Map<string, string>()
  /** Every answer (a reflection or an error) to this user's messages: id, room, time, whether an error. */
  const answered: Array<{ id: string; room: string; at: number; error: boolean }> = []
  const joined = new Set<string>()
  const rejoinedAt = new Map<string, number>()
  let rejoins = 0
  const join = (room: string) =>
    c.send(clientXml('presence', { to: `${room}/${user}` }, clientXml('x', { xmlns: NS_MUC })))
  c.on('stanza', (el: El) => {
    const from = el.attrs.from ?? ''
    const room = from.split('/')[0] as string
    if (el.is('message') && el.getChild('subject') !== undefined) joined.add(room)
    const id = el.attrs.id
    if (!el.is('message') || id === undefined || !id.startsWith(`${user}-`)) return
    // The discussion history a rejoin brings (delayed copies) is no reflection.
    if (el.getChild('delay', 'urn:xmpp:delay') !== undefined) return
    if (el.attrs.type === 'error' || from === `${room}/${user}`)
      answered.push({ id, room, at: Date.now(), error: el.attrs.type === 'error' })
    if (el.attrs.type === 'error') {
      const condition = (el.getChild('error')?.children as El[] | undefined)?.find(
        (x) => typeof x !== 'string' && x.name !== 'text',
      )?.name
      refused.set(id, condition ?? 'unknown')
      // A new process does not know this occupant yet: rejoin (once per room every 500 ms).
      if (condition === 'not-acceptable' && Date.now() - (rejoinedAt.get(room) ?? 0) > 500) {
        rejoinedAt.set(room, Date.now())
        rejoins++
        void join(room)
      }
    } else if (from === `${room}/${user}` && el.getChildText('body') !== null && !reflected.has(id))
      reflected.set(id, { room, at: Date.now() })
  })
  await c.start()
  afterTest(async () => {
    c.reconnect?.stop?.()
    await c.stop().catch(() => {})
  })
  /** Joins every room; resolves once each has sent its subject (10 s at the most). */
  const joinAll = async () => {
    for (const room of rooms) await join(room)
    await expect.poll(() => rooms.every((r) => joined.has(r)), { timeout: 10_000 }).toBe(true)
  }
  if (joinNow) await joinAll()
  return { user, c, reflected, refused, answered, rejoins: () => rejoins, join, joinAll }
}

export type Talker = Awaited<ReturnType<typeof talker>>
export type Sent = Array<{ id: string; room: string; at: number }>

/** The longest interval between two consecutive times of one room, over the rooms, and its room. */
export function longestGap(events: Iterable<{ room: string; at: number }>): [number, string] {
  const byRoom = new Map<string, number[]>()
  for (const e of events) byRoom.set(e.room, [...(byRoom.get(e.room) ?? []), e.at])
  let gap = 0
  let where = ''
  for (const [room, times] of byRoom) {
    times.sort((x, y) => x - y)
    for (let i = 1; i < times.length; i++) {
      const g = (times[i] as number) - (times[i - 1] as number)
      if (g > gap) [gap, where] = [g, room]
    }
  }
  return [gap, where]
}

/** Adds every body in `room`'s archive (MAM, one page of up to 1,000) to `bodies`. */
export async function archived(c: Talker['c'], room: string, bodies: Set<string>) {
  const queryid = `q-${room}`
  const seen = (el: El) => {
    const body = el
      .getChild('result', NS_MAM)
      ?.getChild('forwarded')
      ?.getChild('message')
      ?.getChildText('body')
    if (el.getChild('result', NS_MAM)?.attrs.queryid === queryid && body) bodies.add(body)
  }
  c.on('stanza', seen)
  try {
    await c.iqCaller.request(
      clientXml(
        'iq',
        { type: 'set', to: room },
        clientXml(
          'query',
          { xmlns: NS_MAM, queryid },
          clientXml('set', { xmlns: NS_RSM }, clientXml('max', {}, '1000')),
        ),
      ),
    )
  } finally {
    c.removeListener('stanza', seen)
  }
}

/** Submits the owner's configuration form of `room` with `fields` (var → value). */
export async function configure(c: Talker['c'], room: string, fields: Record<string, string>) {
  await c.iqCaller.request(
    clientXml(
      'iq',
      { type: 'set', to: room },
      clientXml(
        'query',
        { xmlns: NS_OWNER },
        clientXml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          ...Object.entries(fields).map(([v, value]) =>
            clientXml('field', { var: v }, clientXml('value', {}, value)),
          ),
        ),
      ),
    ),
  )
}

export async function makePersistent(c: Talker['c'], rooms: readonly string[]) {
  for (const room of rooms) await configure(c, room, { 'muc#roomconfig_persistentroom': '1' })
}

/** Traffic: a message every `every` ms, round the rooms, the users taking turns (a round each). */
export function talk(talkers: Talker[], rooms: readonly string[], every = 25) {
  let n = 0
  const sent: Sent = []
  const timer = setInterval(() => {
    const k = n++
    const t = talkers[Math.floor(k / rooms.length) % talkers.length] as Talker
    const room = rooms[k % rooms.length] as string
    const id = `${t.user}-${k}`
    sent.push({ id, room, at: Date.now() })
    void t.c
      .send(clientXml('message', { to: room, type: 'groupchat', id }, clientXml('body', {}, id)))
      .catch(() => {})
  }, every)
  return {
    /** What was sent so far (the live array). */
    sent,
    /** Stops sending; resolves a second later (the last answers in) with what was sent. */
    async stop(): Promise<Sent> {
      clearInterval(timer)
      await new Promise((r) => setTimeout(r, 1000))
      return sent
    },
  }
}

/** What came back: reflected, refused (by condition), lost; the longest gaps (see the module comment). */
export function tally(talkers: Talker[], sent: Sent) {
  const reflected = new Map<string, { room: string; at: number }>()
  const refused = new Map<string, string>()
  for (const t of talkers) {
    for (const [id, r] of t.reflected) reflected.set(id, r)
    for (const [id, why] of t.refused) refused.set(id, why)
  }
  const lost = sent.filter((s) => !reflected.has(s.id) && !refused.has(s.id))
  const [gap, gapRoom] = longestGap(reflected.values())
  const [silence, silentRoom] = longestGap(talkers.flatMap((t) => t.answered))
  // (The sender's own longest pause in a room: the machine's load delays the test's timer too.)
  const [sendGap] = longestGap(sent)
  const pause = Math.max(...sent.slice(1).map((x, i) => x.at - (sent[i]?.at ?? x.at)))
  const sentAt = new Map(sent.map((x) => [x.id, x.at]))
  const latency = Math.max(...[...reflected].map(([id, r]) => r.at - (sentAt.get(id) ?? r.at)))
  const conditions = [...refused.values()].reduce<Record<string, number>>(
    (m, c) => Object.assign(m, { [c]: (m[c] ?? 0) + 1 }),
    {},
  )
  const rejoins = talkers.reduce((s, t) => s + t.rejoins(), 0)
  return {
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
  }
}

/** Every room answered after `doneAt` (+500 ms), and everything reflected is in the archive. */
export async function everyRoomAnswersAndIsArchived(
  talkers: Talker[],
  rooms: readonly string[],
  sent: Sent,
  reflected: ReadonlyMap<string, unknown>,
  doneAt: number,
) {
  // Every room answers afterwards: a reflection of a message sent after `doneAt`, in each.
  for (const room of rooms) {
    const after = sent.filter((s) => s.room === room && s.at > doneAt + 500 && reflected.has(s.id))
    expect(after.length, room).toBeGreaterThan(0)
  }
  // Nothing reflected (acknowledged to its sender) is missing from the archive.
  const bodies = new Set<string>()
  for (const room of rooms) await archived((talkers[0] as Talker).c, room, bodies)
  const missing = [...reflected.keys()].filter((id) => !bodies.has(id))
  expect(missing).toEqual([])
}
