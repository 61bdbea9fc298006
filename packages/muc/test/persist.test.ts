// Persistent rooms in the store: saved on creation and when they change, loaded on their first
// stanza after a restart (a new service on the same SQLite file).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { xml } from '@satellite/core'
import { MemoryStore, type MucStore, muc, SqliteMucStore } from '@satellite/muc'
import { afterAll, describe, expect, it } from 'vitest'
import { brief, codes, groupchat, item, join, nextStanzas, ROOM, setup } from './helpers.js'

const dir = mkdtempSync(joinPath(tmpdir(), 'muc-persist-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('persistent rooms', () => {
  it('come back after a restart on the same SQLite file with their subject, settings, owner and history', async () => {
    const path = joinPath(dir, 'restart.db')
    const first = new SqliteMucStore({ path })
    const { xmpp, service, client } = await setup({
      store: first,
      defaults: { persistent: true, whois: 'anyone' },
    })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const a0 = alice.received.length
    alice.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'Plans')))
    alice.send(groupchat('one'))
    alice.send(groupchat('two'))
    await nextStanzas(alice, 3, a0)
    service.close()
    first.close()
    expect(first.db.open).toBe(false)

    // A new service and store: the room is not in memory, only in the file.
    const second = new SqliteMucStore({ path })
    const again = muc(xmpp, { store: second, defaults: { persistent: false, whois: 'moderators' } })
    expect(again.size).toBe(0)
    const bob = client('bob@localhost/pc')
    const got = await join(bob, ROOM, 'bob')
    expect(got.map(brief)).toEqual([
      `presence ${ROOM}/bob [100,110]`, // non-anonymous, as configured then; not created (no 201)
      `message groupchat ${ROOM}/Alice delayed one`,
      `message groupchat ${ROOM}/Alice delayed two`,
      `message groupchat ${ROOM}/Alice subject`,
    ])
    expect(got.at(-1)?.getChildText('subject')).toBe('Plans')
    expect(again.room('lobby')).toMatchObject({ persistent: true, subject: 'Plans' })
    // Alice is still the owner.
    const alice2 = client('alice@localhost/laptop')
    const joined = await join(alice2, ROOM, 'Alice')
    const self = joined.find((s) => s.name === 'presence' && codes(s).includes(110))
    expect(item(self as never)).toMatchObject({ affiliation: 'owner', role: 'moderator' })
    again.close()
    second.close()
  })

  it('are saved on creation and on a subject change; temporary rooms are not, and their archive goes with them', async () => {
    const store = new MemoryStore()
    const { client } = await setup({ store, defaults: { persistent: false } })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    alice.send(groupchat('hello'))
    await alice.expectStanza({ name: 'message', body: 'hello' })
    expect(store.loadRoom(ROOM)).toBeUndefined()
    expect(store.query(ROOM, { max: 10 })?.count).toBe(1)
    alice.send(xml('presence', { to: `${ROOM}/Alice`, type: 'unavailable' }))
    await alice.expectStanza((s) => s.name === 'presence' && s.attrs.type === 'unavailable')
    expect(store.query(ROOM, { max: 10 })?.count).toBe(0)

    const kept = new MemoryStore()
    const s2 = await setup({ store: kept, defaults: { persistent: true } })
    const bob = s2.client('bob@localhost/pc')
    await join(bob, ROOM, 'bob')
    expect(kept.loadRoom(ROOM)).toMatchObject({ jid: ROOM, subject: '', config: { persistent: true } })
    expect(kept.affiliations(ROOM)).toEqual([{ jid: 'bob@localhost', affiliation: 'owner' }])
    bob.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('subject', {}, 'New')))
    await bob.expectStanza((s) => s.getChildText('subject') === 'New')
    expect(kept.loadRoom(ROOM)).toMatchObject({ subject: 'New', subjectNick: 'bob' })
  })

  it('are loaded from an asynchronous store before the stanzas that wait for them', async () => {
    const inner = new MemoryStore()
    inner.saveRoom({ jid: ROOM, config: { persistent: true }, subject: 'Async', created: 1 })
    inner.setAffiliation(ROOM, 'carol@localhost', 'owner')
    let loads = 0
    const slow: MucStore = Object.create(inner)
    slow.loadRoom = async (jid: string) => {
      loads++
      await new Promise((r) => setTimeout(r, 30))
      return inner.loadRoom(jid)
    }
    slow.affiliations = async (room: string) => inner.affiliations(room)
    for (const k of [
      'saveRoom',
      'deleteRoom',
      'rooms',
      'setAffiliation',
      'append',
      'query',
      'prune',
    ] as const) {
      ;(slow as unknown as Record<string, unknown>)[k] = (inner[k] as (...a: unknown[]) => unknown).bind(
        inner,
      )
    }
    const { client, service } = await setup({ store: slow })
    // One load at start: the service lists the store's rooms for disco#items.
    expect(loads).toBe(1)
    const carol = client('carol@localhost/x')
    const dave = client('dave@localhost/y')
    const joins = Promise.all([join(carol, ROOM, 'carol'), join(dave, ROOM, 'dave')])
    const [c, d] = await joins
    // And one for both joins.
    expect(loads).toBe(2)
    const subject = (got: typeof c) => got.find((s) => s.getChild('subject'))?.getChildText('subject')
    expect(subject(c)).toBe('Async')
    expect(subject(d)).toBe('Async')
    expect(service.room('lobby')?.occupants.map((o) => [o.nick, o.affiliation])).toEqual([
      ['carol', 'owner'],
      ['dave', 'none'],
    ])
  })
})

describe('retention', () => {
  it('deletes messages older than archive.days and keeps at most archive.maxPerRoom, now and on prune()', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z')
    const store = new MemoryStore()
    const { client, service } = await setup({
      store,
      now: () => now,
      archive: { days: 2, maxPerRoom: 3 },
      limits: { messageRate: { burst: 50 } },
    })
    const alice = client('alice@localhost/phone')
    await join(alice, ROOM, 'Alice')
    const send = async (text: string) => {
      const n = alice.received.length
      alice.send(groupchat(text))
      await nextStanzas(alice, 1, n)
    }
    await send('old-1')
    await send('old-2')
    now += 3 * 86_400_000
    await send('new-1')
    expect(store.query(ROOM, { max: 10 })?.messages.map((m) => m.message.getChildText('body'))).toEqual([
      'old-1',
      'old-2',
      'new-1',
    ])
    expect(await service.prune()).toBe(2)
    await send('new-2')
    await send('new-3')
    await send('new-4')
    const bodies = store.query(ROOM, { max: 10 })?.messages.map((m) => m.message.getChildText('body'))
    expect(bodies).toEqual(['new-2', 'new-3', 'new-4'])
  })

  it('refuses bad archive and store options with SAT_ERR_CONFIG', async () => {
    const { xmpp } = await setup()
    const cases: [Parameters<typeof muc>[1], string][] = [
      [{ archive: { days: -1 } }, 'muc.archive.days: must be at least 0, got -1'],
      [{ archive: { maxPage: 0 } }, 'muc.archive.maxPage: must be from 1 to 10000, got 0'],
      [
        { archive: { maxPage: 10, defaultPage: 11 } },
        'muc.archive.defaultPage: must be from 1 to 10, got 11',
      ],
      [
        { archive: { pruneInterval: 5 } },
        'muc.archive.pruneInterval: must be from 1000 to 2147483647, got 5',
      ],
      [
        { store: {} as MucStore },
        'muc.store: must be a MucStore (loadRoom, saveRoom, deleteRoom, rooms, affiliations, setAffiliation, append, query, prune)',
      ],
    ]
    for (const [options, message] of cases) {
      let err: unknown
      try {
        muc(xmpp, options)
      } catch (e) {
        err = e
      }
      expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true, message })
    }
  })
})
