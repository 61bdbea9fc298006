// Random lines from a fake network (fast-check): to the reference adapter alone, then through the
// whole gateway. Properties: no crash, no unhandled rejection, the session survives, nothing
// unchecked reaches the bridge, the component's stream stays up, what is held stays bounded.
import { type Avatar, SqliteStore } from '@satellite/bridge'
import { component, StanzaError, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq, testServer } from '@satellite/test-support/component'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { legacyBridge } from '../src/bot.js'
import { LegacyClient } from '../src/network/adapter.js'
import { CHAT_STATES, STANZA_ERROR_CONDITIONS } from '../src/network/fields.js'
import { MAX_AVATAR_BYTES } from '../src/network/protocol.js'
import { noUncaught } from './uncaught.js'
import { fakeNetwork } from './wire.js'

const PUSHES = [
  'MSG',
  'PRESENCE',
  'CONTACTS',
  'TYPING',
  'RECEIPT',
  'REACT',
  'AVATAR',
  'GMSG',
  'MEMBERS',
  'TOPIC',
]
const hex = fc.constantFrom(...'0123456789abcdefABCDEFzZ%'.split(''))
const percent = fc
  .array(
    fc.oneof(
      fc.tuple(fc.constant('%'), hex, hex).map((p) => p.join('')),
      fc.constantFrom('%', 'a', '=', '#', '%00', '%0A', '%3C', '%F0%9F%91%8D'),
    ),
    { maxLength: 8 },
  )
  .map((p) => p.join(''))
const field = fc.oneof(
  percent,
  fc.constantFrom(
    'zed',
    'alice',
    '%23g',
    'm1',
    'online',
    'offline',
    'composing',
    'a><b',
    'image%2Fpng',
    'AAAA',
    'zed=online',
    '%23g=G=topic',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 10 }),
)
const fields = fc.array(field, { maxLength: 6 })
const oneLine = (parts: string[]) => parts.join(' ').replace(/[\r\n]/g, '')
/** A push line of random kind and fields (never BYE, which ends the session on purpose). */
const randomPush = fc
  .tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constant('*') }, fc.constantFrom('x1', '', 't0')),
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...PUSHES) }, fc.string({ maxLength: 6 })),
    fields,
  )
  .map(([tag, kind, rest]) => oneLine([tag, kind, ...rest]))
  .filter((l) => l.split(' ')[1] !== 'BYE')
/** A field that is often well-formed for its place, else random. */
const or = (good: fc.Arbitrary<string>) => fc.oneof({ weight: 3, arbitrary: good }, field)
const safeEnc = (t: string) => {
  try {
    return encodeURIComponent(t)
  } catch {
    return 'x' // a lone surrogate
  }
}
const id = or(fc.constantFrom('zed', 'yan', 'Ann%20Lee', 'a%5Cb', '%F0%9F%98%80'))
const group = or(fc.constantFrom('%23g', '%23other'))
const msgId = or(fc.constantFrom('m1', 'm2', 'g1', 'a%20b'))
const text = or(fc.string({ unit: 'binary', maxLength: 30 }).map(safeEnc))
const b64 = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('base64'))
const list = <T>(a: fc.Arbitrary<T>) => fc.array(a, { maxLength: 4 })
const structured: Record<string, fc.Arbitrary<string[]>> = {
  MSG: fc.tuple(id, msgId, text),
  PRESENCE: fc.tuple(id, or(fc.constantFrom('online', 'offline'))),
  CONTACTS: list(fc.tuple(id, or(fc.constantFrom('online', 'offline'))).map(([i, o]) => `${i}=${o}`)),
  TYPING: fc.tuple(id, or(fc.constantFrom(...CHAT_STATES))),
  RECEIPT: fc.tuple(id, msgId),
  REACT: fc
    .tuple(id, msgId, list(or(fc.constantFrom('%F0%9F%91%8D', '%E2%9D%A4'))))
    .map(([a, b, c]) => [a, b, ...c]),
  AVATAR: fc.oneof(
    id.map((i) => [i]),
    fc.tuple(id, or(fc.constantFrom('image%2Fpng', 'image%2Fwebp')), or(b64)),
  ),
  GMSG: fc.tuple(group, id, msgId, text),
  MEMBERS: fc.tuple(group, list(id)).map(([g, ms]) => [g, ...ms]),
  TOPIC: fc.tuple(group, text),
}
/** A push line of a known kind, its fields mostly well-formed. */
const structuredPush = fc
  .constantFrom(...PUSHES)
  .chain((kind) => (structured[kind] as fc.Arbitrary<string[]>).map((rest) => oneLine(['*', kind, ...rest])))
const push = fc.oneof(structuredPush, randomPush)
/** The rest of an answer line (after the tag). */
const answer = fc.oneof(
  fields.map((f) => oneLine(['OK', ...f])),
  fc
    .tuple(fc.oneof(fc.constantFrom(...STANZA_ERROR_CONDITIONS), field), fields)
    .map(([c, f]) => oneLine(['ERR', c, ...f])),
  fc.tuple(fc.string({ maxLength: 5 }), fields).map(([k, f]) => oneLine([k, ...f])),
)

const CONTROL = /\p{Cc}/u
/** Whether `s` can be a contact or group id the bridge turns into a JID. */
const goodId = (s: unknown): boolean => {
  if (typeof s !== 'string' || s === '' || CONTROL.test(s)) return false
  try {
    toJid(s, 'gw.example')
    return true
  } catch {
    return false
  }
}
const goodToken = (s: unknown) => typeof s === 'string' && s !== '' && s.length <= 200 && !CONTROL.test(s)
const goodAvatar = (a: Avatar | null) =>
  a === null ||
  (/^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/.test(a.type) &&
    Buffer.isBuffer(a.data) &&
    a.data.length <= MAX_AVATAR_BYTES)

describe('the adapter under random lines from the network (fast-check)', () => {
  it('every event it reports is checked; every failure is a StanzaError of RFC 6120 with a short text; the session survives', async () => {
    const uncaught = noUncaught()
    let answers: string[] = []
    const fake = await fakeNetwork((tag, cmd) =>
      cmd === 'CONTACTS' ? undefined : `${tag} ${answers.shift() ?? 'OK'}`,
    )
    const bad: string[] = []
    const check = (ok: boolean, what: string, value: unknown) => {
      if (!ok) bad.push(`${what}: ${JSON.stringify(value)}`)
    }
    answers = ['OK']
    const client = await LegacyClient.login(
      '127.0.0.1',
      fake.port,
      'alice',
      'pw',
      {
        message: (m) => check(goodId(m.from) && goodToken(m.id) && typeof m.text === 'string', 'message', m),
        presence: (c, online) => check(goodId(c) && typeof online === 'boolean', 'presence', [c, online]),
        contacts: (list) =>
          check(
            list.every((c) => goodId(c.id) && typeof c.online === 'boolean'),
            'contacts',
            list,
          ),
        disconnected: (reason) => bad.push(`disconnected: ${reason}`),
        typing: (c, state) => check(goodId(c) && CHAT_STATES.has(state), 'typing', [c, state]),
        receipt: (c, id) => check(goodId(c) && goodToken(id), 'receipt', [c, id]),
        reaction: (c, id, emojis) =>
          check(goodId(c) && goodToken(id) && emojis.every(goodToken), 'reaction', [c, id]),
        avatar: (c, a) => check(goodId(c) && goodAvatar(a), 'avatar', [c, a?.type]),
        groupMessage: (m) => check(goodId(m.group) && goodId(m.from) && goodToken(m.id), 'groupMessage', m),
        groupMembers: (g, members) =>
          check(goodId(g) && members.every((m) => goodId(m.id) && goodToken(m.nick)), 'groupMembers', [
            g,
            members,
          ]),
        groupSubject: (g, s) => check(goodId(g) && typeof s === 'string', 'groupSubject', [g, s]),
      },
      { maxPending: 8 },
    )
    afterTest(() => client.logout())
    await fc.assert(
      fc.asyncProperty(
        fc.array(push, { maxLength: 20 }),
        fc.array(answer, { minLength: 6, maxLength: 6 }),
        async (pushes, replies) => {
          answers = [...replies]
          fake.write(pushes.map((l) => `${l}\n`).join(''))
          const results = await Promise.allSettled([
            client.send('zed', 'hi'),
            client.avatar('zed'),
            client.groups(),
            client.members('#g'),
            client.receipt('zed', 'm1'),
            client.say('#g', 'hi'),
          ])
          const [sent, avatar, groups, members, , said] = results
          for (const r of results) {
            if (r.status === 'fulfilled') continue
            const e = r.reason as unknown
            check(
              e instanceof StanzaError &&
                STANZA_ERROR_CONDITIONS.has(e.condition) &&
                (e.text ?? '').length <= 200 &&
                !CONTROL.test(e.text ?? ''),
              'rejection',
              String(e),
            )
          }
          if (sent?.status === 'fulfilled') check(goodToken(sent.value), 'sent id', sent.value)
          if (said?.status === 'fulfilled') check(goodToken(said.value), 'said id', said.value)
          if (avatar?.status === 'fulfilled')
            check(goodAvatar(avatar.value as Avatar | null), 'avatar', avatar.value)
          if (groups?.status === 'fulfilled') {
            const gs = groups.value as Array<{ id: string }>
            check(
              gs.every((g) => goodId(g.id)),
              'groups',
              gs,
            )
          }
          if (members?.status === 'fulfilled') {
            const ms = members.value as Array<{ id: string; nick: string }>
            check(
              ms.every((m) => goodId(m.id) && goodToken(m.nick)),
              'members',
              ms,
            )
          }
          // Every line was read (TCP keeps the order); the session answers.
          expect(await client.contacts()).toEqual([{ id: 'a', name: 'a', online: true }])
          expect(client.closed).toBe(false)
          expect(client.pending).toBe(0)
          expect(bad).toEqual([])
          expect(uncaught()).toEqual([])
        },
      ),
      { numRuns: 150 },
    )
  })
})

describe('the gateway under random lines from the network (fast-check)', () => {
  it("the component's stream stays up and alice's session goes on", async () => {
    const uncaught = noUncaught()
    const DOMAIN = 'bridge.localhost'
    const srv = await testServer(DOMAIN, 's')
    let disconnects = 0
    srv.on('disconnect', () => void disconnects++)
    const fake = await fakeNetwork((tag, cmd) => {
      if (cmd === 'CONTACTS') return `${tag} OK zed=online`
      if (cmd === 'GROUPS') return `${tag} OK %23g=G=topic`
      if (cmd === 'MEMBERS') return `${tag} OK alice zed`
      return undefined
    })
    const store = new SqliteStore({ key: Buffer.alloc(32, 5) })
    afterTest(() => store.close())
    const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 's' })
    const gw = legacyBridge(xmpp, { legacyPort: fake.port, store })
    afterTest(async () => {
      await gw.close()
      await xmpp.stop()
    })
    await xmpp.start()
    const alice = srv.client('alice@localhost/phone')
    await alice.request(registerIq(DOMAIN, 'alice', 'pw'))
    await expect
      .poll(() => gw.state('alice@localhost') === 'online', {
        message: 'alice online',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // In the room of #g too, so that the group pushes reach her.
    const room = toJid('#g', DOMAIN)
    alice.send(
      xml('presence', { to: `${room}/alice` }, xml('x', { xmlns: 'http://jabber.org/protocol/muc' })),
    )
    await alice.expectStanza((s) => s.attrs.from === room && s.getChild('subject') !== undefined)
    let run = 0
    await fc.assert(
      fc.asyncProperty(fc.array(push, { maxLength: 15 }), async (pushes) => {
        const mark = `mark${++run}`
        fake.write([...pushes, `* MSG zed ${mark} ${mark}`].map((l) => `${l}\n`).join(''))
        await alice.expectStanza({ name: 'message', from: toJid('zed', DOMAIN), body: mark }, 5000)
        expect([disconnects, xmpp.status, gw.state('alice@localhost')]).toEqual([0, 'online', 'online'])
        expect(uncaught()).toEqual([])
      }),
      { numRuns: 60 },
    )
  })
})
