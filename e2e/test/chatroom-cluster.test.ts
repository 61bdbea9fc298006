// Two chatroom instances (examples/chatroom as processes, CHATROOM_LEASE_TTL) on one domain of the
// embedded server with ejabberd 23.01's fixed slots (bare_destination, component_number 2), sharing
// the e2e PostgreSQL: instance b is killed (SIGKILL); its rooms' stanzas are dropped until a takes
// over b's lease and opens one more stream (b's slot); then every room answers again, with its
// history from PostgreSQL. The time from the kill to the last room answering is printed.
import { type Element, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer, type SimulatedClient } from '@satellite/testing'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { openPostgres, type PostgresDb } from '../../packages/postgres/src/index.js'
import { chatroomInstance, freshDatabase } from './chatroom-process.js'

const DOMAIN = 'chat.localhost'
const SECRET = 'chat-secret'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const PG_URL = inject('postgres').PG_URL as string
const admins: PostgresDb[] = []
afterAll(async () => {
  for (const db of admins) await db.close()
})

async function freshDb(): Promise<string> {
  const admin = await openPostgres(PG_URL)
  admins.push(admin)
  return freshDatabase(admin, 'cluster')
}

const instance = (name: string, url: string, db: string) =>
  chatroomInstance({
    service: url,
    domain: DOMAIN,
    secret: SECRET,
    db,
    occupantSecret: 'e2e cluster occupant secret',
    leaseTtl: 1500,
    name,
  })

/** Joins `room` as alice; resolves with what the join brought, or undefined when nothing came in `ms`. */
async function tryJoin(c: SimulatedClient, room: string, ms: number): Promise<Element[] | undefined> {
  const start = c.received.length
  c.send(xml('presence', { to: `${room}/alice` }, xml('x', { xmlns: NS_MUC })))
  try {
    await c.expectStanza(
      (s) =>
        s.name === 'message' &&
        s.attrs.from?.startsWith(room) === true &&
        s.getChild('subject') !== undefined,
      ms,
    )
    return c.received.slice(start)
  } catch {
    return undefined
  }
}

describe('several chatroom instances on one domain (ejabberd slots, PostgreSQL leases)', () => {
  it("instance b is killed: its rooms go silent, then a takes b's lease and slot and every room answers with its history", async () => {
    const srv = await createServer({
      components: { [DOMAIN]: SECRET },
      conflict: 'balance',
      balance: 'bare_destination',
      componentNumber: 2,
    })
    afterTest(() => srv.close())
    const db = await freshDb()
    const a = await instance('a', srv.url, db)
    const b = await instance('b', srv.url, db)
    expect(srv.connectionsFor(DOMAIN)).toHaveLength(2)
    const alice = srv.client('alice@localhost/pc')
    const rooms = Array.from({ length: 8 }, (_, i) => `room${i}@${DOMAIN}`)
    for (const [i, room] of rooms.entries()) {
      expect(await tryJoin(alice, room, 5000), room).toBeDefined()
      await alice.request(
        xml(
          'iq',
          { type: 'set', to: room },
          xml(
            'query',
            { xmlns: NS_OWNER },
            xml(
              'x',
              { xmlns: 'jabber:x:data', type: 'submit' },
              xml('field', { var: 'muc#roomconfig_persistentroom' }, xml('value', {}, '1')),
            ),
          ),
        ),
      )
      alice.send(xml('message', { to: room, type: 'groupchat' }, xml('body', {}, `before ${i}`)))
      await alice.expectStanza((s) => s.getChildText('body') === `before ${i}`, 5000)
    }
    // Which rooms b serves: its connection is the second one (the second slot).
    const bConn = srv.connectionsFor(DOMAIN)[1]
    const onB = rooms.filter((r) => bConn?.received.some((s) => s.attrs.from?.startsWith(`${r}/`)))
    expect(onB.length).toBeGreaterThan(0)
    expect(onB.length).toBeLessThan(rooms.length)

    const killedAt = Date.now()
    b.proc.kill('SIGKILL')
    await expect.poll(() => srv.connectionsFor(DOMAIN).length).toBe(1)
    // At once: b's rooms do not answer (dropped, as ejabberd does), a's still do.
    const silent = await tryJoin(alice, onB[0] as string, 300)
    expect(silent).toBeUndefined()

    // a takes b's lease over after the ttl and opens one more stream: b's slot.
    await expect
      .poll(() => a.out.some((l) => l.includes('online')) && srv.connectionsFor(DOMAIN).length === 2, {
        timeout: 10_000,
      })
      .toBe(true)
    for (const [i, room] of rooms.entries()) {
      const got = await tryJoin(alice, room, 5000)
      expect(got, room).toBeDefined()
      expect(
        got?.some(
          (s) =>
            s.getChildText('body') === `before ${i}` && s.getChild('delay', 'urn:xmpp:delay') !== undefined,
        ),
        room,
      ).toBe(true)
    }
    console.log(
      `chatroom cluster: b killed, every room answering again after ${Date.now() - killedAt} ms (lease ttl 1500 ms)`,
    )
    expect(a.proc.exitCode).toBeNull()
  })

  it('instance b is paused (SIGSTOP) past its lease: a takes the lease; b wakes, serves nothing from its stale rooms, stops and marks itself gone; a reconnects its stream and takes the slot', async () => {
    const srv = await createServer({
      components: { [DOMAIN]: SECRET },
      conflict: 'balance',
      balance: 'bare_destination',
      componentNumber: 2,
    })
    afterTest(() => srv.close())
    const db = await freshDb()
    const a = await instance('a', srv.url, db)
    const b = await instance('b', srv.url, db)
    const alice = srv.client('alice@localhost/pc')
    const rooms = Array.from({ length: 8 }, (_, i) => `hall${i}@${DOMAIN}`)
    for (const room of rooms) expect(await tryJoin(alice, room, 5000), room).toBeDefined()
    const bConn = srv.connectionsFor(DOMAIN)[1]
    const onB = rooms.filter((r) => bConn?.received.some((s) => s.attrs.from?.startsWith(`${r}/`)))
    expect(onB.length).toBeGreaterThan(0)

    b.proc.kill('SIGSTOP')
    // a takes b's lease after the ttl; its new stream is a spare (b's connection still holds the slot).
    await expect.poll(() => srv.connectionsFor(DOMAIN).length, { timeout: 10_000 }).toBe(3)
    // Meanwhile alice writes to one of b's rooms: routed to b's (paused) connection.
    const mark = alice.received.length
    alice.send(xml('message', { to: onB[0] as string, type: 'groupchat' }, xml('body', {}, 'while b sleeps')))
    await new Promise((r) => setTimeout(r, 300))
    const wokeAt = Date.now()
    b.proc.kill('SIGCONT')
    // b finds its lease lost, stops (exit 75) and marks itself gone; a reconnects and takes the slot.
    await expect.poll(() => b.proc.exitCode, { timeout: 10_000 }).toBe(75)
    expect(b.out.join('\n')).toMatch(/expired or was taken over: stopping/)
    // Nothing was served from b's stale copy: no reflection of the message sent while it slept.
    expect(alice.received.slice(mark).some((s) => s.getChildText('body') === 'while b sleeps')).toBe(false)
    for (const room of onB) {
      await expect
        .poll(async () => (await tryJoin(alice, room, 1000)) !== undefined, {
          timeout: 10_000,
          interval: 200,
        })
        .toBe(true)
    }
    console.log(
      `chatroom cluster: b paused past its lease, b's rooms served by a ${Date.now() - wokeAt} ms after b woke`,
    )
    expect(a.proc.exitCode).toBeNull()
  })
})
