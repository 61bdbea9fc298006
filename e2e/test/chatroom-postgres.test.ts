// The chatroom example (examples/chatroom) on PostgreSQL (CHATROOM_DB=postgres://…, the database
// of e2e/setup's throwaway PostgreSQL 15) through real Prosody and ejabberd: alice creates a room
// and makes it persistent with the configuration form, sets a subject and talks; the service
// stops and a new instance starts on the same database (as a restart or a deploy would): bob gets
// the history and the subject, the archive answers MAM under the stanza-ids alice saw live, and
// alice is still the owner with the same occupant id. The restart time is printed.
import { xml as clientXml } from '@xmpp/client'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { type Chatroom, chatroom } from '../../examples/chatroom/src/service.js'
import { openPostgres, type PostgresDb } from '../../packages/postgres/src/index.js'
import { info, KINDS, type Kind, type RealClient, realClient, satellite } from './helpers.js'

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_DISCO = 'http://jabber.org/protocol/disco#info'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_SID = 'urn:xmpp:sid:0'
const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'
const OCCUPANT_SECRET = 'e2e chatroom occupant secret on postgres'

type El = ReturnType<typeof clientXml>

const PG_URL = inject('postgres').PG_URL as string
const admins: PostgresDb[] = []
afterAll(async () => {
  for (const db of admins) await db.close()
})

/** A new empty database on the e2e PostgreSQL: its URL (the form CHATROOM_DB takes). */
async function freshDatabase(kind: Kind): Promise<string> {
  const admin = await openPostgres(PG_URL)
  admins.push(admin)
  const name = `chatroom_${kind}_${process.pid}_${Date.now()}`
  await admin.sql.unsafe(`CREATE DATABASE ${name}`)
  const u = new URL(PG_URL)
  u.pathname = `/${name}`
  return u.toString()
}

const codes = (p: El): number[] =>
  ((p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []) as El[])
    .map((c) => Number(c.attrs.code))
    .sort()
const occupantId = (el: El): string | undefined => el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id
const field = (v: string, value: string) => clientXml('field', { var: v }, clientXml('value', {}, value))

/** The chatroom service on `kind`'s echo domain with its rooms in `db`, started. */
async function service(kind: Kind, db: string): Promise<{ chat: Chatroom; stop(): Promise<void> }> {
  const xmpp = satellite(kind)
  const chat = await chatroom(xmpp, {
    db,
    occupantSecret: OCCUPANT_SECRET,
    name: 'E2E chatrooms on PostgreSQL',
  })
  await xmpp.start()
  return {
    chat,
    async stop() {
      await chat.close()
      await xmpp.stop()
    },
  }
}

/** Joins `room` as `nick`, waits for the subject (the end of the join); returns what came, in order. */
async function enter(c: RealClient, room: string, nick: string): Promise<El[]> {
  const from = c.received.length
  await c.send(clientXml('presence', { to: `${room}/${nick}` }, clientXml('x', { xmlns: NS_MUC })))
  const isSubject = (el: El) =>
    el.is('message') && el.attrs.from?.startsWith(`${room}/`) && el.getChild('subject') !== undefined
  await expect.poll(() => c.received.slice(from).some(isSubject), { timeout: 5_000 }).toBe(true)
  return c.received.slice(from)
}

describe.each(KINDS)('examples/chatroom on PostgreSQL through %s', (kind: Kind) => {
  it('a persistent room keeps its settings, subject, owner, occupant ids and MAM archive when a new instance starts on the same database', async () => {
    const db = await freshDatabase(kind)
    const room = `hall-${kind}@${info(kind).XMPP_ECHO_DOMAIN}`
    const first = await service(kind, db)

    // alice creates the room, makes it persistent and non-anonymous, sets a subject and talks.
    const alice = await realClient(kind, 'alice', 'chatroom-pg')
    await alice.send(clientXml('presence', { to: `${room}/alice` }, clientXml('x', { xmlns: NS_MUC })))
    const created = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/alice`)
    expect(codes(created)).toEqual([110, 201])
    const aliceId = occupantId(created)
    expect(aliceId).toMatch(/^[\w-]{22}$/)
    await alice.request(
      clientXml(
        'iq',
        { type: 'set', to: room },
        clientXml(
          'query',
          { xmlns: NS_OWNER },
          clientXml(
            'x',
            { xmlns: 'jabber:x:data', type: 'submit' },
            field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
            field('muc#roomconfig_roomname', 'The Hall'),
            field('muc#roomconfig_persistentroom', '1'),
            field('muc#roomconfig_whois', 'anyone'),
          ),
        ),
      ),
    )
    await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('subject', {}, 'Plans')))
    await alice.expect((el) => el.is('message') && el.getChildText('subject') === 'Plans')
    const live: El[] = []
    for (const text of ['one', 'two']) {
      await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, text)))
      live.push(await alice.expect((el) => el.is('message') && el.getChildText('body') === text))
    }
    const sids = live.map((m) => m.getChild('stanza-id', NS_SID)?.attrs.id as string)
    expect(await first.chat.store.rooms()).toEqual([room])
    // No wait for the archive: the stop comes right after the last reflection (the service waits for
    // the engine's writes in flight before it closes the pool).

    // The restart: the service stops (alice told 110+332), a new instance starts on the same database.
    const t0 = performance.now()
    await first.stop()
    const gone = await alice.expect((el) => el.is('presence') && el.attrs.type === 'unavailable')
    expect(codes(gone)).toEqual([110, 332])
    const t1 = performance.now()
    const second = await service(kind, db)
    const restarted = performance.now()
    expect(second.chat.rooms.size).toBe(0) // nothing in memory: loaded from PostgreSQL on the first stanza

    const bob = await realClient(kind, 'bob', 'chatroom-pg')
    const tJoin = performance.now()
    const got = await enter(bob, room, 'bob')
    const joined = performance.now()
    const seen = got.filter((el) => el.attrs.from?.startsWith(`${room}/`))
    expect(
      seen.map(
        (el) =>
          `${el.name} ${el.attrs.from} ${el.getChildText('body') ?? el.getChildText('subject') ?? codes(el)}`,
      ),
    ).toEqual([
      `presence ${room}/bob 100,110`, // non-anonymous as configured; not created again (no 201)
      `message ${room}/alice one`,
      `message ${room}/alice two`,
      `message ${room}/alice Plans`,
    ])
    expect(seen[1]?.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT/)

    const disco = await bob.request(
      clientXml('iq', { type: 'get', to: room }, clientXml('query', { xmlns: NS_DISCO })),
    )
    const q = disco.getChild('query') as El
    expect(q.getChild('identity')?.attrs).toMatchObject({ category: 'conference', name: 'The Hall' })
    const features = (q.getChildren('feature') as El[]).map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining(['muc_persistent', 'muc_nonanonymous', NS_MAM]))

    // The archive answers MAM after the restart, under the stanza-ids alice saw live.
    const mam = await bob.request(
      clientXml(
        'iq',
        { type: 'set', to: room },
        clientXml('query', { xmlns: NS_MAM, queryid: 'after-restart' }),
      ),
    )
    const results = bob.received.filter(
      (m) => m.getChild('result', NS_MAM)?.attrs.queryid === 'after-restart',
    )
    expect(results.map((r) => r.getChild('result', NS_MAM)?.attrs.id)).toEqual(sids)
    expect(
      results.map((r) =>
        r.getChild('result', NS_MAM)?.getChild('forwarded')?.getChild('message')?.getChildText('body'),
      ),
    ).toEqual(['one', 'two'])
    expect(mam.getChild('fin', NS_MAM)?.attrs.complete).toBe('true')

    // alice comes back: still the owner, with the same occupant id.
    const back = await enter(alice, room, 'alice')
    const self = back.find((el) => el.is('presence') && el.attrs.from === `${room}/alice`) as El
    expect(self.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs).toMatchObject({
      affiliation: 'owner',
      role: 'moderator',
    })
    expect(occupantId(self)).toBe(aliceId)
    await second.stop()
    process.stderr.write(
      `chatroom on PostgreSQL through ${kind}: stop ${Math.round(t1 - t0)} ms, ` +
        `start of the new instance (pool, migrations checked, component handshake) ${Math.round(restarted - t1)} ms, ` +
        `first join of the room loaded from PostgreSQL ${Math.round(joined - tJoin)} ms\n`,
    )
  })
})
