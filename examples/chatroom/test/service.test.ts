// The chatroom service on the embedded server: a persistent room configured through the form,
// its subject, settings, owner, occupant ids and archive survive a restart on the same database
// file; the `satellite run` module reads the environment and closes what it opened.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { type Component, component, type Element, xml } from '@satellite/core'
import type { SqliteMucStore } from '@satellite/muc'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient, TestServer } from '@satellite/testing'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import chatroomModule from '../src/bot.js'
import { type Chatroom, chatroom } from '../src/service.js'

const DOMAIN = 'chat.localhost'
const SECRET = 'component-secret'
const ROOM = `lobby@${DOMAIN}`
const OCCUPANT_SECRET = 'occupant ids stay the same'
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_DISCO = 'http://jabber.org/protocol/disco#info'
const NS_MAM = 'urn:xmpp:mam:2'

const dir = mkdtempSync(joinPath(tmpdir(), 'chatroom-service-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => vi.unstubAllEnvs())

/** A component with the chatroom service on `srv`, started; stopped and closed by `stop()`. */
async function start(
  srv: TestServer,
  db: string,
): Promise<{ xmpp: Component; chat: Chatroom; stop(): Promise<void> }> {
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  const chat = await chatroom(xmpp, {
    db,
    occupantSecret: OCCUPANT_SECRET,
    lockNewRooms: true,
    name: 'Test rooms',
  })
  await xmpp.start()
  return {
    xmpp,
    chat,
    async stop() {
      await chat.close()
      await xmpp.stop()
    },
  }
}

const codes = (p: Element): number[] =>
  (p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []).map((s) => Number(s.attrs.code)).sort()
const occupantId = (el: Element): string | undefined =>
  el.getChild('occupant-id', 'urn:xmpp:occupant-id:0')?.attrs.id

/** Joins and waits for the subject (the end of the join); returns what came. */
async function enter(c: SimulatedClient, nick: string): Promise<Element[]> {
  const from = c.received.length
  c.send(xml('presence', { to: `${ROOM}/${nick}` }, xml('x', { xmlns: NS_MUC })))
  await c.expectStanza((s) => s.name === 'message' && s.getChild('subject') !== undefined)
  return c.received.slice(from)
}

const field = (v: string, value: string) => xml('field', { var: v }, xml('value', {}, value))

describe('the chatroom service', () => {
  it('a persistent room configured through the form keeps its subject, settings, owner, occupant ids and archive across a restart on the same file', async () => {
    const db = joinPath(dir, 'restart.db')
    const srv = await testServer(DOMAIN, SECRET)
    const first = await start(srv, db)
    const alice = srv.client('alice@localhost/phone')
    alice.send(xml('presence', { to: `${ROOM}/Alice` }, xml('x', { xmlns: NS_MUC })))
    const created = await alice.expectStanza((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/Alice`)
    expect(codes(created)).toEqual([110, 201]) // locked (CHATROOM_LOCK_NEW_ROOMS): no subject until configured
    const aliceId = occupantId(created)
    expect(aliceId).toMatch(/^[\w-]{22}$/)

    const form = await alice.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_OWNER })))
    expect(form.getChild('query')?.getChild('x', 'jabber:x:data')?.attrs.type).toBe('form')
    await alice.request(
      xml(
        'iq',
        { type: 'set', to: ROOM },
        xml(
          'query',
          { xmlns: NS_OWNER },
          xml(
            'x',
            { xmlns: 'jabber:x:data', type: 'submit' },
            field('FORM_TYPE', 'http://jabber.org/protocol/muc#roomconfig'),
            field('muc#roomconfig_roomname', 'The Lobby'),
            field('muc#roomconfig_roomdesc', 'Where it starts'),
            field('muc#roomconfig_persistentroom', '1'),
            field('muc#roomconfig_whois', 'anyone'),
          ),
        ),
      ),
    )
    alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'Plans')))
    await alice.expectStanza((s) => s.getChildText('subject') === 'Plans')
    for (const body of ['one', 'two']) {
      alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, body)))
      await alice.expectStanza((s) => s.getChildText('body') === body)
    }
    expect(await first.chat.store.rooms()).toEqual([ROOM])
    await first.stop()
    expect((first.chat.store as SqliteMucStore).db.open).toBe(false)
    // alice was told the service went away (110 + 332).
    const gone = await alice.expectStanza((s) => s.name === 'presence' && s.attrs.type === 'unavailable')
    expect(codes(gone)).toEqual([110, 332])

    // A new process on the same file: nothing in memory, everything in the file.
    const second = await start(srv, db)
    expect(second.chat.rooms.size).toBe(0)
    const bob = srv.client('bob@localhost/pc')
    const got = await enter(bob, 'bob')
    expect(
      got.map(
        (s) => `${s.name} ${s.attrs.from} ${s.getChildText('body') ?? s.getChildText('subject') ?? codes(s)}`,
      ),
    ).toEqual([
      `presence ${ROOM}/bob 100,110`, // non-anonymous as configured; not created again (no 201), not locked
      `message ${ROOM}/Alice one`,
      `message ${ROOM}/Alice two`,
      `message ${ROOM}/Alice Plans`,
    ])
    expect(got[1]?.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp).toMatch(/^\d{4}-\d\d-\d\dT/)

    const info = await bob.request(xml('iq', { type: 'get', to: ROOM }, xml('query', { xmlns: NS_DISCO })))
    const q = info.getChild('query')
    expect(q?.getChild('identity')?.attrs).toMatchObject({
      category: 'conference',
      type: 'text',
      name: 'The Lobby',
    })
    const features = (q?.getChildren('feature') ?? []).map((f) => f.attrs.var)
    expect(features).toEqual(expect.arrayContaining(['muc_persistent', 'muc_nonanonymous', NS_MAM]))

    // The archive answers MAM after the restart.
    const from = bob.received.length
    const fin = await bob.request(
      xml('iq', { type: 'set', to: ROOM }, xml('query', { xmlns: NS_MAM, queryid: 'q' })),
    )
    const results = bob.received.slice(from).filter((s) => s.getChild('result', NS_MAM))
    expect(
      results.map((r) =>
        r.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'),
      ),
    ).toEqual(['one', 'two'])
    expect(fin.getChild('fin', NS_MAM)?.attrs.complete).toBe('true')

    // alice comes back: still the owner, with the same occupant id.
    const back = await enter(srv.client('alice@localhost/laptop'), 'Alice')
    const self = back.find((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/Alice`) as Element
    expect(self.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs).toMatchObject({
      affiliation: 'owner',
      role: 'moderator',
    })
    expect(occupantId(self)).toBe(aliceId)
    await second.stop()
  })

  it('closes the store when the engine refuses an option (a secret muc finds too short)', async () => {
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: SECRET })
    const db = joinPath(dir, 'refused.db')
    await expect(chatroom(xmpp, { db, occupantSecret: 'short' })).rejects.toThrow(
      expect.objectContaining({ code: 'SAT_ERR_CONFIG', fatal: true }),
    )
    // The file is not held open: a new service opens it and closes it at once.
    const again = await chatroom(xmpp, { db, occupantSecret: OCCUPANT_SECRET })
    await Promise.all([again.close(), again.close()]) // idempotent
    await again.close()
    expect((again.store as SqliteMucStore).db.open).toBe(false)
  })
})

describe('the satellite run module', () => {
  it('reads CHATROOM_* and serves rooms; its cleanup closes the engine and the database', async () => {
    vi.stubEnv('CHATROOM_DB', ':memory:')
    vi.stubEnv('CHATROOM_NAME', 'Module rooms')
    const srv = await testServer(DOMAIN, SECRET)
    const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
    const cleanup = await chatroomModule(xmpp)
    await xmpp.start()
    const c = srv.client('carol@localhost/r')
    const info = await c.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO })))
    expect(info.getChild('query')?.getChild('identity')?.attrs).toMatchObject({
      category: 'conference',
      name: 'Module rooms',
    })
    const got = await enter(c, 'carol')
    expect(codes(got[0] as Element)).toEqual([110, 201])
    await cleanup()
    const left = await c.expectStanza((s) => s.name === 'presence' && s.attrs.type === 'unavailable')
    expect(codes(left)).toEqual([110, 332])
    const after = await c.request(xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: NS_DISCO })))
    const ids = (after.getChild('query')?.getChildren('identity') ?? []).map((i) => i.attrs.category)
    expect(ids).not.toContain('conference')
    await xmpp.stop()
  })

  it('refuses a bad environment with every problem, installing nothing', async () => {
    vi.stubEnv('CHATROOM_DB', ':memory:')
    vi.stubEnv('CHATROOM_ARCHIVE_DAYS', 'forever')
    vi.stubEnv('CHATROOM_LOCK_NEW_ROOMS', 'sometimes')
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: SECRET })
    await expect(chatroomModule(xmpp)).rejects.toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_CONFIG',
        message:
          'CHATROOM_LOCK_NEW_ROOMS: expected true or false (1/0, yes/no), got "sometimes"\n' +
          'CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got "forever"',
      }),
    )
  })

  it('CHATROOM_ADMINS: the service admins own every room, rooms others create included', async () => {
    const srv = await testServer(DOMAIN, SECRET)
    const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
    const chat = await chatroom(xmpp, { db: ':memory:', admins: ['boss@localhost'] })
    await xmpp.start()
    try {
      const alice = srv.client('alice@localhost/pc')
      alice.send(xml('presence', { to: `${ROOM}/alice` }, xml('x', { xmlns: NS_MUC })))
      await alice.expectStanza((s) => s.name === 'message' && s.getChild('subject') !== undefined)
      const boss = srv.client('boss@localhost/pc')
      boss.send(xml('presence', { to: `${ROOM}/boss` }, xml('x', { xmlns: NS_MUC })))
      await boss.expectStanza((s) => s.name === 'message' && s.getChild('subject') !== undefined)
      expect(chat.rooms.room('lobby')?.occupants.map((o) => [o.nick, o.affiliation, o.role])).toEqual([
        ['alice', 'owner', 'moderator'],
        ['boss', 'owner', 'moderator'],
      ])
    } finally {
      await chat.close()
      await xmpp.stop()
    }
  })
})
