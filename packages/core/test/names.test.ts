// Issue #13, item 1: a string from outside must never be written as an element or attribute name.
// The bridge built `xml(state, { xmlns: chatstates })` from a legacy user's line: a "state" of
// `active/></message><message to="bob@localhost" …><body>…` delivered a forged message, and
// `a><b` made the server close the component's stream. Core now refuses such names at xml() and
// send() with SAT_ERR_XML_NAME, before anything is written; the connection stays up.
import {
  component,
  Element,
  errorElement,
  isSatelliteError,
  isStanzaErrorCondition,
  isStanzaErrorType,
  isXmlName,
  STREAM_ERROR_CONDITIONS,
  StanzaError,
  stanzaErrorFrom,
  xml,
} from '@satellite/core'
import { sleep } from '@satellite/test-support/wait'
import { describe, expect, it } from 'vitest'
import { CACHE_SIZE, cachedNames } from '../src/xml/names.js'
import { serialize } from '../src/xml/serialize.js'
import { DOMAIN, make, server } from './helpers.js'

const CHATSTATES = 'http://jabber.org/protocol/chatstates'
const FORGED =
  'active/></message><message\tto="bob@localhost"\tfrom="it-support@bridge.localhost"\ttype="chat"><body>Your\tpassword\texpired</body></message><message\tfrom="bridge.localhost"\tto="alice@localhost"><x'

const refused = (fn: () => unknown) => {
  let caught: unknown
  try {
    fn()
  } catch (err) {
    caught = err
  }
  expect(isSatelliteError(caught, 'SAT_ERR_XML_NAME'), String(caught)).toBe(true)
  return caught as Error
}

describe('XML names: the closed set of names Satellite writes', () => {
  it('accepts ASCII NCNames and QNames with one colon', () => {
    for (const ok of ['message', 'a', '_x', 'x-y.z_1', 'stream:error', 'xml:lang', 'xmlns:p', 'Z9']) {
      expect(isXmlName(ok), ok).toBe(true)
    }
  })

  it('refuses markup, spaces, quotes, controls, empty, leading digits, several colons, non-strings', () => {
    const bad: unknown[] = [
      FORGED,
      'a><b',
      'a b',
      'a"b',
      "a'b",
      'a=b',
      'a/',
      'a\tb',
      'a\u0000',
      '',
      '1a',
      '-a',
      '.a',
      ':a',
      'a:',
      'a:b:c',
      'p:1x',
      'é',
      '⁰a', // XML 1.0 5th edition allows it; expat (both servers' parser) does not
      '㐀',
      5,
      null,
      undefined,
      {},
    ]
    for (const b of bad) expect(isXmlName(b), String(b)).toBe(false)
  })
})

describe('xml() refuses an element name that is not an XML name; send() also checks attributes', () => {
  it('the element name at xml(), attribute names when serialised', () => {
    const err = refused(() => xml(FORGED, { xmlns: CHATSTATES }))
    expect(err.message).toMatch(/not a valid XML element name/)
    expect(err.message.length).toBeLessThan(300) // the name is shown cut short
    refused(() => xml('a><b', { xmlns: CHATSTATES }))
    refused(() => serialize(xml('message', { 'to="x" from': 'y' })))
    refused(() => serialize(xml('message', { 'a b': '1' })))
    // attributes that are not written (null/undefined) are not names on the wire
    expect(serialize(xml('message', { 'a b': undefined } as unknown as Record<string, string>))).toBe(
      '<message/>',
    )
    // the same elements as before for valid names
    expect(xml('x:y', { 'xmlns:x': 'urn:x' }).toString()).toBe('<x:y xmlns:x="urn:x"/>')
  })
})

describe('serialize() (what send() writes) checks every name and prefix', () => {
  it('refuses names set on elements built without xml()', () => {
    refused(() => serialize(new Element('a><b', { xmlns: CHATSTATES })))
    const msg = xml('message', { to: 'bob@localhost' }, xml('body', {}, 'hi'))
    ;(msg.getChild('body') as Element).name = FORGED
    refused(() => serialize(msg))
    const attrs = xml('message', { to: 'bob@localhost' })
    attrs.attrs['x"><inject a="'] = '1'
    refused(() => serialize(attrs))
    const nonString = new Element('a')
    ;(nonString as unknown as { name: unknown }).name = 42
    refused(() => serialize(nonString))
  })

  it('refuses a prefix without a declaration in the stanza, accepts a declared one', () => {
    const err = refused(() => serialize(xml('message', {}, xml('p:x', {}))))
    expect(err.message).toMatch(/prefix that is not declared/)
    refused(() => serialize(xml('message', {}, xml('x', { 'p:a': '1' }))))
    refused(() => serialize(xml('xmlns:x', { 'xmlns:xmlns': 'urn:x' })))
    // xmlns:p='' undeclares nothing in Namespaces in XML 1.0: not a declaration
    refused(() => serialize(xml('p:x', { 'xmlns:p': '' })))
    expect(serialize(xml('message', { 'xmlns:p': 'urn:p' }, xml('p:x', { 'p:a': '1' })))).toBe(
      '<message xmlns:p="urn:p"><p:x p:a="1"/></message>',
    )
    expect(serialize(xml('p:x', { 'xmlns:p': 'urn:p' }))).toBe('<p:x xmlns:p="urn:p"/>')
    // a declaration is scoped to its element: not seen by a sibling
    refused(() => serialize(xml('m', {}, xml('p:x', { 'xmlns:p': 'urn:p' }), xml('p:y', {}))))
    // xml: is always bound; stream: is bound by the stream header
    expect(serialize(xml('body', { 'xml:lang': 'en' }))).toBe('<body xml:lang="en"/>')
    expect(serialize(xml('m', {}, xml('stream:x', {})))).toBe('<m><stream:x/></m>')
  })

  it('checks elements of another copy of ltx by structure, and markup of custom write()/toString()', () => {
    const foreign = { name: 'a><b', attrs: {}, children: [], write: () => {} } as unknown as Element
    refused(() => serialize(xml('message', {}, foreign)))
    const foreignOk = {
      name: 'ok',
      attrs: { v: '<' },
      children: ['t'],
      write: () => {},
    } as unknown as Element
    expect(serialize(xml('m', {}, foreignOk))).toBe('<m><ok v="&lt;">t</ok></m>')
    class Unbalanced extends Element {
      override write(writer: (s: string) => void): void {
        writer('<a><b xmlns="x"/>')
      }
    }
    expect(refused(() => serialize(xml('m', {}, new Unbalanced('c')))).message).toMatch(/well-formed/)
    class Escaping extends Element {
      override toString(): string {
        return '<x/></message><message to="bob@localhost"><body>forged</body></message><message>'
      }
    }
    refused(() => serialize(new Escaping('x')))
    const raw = { write: (w: (s: string) => void) => w('</m><m>') } as unknown as Element
    refused(() => serialize(xml('m', {}, raw)))
    const badName = { write: (w: (s: string) => void) => w('<a"b/>') } as unknown as Element
    refused(() => serialize(xml('m', {}, badName)))
  })
})

describe('send() refuses before writing; the connection stays up (embedded server)', () => {
  it("a chat state built from a legacy user's line cannot forge a message or close the stream", async () => {
    const srv = await server()
    const xmpp = make(srv)
    const errors: unknown[] = []
    xmpp.on('error', (e) => errors.push(e))
    let offline = 0
    xmpp.on('offline', () => void offline++)
    // A careless relay, as the bridge was: the chat state name is whatever the body says.
    xmpp.message({ type: 'chat' }, async (msg) => {
      const state = msg.getChildText('body') ?? ''
      const reply = new Element('message', { from: msg.attrs.to, to: msg.attrs.from, type: 'chat' })
      reply.cnode(new Element(state, { xmlns: CHATSTATES }))
      await xmpp.send(reply)
    })
    await xmpp.start()
    const conn = srv.connectionsFor(DOMAIN)[0]
    const alice = srv.client('alice@localhost/a')
    const bob = srv.client('bob@localhost/b')
    for (const state of [FORGED, 'a><b', 'active']) {
      alice.send(xml('message', { to: `relay@${DOMAIN}`, type: 'chat' }, xml('body', {}, state)))
    }
    const ok = await alice.expectStanza({ name: 'message', from: `relay@${DOMAIN}` })
    expect(ok.getChild('active', CHATSTATES)).toBeDefined()
    await sleep(50)
    expect(bob.received).toHaveLength(0)
    expect(alice.received).toHaveLength(1)
    // The two refused sends surfaced as handler errors with the typed code.
    expect(errors).toHaveLength(2)
    for (const e of errors) expect(isSatelliteError(e, 'SAT_ERR_XML_NAME')).toBe(true)
    expect(xmpp.status).toBe('online')
    expect(offline).toBe(0)
    expect(srv.connectionsFor(DOMAIN)).toEqual([conn])
    expect(xmpp.stats.stanzasOut).toBe(1)
  })

  it('an iq handler whose answer has a bad name still gives exactly one answer: internal-server-error', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const errors: unknown[] = []
    xmpp.on('error', (e) => errors.push(e))
    xmpp.iqGet({ xmlns: 'urn:example:echo-name' }, (_iq, q) =>
      xml('x', {}, new Element(q.attrs.name as string)),
    )
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    const iq = xml(
      'iq',
      { type: 'get', to: DOMAIN, id: 'q1' },
      xml('query', { xmlns: 'urn:example:echo-name', name: 'a><b' }),
    )
    const err = await alice.request(iq).catch((e: unknown) => e)
    expect((err as { condition?: string }).condition).toBe('internal-server-error')
    await sleep(50)
    expect(alice.received.filter((s) => s.attrs.id === 'q1')).toHaveLength(1)
    expect(errors.some((e) => isSatelliteError(e, 'SAT_ERR_XML_NAME'))).toBe(true)
    // and a valid name still works on the same connection
    const good = await alice.request(
      xml(
        'iq',
        { type: 'get', to: DOMAIN, id: 'q2' },
        xml('query', { xmlns: 'urn:example:echo-name', name: 'ok' }),
      ),
    )
    expect(good.getChild('x')?.getChild('ok')).toBeDefined()
    expect(xmpp.status).toBe('online')
  })
})

describe('stanza error conditions and types are closed sets', () => {
  it('StanzaError makes any other condition undefined-condition and any other type the default', () => {
    const e = new StanzaError('a><b', { text: 'from a legacy ERR line' })
    expect(e.condition).toBe('undefined-condition')
    expect(e.type).toBe('cancel')
    expect(e.message).toContain('"a><b"') // kept for the log, quoted
    expect(new StanzaError('item-not-found').condition).toBe('item-not-found')
    expect(new StanzaError('forbidden', { type: 'x"y' as 'auth' }).type).toBe('auth')
    expect(isStanzaErrorCondition('conflict')).toBe(true)
    expect(isStanzaErrorCondition('toString')).toBe(false) // not an inherited property either
    expect(isStanzaErrorType('wait')).toBe(true)
    expect(isStanzaErrorType('later')).toBe(false)
  })

  it('errorElement() writes only a defined condition, even if one was changed after construction', () => {
    const e = new StanzaError('bad-request')
    ;(e as unknown as { condition: string }).condition = FORGED
    ;(e as unknown as { type: string }).type = 'x"'
    const el = errorElement(e)
    expect(serialize(el)).toBe(
      '<error type="cancel"><undefined-condition xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>',
    )
  })

  it("a peer's error with an unknown condition or type reads as undefined-condition", () => {
    const stanza = xml(
      'iq',
      { type: 'error', id: '1' },
      xml('error', { type: 'sideways' }, xml('made-up', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })),
    )
    const err = stanzaErrorFrom(stanza)
    expect(err.condition).toBe('undefined-condition')
    expect(err.type).toBe('cancel')
  })
})

describe('the caps cache is bounded (issue #13, item 4)', () => {
  it('presences from many local parts keep at most responders.caps.cacheSize verification strings', async () => {
    const srv = await server()
    const xmpp = make(srv, { responders: { caps: { cacheSize: 50 } } })
    // As the bridge does: every local part is a contact with an identity, so every one has caps.
    xmpp.disco.identity({ category: 'client', type: 'pc', name: 'contact' }, { to: '*' })
    await xmpp.start()
    const alice = srv.client('alice@localhost/a')
    for (let i = 0; i < 2000; i++)
      await xmpp.send(xml('presence', { from: `u${i}@${DOMAIN}`, to: alice.jid }))
    expect(xmpp.disco.capsCached).toBe(50)
    await expect.poll(() => alice.received.length === 2000, { timeout: 3000, interval: 5 }).toBe(true)
    const vers = new Set(
      alice.received.map((p) => p.getChild('c', 'http://jabber.org/protocol/caps')?.attrs.ver),
    )
    expect(vers.size).toBe(1) // the same identities everywhere: one verification string
    expect([...vers][0]).toBe(xmpp.disco.capsVer('someone-else'))
  })

  it('the default bound is 1000 and the option is checked', () => {
    const srv = { url: 'xmpp://127.0.0.1:1' }
    const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 'x' })
    expect(xmpp.disco.capsCacheSize).toBe(1000)
    xmpp.disco.identity({ category: 'client', type: 'pc', name: 'contact' }, { to: '*' })
    for (let i = 0; i < 1500; i++) xmpp.disco.capsVer(`u${i}`)
    expect(xmpp.disco.capsCached).toBe(1000)
    for (const bad of [0, -1, 1.5]) {
      expect(() =>
        component({
          service: srv.url,
          domain: DOMAIN,
          secret: 'x',
          responders: { caps: { cacheSize: bad } },
        }),
      ).toThrow(/cacheSize/)
    }
  })
})

describe('the cache of valid names is bounded', () => {
  it('holds at most CACHE_SIZE names, whatever a peer makes us write; invalid names never enter', () => {
    for (let i = 0; i < 5000; i++) serialize(xml('message', { [`a${i}`]: '1' }, xml(`e${i}`, {})))
    expect(cachedNames()).toBeLessThanOrEqual(CACHE_SIZE)
    expect(cachedNames()).toBeGreaterThan(0)
    serialize(xml('m', {})) // 'm' is cached now (or the cache starts over with it)
    const before = cachedNames()
    for (let i = 0; i < 100; i++) expect(isXmlName(`bad name ${i}`)).toBe(false)
    for (let i = 0; i < 100; i++) refused(() => xml(`bad name ${i}`))
    for (let i = 0; i < 100; i++) refused(() => serialize(xml('m', { [`bad attr ${i}`]: '1' })))
    expect(cachedNames()).toBe(before)
  })
})

describe("the server's stream error conditions are a closed set too", () => {
  it('an unknown condition reads as undefined-condition: stats keys stay bounded, no prototype key', async () => {
    const srv = await server()
    const xmpp = make(srv)
    const conditions: string[] = []
    xmpp.on('error', (e) => conditions.push((e as { condition?: string }).condition ?? ''))
    await xmpp.start()
    for (const made of ['__proto__', 'made-up-1', 'made-up-2', 'made-up-3']) {
      const conn = srv.connectionsFor(DOMAIN)[0]
      if (conn === undefined) throw new Error('not connected')
      conn.streamError(made)
      await expect
        .poll(() => conditions.length > 0 && srv.connectionsFor(DOMAIN).length === 1 && xmpp.online, {
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      conditions.length = 0
    }
    expect(Object.keys(xmpp.stats.reconnectsByReason)).toEqual(['undefined-condition'])
    expect(xmpp.stats.reconnectsByReason['undefined-condition']).toBe(4)
    expect(Object.getPrototypeOf(xmpp.stats.reconnectsByReason)).toBe(Object.prototype)
    expect(STREAM_ERROR_CONDITIONS.has('conflict')).toBe(true)
  })
})

describe('namespace declarations and stanzas of custom classes the servers would reject (review of #13)', () => {
  it('refuses undeclaring, declaring xmlns, rebinding xml, binding to reserved namespaces, duplicate expanded names', () => {
    const XML_NS = 'http://www.w3.org/XML/1998/namespace'
    refused(() => serialize(xml('m', { 'xmlns:p': '' })))
    refused(() => serialize(xml('m', { 'xmlns:xmlns': 'urn:x' })))
    refused(() => serialize(xml('m', { 'xmlns:xml': 'urn:other' })))
    refused(() => serialize(xml('m', { 'xmlns:p': XML_NS })))
    refused(() => serialize(xml('m', { 'xmlns:p': 'http://www.w3.org/2000/xmlns/' })))
    refused(() => serialize(xml('m', { xmlns: XML_NS })))
    refused(() => serialize(xml('m', { 'xmlns:a': 'urn:u', 'xmlns:b': 'urn:u', 'a:k': '1', 'b:k': '2' })))
    // allowed: xml bound to its own namespace, two prefixes of one namespace on different names
    expect(serialize(xml('m', { 'xmlns:xml': XML_NS, 'xml:lang': 'en' }))).toBe(
      `<m xmlns:xml="${XML_NS}" xml:lang="en"/>`,
    )
    expect(serialize(xml('m', { 'xmlns:a': 'urn:u', 'xmlns:b': 'urn:u', 'a:k': '1', 'b:j': '2' }))).toContain(
      'b:j',
    )
  })

  it('a custom toString()/write() of a stanza must write exactly that one element', () => {
    class Smuggler extends Element {
      override toString(): string {
        return '<message/><message to="bob@localhost"><body>forged</body></message>'
      }
    }
    refused(() => serialize(new Smuggler('message')))
    class Renamed extends Element {
      override write(writer: (s: string) => void): void {
        writer('<presence/>')
      }
    }
    refused(() => serialize(new Renamed('message')))
    class Texty extends Element {
      override toString(): string {
        return 'text<message/>'
      }
    }
    refused(() => serialize(new Texty('message')))
    class Fine extends Element {
      override toString(): string {
        return '<message to="a@b"><body>ok</body></message>'
      }
    }
    expect(serialize(new Fine('message'))).toBe('<message to="a@b"><body>ok</body></message>')
  })
})
