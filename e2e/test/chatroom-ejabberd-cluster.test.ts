// Issue #18's chatroom scenario on the real ejabberd 23.01: three examples/chatroom processes
// (CHATROOM_LEASE_TTL, one PostgreSQL database) on one domain with `domain_balancing:
// bare_destination, component_number: 3` (its own ejabberd: own directory, free ports). alice
// (@xmpp/client over c2s) makes twelve persistent rooms and posts in each; one instance is killed
// (SIGKILL); its rooms go silent, then a survivor takes its lease and slot and every room answers
// again with its history from PostgreSQL. The time from the kill to the last room answering is printed.
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml, client as xmppClient } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import type { PostgresDb } from '../../packages/postgres/src/index.js'
import type { ServerInfo } from '../setup/servers.js'
import { chatroomInstance, freshDatabase } from './chatroom-process.js'
import { ownServerAndDatabase } from './own-server.js'

type El = ReturnType<typeof clientXml>
const DOMAIN = 'rooms.localhost'
const SECRET = 'rooms-secret'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'

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

const instance = (name: string, db: string) =>
  chatroomInstance({
    service: `xmpp://${server.XMPP_HOST}:${server.XMPP_COMPONENT_PORT}`,
    domain: DOMAIN,
    secret: SECRET,
    db,
    occupantSecret: 'e2e ejabberd cluster occupant secret',
    leaseTtl: 1500,
    name,
  })

async function alice() {
  const c = xmppClient({
    service: `xmpp://${server.XMPP_HOST}:${server.XMPP_C2S_PORT}`,
    domain: server.XMPP_DOMAIN as string,
    resource: 'cluster',
    credentials: (auth: (c: { username: string; password: string }, m: string) => Promise<void>) =>
      auth({ username: 'alice', password: server.XMPP_PASSWORD as string }, 'PLAIN'),
  })
  c.reconnect?.stop?.()
  c.on('error', () => {})
  const received: El[] = []
  c.on('stanza', (el: El) => received.push(el))
  await c.start()
  afterTest(async () => {
    c.reconnect?.stop?.()
    await c.stop().catch(() => {})
  })
  /** Joins `room`: what the join brought, or undefined when no subject came within `ms`. */
  const join = async (room: string, ms: number): Promise<El[] | undefined> => {
    const start = received.length
    await c.send(clientXml('presence', { to: `${room}/alice` }, clientXml('x', { xmlns: NS_MUC })))
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const got = received.slice(start)
      if (got.some((el) => el.is('message') && el.attrs.from?.startsWith(room) && el.getChild('subject')))
        return got
      await new Promise((r) => setTimeout(r, 20))
    }
    return undefined
  }
  return { c, received, join }
}

describe('three chatroom instances on one ejabberd domain (bare_destination, component_number 3), PostgreSQL leases', () => {
  it('one instance killed: its rooms go silent, then a survivor takes its lease and slot and every room answers with its history', async () => {
    const db = await freshDatabase(admin, 'ejcluster')
    const procs = [await instance('c1', db), await instance('c2', db), await instance('c3', db)]
    const a = await alice()
    const rooms = Array.from({ length: 12 }, (_, i) => `room${i}@${DOMAIN}`)
    for (const [i, room] of rooms.entries()) {
      expect(await a.join(room, 5000), room).toBeDefined()
      await a.c.iqCaller.request(
        clientXml(
          'iq',
          { type: 'set', to: room },
          clientXml(
            'query',
            { xmlns: NS_OWNER },
            clientXml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              clientXml('field', { var: 'muc#roomconfig_persistentroom' }, clientXml('value', {}, '1')),
            ),
          ),
        ),
      )
      await a.c.send(
        clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, `before ${i}`)),
      )
    }
    await expect
      .poll(() =>
        rooms.every((r, i) =>
          a.received.some(
            (el) => el.attrs.from === `${r}/alice` && el.getChildText('body') === `before ${i}`,
          ),
        ),
      )
      .toBe(true)
    // Leave every room (the instance that serves it sees the leave), so the next joins are fresh.
    for (const room of rooms)
      await a.c.send(clientXml('presence', { to: `${room}/alice`, type: 'unavailable' }))
    await new Promise((r) => setTimeout(r, 300))

    const killedAt = Date.now()
    procs[1]?.proc.kill('SIGKILL')
    // Some rooms are on the killed instance's slot: at least one does not answer at once.
    const answers = await Promise.all(rooms.map((r) => a.join(r, 700)))
    const silent = rooms.filter((_, i) => answers[i] === undefined)
    expect(silent.length).toBeGreaterThan(0)
    expect(silent.length).toBeLessThan(rooms.length)
    for (const room of rooms.filter((_, i) => answers[i] !== undefined)) {
      await a.c.send(clientXml('presence', { to: `${room}/alice`, type: 'unavailable' }))
    }
    for (const room of silent) {
      await expect
        .poll(async () => (await a.join(room, 700)) !== undefined, { timeout: 15_000, interval: 100 })
        .toBe(true)
    }
    const back = Date.now() - killedAt
    for (const room of silent)
      await a.c.send(clientXml('presence', { to: `${room}/alice`, type: 'unavailable' }))
    await new Promise((r) => setTimeout(r, 300))
    for (const [i, room] of rooms.entries()) {
      const got = await a.join(room, 5000)
      expect(
        got?.some(
          (el) => el.getChildText('body') === `before ${i}` && el.getChild('delay', 'urn:xmpp:delay'),
        ),
        room,
      ).toBe(true)
    }
    console.log(
      `chatroom on ejabberd: ${silent.length} of ${rooms.length} rooms on the killed instance; all answering again ${back} ms after the kill (lease ttl 1500 ms)`,
    )
    expect(procs[0]?.proc.exitCode).toBeNull()
    expect(procs[2]?.proc.exitCode).toBeNull()
  })
})
