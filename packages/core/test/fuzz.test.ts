// Fuzz (fast-check) at core's boundary (issue #13): random stanzas from a client through the
// embedded server, which now parses what the component writes as strictly as Prosody and
// ejabberd. Properties: every iq get/set gets exactly one well-formed answer (RFC 6120
// condition), nothing the component writes makes the server close the stream, no unhandled
// rejection, the caps cache stays bounded.
import { type Element, xml } from '@satellite/core'
import { answer, noUnhandledRejection, oneOf, text } from '@satellite/test-support/fuzz'
import { sleep } from '@satellite/test-support/wait'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, server } from './helpers.js'

const NAMESPACES = [
  'http://jabber.org/protocol/disco#info',
  'http://jabber.org/protocol/disco#items',
  'urn:xmpp:ping',
  'jabber:iq:version',
  'urn:xmpp:time',
  'urn:example:echo',
  'http://jabber.org/protocol/chatstates',
]

/** A payload element: a known namespace (to reach the responders) or a random one, random attributes and children. */
const payload: fc.Arbitrary<Element> = fc
  .record({
    name: fc.constantFrom('query', 'ping', 'time', 'x', 'active', 'a'),
    ns: oneOf(NAMESPACES, 16),
    node: fc.option(text(16), { nil: undefined }),
    attr: fc.option(fc.tuple(fc.constantFrom('name', 'state', 'id', 'ver'), text(16)), { nil: undefined }),
    children: fc.array(fc.tuple(fc.constantFrom('item', 'feature', 'name', 'text'), text(16)), {
      maxLength: 3,
    }),
  })
  .map((p) => {
    const attrs: Record<string, string> = { xmlns: p.ns }
    if (p.node !== undefined) attrs.node = p.node
    if (p.attr !== undefined) attrs[p.attr[0]] = p.attr[1]
    const el = xml(p.name, attrs)
    for (const [n, t] of p.children) el.c(n).t(t)
    return el
  })

const local = fc.oneof(
  fc.constantFrom('', 'bot', 'u1', 'room'),
  fc.constantFrom(...'abcdefghij').map((c) => `u-${c}`),
)

describe('core fuzz: random stanzas from a client', () => {
  it('every iq get/set gets one well-formed answer; the stream stays up', async () => {
    const srv = await server()
    const xmpp = make(srv, { responders: { caps: { cacheSize: 8 } } })
    xmpp.disco.identity({ category: 'client', type: 'bot', name: 'contact' }, { to: '*' })
    // Routes that use what they are given the way an application would: as text and attribute values.
    xmpp.iqGet({ xmlns: 'urn:example:echo' }, (_iq, q) =>
      xml('query', { xmlns: 'urn:example:echo', name: q.attrs.name ?? '' }, q.getChildText('text') ?? ''),
    )
    xmpp.message({}, (msg) => {
      if (msg.attrs.type === 'error' || msg.attrs.from === undefined) return
      return xmpp.send(
        xml(
          'message',
          { from: msg.attrs.to, to: msg.attrs.from, id: msg.attrs.id },
          xml('body', {}, msg.getChildText('body') ?? ''),
        ),
      )
    })
    xmpp.presence({}, (p) => {
      if (p.attrs.type !== 'probe' || p.attrs.from === undefined) return
      return xmpp.send(xml('presence', { from: p.attrs.to, to: p.attrs.from }))
    })
    await xmpp.start()
    const conn = srv.connectionsFor(DOMAIN)[0]
    const alice = srv.client('alice@localhost/fuzz')
    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            kind: fc.constantFrom('iq', 'iq', 'message', 'presence'),
            type: oneOf(['get', 'set', 'result', 'error', 'chat', 'probe', 'available'], 8),
            to: local,
            id: text(12),
            body: text(40),
            payload,
          }),
          async (s) => {
            const to = s.to === '' ? DOMAIN : `${s.to}@${DOMAIN}`
            if (s.kind === 'iq' && (s.type === 'get' || s.type === 'set')) {
              await answer(alice, xml('iq', { type: s.type, to, id: `f${s.id}` }, s.payload))
            } else if (s.kind === 'message') {
              alice.send(xml('message', { to, id: s.id, type: s.type }, xml('body', {}, s.body), s.payload))
            } else {
              alice.send(xml(s.kind, { to, id: s.id, type: s.type }, s.payload))
            }
            expect(conn?.isClosed).toBe(false)
          },
        ),
        { numRuns: 150, timeout: 3000, endOnFailure: true },
      )
      await sleep(50)
    })
    expect(conn?.streamErrorSent).toBeUndefined()
    expect(srv.connectionsFor(DOMAIN)).toEqual([conn])
    expect(xmpp.status).toBe('online')
    expect(xmpp.disco.capsCached).toBeLessThanOrEqual(8)
  })
})
