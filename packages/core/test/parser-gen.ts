// Shared by the parser property tests (parser-*.test.ts, issue #15 section 6): a model of XMPP streams
// (a header, then stanzas: elements with attributes, namespace declarations, text), fast-check arbitraries
// for it, a serialiser that writes the model in every way XML allows (quotes, whitespace inside tags,
// entities, decimal and hex character references, CDATA sections, self-closing or not), a recorder of what
// the StreamParser reports, and ltx's whole-document parser as an independent oracle.
//
// Knobs (environment): FUZZ_RUNS=<n> multiplies every property's default number of runs (FUZZ_RUNS=20 for a
// deep run); FUZZ_SEED=<seed> and FUZZ_PATH=<path> replay a failure (fast-check prints both).

import type { Element } from '@satellite/core'
import { StreamParser, type XmlViolation, XmlViolationError } from '@satellite/core/internal'
import fc from 'fast-check'
import ltxParse from 'ltx/src/parse.js'

// ---------------------------------------------------------------------------------------------
// Knobs

const SCALE = Math.max(1, Number(process.env.FUZZ_RUNS ?? 1) || 1)

/** Vitest timeout of a property test whose default run takes well under `ms`. */
export const timeout = (ms = 20_000): number => ms * SCALE

/** fast-check parameters for a property whose default is `runs` runs (see the knobs above). */
export function fuzzParams(runs: number): fc.Parameters<unknown> {
  const params: fc.Parameters<unknown> = { numRuns: Math.round(runs * SCALE) }
  if (process.env.FUZZ_SEED !== undefined) params.seed = Number(process.env.FUZZ_SEED)
  if (process.env.FUZZ_PATH !== undefined) params.path = process.env.FUZZ_PATH
  return params
}

// ---------------------------------------------------------------------------------------------
// The model

/** An element as the model knows it: attributes in document order (namespace declarations included). */
export interface XEl {
  name: string
  attrs: Array<[string, string]>
  children: Array<XEl | string>
}

/** A stream: the header's attributes, the stanzas, whether `</stream:stream>` ends it. */
export interface XStream {
  decl: boolean
  bom: boolean
  header: Array<[string, string]>
  stanzas: XEl[]
  /** Whitespace written before each stanza (and before the end tag). */
  gaps: string[]
  ended: boolean
}

/** What an element must parse to: name, attributes in order, children with adjacent text merged. */
export interface Plain {
  name: string
  attrs: Array<[string, string]>
  children: Array<Plain | string>
}

export function plainModel(el: XEl): Plain {
  const children: Array<Plain | string> = []
  for (const c of el.children) {
    if (typeof c === 'string') pushText(children, c)
    else children.push(plainModel(c))
  }
  return { name: el.name, attrs: el.attrs.map(([k, v]) => [k, v]), children }
}

function pushText(children: Array<Plain | string>, t: string): void {
  if (t === '') return
  const last = children.length - 1
  if (last >= 0 && typeof children[last] === 'string') children[last] = `${children[last]}${t}`
  else children.push(t)
}

interface Tree {
  name: string
  attrs: Record<string, string>
  children: Array<Tree | string>
  parent?: unknown
}

/** An element built by a parser (ours or ltx's), as a Plain; checks that children point to their parent. */
export function plainParsed(el: Tree, problems: string[] = []): Plain {
  const children: Array<Plain | string> = []
  for (const c of el.children) {
    if (typeof c === 'string') pushText(children, c)
    else {
      if (c.parent !== el) problems.push(`<${c.name}>.parent is not <${el.name}>`)
      children.push(plainParsed(c, problems))
    }
  }
  return { name: el.name, attrs: Object.entries(el.attrs), children }
}

export function depthOf(el: XEl): number {
  let d = 0
  for (const c of el.children) if (typeof c !== 'string') d = Math.max(d, depthOf(c))
  return d + 1
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** Characters of content and attribute values: markup, whitespace, non-ASCII, astral, any XML Char. */
const anyXmlChar = fc
  .oneof(
    fc.integer({ min: 0x20, max: 0xd7ff }),
    fc.integer({ min: 0xe000, max: 0xfffd }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
  .map((cp) => String.fromCodePoint(cp))

export const xmlChar: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...'abcxyzXYZ0189 -_.:/@') },
  { weight: 4, arbitrary: fc.constantFrom('<', '>', '&', '"', "'", ']', '[', '!', '?', '=', ';', '#', '-') },
  { weight: 2, arbitrary: fc.constantFrom(' ', '\t', '\n', '\r', '\r\n') },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'é',
      'ß',
      '語',
      'Ω',
      '\u00a0',
      '\u200b',
      '\u2028',
      '\ufeff',
      '\ufffd',
      '\ue000',
      '\u0301',
      '😀',
      '👩‍💻',
      '𝄞',
      '\u{10fffd}',
    ),
  },
  { weight: 1, arbitrary: anyXmlChar },
)

export const xmlString = (maxLength: number): fc.Arbitrary<string> =>
  fc.array(xmlChar, { maxLength }).map((a) => a.join(''))

const NAME_START = [
  ...'abcdefghijklmnopqrstuvwxyzXYZ_',
  'é',
  'ß',
  'Ω',
  '語',
  'ア',
  'À',
  '\u037f',
  '\u{10000}',
]
const NAME_MORE = [...'0123456789-.', '\u00b7', '\u0301', '\u203f']

/** An NCName: a realistic XMPP name or a random one with non-ASCII name characters. */
export const ncName: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'message',
      'presence',
      'iq',
      'body',
      'subject',
      'thread',
      'query',
      'item',
      'x',
      'error',
      'text',
      'html',
      'p',
      'span',
      'event',
      'items',
      'feature',
      'identity',
      'field',
      'value',
      'delay',
      'stanza-id',
      'active',
      'a',
    ),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...NAME_START),
        fc.array(fc.constantFrom(...NAME_START, ...NAME_MORE), { maxLength: 8 }),
      )
      .map(([s, r]) => s + r.join('')),
  },
)

export const PREFIXES = ['p', 'foo', 'ns1', 'é', 'db']

const qName: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: ncName },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...PREFIXES), ncName).map(([p, l]) => `${p}:${l}`) },
)

const attrName: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('to', 'from', 'id', 'type', 'xml:lang', 'version', 'node', 'jid') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'length') },
  { weight: 3, arbitrary: qName },
)

const nsUri: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('jabber:client', 'urn:xmpp:ping', 'http://jabber.org/protocol/disco#info', 'urn:x'),
  xmlString(12).map((s) => `urn:${s}`),
)

interface RawEl {
  name: string
  attrs: Array<[string, string]>
  xmlns: string | null
  decls: Array<[string, string]>
  declareOnRoot: boolean
  children: Array<RawEl | string>
}

const rawEl = fc.letrec<{ el: RawEl }>((tie) => ({
  el: fc.record({
    name: qName,
    attrs: fc.array(fc.tuple(attrName, xmlString(10)), { maxLength: 4 }),
    xmlns: fc.option(nsUri, { nil: null }),
    decls: fc.array(fc.tuple(fc.constantFrom(...PREFIXES), nsUri), { maxLength: 2 }),
    declareOnRoot: fc.boolean(),
    children: fc.array(fc.oneof({ depthSize: 'small' }, xmlString(14), tie('el')), { maxLength: 4 }),
  }),
})).el

/** A chain of `n` nested wrappers around `inner` (deep nesting up to the depth limit). */
const deep: fc.Arbitrary<RawEl> = fc
  .tuple(fc.integer({ min: 2, max: 40 }), rawEl, fc.constantFrom('a', 'p:a', 'div'))
  .map(([n, inner, wrapper]) => {
    let el = inner
    for (let i = 0; i < n; i++) {
      el = { name: wrapper, attrs: [], xmlns: null, decls: [], declareOnRoot: false, children: [el] }
    }
    return el
  })

const STREAM_NS = 'http://etherx.jabber.org/streams'

/**
 * Turns generated elements into a well-formed stream: every prefix used is declared on the element or
 * the stream header (or inherited), attribute names are unique (also as expanded names).
 */
function build(
  raws: RawEl[],
  headerExtra: Array<[string, string]>,
): { header: Array<[string, string]>; stanzas: XEl[] } {
  const rootDecls = new Map<string, string>([['stream', STREAM_NS]])
  for (const [k, v] of headerExtra) if (k.startsWith('xmlns:')) rootDecls.set(k.slice(6), v)
  const extraRoot: Array<[string, string]> = []
  const fix = (raw: RawEl, scope: Map<string, string>): XEl => {
    const attrs: Array<[string, string]> = []
    const own = new Map<string, string>()
    if (raw.xmlns !== null) attrs.push(['xmlns', raw.xmlns])
    for (const [p, uri] of raw.decls) {
      if (own.has(p)) continue
      own.set(p, uri)
      attrs.push([`xmlns:${p}`, uri])
    }
    const inScope = (p: string) => p === 'xml' || own.has(p) || scope.has(p) || rootDecls.has(p)
    const need = (qn: string) => {
      const c = qn.indexOf(':')
      if (c < 0) return
      const p = qn.slice(0, c)
      if (inScope(p)) return
      const uri = `urn:prefix:${p}`
      if (raw.declareOnRoot) {
        rootDecls.set(p, uri)
        extraRoot.push([`xmlns:${p}`, uri])
      } else {
        own.set(p, uri)
        attrs.push([`xmlns:${p}`, uri])
      }
    }
    need(raw.name)
    const seen = new Set(attrs.map(([k]) => k))
    const expanded = new Set<string>()
    for (const [k, v] of raw.attrs) {
      if (seen.has(k) || k === 'xmlns' || k.startsWith('xmlns:')) continue
      need(k)
      const c = k.indexOf(':')
      if (c >= 0) {
        const p = k.slice(0, c)
        const uri = own.get(p) ?? scope.get(p) ?? rootDecls.get(p) ?? 'xml'
        const key = `${uri} ${k.slice(c + 1)}`
        if (expanded.has(key)) continue
        expanded.add(key)
      }
      seen.add(k)
      attrs.push([k, v])
    }
    const inner = new Map(scope)
    for (const [p, uri] of own) inner.set(p, uri)
    const children = raw.children.map((c) => (typeof c === 'string' ? c : fix(c, inner)))
    return { name: raw.name, attrs, children }
  }
  const stanzas = raws.map((r) => fix(r, new Map()))
  const header: Array<[string, string]> = [...headerExtra, ...extraRoot]
  return { header, stanzas }
}

const headerArb = fc
  .record({
    id: xmlString(10),
    from: fc.constantFrom('c.localhost', 'component.example.org', 'é.example'),
    version: fc.boolean(),
    db: fc.boolean(),
    lang: fc.boolean(),
    order: fc.integer({ min: 0, max: 5 }),
  })
  .map((h) => {
    const attrs: Array<[string, string]> = [
      ['xmlns', 'jabber:component:accept'],
      ['xmlns:stream', STREAM_NS],
      ['from', h.from],
      ['id', h.id],
    ]
    if (h.version) attrs.push(['version', '1.0'])
    if (h.db) attrs.push(['xmlns:db', 'jabber:server:dialback'])
    if (h.lang) attrs.push(['xml:lang', 'en'])
    // a few orders: rotate
    for (let i = 0; i < h.order % attrs.length; i++) attrs.push(attrs.shift() as [string, string])
    return attrs
  })

const gap: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 3, arbitrary: fc.constantFrom(' ', '\n', '\r\n', '\t', ' \n\t ') },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => ' '.repeat(n)) },
)

export const streamArb: fc.Arbitrary<XStream> = fc
  .record({
    decl: fc.boolean(),
    bom: fc.boolean(),
    header: headerArb,
    raws: fc.array(fc.oneof({ weight: 5, arbitrary: rawEl }, { weight: 1, arbitrary: deep }), {
      maxLength: 6,
    }),
    gaps: fc.array(gap, { minLength: 7, maxLength: 7 }),
    ended: fc.boolean(),
  })
  .map((r) => {
    const { header, stanzas } = build(r.raws, r.header)
    return { decl: r.decl, bom: r.bom, header, stanzas, gaps: r.gaps, ended: r.ended }
  })

// ---------------------------------------------------------------------------------------------
// Serialisation

/** A deterministic PRNG (mulberry32) for the serialiser's choices, seeded by the property. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const NAMED: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' }
const TAG_WS = [' ', ' ', ' ', '\t', '\n', '\r\n', '  ', ' \n\t']

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T
}

function charRef(rnd: () => number, cp: number): string {
  const zeros = rnd() < 0.08 ? '0'.repeat(1 + Math.floor(rnd() * 8)) : ''
  if (rnd() < 0.5) return `&#${zeros}${cp};`
  const hex = cp.toString(16)
  return `&#x${zeros}${rnd() < 0.5 ? hex : hex.toUpperCase()};`
}

/** Where a mutation can be inserted into the serialised stream, and what is in scope there. */
export interface Spot {
  offset: number
  kind: 'content' | 'tag' | 'top'
  /** Depth of an element started at this spot (1 for a stanza). */
  depth: number
  /** For 'tag': the attribute names already written on this element. */
  attrs: string[]
}

export interface Serialised {
  text: string
  spots: Spot[]
  /** [start, end) of each stanza in `text`. */
  stanzaRanges: Array<[number, number]>
  /** UTF-8 bytes of the XML declaration and of the stream header (the limit applies to them too). */
  headBytes: number
  /** Byte offset of the end of the stream header. */
  headEnd: number
}

class Writer {
  out = ''
  spots: Spot[] = []
  constructor(readonly rnd: () => number) {}

  ws(required: boolean): string {
    if (!required && this.rnd() < 0.6) return ''
    return pick(this.rnd, TAG_WS)
  }

  /** Character data of text (outside CDATA), escaping what must be and some of the rest. */
  chars(s: string, quote: string | null): void {
    const rnd = this.rnd
    for (const ch of s) {
      const cp = ch.codePointAt(0) as number
      const must =
        ch === '<' || ch === '&' || ch === quote || (quote === null && ch === '>' && this.out.endsWith(']]'))
      const r = rnd()
      if (!must && r < 0.7) this.out += ch
      else if (NAMED[ch] !== undefined && r < 0.88) this.out += NAMED[ch]
      else this.out += charRef(rnd, cp)
    }
  }

  text(s: string, depth: number): void {
    const rnd = this.rnd
    let i = 0
    while (i < s.length) {
      const n = 1 + Math.floor(rnd() * (s.length - i))
      let piece = s.slice(i, i + n)
      // do not split a surrogate pair between two pieces
      if (/[\ud800-\udbff]$/.test(piece) && i + n < s.length) piece = s.slice(i, i + n + 1)
      i += piece.length
      if (rnd() < 0.25) this.out += `<![CDATA[${piece.replaceAll(']]>', ']]]]><![CDATA[>')}]]>`
      else this.chars(piece, null)
      this.spots.push({ offset: this.out.length, kind: 'content', depth: depth + 1, attrs: [] })
    }
  }

  element(el: XEl, depth: number): void {
    const rnd = this.rnd
    this.out += `<${el.name}`
    const written: string[] = []
    for (const [k, v] of el.attrs) {
      const q = rnd() < 0.5 ? "'" : '"'
      this.out += `${this.ws(true)}${k}${this.ws(false)}=${this.ws(false)}${q}`
      this.chars(v, q)
      this.out += q
      written.push(k)
      this.spots.push({ offset: this.out.length, kind: 'tag', depth, attrs: [...written] })
    }
    if (el.attrs.length === 0) this.spots.push({ offset: this.out.length, kind: 'tag', depth, attrs: [] })
    this.out += this.ws(false)
    if (el.children.length === 0 && rnd() < 0.5) {
      this.out += '/>'
      return
    }
    this.out += '>'
    this.spots.push({ offset: this.out.length, kind: 'content', depth: depth + 1, attrs: [] })
    for (const c of el.children) {
      if (typeof c === 'string') this.text(c, depth)
      else {
        this.element(c, depth + 1)
        this.spots.push({ offset: this.out.length, kind: 'content', depth: depth + 1, attrs: [] })
      }
    }
    this.out += `</${el.name}${this.ws(false)}>`
  }
}

export function serialise(stream: XStream, seed: number): Serialised {
  const w = new Writer(prng(seed))
  if (stream.bom) w.out += '\ufeff'
  if (stream.decl) w.out += pick(w.rnd, ["<?xml version='1.0'?>", '<?xml version="1.0" encoding="UTF-8"?>\n'])
  w.element({ name: 'stream:stream', attrs: stream.header, children: [] }, 0)
  // the header is a start tag only: drop what element() wrote after its '>' (or turn '/>' into '>')
  w.out = w.out.replace(/\s*(\/>|><\/stream:stream\s*>)$/, '>')
  w.spots = []
  const headBytes = Buffer.byteLength(w.out.replace(/^\ufeff/, ''))
  const headEnd = Buffer.byteLength(w.out)
  const ranges: Array<[number, number]> = []
  stream.stanzas.forEach((s, i) => {
    w.out += stream.gaps[i] ?? ''
    w.spots.push({ offset: w.out.length, kind: 'top', depth: 1, attrs: [] })
    const start = w.out.length
    w.element(s, 1)
    ranges.push([start, w.out.length])
  })
  w.out += stream.gaps[6] ?? ''
  w.spots.push({ offset: w.out.length, kind: 'top', depth: 1, attrs: [] })
  if (stream.ended) w.out += '</stream:stream>'
  return { text: w.out, spots: w.spots, stanzaRanges: ranges, headBytes, headEnd }
}

// ---------------------------------------------------------------------------------------------
// Feeding and recording

export type Event =
  | { kind: 'start'; attrs: Array<[string, string]> }
  | { kind: 'stanza'; el: Plain }
  | { kind: 'end' }
  | { kind: 'error'; condition: XmlViolation }

export interface Limits {
  maxStanzaBytes: number
  maxDepth: number
}

export const DEFAULT_LIMITS: Limits = { maxStanzaBytes: 512 * 1024, maxDepth: 64 }

/** A parser whose reports are recorded, with the invariants every report must keep checked on the way. */
export function recorder(limits: Limits = DEFAULT_LIMITS) {
  const events: Event[] = []
  const problems: string[] = []
  let failed = false
  const after = (what: string) => {
    if (failed) problems.push(`${what} reported after an error`)
  }
  const parser = new StreamParser(
    {
      onStreamStart: (attrs) => {
        after('stream start')
        events.push({ kind: 'start', attrs: Object.entries(attrs) })
      },
      onStanza: (stanza) => {
        after(`stanza <${stanza.name}>`)
        if (stanza.parent !== parser.root) problems.push('a stanza whose parent is not the stream root')
        events.push({ kind: 'stanza', el: plainParsed(stanza as unknown as Tree, problems) })
      },
      onStreamEnd: () => {
        after('stream end')
        events.push({ kind: 'end' })
      },
      onError: (err) => {
        after('error')
        failed = true
        if (!(err instanceof XmlViolationError)) problems.push(`onError got ${String(err)}`)
        else if (typeof err.message !== 'string' || err.message === '') problems.push('error without message')
        events.push({ kind: 'error', condition: err.condition })
      },
    },
    limits,
  )
  const write = (chunk: Uint8Array) => {
    try {
      parser.write(chunk)
    } catch (err) {
      problems.push(`write() threw ${String(err)}`)
    }
  }
  /** Forgets what was recorded (with `parser.reset()`, for a new stream). */
  const clear = () => {
    events.length = 0
    failed = false
  }
  return {
    parser,
    events,
    problems,
    write,
    clear,
    get failed() {
      return failed
    },
  }
}

/** Splits `bytes` at the given offsets (any order, duplicates and out-of-range ones ignored). */
export function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const offsets = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let last = 0
  for (const c of offsets) {
    chunks.push(bytes.subarray(last, c))
    last = c
  }
  chunks.push(bytes.subarray(last))
  return chunks
}

/** Offsets worth cutting at: inside UTF-8 sequences, right after '<', '&', '[', ']', '/', quotes and '>'. */
export function interestingCuts(bytes: Uint8Array): number[] {
  const cuts: number[] = []
  for (let i = 1; i < bytes.length; i++) {
    const b = bytes[i] as number
    const prev = bytes[i - 1] as number
    if ((b & 0xc0) === 0x80) cuts.push(i)
    else if (prev === 0x3c || prev === 0x26 || prev === 0x5b || prev === 0x5d || prev === 0x2f) cuts.push(i)
    else if (prev === 0x22 || prev === 0x27 || prev === 0x3e || prev === 0x21 || prev === 0x23) cuts.push(i)
  }
  return cuts
}

/** How a property cuts a document: random offsets, offsets among the interesting ones, or every byte. */
export const cutsArb = fc.record({
  every: fc.integer({ min: 0, max: 7 }).map((n) => n === 0),
  random: fc.array(fc.nat(), { maxLength: 30 }),
  interesting: fc.array(fc.nat(), { maxLength: 30 }),
})

export function chooseCuts(
  bytes: Uint8Array,
  c: { every: boolean; random: number[]; interesting: number[] },
) {
  if (c.every) return Array.from({ length: bytes.length }, (_, i) => i)
  const interesting = interestingCuts(bytes)
  return [
    ...c.random.map((n) => n % (bytes.length + 1)),
    ...(interesting.length === 0
      ? []
      : c.interesting.map((n) => interesting[n % interesting.length] as number)),
  ]
}

/** The events the model says a parser must report for a serialised stream. */
export function expectedEvents(stream: XStream): Event[] {
  const events: Event[] = [{ kind: 'start', attrs: stream.header.map(([k, v]) => [k, v]) }]
  for (const s of stream.stanzas) events.push({ kind: 'stanza', el: plainModel(s) })
  if (stream.ended) events.push({ kind: 'end' })
  return events
}

/**
 * The same events from ltx's parser, given the whole document at once (closed if the stream is not).
 * ltx 3.1.2 drops the character data that follows a CDATA section (`<b><![CDATA[x]]>y</b>` is "x"), so its
 * copy of the document has each CDATA section written as escaped text instead; and it loses an attribute
 * named `__proto__` (compare with {@link withoutProto} of the model's events).
 */
export function ltxEvents(text: string, ended: boolean): Event[] {
  const noCdata = text.replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, (_, data: string) =>
    data.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;'),
  )
  const root = ltxParse(ended ? noCdata : `${noCdata}</stream:stream>`) as unknown as Tree
  const events: Event[] = [{ kind: 'start', attrs: Object.entries(root.attrs) }]
  for (const c of root.children)
    if (typeof c !== 'string') events.push({ kind: 'stanza', el: plainParsed(c) })
  if (ended) events.push({ kind: 'end' })
  return events
}

/** `events` without attributes named `__proto__` (which ltx's parser cannot keep). */
export function withoutProto(events: Event[]): Event[] {
  const strip = (p: Plain): Plain => ({
    name: p.name,
    attrs: p.attrs.filter(([k]) => k !== '__proto__'),
    children: p.children.map((c) => (typeof c === 'string' ? c : strip(c))),
  })
  return events.map((e) =>
    e.kind === 'stanza'
      ? { kind: 'stanza', el: strip(e.el) }
      : e.kind === 'start'
        ? { kind: 'start', attrs: e.attrs.filter(([k]) => k !== '__proto__') }
        : e,
  )
}

export function stanzaBytes(text: string, ranges: Array<[number, number]>): number {
  let max = 0
  for (const [a, b] of ranges) max = Math.max(max, Buffer.byteLength(text.slice(a, b)))
  return max
}

export type { Element }
