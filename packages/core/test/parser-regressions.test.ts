// Regression tests for what the parser property tests (parser-properties, parser-mutations, parser-limits)
// found in the StreamParser (issue #15 section 6), one focused test per finding, with the input that showed it.

import { describe, expect, it } from 'vitest'
import { recorder } from './parser-gen.js'

const HEADER =
  "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='x'>"

function feed(
  chunks: Array<string | number[] | Uint8Array>,
  limits = { maxStanzaBytes: 1 << 20, maxDepth: 64 },
) {
  const r = recorder(limits)
  for (const c of chunks) r.write(typeof c === 'string' ? Buffer.from(c) : Uint8Array.from(c))
  expect(r.problems).toEqual([])
  return r
}

const conditions = (r: ReturnType<typeof feed>) =>
  r.events.filter((e) => e.kind === 'error').map((e) => e.condition)
const stanzas = (r: ReturnType<typeof feed>) => r.events.filter((e) => e.kind === 'stanza')
/** Every way of cutting `doc` in two, and byte by byte. */
function splits(doc: string): Uint8Array[][] {
  const b = Buffer.from(doc)
  const out: Uint8Array[][] = [[b], Array.from(b, (x) => Uint8Array.of(x))]
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)])
  return out
}

describe('StreamParser regressions (found by the property tests)', () => {
  it('accepts character references with leading zeros, however long (was: bare & over 12 characters)', () => {
    // found by parser-properties: a header written as xmlns='…com&#x0000000074;…', split byte by byte
    for (const chunks of splits(`${HEADER}<m><b>&#x000000000074;&#00000000000101;&#x0001F600;</b></m>`)) {
      const r = feed(chunks)
      expect(conditions(r)).toEqual([])
      expect(r.events[1]).toMatchObject({ el: { children: [{ children: ['te😀'] }] } })
    }
  })

  it('delivers the stanzas before invalid UTF-8 in the same chunk (was: the whole chunk refused)', () => {
    // found by parser-mutations (chunking changed the outcome): one byte flipped after the first stanza
    const bytes = Buffer.concat([Buffer.from(`${HEADER}<a/><b/>`), Buffer.from([0xff]), Buffer.from('<c/>')])
    for (const chunks of [[bytes], [bytes.subarray(0, 100), bytes.subarray(100)]]) {
      const r = feed(chunks)
      expect(stanzas(r)).toHaveLength(2)
      expect(conditions(r)).toEqual(['not-well-formed'])
    }
    // an unfinished sequence completed wrongly by the next chunk
    const r = feed([HEADER, '<a/><b>', [0xe8, 0xaa], [0x41], '</b>'])
    expect(stanzas(r)).toHaveLength(1)
    expect(conditions(r)).toEqual(['not-well-formed'])
  })

  it('reports & that starts no reference as not-well-formed, an unknown entity as restricted-xml', () => {
    // found by parser-mutations: '& ;' was restricted-xml ("undeclared entity & ;")
    for (const bad of ['& ;', '&;', '&1a;', '&#X41;', '&a b;', '&amp']) {
      expect(conditions(feed([HEADER, `<m>${bad}</m>`])), bad).toEqual(['not-well-formed'])
    }
    for (const unknown of ['&nbsp;', '&averyveryverylongentityname;', '&é;']) {
      expect(conditions(feed([HEADER, `<m>${unknown}</m>`])), unknown).toEqual(['restricted-xml'])
    }
  })

  it("refuses ']]>' in character data, also split between chunks (was: accepted)", () => {
    for (const chunks of splits(`${HEADER}<m>a]]>b</m>`))
      expect(conditions(feed(chunks))).toEqual(['not-well-formed'])
    // but not in a CDATA section's end or an attribute value, nor written ]]&gt;
    const ok = feed([HEADER, "<m x=']]>'>a]]&gt;<![CDATA[]]]]><![CDATA[>]]>]</m>"])
    expect(conditions(ok)).toEqual([])
    expect(ok.events[1]).toMatchObject({ el: { attrs: [['x', ']]>']], children: ['a]]>]]>]'] } })
  })

  it('refuses characters XML does not allow, after delivering what came before (was: accepted)', () => {
    // found by parser-mutations: U+0001 inserted in text, in a tag, between stanzas
    for (const bad of ['\u0000', '\u0001', '\u0008', '\u000b', '\u000c', '\u001f', '\ufffe', '\uffff']) {
      for (const doc of [`<m>a${bad}</m>`, `<m x='${bad}'/>`, `<m${bad}/>`, `${bad}<m/>`]) {
        const r = feed([HEADER, `<a/>${doc}<b/>`])
        expect(stanzas(r), JSON.stringify(doc)).toHaveLength(1)
        expect(conditions(r), JSON.stringify(doc)).toEqual(['not-well-formed'])
      }
    }
    // tab, LF, CR, U+007F-U+009F, U+FFFD and astral characters are XML characters
    expect(conditions(feed([HEADER, "<m x='\t\n\r'>\t\n\r\u007f\u0085\ufffd😀</m>"]))).toEqual([])
  })

  it('refuses names that are not XML names or qualified names (was: any characters up to a space)', () => {
    // found by parser-mutations: a flipped byte in a name (<a"b/>) parsed as an element named a"b
    for (const bad of [
      '<a"b/>',
      '<1a/>',
      '<-a/>',
      "<a b\"c='1'/>",
      "<a 1b='1'/>",
      '<a:b:c xmlns:a="u"/>',
      '<a:/>',
      "<a :b='1'/>",
    ]) {
      expect(conditions(feed([HEADER, bad])), bad).toEqual(['not-well-formed'])
    }
    // names of XML 1.0 fifth edition: non-ASCII letters, combining marks, astral
    const r = feed([HEADER, "<café xmlns='u' ÿ-é·\u0301='1'><語/><\u{10000}a/><_.x/></café>"])
    expect(conditions(r)).toEqual([])
    expect(stanzas(r)).toHaveLength(1)
  })

  it('refuses bad namespace declarations (was: accepted)', () => {
    for (const bad of [
      "<a xmlns:b=''/>",
      "<a xmlns:xmlns='u'/>",
      "<a xmlns:xml='u'/>",
      "<a xmlns:p='http://www.w3.org/XML/1998/namespace'/>",
      "<a xmlns:p='http://www.w3.org/2000/xmlns/'/>",
    ]) {
      expect(conditions(feed([HEADER, bad])), bad).toEqual(['not-well-formed'])
    }
    expect(
      conditions(feed([HEADER, "<a xmlns:xml='http://www.w3.org/XML/1998/namespace' xmlns=''/>"])),
    ).toEqual([])
  })

  it('keeps an attribute named __proto__ (was: silently dropped, duplicates unseen)', () => {
    const r = feed([HEADER, "<m __proto__='x' constructor='y'/>"])
    expect(r.events[1]).toMatchObject({
      el: {
        attrs: [
          ['__proto__', 'x'],
          ['constructor', 'y'],
        ],
      },
    })
    expect(conditions(feed([HEADER, "<m __proto__='x' __proto__='y'/>"]))).toEqual(['not-well-formed'])
  })

  it('counts what it holds once, in UTF-8 bytes (was: text counted twice, unparsed tokens in characters)', () => {
    // found by parser-limits: 300 bytes of text in 1-byte chunks made `buffered` 302 with a 300-byte limit
    const r = feed([HEADER, '<message><body>', ...Array(100).fill('x')])
    expect(r.parser.buffered).toBe('<message><body>'.length + 100)
    // an attribute value of 3-byte characters not closed yet: refused at the limit in bytes, not in characters
    const limit = 300
    const big = feed([HEADER, "<m a='", '語'.repeat(60), '語'.repeat(60)], {
      maxStanzaBytes: limit,
      maxDepth: 8,
    })
    expect(conditions(big)).toEqual(['policy-violation'])
  })

  it('applies the limit to the stream header whether it comes in one chunk or several (was: only split)', () => {
    const header = `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='${'h'.repeat(300)}'>`
    for (const chunks of [[header], [header.slice(0, 100), header.slice(100)]]) {
      expect(conditions(feed(chunks, { maxStanzaBytes: 200, maxDepth: 8 }))).toEqual(['policy-violation'])
    }
  })

  it('parses a 512 KiB attribute value in 16-byte chunks in linear time (was: quadratic, ~9 s)', () => {
    // found by parser-limits: every chunk parsed the whole start tag again from its '<'
    const r = recorder({ maxStanzaBytes: 1 << 20, maxDepth: 8 })
    r.write(Buffer.from(HEADER))
    const bytes = Buffer.from(`<m a='${'v'.repeat(512 * 1024)}'/>`)
    const started = performance.now()
    for (let at = 0; at < bytes.length; at += 16) r.write(bytes.subarray(at, at + 16))
    expect(performance.now() - started).toBeLessThan(2000)
    expect(stanzas(r)).toHaveLength(1)
  })

  it('keeps U+FEFF inside the stream, drops it only as a byte order mark', () => {
    // the ASCII fast path means the decoder first sees a later chunk: a U+FEFF there is text, not a BOM
    const r = feed([HEADER, '<m>', '\ufeffa</m>'])
    expect(r.events[1]).toMatchObject({ el: { children: ['\ufeffa'] } })
    const bom = feed([[0xef, 0xbb], [0xbf], HEADER, '<m/>'])
    expect(stanzas(bom)).toHaveLength(1)
  })

  it('finds a forbidden character anywhere in a long chunk, at any alignment, among tabs and line ends', () => {
    // the controls are looked for 4 bytes at a time in chunks of 64 bytes or more (mayHoldControls)
    const before = `<a>\t\n\r${'x'.repeat(70)}</a>`
    const after = `<b>\n${'y'.repeat(70)}é</b>`
    for (const bad of ['\u0001', '\u001f', '\ufffe', '\uffff', '\u0000']) {
      for (let at = 0; at < 80; at += 7) {
        const text = `${'z'.repeat(at)}${bad}${'z'.repeat(80 - at)}`
        const doc = Buffer.from(`${before}<m>${text}</m>${after}`)
        for (let offset = 0; offset < 4; offset++) {
          const padded = Buffer.alloc(doc.length + offset)
          doc.copy(padded, offset)
          const r = feed([HEADER, padded.subarray(offset)])
          expect(stanzas(r), `${JSON.stringify(bad)} at ${at}+${offset}`).toHaveLength(1)
          expect(conditions(r)).toEqual(['not-well-formed'])
        }
      }
    }
    const ok = feed([HEADER, Buffer.from(`${before}<m>\t${'\u007f'.repeat(70)}\r\n</m>${after}`)])
    expect(conditions(ok)).toEqual([])
    expect(stanzas(ok)).toHaveLength(3)
  })

  it('needs a space between attributes also when a chunk ends between them', () => {
    for (const chunks of splits(`${HEADER}<m a='1'b='2'/>`))
      expect(conditions(feed(chunks))).toEqual(['not-well-formed'])
  })
})
