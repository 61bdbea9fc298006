// escapeLocal's output is what a server's nodeprep (RFC 3491 via RFC 6122 appendix A) leaves as
// it is: checked against the RFC 3454 tables (fixtures/stringprep-tables.json, made from Python's
// stringprep module by fixtures/stringprep-tables.py): nothing mapped to nothing (B.1), nothing
// prohibited (C.1.1-C.9 and nodeprep's eight ASCII characters), NFKC-stable, the bidi rule (D.1,
// D.2), and with preserveCase nothing case folding (B.2) changes. And it stays lossless.
import { readFileSync } from 'node:fs'
import { escapeLocal, unescapeLocal } from '@satellite/escaping'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

type Ranges = Array<[number, number]>
const tables = JSON.parse(
  readFileSync(new URL('./fixtures/stringprep-tables.json', import.meta.url), 'utf8'),
) as Record<'b1' | 'b2' | 'prohibited' | 'd1' | 'd2', Ranges>
const table = (ranges: Ranges): Uint8Array => {
  const t = new Uint8Array(0x110000)
  for (const [a, b] of ranges) t.fill(1, a, b + 1)
  return t
}
const B1 = table(tables.b1)
const B2 = table(tables.b2)
const PROHIBITED = table(tables.prohibited)
const D1 = table(tables.d1)
const D2 = table(tables.d2)
const cp = (ch: string) => ch.codePointAt(0) as number
/**
 * The planes where characters differ (and lone surrogates); plane 2 and 3 are CJK ideographs,
 * planes 4-13 unassigned and 15-16 private use, each written alike (random identifiers reach them).
 */
/** Plane 1's right-to-left blocks (U+10800-U+10FFF, U+1E800-U+1EFFF). */
const RTL_PLANE_1 = (c: number) => (c >= 0x10800 && c <= 0x10fff) || (c >= 0x1e800 && c <= 0x1efff)
const PLANES: Ranges = [
  [0, 0x1ffff],
  [0xe0000, 0xe0fff],
]

/**
 * What nodeprep makes of a local part (null: refused), without case folding unless `fold`
 * (there it only says whether B.2 would change something: `null` too). NFKC is the platform's.
 */
function nodeprep(local: string, fold = false): string | null {
  const mapped = Array.from(local).filter((ch) => B1[cp(ch)] === 0)
  if (fold && mapped.some((ch) => B2[cp(ch)] === 1)) return null
  const norm = Array.from(mapped.join('').normalize('NFKC')).map(cp)
  if (norm.some((c) => PROHIBITED[c] === 1)) return null
  if (norm.some((c) => D1[c] === 1)) {
    if (norm.some((c) => D2[c] === 1)) return null
    if (D1[norm[0] as number] !== 1 || D1[norm.at(-1) as number] !== 1) return null
  }
  return String.fromCodePoint(...norm)
}

/** What is wrong with escapeLocal(id) (empty: nothing). */
function problems(id: string, preserveCase = false): string[] {
  const out = escapeLocal(id, { preserveCase })
  const hex = (s: string) => Array.from(s, (ch) => cp(ch).toString(16)).join(' ')
  const found: string[] = []
  if (unescapeLocal(out) !== id) found.push(`not lossless: [${hex(id)}] -> ${out}`)
  if (nodeprep(out, preserveCase) !== out) found.push(`nodeprep changes or refuses [${hex(id)}] -> ${out}`)
  return found
}

const INTERESTING = [
  'a',
  'Z',
  '1',
  '-',
  '.',
  '_',
  ' ',
  '@',
  '\\',
  'u',
  '{',
  '}',
  '5',
  'c',
  'א',
  'ב',
  'ب',
  'ع',
  '\u05B7',
  '\u064B',
  '١',
  '۱',
  '\u060C',
  'ߊ',
  '𞤀',
  'ܐ',
  '\uFE0F',
  '\uFE00',
  '\u{E0100}',
  '\u034F',
  '\u00AD',
  '\u200D',
  '\u200C',
  '\u180B',
  '\u1806',
  '\uFFFC',
  '\uFFFD',
  '\u2FF0',
  '\u200F',
  '\u202E',
  '❤',
  'ﬁ',
  'É',
  'e',
  '\u0301',
  'ß',
  'İ',
  '\u0345',
  '😀',
  '\u0966',
  'क',
  '\u0903',
  'ａ',
  '\uD800',
]
const id = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  ),
  maxLength: 10,
})

describe('escapeLocal: what nodeprep leaves as it is', () => {
  it('the cases the review found: bidi, U+FFFC/U+FFFD, U+2FF0-2FFB, characters mapped to nothing', () => {
    const cases: Array<[string, string]> = [
      ['aא', 'a\\u{5d0}'],
      ['א1', '\\u{5d0}1'],
      ['אב', 'אב'],
      ['א1ב', 'א1ב'],
      ['אב גד', 'אב\\20גד'],
      ['שָׁלוֹם', 'שָׁלוֹם'],
      ['bob@אב', 'bob\\40\\u{5d0}\\u{5d1}'],
      ['❤️', '❤\\u{fe0f}'],
      ['a\u034Fb', 'a\\u{34f}b'],
      ['a\u180Bb', 'a\\u{180b}b'],
      ['soft\u00ADhyphen', 'soft\\u{ad}hyphen'],
      ['a\u200Db', 'a\\u{200d}b'],
      ['x\uFFFC', 'x\\u{fffc}'],
      ['x\uFFFD', 'x\\u{fffd}'],
      ['\u2FF0\u2FFB', '\\u{2ff0}\\u{2ffb}'],
    ]
    for (const [input, escaped] of cases) {
      expect(escapeLocal(input)).toBe(escaped)
      expect(problems(input)).toEqual([])
    }
  })

  it('every code point of planes 0, 1 and 14: alone, and between two Hebrew letters (plane 1: its right-to-left blocks)', () => {
    const found: string[] = []
    for (const [from, to] of PLANES) {
      for (let c = from; c <= to && found.length < 10; c++) {
        const ch = String.fromCodePoint(c)
        found.push(...problems(ch))
        if (c < 0x10000 || RTL_PLANE_1(c) || c >= 0xe0000) found.push(...problems(`א${ch}ב`))
      }
    }
    expect(found).toEqual([])
  })

  it('every code point of planes 0, 1 and 14 with preserveCase: case folding (B.2) changes nothing either', () => {
    const found: string[] = []
    for (const [from, to] of PLANES) {
      for (let c = from; c <= to && found.length < 10; c++)
        found.push(...problems(String.fromCodePoint(c), true))
    }
    expect(found).toEqual([])
  })

  it('random identifiers: lossless and nodeprep-stable (property)', () => {
    fc.assert(
      fc.property(id, fc.boolean(), (s, preserveCase) => {
        expect(problems(s, preserveCase)).toEqual([])
      }),
      { numRuns: 3_000 },
    )
  })
})
