// serialize() (what send() writes) must give exactly ltx's toString(), escaping included, except that characters
// XML 1.0 does not allow become U+FFFD.
import { xml as coreXml } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { streamErrorXml, streamHeader } from '../src/stream/handshake.js'
import { Element, xml } from '../src/xml/element.js'
import { serialize, xmlChars } from '../src/xml/serialize.js'
import { DOMAIN, make, server } from './helpers.js'

const same = (el: Element) => expect(serialize(el)).toBe(el.toString())

// What XML 1.0 forbids (surrogates aside), spelled out independently of serialize.ts.
const forbidden: number[] = []
for (let c = 0; c < 0x20; c++) if (c !== 0x9 && c !== 0xa && c !== 0xd) forbidden.push(c)
forbidden.push(0xfffe, 0xffff)
const FORBIDDEN = new Set(forbidden)
const replaceForbidden = (s: string) =>
  Array.from({ length: s.length }, (_, i) => (FORBIDDEN.has(s.charCodeAt(i)) ? '\uFFFD' : s[i])).join('')
const hasForbidden = (s: string) =>
  Array.from({ length: s.length }, (_, i) => s.charCodeAt(i)).some((c) => FORBIDDEN.has(c))
/** ltx's toString() with the forbidden characters replaced: what serialize() must give. */
const sameButReplaced = (el: Element) => {
  const out = serialize(el)
  expect(out).toBe(replaceForbidden(el.toString()))
  expect(hasForbidden(out)).toBe(false)
}

describe('serialize', () => {
  it('matches toString() for ordinary stanzas', () => {
    same(xml('message', { to: 'a@b/c', from: 'bot@echo', type: 'chat', id: 'm1' }, xml('body', {}, 'hello')))
    same(xml('iq', { type: 'result', id: 'x' }))
    same(xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', ver: 'a+b/c=' })))
    same(xml('a', {}, 'one', xml('b', {}, 'two'), 'three', xml('c', {}, xml('d'))))
  })

  it('escapes attributes and text exactly like ltx', () => {
    same(xml('a', { x: `q"&'<>`, y: 'plain', z: '&amp;' }, `t<&>"'`, xml('b', {}, ']]>')))
    same(xml('a', { 'xml:lang': 'en' }, '\u00e9\u{1F600} & <'))
    // Long values take the regex path.
    const long = 'x'.repeat(100)
    same(xml('a', { v: long, w: `${long}"&'<>${long}` }, long, xml('b', {}, `${long}<&>${long}`)))
  })

  it('handles non-string attribute values, nulls and non-string children like ltx', () => {
    const el = new Element('a', { n: 5, t: true, u: undefined, z: null } as unknown as Record<string, string>)
    el.children.push(7 as unknown as string, null as unknown as string, '', xml('b', {}, ''))
    same(el)
    const empty = new Element('e')
    empty.children.push('' as string)
    same(empty)
  })

  it('defers to overridden write / toString and to foreign writable children', () => {
    class Custom extends Element {
      override write(writer: (s: string) => void): void {
        writer('<custom/>')
      }
    }
    class Str extends Element {
      override toString(): string {
        return '<str/>'
      }
    }
    same(new Custom('custom'))
    same(xml('p', {}, new Custom('c'), 'x'))
    expect(serialize(new Str('str'))).toBe('<str/>')
    const foreign = { write: (w: (s: string) => void) => w('<raw/>') } as unknown as Element
    same(xml('x', {}, foreign))
  })

  it('keeps characters XML allows as ltx writes them (tab, LF, CR, DEL, C1, U+FFFD, astral)', () => {
    const ok = 'a\tb\nc\rd\u007f\u0085\u00a0\ud7ff\ue000\ufffc\ufffd\u{10000}\u{10FFFF}😀'
    same(xml('a', {}, ok))
    same(xml('a', {}, ok.repeat(5)))
    // In attribute values, tab, LF and CR are character references: a parser turns them into spaces.
    const refs = (s: string) => s.replaceAll('\t', '&#9;').replaceAll('\n', '&#10;').replaceAll('\r', '&#13;')
    expect(serialize(xml('a', { v: ok }))).toBe(`<a v="${refs(ok)}"/>`)
    expect(serialize(xml('a', { v: ok.repeat(5) }))).toBe(`<a v="${refs(ok.repeat(5))}"/>`)
    expect(serialize(xml('a', { v: '"\t<' }))).toBe('<a v="&quot;&#9;&lt;"/>')
  })
})

describe('serialize: characters XML 1.0 does not allow become U+FFFD', () => {
  it('in text', () => {
    expect(serialize(xml('body', {}, 'a\u0003b'))).toBe('<body>a\uFFFDb</body>')
    // IRC bold / colour / reset codes
    expect(serialize(xml('body', {}, '\u0002bold\u0002 \u000304,12red\u000f'))).toBe(
      '<body>\uFFFDbold\uFFFD \uFFFD04,12red\uFFFD</body>',
    )
    expect(serialize(xml('body', {}, '\u0000\ufffe\uffff'))).toBe('<body>\uFFFD\uFFFD\uFFFD</body>')
  })

  it('in attribute values', () => {
    expect(serialize(xml('a', { id: 'x\u0003y', name: '\u0000', t: '\uffff' }))).toBe(
      '<a id="x\uFFFDy" name="\uFFFD" t="\uFFFD"/>',
    )
  })

  it('every forbidden code unit, alone and between clean characters, in text and attributes', () => {
    for (const c of forbidden) {
      const ch = String.fromCharCode(c)
      for (const v of [ch, `ab${ch}cd`, `${ch}x`, `x${ch}`]) {
        const want = v.replace(ch, '\uFFFD')
        expect(serialize(xml('a', { v }, v))).toBe(`<a v="${want}">${want}</a>`)
        sameButReplaced(xml('a', { v }, v))
      }
    }
  })

  it('mixed with characters that need escaping', () => {
    expect(serialize(xml('a', { v: `q\u0003"&'<>\u001f` }, `t<\u0001&>"'\u0008`))).toBe(
      '<a v="q\uFFFD&quot;&amp;&apos;&lt;&gt;\uFFFD">t&lt;\uFFFD&amp;&gt;"\'\uFFFD</a>',
    )
    sameButReplaced(xml('a', { v: `&\u0003amp;`, w: '\u000b<' }, '&\u0003lt;', xml('b', {}, ']]>\u0007')))
  })

  it('in long strings (the regex path), at the start, middle and end, with and without escapes', () => {
    const long = 'x'.repeat(100)
    expect(long.length).toBeGreaterThan(32)
    for (const c of forbidden) {
      const ch = String.fromCharCode(c)
      const v = `${ch}${long}${ch}${long}${ch}`
      const want = `\uFFFD${long}\uFFFD${long}\uFFFD`
      expect(serialize(xml('a', { v }, v))).toBe(`<a v="${want}">${want}</a>`)
      sameButReplaced(xml('a', { v: `${v}"&'<>` }, `${v}<&>`))
    }
    const irc = `\u000304,12${'colourful '.repeat(20)}\u000f & <done>`
    sameButReplaced(xml('message', { to: 'a@b', id: `${'i'.repeat(40)}\u0003` }, xml('body', {}, irc)))
    // A long clean value is still exactly ltx's.
    same(xml('a', { v: long }, `${long}\t\n\r${long}`))
  })

  it('nested children, non-string children and the 32-character boundary', () => {
    const at32 = `${'y'.repeat(31)}\u0003`
    const at33 = `${'y'.repeat(32)}\u0003`
    expect(at32.length).toBe(32)
    sameButReplaced(xml('a', { s: at32, l: at33 }, at32, xml('b', {}, at33, xml('c', { z: '\u0000' })), 'ok'))
    const el = new Element('a', { n: 3 } as unknown as Record<string, string>)
    el.children.push(7 as unknown as string, '\u0003')
    expect(serialize(el)).toBe('<a n="3">7\uFFFD</a>')
  })

  it('also in output of overridden methods and foreign writable children', () => {
    class Custom extends Element {
      override write(writer: (s: string) => void): void {
        writer('<custom>\u0003</custom>')
      }
    }
    class Str extends Element {
      override toString(): string {
        return '<str a="\u0000"/>'
      }
    }
    expect(serialize(new Custom('custom'))).toBe('<custom>\uFFFD</custom>')
    expect(serialize(xml('p', {}, new Custom('c'), 'x'))).toBe('<p><custom>\uFFFD</custom>x</p>')
    expect(serialize(new Str('str'))).toBe('<str a="\uFFFD"/>')
    const foreign = { write: (w: (s: string) => void) => w('<raw>\uffff</raw>') } as unknown as Element
    expect(serialize(xml('x', {}, foreign, 'y'))).toBe('<x><raw>\uFFFD</raw>y</x>')
  })

  it('xmlChars, stream headers and stream error texts', () => {
    const clean = 'abc'
    expect(xmlChars(clean)).toBe(clean)
    expect(xmlChars('\u0003a\u0003')).toBe('\uFFFDa\uFFFD')
    expect(streamErrorXml('restricted-xml', 'undeclared entity &\u0003;')).toContain(
      "<text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>undeclared entity &amp;\uFFFD;</text>",
    )
    expect(streamHeader('a\u0003.example')).toContain("to='a\uFFFD.example'")
  })

  it('end to end: the stanza arrives with U+FFFD and the stream stays up', async () => {
    const srv = await server()
    const xmpp = make(srv)
    let offline = 0
    xmpp.on('offline', () => void offline++)
    xmpp.on('reconnecting', () => void offline++)
    // Relays what a legacy (IRC) network sent: colour codes in the body and in an attribute.
    xmpp.message({ type: 'chat' }, (msg) =>
      xmpp.send(
        coreXml(
          'message',
          { from: msg.attrs.to, to: msg.attrs.from, type: 'chat', id: `${msg.attrs.id}\u0003` },
          coreXml('body', {}, `\u000304,12${msg.getChildText('body') ?? ''}\u000f & <\uffff>`),
        ),
      ),
    )
    await xmpp.start()
    const conn = srv.connectionsFor(DOMAIN)[0]
    const alice = srv.client('alice@localhost/irc')
    alice.send(xml('message', { to: `bot@${DOMAIN}`, type: 'chat', id: 'm1' }, xml('body', {}, 'hi')))
    const reply = await alice.expectStanza({ name: 'message', id: 'm1\uFFFD' })
    expect(reply.getChildText('body')).toBe('\uFFFD04,12hi\uFFFD & <\uFFFD>')
    // The same connection carries the next stanza: nothing was closed or reconnected.
    alice.send(xml('message', { to: `bot@${DOMAIN}`, type: 'chat', id: 'm2' }, xml('body', {}, 'again')))
    const again = await alice.expectStanza({ name: 'message', id: 'm2\uFFFD' })
    expect(again.getChildText('body')).toBe('\uFFFD04,12again\uFFFD & <\uFFFD>')
    expect(xmpp.status).toBe('online')
    expect(offline).toBe(0)
    expect(srv.connectionsFor(DOMAIN)).toEqual([conn])
    expect(xmpp.stats.stanzasOut).toBe(2)
  })
})
