// The chatroom example (examples/chatroom) through real Prosody and ejabberd: its service runs on
// the echo domain with an SQLite file; alice (@xmpp/client) creates a room, bob (slixmpp's
// xep_0045, e2e/clients/slix_client.py) joins and they talk; alice then pages through the
// room's MAM archive both ways.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join as joinPath } from 'node:path'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { afterAll, describe, expect, it } from 'vitest'
import { chatroom } from '../../examples/chatroom/src/service.js'
import { info, KINDS, type Kind, type RealClient, realClient, satellite, slixmpp } from './helpers.js'

const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'
const NS_SID = 'urn:xmpp:sid:0'
const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'

type El = ReturnType<typeof clientXml>

const dir = mkdtempSync(joinPath(tmpdir(), 'chatroom-e2e-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const codes = (p: El): number[] =>
  ((p.getChild('x', NS_MUC_USER)?.getChildren('status') ?? []) as El[])
    .map((c) => Number(c.attrs.code))
    .sort()
const occupantId = (el: El): string | undefined => el.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id
const body = (el: El): string | null => el.getChildText('body')

let queries = 0
/** A MAM query to `room` with RSM `set`: the forwarded messages (in order) and the `<fin/>`. */
async function mam(c: RealClient, room: string, set: Record<string, string>) {
  const queryid = `q${++queries}`
  const rsm = clientXml('set', { xmlns: NS_RSM }, ...Object.entries(set).map(([k, v]) => clientXml(k, {}, v)))
  const res = await c.request(
    clientXml('iq', { type: 'set', to: room }, clientXml('query', { xmlns: NS_MAM, queryid }, rsm)),
  )
  const results = c.received.filter((m) => m.getChild('result', NS_MAM)?.attrs.queryid === queryid)
  return {
    ids: results.map((m) => m.getChild('result', NS_MAM)?.attrs.id as string),
    messages: results.map(
      (m) => m.getChild('result', NS_MAM)?.getChild('forwarded')?.getChild('message') as El,
    ),
    fin: res.getChild('fin', NS_MAM) as El,
  }
}

describe.each(KINDS)('examples/chatroom through %s', (kind: Kind) => {
  it('alice (@xmpp/client) creates a room, bob (slixmpp) joins, they talk; the archive pages both ways with the stanza-ids and occupant-ids they saw', async () => {
    const s = info(kind)
    const xmpp = satellite(kind)
    const chat = await chatroom(xmpp, {
      db: joinPath(dir, `${kind}.db`),
      occupantSecret: 'e2e chatroom occupant secret',
      name: 'E2E chatrooms',
    })
    afterTest(() => chat.close())
    await xmpp.start()
    const room = `lounge-${kind}@${s.XMPP_ECHO_DOMAIN}`

    const alice = await realClient(kind, 'alice', 'chatroom')
    await alice.send(clientXml('presence', { to: `${room}/alice` }, clientXml('x', { xmlns: NS_MUC })))
    const self = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/alice`)
    expect(codes(self)).toEqual([110, 201])
    await alice.expect((el) => el.is('message') && el.getChild('subject') !== undefined)

    // bob joins with slixmpp, says hello, waits for his reflection and for alice's message.
    const bobRun = slixmpp(kind, ['muc', `${room}/bob`, 'hello from slixmpp'])
    const bobSeen = await alice.expect((el) => el.is('presence') && el.attrs.from === `${room}/bob`, 15_000)
    expect(bobSeen.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs).toMatchObject({
      affiliation: 'none',
      role: 'participant',
    })
    await alice.send(clientXml('message', { to: room, type: 'groupchat' }, clientXml('body', {}, 'hi bob')))
    const report = await bobRun
    expect(report, JSON.stringify(report)).toMatchObject({
      ok: true,
      codes: [110],
      subject: '',
      occupants: ['alice'],
      reflected: { body: 'hello from slixmpp' },
      other: { from: `${room}/alice`, body: 'hi bob' },
    })

    // What alice saw live.
    const live = [
      await alice.expect((el) => el.is('message') && body(el) === 'hi bob'),
      await alice.expect((el) => el.is('message') && body(el) === 'hello from slixmpp'),
    ]
    const sid = (el: El) => el.getChild('stanza-id', NS_SID)?.attrs.id as string
    expect(live.every((m) => m.getChild('stanza-id', NS_SID)?.attrs.by === room)).toBe(true)

    // The whole archive: both messages, each under the stanza-id and occupant-id seen live.
    const all = await mam(alice, room, { max: '10' })
    expect(all.fin.attrs.complete).toBe('true')
    expect(all.fin.getChild('set', NS_RSM)?.getChildText('count')).toBe('2')
    const byId = new Map(live.map((m) => [sid(m), m]))
    expect(new Set(all.ids)).toEqual(new Set(byId.keys()))
    all.messages.forEach((m, i) => {
      const seen = byId.get(all.ids[i] as string) as El
      expect([m.attrs.from, body(m), occupantId(m)]).toEqual([seen.attrs.from, body(seen), occupantId(seen)])
    })
    expect(occupantId(byId.get(sid(live[0] as El)) as El)).toBe(occupantId(self))

    // Backwards: <before/> is the last page, then the page before it, which completes the archive.
    const last = await mam(alice, room, { max: '1', before: '' })
    expect(last.ids).toEqual([all.ids[1]])
    const first = await mam(alice, room, { max: '1', before: all.ids[1] as string })
    expect(first.ids).toEqual([all.ids[0]])
    expect(first.fin.attrs.complete).toBe('true')
    // Forwards from the first: the second, complete.
    const next = await mam(alice, room, { max: '1', after: all.ids[0] as string })
    expect(next.ids).toEqual([all.ids[1]])
    expect(next.fin.attrs.complete).toBe('true')
  })
})
