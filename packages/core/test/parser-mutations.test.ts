// Property-based tests of the StreamParser under hostile input (issue #15 section 6): valid random streams
// (parser-gen.ts) mutated (bytes flipped, markup XML or XMPP forbids inserted: '<', '&', ']]>', comments,
// processing instructions, DOCTYPE, control characters, invalid UTF-8; truncation, unbalanced tags,
// duplicate attributes, undeclared prefixes, huge values, deep nesting), fed in one chunk and in random
// chunks. Whatever the bytes: write() never throws, every problem is one XmlViolationError through onError,
// nothing is reported after it, the stanzas before the damage are the original ones, the chunking changes
// nothing, each run is bounded in time; where the mutation decides it, the condition is the right one.
//
// Knobs: FUZZ_RUNS=<n> runs each property n times its default number of runs (FUZZ_RUNS=20 for a deep run);
// FUZZ_SEED and FUZZ_PATH replay a failure (fast-check prints both).

import type { XmlViolation } from '@satellite/core/internal'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  chooseCuts,
  cutsArb,
  depthOf,
  type Event,
  expectedEvents,
  fuzzParams,
  type Limits,
  recorder,
  type Serialised,
  type Spot,
  serialise,
  split,
  stanzaBytes,
  streamArb,
  timeout,
  type XStream,
} from './parser-gen.js'

const CONDITIONS: ReadonlySet<string> = new Set([
  'not-well-formed',
  'restricted-xml',
  'policy-violation',
  'bad-format',
])

/** Longest a run may take (a few KB of input, or a stanza over a 4 KB limit, byte by byte): no hang. */
const RUN_MS = 2_000

/** Feeds `chunks` to a new parser; checks the invariants that hold for any input; returns the events. */
function run(chunks: Uint8Array[], limits: Limits): Event[] {
  const r = recorder(limits)
  const started = performance.now()
  for (const chunk of chunks) r.write(chunk)
  const took = performance.now() - started
  expect(r.problems).toEqual([])
  expect(took).toBeLessThan(RUN_MS)
  const errors = r.events.filter((e) => e.kind === 'error')
  expect(errors.length).toBeLessThanOrEqual(1)
  for (const e of errors) expect(CONDITIONS.has(e.condition)).toBe(true)
  if (errors.length === 1) {
    expect(r.events.at(-1)?.kind).toBe('error')
    expect(r.parser.buffered).toBe(0)
  }
  return r.events
}

const bytesAt = (doc: Serialised, offset: number) => Buffer.byteLength(doc.text.slice(0, offset))

/** The events of the original stream up to its first stanza that does not end before byte `at`. */
function eventsBefore(stream: XStream, doc: Serialised, at: number): Event[] {
  const all = expectedEvents(stream)
  if (doc.headEnd > at) return []
  const kept = [all[0] as Event]
  doc.stanzaRanges.forEach(([, end], i) => {
    if (bytesAt(doc, end) <= at && kept.length === i + 1) kept.push(all[i + 1] as Event)
  })
  return kept
}

const maxDepth = (s: XStream) => s.stanzas.reduce((d, el) => Math.max(d, depthOf(el)), 1)

/** Limits that the original stream keeps well within (so that only a mutation can break them). */
function roomyLimits(stream: XStream, doc: Serialised): Limits {
  return {
    maxDepth: maxDepth(stream) + 8,
    maxStanzaBytes: Math.max(stanzaBytes(doc.text, doc.stanzaRanges), doc.headBytes) + 4096,
  }
}

// ---------------------------------------------------------------------------------------------
// Random damage

const INSERTS: Array<string | number[]> = [
  '<',
  '>',
  '&',
  ';',
  '"',
  "'",
  '=',
  '/',
  '</',
  '/>',
  ']]>',
  '<!--',
  '-->',
  '<?',
  '?>',
  '<?xml version="1.0"?>',
  '<!DOCTYPE stream [<!ENTITY a "aaaa">]>',
  '<![CDATA[',
  '&a;',
  '&amp',
  '&#0;',
  '&#x110000;',
  '&#xD800;',
  '&#99999999999999999999;',
  '\u0000',
  '\u0001',
  '\u001b',
  '\u000c',
  '\ufffe',
  '\uffff',
  ' xmlns:q=""',
  ' q:a="1"',
  '<stream:stream xmlns:stream="http://etherx.jabber.org/streams">',
  '</stream:stream>',
  '<a>',
  '</a>',
  [0xff],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf4, 0x90, 0x80, 0x80],
]

type Damage =
  | { op: 'flip'; at: number; mask: number }
  | { op: 'insert'; at: number; what: number }
  | { op: 'delete'; at: number; length: number }
  | { op: 'repeat'; at: number; length: number; times: number }
  | { op: 'truncate'; at: number }

const damageArb: fc.Arbitrary<Damage> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), what: fc.nat(INSERTS.length - 1) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({
    op: fc.constant('repeat' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 60 }),
    times: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
)

/** Applies the damage; returns the bytes and the first byte offset that differs from the original. */
function damage(bytes: Buffer, list: Damage[]): { bytes: Buffer; first: number } {
  let b = bytes
  let first = bytes.length
  for (const d of list) {
    const at = d.at % (b.length + 1)
    first = Math.min(first, at)
    switch (d.op) {
      case 'flip':
        if (at < b.length) {
          b = Buffer.from(b)
          b[at] = (b[at] as number) ^ d.mask
        }
        break
      case 'insert': {
        const w = INSERTS[d.what] as string | number[]
        b = Buffer.concat([
          b.subarray(0, at),
          typeof w === 'string' ? Buffer.from(w) : Buffer.from(w),
          b.subarray(at),
        ])
        break
      }
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + d.length)])
        break
      case 'repeat': {
        const piece = b.subarray(at, at + d.length)
        b = Buffer.concat([b.subarray(0, at), ...Array(d.times + 1).fill(piece), b.subarray(at + d.length)])
        break
      }
      case 'truncate':
        b = b.subarray(0, at)
        break
    }
  }
  return { bytes: b, first }
}

// ---------------------------------------------------------------------------------------------
// Damage whose outcome is known

interface Known {
  where: Spot['kind']
  insert: string | number[]
  condition: XmlViolation
}

const utf8 = (xs: number[]) => xs
const KNOWN: Known[] = [
  // inside a stanza, where text could be
  ...['<!-- c -->', '<!DOCTYPE x>', '<?pi x?>', '&nbsp;', '&a;'].map((insert) => ({
    where: 'content' as const,
    insert,
    condition: 'restricted-xml' as const,
  })),
  ...[
    '&#1;',
    '&#0;',
    '&#xD800;',
    '&#xFFFE;',
    '&#x110000;',
    '&#;',
    '&#x;',
    '&#12a;',
    '&#X41;',
    '& ;',
    '&;',
    '&1a;',
    ']]>',
    '\u0000',
    '\u0001',
    '\u0008',
    '\u000b',
    '\u000c',
    '\u001f',
    '\ufffe',
    '\uffff',
    '</nope>',
    '<x>',
    '< x/>',
    '<a b>',
    "<a b='1' b='2'/>",
    '<zz:a/>',
    "<a zz:b='1'/>",
    "<a b='<'/>",
    '<a b=c/>',
    "<a b='1'c='2'/>",
    '<a/ >',
    '<:a/>',
    '<a"b/>',
    '<1a/>',
    "<a b\"c='1'/>",
    '<a:b:c xmlns:a="u"/>',
    "<a xmlns:b=''/>",
    "<a xmlns:xmlns='u'/>",
    utf8([0xff]),
    utf8([0xc0, 0x80]),
    utf8([0xed, 0xa0, 0x80]),
    utf8([0xe2, 0x82, 0x41]),
    utf8([0x80]),
    utf8([0xf4, 0x90, 0x80, 0x80]),
  ].map((insert) => ({ where: 'content' as const, insert, condition: 'not-well-formed' as const })),
  // inside a start tag, after the name or an attribute
  ...[
    " zz:q='1'",
    ' q=1',
    " q='<'",
    " q='&#1;'",
    ' q',
    ' <',
    " q='1'q='2'",
    '\u0001',
    "'",
    ' "',
    " q\"='1'",
  ].map((insert) => ({
    where: 'tag' as const,
    insert,
    condition: 'not-well-formed' as const,
  })),
  { where: 'tag', insert: " q='&bogus;'", condition: 'restricted-xml' },
  // between stanzas
  ...['<!-- c -->', '<?pi?>', '<!DOCTYPE x>', '<?xml version="1.0"?>'].map((insert) => ({
    where: 'top' as const,
    insert,
    condition: 'restricted-xml' as const,
  })),
  ...['</x>', '<![CDATA[x]]>', '\u0001', '\ufffe', utf8([0xff]), utf8([0xc3, 0x28]), '< a/>'].map(
    (insert) => ({
      where: 'top' as const,
      insert,
      condition: 'not-well-formed' as const,
    }),
  ),
]

function insertAt(bytes: Buffer, at: number, what: string | number[]): Buffer {
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(what as string), bytes.subarray(at)])
}

describe('StreamParser properties: damaged streams', () => {
  it(
    'any damage: no exception, one typed error at most and nothing after it, the same in any chunks',
    () => {
      fc.assert(
        fc.property(
          streamArb,
          fc.integer(),
          fc.array(damageArb, { minLength: 1, maxLength: 3 }),
          cutsArb,
          (stream, seed, list, cuts) => {
            const doc = serialise(stream, seed)
            const original = Buffer.from(doc.text)
            const { bytes, first } = damage(original, list)
            const limits = roomyLimits(stream, doc)
            const one = run([bytes], limits)
            const many = run(split(bytes, chooseCuts(bytes, cuts)), limits)
            expect(many).toEqual(one)
            // what came before the damage is what the original stream holds
            const before = eventsBefore(stream, doc, first)
            expect(one.slice(0, before.length)).toEqual(before)
          },
        ),
        fuzzParams(300),
      )
    },
    timeout(),
  )

  it(
    'markup XML or XMPP forbids, put where it decides the outcome, is reported with the right condition',
    () => {
      fc.assert(
        fc.property(
          streamArb.filter((s) => s.stanzas.length > 0),
          fc.integer(),
          fc.nat(KNOWN.length - 1),
          fc.nat(),
          cutsArb,
          (stream, seed, k, which, cuts) => {
            const doc = serialise(stream, seed)
            const known = KNOWN[k] as Known
            const spots = doc.spots.filter((s) => s.kind === known.where)
            fc.pre(spots.length > 0)
            const spot = spots[which % spots.length] as Spot
            const at = bytesAt(doc, spot.offset)
            const bytes = insertAt(Buffer.from(doc.text), at, known.insert)
            const expected = [...eventsBefore(stream, doc, at), { kind: 'error', condition: known.condition }]
            const limits = roomyLimits(stream, doc)
            expect(run([bytes], limits)).toEqual(expected)
            expect(run(split(bytes, chooseCuts(bytes, cuts)), limits)).toEqual(expected)
          },
        ),
        fuzzParams(400),
      )
    },
    timeout(),
  )

  it(
    'a duplicate attribute is not-well-formed',
    () => {
      fc.assert(
        fc.property(streamArb, fc.integer(), fc.nat(), cutsArb, (stream, seed, which, cuts) => {
          const doc = serialise(stream, seed)
          const spots = doc.spots.filter((s) => s.kind === 'tag' && s.attrs.length > 0)
          fc.pre(spots.length > 0)
          const spot = spots[which % spots.length] as Spot
          const name = spot.attrs[which % spot.attrs.length] as string
          const at = bytesAt(doc, spot.offset)
          const bytes = insertAt(Buffer.from(doc.text), at, ` ${name}="dup"`)
          const expected = [...eventsBefore(stream, doc, at), { kind: 'error', condition: 'not-well-formed' }]
          const limits = roomyLimits(stream, doc)
          expect(run([bytes], limits)).toEqual(expected)
          expect(run(split(bytes, chooseCuts(bytes, cuts)), limits)).toEqual(expected)
        }),
        fuzzParams(150),
      )
    },
    timeout(),
  )

  it(
    'nesting one level too deep, a huge value or huge text is a policy-violation',
    () => {
      fc.assert(
        fc.property(
          streamArb.filter((s) => s.stanzas.length > 0),
          fc.integer(),
          fc.constantFrom('deep', 'value', 'text', 'cdata'),
          fc.nat(),
          cutsArb,
          (stream, seed, kind, which, cuts) => {
            const doc = serialise(stream, seed)
            const limits = roomyLimits(stream, doc)
            const spots = doc.spots.filter((s) => s.kind === (kind === 'value' ? 'tag' : 'content'))
            fc.pre(spots.length > 0)
            const spot = spots[which % spots.length] as Spot
            const big = 'x'.repeat(limits.maxStanzaBytes)
            const insert =
              kind === 'deep'
                ? '<d>'.repeat(limits.maxDepth - spot.depth + 2)
                : kind === 'value'
                  ? ` BIG='${big}'`
                  : kind === 'text'
                    ? big
                    : `<![CDATA[${big}]]>`
            const at = bytesAt(doc, spot.offset)
            const bytes = insertAt(Buffer.from(doc.text), at, insert)
            const expected = [
              ...eventsBefore(stream, doc, at),
              { kind: 'error', condition: 'policy-violation' },
            ]
            expect(run([bytes], limits)).toEqual(expected)
            expect(run(split(bytes, chooseCuts(bytes, cuts)), limits)).toEqual(expected)
          },
        ),
        fuzzParams(100),
      )
    },
    timeout(),
  )

  it(
    'a truncated stream reports the stanzas complete before the cut, no error',
    () => {
      fc.assert(
        fc.property(streamArb, fc.integer(), fc.nat(), cutsArb, (stream, seed, cut, cuts) => {
          const doc = serialise(stream, seed)
          const original = Buffer.from(doc.text)
          const at = cut % (original.length + 1)
          const bytes = original.subarray(0, at)
          let expected = eventsBefore(stream, doc, at)
          if (stream.ended && at === original.length) expected = expectedEvents(stream)
          const limits = roomyLimits(stream, doc)
          expect(run([bytes], limits)).toEqual(expected)
          expect(run(split(bytes, chooseCuts(bytes, cuts)), limits)).toEqual(expected)
        }),
        fuzzParams(150),
      )
    },
    timeout(),
  )
})
