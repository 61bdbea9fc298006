// Fuzz tests (fast-check) at the adapter interface (#13): random values (strings with lone
// surrogates and markup, huge strings, wrong types) in every field of every session event, and
// as what every adapter method returns or throws. Properties: no crash, no unhandled
// rejection, every stanza the component writes has valid names, a valid sender at the gateway
// and goes to the user only, error conditions are RFC 6120's, the stream stays up, and what the
// bridge holds stays within its limits.
import { type BridgeLimits, NS_MUC } from '@satellite/bridge'
import { type Element, StanzaError, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FakeNetwork } from './fake.js'
import { barrier, DOMAIN, type Gateway, gateway, noUncaught, problems, register } from './support.js'

/** Runs per property: each property stays well under the test timeout on a loaded machine (~1 s alone). */
const RUNS = 30
/** Re-logins after a random `disconnected` come at once: the runs wait for them. */
const RETRY = { base: 5, cap: 10 }
const INJECTION = 'active/></message><message to="bob@localhost"><body>forged</body></message><x'
const LIMITS: BridgeLimits = {
  contacts: 8,
  groups: 4,
  members: 6,
  resources: 3,
  textLength: 2_000,
  fieldLength: 64,
  reactions: 4,
  avatarBytes: 256,
  avatarCacheBytes: 4_096,
  historyChars: 4_000,
}

const loneSurrogates = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('a', '<', '&', '\u0000', '\u202e', ' ', '@', '/'),
  ),
  maxLength: 8,
})
/** Any value an adapter might hand over by mistake, often a plausible one. */
const value: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom('zed', 'olga', 'Ann Lee@work', '#general', 'm1', 'composing', 'image/png'),
  },
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  loneSurrogates,
  fc.constantFrom('', 'a><b', INJECTION, 'x'.repeat(100_000), '\\u{d800}', 'composingx'),
  fc.integer(),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 }),
  fc.object({ maxDepth: 1, maxKeys: 3 }),
)
const opt = { requiredKeys: [] as [] }
/** A contact or group id: often one of a few more than the limits allow, else anything. */
const id = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `c${i}`)) },
  value,
)
/** A chat state: one of the five, one that is not, or anything. */
const state = fc.oneof(
  fc.constantFrom('active', 'composing', 'paused', 'inactive', 'gone', 'composingx', 'a><b', INJECTION),
  value,
)
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constant('t'.repeat(5_000)), value)
const picture = fc.oneof(
  fc.record({
    type: value,
    data: fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      value,
    ),
  }),
  value,
)
const event: fc.Arbitrary<[string, ...unknown[]]> = fc.oneof(
  fc.tuple(
    fc.constant('message'),
    fc.oneof(fc.record({ from: id, id: value, text, replaces: value }, opt), value),
  ),
  fc.tuple(fc.constant('presence'), id, fc.oneof(fc.boolean(), value), fc.oneof(text, value)),
  fc.tuple(
    fc.constant('contacts'),
    fc.oneof(
      fc.array(fc.record({ id, name: text, online: value, status: text }, opt), { maxLength: 16 }),
      value,
    ),
  ),
  fc.tuple(fc.constant('typing'), id, state),
  fc.tuple(fc.constant('receipt'), id, value),
  fc.tuple(fc.constant('reaction'), id, value, fc.oneof(fc.array(text, { maxLength: 8 }), value)),
  fc.tuple(fc.constant('avatar'), id, picture),
  fc.tuple(
    fc.constant('groupMessage'),
    fc.oneof(
      fc.record({ group: fc.oneof(fc.constant('#general'), id), from: id, id: value, text }, opt),
      value,
    ),
  ),
  fc.tuple(
    fc.constant('groupMembers'),
    fc.oneof(fc.constant('#general'), id),
    fc.oneof(fc.array(fc.record({ id, nick: text }, opt), { maxLength: 12 }), value),
  ),
  fc.tuple(fc.constant('groupSubject'), fc.oneof(fc.constant('#general'), id), text),
  fc.tuple(fc.constant('disconnected'), text),
)

/** What the bridge holds is within LIMITS. */
function bounded(g: Gateway): void {
  const s = g.gw.sizes()
  expect(s.presence).toBeLessThanOrEqual(LIMITS.contacts as number)
  expect(s.avatars).toBeLessThanOrEqual(LIMITS.contacts as number)
  expect(s.avatarBytes).toBeLessThanOrEqual(LIMITS.avatarCacheBytes as number)
  expect(s.rosterContacts).toBeLessThanOrEqual(LIMITS.contacts as number)
  expect(s.groups?.groups ?? 0).toBeLessThanOrEqual(LIMITS.groups as number)
  expect(s.groups?.members ?? 0).toBeLessThanOrEqual(LIMITS.members as number)
  expect(s.groups?.historyChars ?? 0).toBeLessThanOrEqual(LIMITS.historyChars as number)
  expect(g.store.contacts('alice@localhost').length).toBeLessThanOrEqual(LIMITS.contacts as number)
}

const groups = {
  listGroups: async () => [{ id: '#general', name: 'General', subject: 'hi' }],
  members: async () => [{ id: 'zed', nick: 'Zed' }],
  sendGroupText: async () => 'G1',
}

describe('bridge: fuzz at the adapter interface', () => {
  it('random values in every field of every session event', async () => {
    const uncaught = noUncaught()
    const net = new FakeNetwork()
    const g = await gateway(
      {
        limits: LIMITS,
        retry: RETRY,
        adapter: net.adapter({
          typing: { sendTyping: async () => {} },
          receipts: { sendReceipt: async () => {} },
          corrections: { correct: async () => 'c' },
          reactions: { react: async () => {} },
          avatars: { avatar: async () => null },
          groups,
        }),
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    const bob = g.srv.client('bob@localhost/pc')
    await register(alice)
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(xml('presence', { to: `${toJid('#general', DOMAIN)}/alice` }, xml('x', { xmlns: NS_MUC })))
    await alice.expectStanza({ name: 'message', type: 'groupchat', from: toJid('#general', DOMAIN) })
    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 20 }), async (events) => {
        const from = g.written.length
        for (const [name, ...args] of events) {
          const session = net.live
          if (session === undefined) break
          ;(session.events as unknown as Record<string, (...a: unknown[]) => void>)[name]?.(...args)
        }
        await expect
          .poll(() => g.gw.state('alice@localhost') === 'online', {
            message: 'alice online again',
            timeout: 3000,
            interval: 5,
          })
          .toBe(true)
        await barrier(alice)
        const out = g.written.slice(from)
        expect(out.flatMap((s) => problems(s, 'alice@localhost'))).toEqual([])
        // Strings are bounded: a message text by textLength, anything else by fieldLength.
        expect(out.filter((s) => s.toString().length > 3_000).map((s) => s.toString().slice(0, 100))).toEqual(
          [],
        )
        bounded(g)
      }),
      { numRuns: RUNS },
    )
    expect(g.written.flatMap((s) => problems(s, 'alice@localhost'))).toEqual([])
    expect(bob.received).toEqual([])
    expect(uncaught()).toEqual([])
    expect(g.conn.isClosed).toBe(false)
    expect(g.conn.streamErrorSent).toBeUndefined()
  })

  it('random results, exceptions and rejections from every adapter method, with random user requests', async () => {
    const uncaught = noUncaught()
    type Answer = { kind: 'value'; v: unknown } | { kind: 'throw' | 'reject'; e: unknown }
    let answers: Answer[] = []
    const answer = (fallback: unknown): unknown => {
      const a = answers.shift()
      if (a === undefined) return fallback
      if (a.kind === 'throw') throw a.e
      if (a.kind === 'reject') return Promise.reject(a.e)
      return (a as { v: unknown }).v
    }
    const net = new FakeNetwork()
    const base = net.adapter()
    const g = await gateway(
      {
        limits: LIMITS,
        retry: RETRY,
        adapter: {
          ...base,
          sendText: async () => answer('L1') as string,
          listContacts: (s) => answer(base.listContacts(s)) as never,
          normalizeId: (input) => answer(input) as string,
          capabilities: {
            typing: {
              sendTyping: async () => {
                await answer(undefined)
              },
            },
            receipts: {
              sendReceipt: async () => {
                await answer(undefined)
              },
            },
            corrections: { correct: async () => answer('c1') as string },
            reactions: {
              react: async () => {
                await answer(undefined)
              },
            },
            avatars: { avatar: async () => answer(null) as never },
            status: {
              setStatus: async () => {
                await answer(undefined)
              },
            },
            groups: {
              listGroups: async () => answer(await groups.listGroups()) as never,
              members: async () => answer(await groups.members()) as never,
              sendGroupText: async () => answer('G1') as string,
            },
          },
        },
      },
      net,
    )
    const alice = g.srv.client('alice@localhost/phone')
    await register(alice)
    g.store.putMessage('alice@localhost', { contact: 'zed', xmppId: 'x0', legacyId: 'L0' })
    const zed = toJid('zed', DOMAIN)
    const room = toJid('#general', DOMAIN)
    const requests: Array<(id: string) => Element> = [
      (id) => xml('message', { to: zed, type: 'chat', id }, xml('body', {}, 'hi')),
      (id) =>
        xml(
          'message',
          { to: zed, type: 'chat', id },
          xml('body', {}, 'fix'),
          xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id: 'x0' }),
        ),
      (id) =>
        xml(
          'message',
          { to: zed, type: 'chat', id },
          xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }),
        ),
      (id) => xml('message', { to: zed, id }, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'x0' })),
      (id) =>
        xml(
          'message',
          { to: zed, type: 'chat', id },
          xml('reactions', { xmlns: 'urn:xmpp:reactions:0', id: 'x0' }, xml('reaction', {}, '👍')),
        ),
      (id) => xml('iq', { type: 'get', to: zed, id }, xml('vCard', { xmlns: 'vcard-temp' })),
      (id) =>
        xml(
          'iq',
          { type: 'set', to: DOMAIN, id },
          xml('query', { xmlns: 'jabber:iq:gateway' }, xml('prompt', {}, 'zed')),
        ),
      (id) => xml('presence', { to: `${room}/alice`, id }, xml('x', { xmlns: NS_MUC })),
      (id) => xml('message', { to: room, type: 'groupchat', id }, xml('body', {}, 'to all')),
      (id) => xml('presence', { to: `${room}/alice`, type: 'unavailable', id }),
      (id) => xml('presence', { to: DOMAIN, id }, xml('status', {}, 'here')),
    ]
    const thrown = fc.oneof(
      fc.constantFrom(
        new Error('connect ECONNREFUSED 127.0.0.1:32853'),
        new URIError('URI malformed'),
        new StanzaError('item-not-found', { text: 'no such contact' }),
        new StanzaError('service-unavailable', { text: 'read ECONNRESET 10.0.0.1:5299' }),
        null,
        undefined,
        'a string',
        42,
      ),
      value.map((text) => new StanzaError('not-acceptable', { text: text as string })),
    )
    const anAnswer: fc.Arbitrary<Answer> = fc.oneof(
      { weight: 3, arbitrary: value.map((v) => ({ kind: 'value' as const, v })) },
      fc.record({ kind: fc.constantFrom('throw' as const, 'reject' as const), e: thrown }),
    )
    let n = 0
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: requests.length - 1 }), { minLength: 1, maxLength: 8 }),
        fc.array(anAnswer, { maxLength: 12 }),
        async (asks, given) => {
          answers = [...given]
          const from = g.written.length
          for (const i of asks) alice.send((requests[i] as (id: string) => Element)(`q${++n}`))
          await barrier(alice)
          await barrier(alice)
          const out = g.written.slice(from)
          expect(out.flatMap((s) => problems(s, 'alice@localhost'))).toEqual([])
          // Texts users see are short, and no internal detail is in them.
          for (const s of out.filter((x) => x.attrs.type === 'error')) {
            const text =
              s.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? ''
            expect(text.length).toBeLessThanOrEqual(200)
            expect(text).not.toMatch(/ECONN|127\.0\.0\.1|10\.0\.0\.1|URI malformed/)
          }
          bounded(g)
        },
      ),
      { numRuns: RUNS },
    )
    expect(uncaught()).toEqual([])
    expect(g.conn.isClosed).toBe(false)
  })
})
