// Property-based tests of the StreamParser's memory bound (issue #15 section 6): a stanza (or a stream header,
// or an XML declaration) that grows past limits.maxStanzaBytes, whatever grows (text, an attribute value or
// name, CDATA, an element name, attributes, children, whitespace inside a tag, an end tag, a character
// reference) and however it arrives (1-byte chunks, small, large or megabyte chunks, in any mix), fails with
// policy-violation in the write that takes it over the limit: after each write the parser holds at most the
// limit (parser.buffered, UTF-8 bytes). Whitespace between stanzas is never accumulated. A token that spans
// many chunks is not parsed again from its start for each chunk (each run is bounded in time).
//
// Knobs: FUZZ_RUNS=<n> runs each property n times its default number of runs (FUZZ_RUNS=20 for a deep run);
// FUZZ_SEED and FUZZ_PATH replay a failure (fast-check prints both).

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fuzzParams, recorder, timeout } from './parser-gen.js'

const HEADER =
  "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='x'>"

/** What grows: the bytes before the growing part, and the unit repeated (attributes: numbered). */
const SHAPES: Record<string, { head: string; unit: string; before?: string }> = {
  text: { head: "<message to='a@b'><body>", unit: 'x' },
  value: { head: "<message to='", unit: 'v' },
  cdata: { head: '<message><body><![CDATA[', unit: 'c' },
  name: { head: '<a', unit: 'n' },
  attrName: { head: '<message a', unit: 'n' },
  afterAttrName: { head: '<message a', unit: ' ' },
  afterEquals: { head: '<message a=', unit: ' ' },
  attrs: { head: '<message', unit: " a#='1'" },
  children: { head: '<message>', unit: '<x/>' },
  tagSpace: { head: '<message', unit: ' ' },
  textSpace: { head: '<message>', unit: ' \n' },
  endTag: { head: '<message></', unit: 'e' },
  charRef: { head: '<message>&#x', unit: '0' },
  header: {
    head: "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' id='",
    unit: 'h',
    before: '',
  },
  decl: { head: "<?xml version='1.0' ", unit: ' ', before: '' },
}

/** Characters the growing part is made of (for text-like parts): ASCII, 2-, 3- and 4-byte UTF-8. */
const FILL = ['x', 'é', '語', '😀']

/** `unit` repeated until it makes at least `bytes` bytes ('#' in it numbered, for distinct attribute names). */
function grow(unit: string, bytes: number): string {
  if (!unit.includes('#')) return unit.repeat(Math.ceil(bytes / Buffer.byteLength(unit)))
  const out: string[] = []
  let n = 0
  for (let i = 0; n < bytes; i++) {
    const u = unit.replace('#', String(i))
    out.push(u)
    n += u.length
  }
  return out.join('')
}

const chunkSize = fc.oneof(
  fc.constant(1),
  fc.integer({ min: 1, max: 64 }),
  fc.integer({ min: 100, max: 5000 }),
  fc.constant(65536),
  fc.constant(1 << 20),
)

describe('StreamParser properties: the stanza size limit bounds memory', () => {
  it(
    'a stanza growing past the limit fails in the write that takes it over, holding at most the limit',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom(...Object.keys(SHAPES)),
          fc.constantFrom(...FILL),
          fc.integer({ min: 300, max: 20_000 }),
          fc.array(chunkSize, { minLength: 1, maxLength: 8 }),
          (shape, fill, limit, sizes) => {
            const { head, unit, before = HEADER } = SHAPES[shape] as (typeof SHAPES)[string]
            // text-like parts are made of the fill character (names and references stay ASCII)
            const u = unit === 'x' || unit === 'v' || unit === 'c' || unit === 'h' ? fill : unit
            const r = recorder({ maxStanzaBytes: limit, maxDepth: 64 })
            r.write(Buffer.from(before))
            const start = Buffer.from(head)
            // the growing stanza, long enough to pass the limit whatever the chunks
            const body = Buffer.from(grow(u, limit * 2 + 8))
            const bytes = Buffer.concat([start, body])
            let fed = 0
            let i = 0
            while (fed < bytes.length && !r.failed) {
              const size = sizes[i++ % sizes.length] as number
              const chunk = bytes.subarray(fed, fed + size)
              r.write(chunk)
              fed += chunk.length
              if (!r.failed) {
                // still within the limit: the parser holds no more than that
                expect(r.parser.buffered).toBeLessThanOrEqual(limit)
                // a stanza over the limit (up to the 3 bytes of a character the decoder waits for) is refused
                expect(fed).toBeLessThanOrEqual(limit + 3)
              }
            }
            expect(r.problems).toEqual([])
            expect(r.events.at(-1)).toEqual({ kind: 'error', condition: 'policy-violation' })
            expect(r.parser.buffered).toBe(0)
          },
        ),
        fuzzParams(150),
      )
    },
    timeout(),
  )

  it(
    'a stanza within the limit, however it is chunked, is read without holding more than itself',
    () => {
      fc.assert(
        fc.property(
          fc.constantFrom('text', 'value', 'cdata', 'attrs', 'children', 'textSpace'),
          fc.constantFrom(...FILL),
          fc.integer({ min: 300, max: 20_000 }),
          fc.array(chunkSize, { minLength: 1, maxLength: 8 }),
          (shape, fill, limit, sizes) => {
            const { head, unit } = SHAPES[shape] as (typeof SHAPES)[string]
            const u = unit === 'x' || unit === 'v' || unit === 'c' ? fill : unit
            const close = {
              text: '</body></message>',
              value: "'/>",
              cdata: ']]></body></message>',
              attrs: '/>',
              children: '</message>',
              textSpace: '</message>',
            }[shape] as string
            // a stanza of this shape of about `limit` bytes, and the limit exactly its size
            const stanza = Buffer.from(head + grow(u, limit) + close)
            const r = recorder({ maxStanzaBytes: stanza.length, maxDepth: 64 })
            r.write(Buffer.from(HEADER))
            let fed = 0
            let i = 0
            while (fed < stanza.length) {
              const chunk = stanza.subarray(fed, fed + (sizes[i++ % sizes.length] as number))
              r.write(chunk)
              fed += chunk.length
              expect(r.parser.buffered).toBeLessThanOrEqual(stanza.length)
            }
            expect(r.problems).toEqual([])
            expect(r.events.map((e) => e.kind)).toEqual(['start', 'stanza'])
            expect(r.parser.buffered).toBe(0)
          },
        ),
        fuzzParams(100),
      )
    },
    timeout(),
  )

  it(
    'whitespace between stanzas is never accumulated, in any chunks',
    () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.constantFrom(' ', '\n', '\r\n', '\t', ' \t\n'), fc.integer({ min: 1, max: 200_000 })),
            {
              minLength: 1,
              maxLength: 6,
            },
          ),
          fc.array(chunkSize, { minLength: 1, maxLength: 8 }),
          (floods, sizes) => {
            const r = recorder({ maxStanzaBytes: 1000, maxDepth: 8 })
            r.write(Buffer.from(HEADER))
            // (with small chunks, smaller floods: the test's own checks per write cost more than the parser)
            const cap = Math.min(...sizes) < 100 ? 3000 : 200_000
            const flood = floods.map(([w, n]) => w.repeat(Math.min(n, cap)))
            const bytes = Buffer.from(`${flood.join("<presence to='a@b'/>")}<iq/>`)
            let fed = 0
            let i = 0
            while (fed < bytes.length) {
              const chunk = bytes.subarray(fed, fed + (sizes[i++ % sizes.length] as number))
              r.write(chunk)
              fed += chunk.length
              // at most a '<' that may start a tag, or the tag itself
              expect(r.parser.buffered).toBeLessThanOrEqual(20)
            }
            expect(r.problems).toEqual([])
            expect(r.events.filter((e) => e.kind === 'stanza')).toHaveLength(floods.length)
            expect(r.parser.buffered).toBe(0)
          },
        ),
        fuzzParams(40),
      )
    },
    timeout(),
  )

  it('a token spanning many chunks is not parsed again from its start for each chunk (no quadratic time)', () => {
    // 512 KiB (the default limit) of one attribute value, CDATA section, element name, end tag or
    // whitespace inside a tag, in 16-byte chunks: 32768 writes. Parsed again from the start of the token
    // each time, that is ~8.6e9 characters scanned (minutes); parsed once, a fraction of a second.
    for (const shape of ['value', 'cdata', 'name', 'attrName', 'endTag', 'tagSpace', 'afterEquals']) {
      const { head, unit } = SHAPES[shape] as (typeof SHAPES)[string]
      const limit = 512 * 1024
      const r = recorder({ maxStanzaBytes: limit, maxDepth: 64 })
      r.write(Buffer.from(HEADER))
      const bytes = Buffer.from(head + unit.repeat(limit))
      const started = performance.now()
      for (let at = 0; at < bytes.length && !r.failed; at += 16) r.write(bytes.subarray(at, at + 16))
      const took = performance.now() - started
      expect(r.events.at(-1), shape).toEqual({ kind: 'error', condition: 'policy-violation' })
      expect(took, shape).toBeLessThan(3000)
    }
  }, 60_000)
})
