// Nicks become occupant resources the servers' resourceprep (RFC 3454 via RFC 6122 appendix B)
// takes as they are: checked against the RFC 3454 tables of @satellite/escaping's tests (made
// from Python's stringprep): nothing mapped to nothing or prohibited, NFKC-stable, the bidi rule.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { toResource } from '../src/validate.js'

type Ranges = Array<[number, number]>
const tables = JSON.parse(
  readFileSync(new URL('../../escaping/test/fixtures/stringprep-tables.json', import.meta.url), 'utf8'),
) as Record<'b1' | 'prohibited' | 'd1' | 'd2', Ranges>
const table = (ranges: Ranges): Uint8Array => {
  const t = new Uint8Array(0x110000)
  for (const [a, b] of ranges) t.fill(1, a, b + 1)
  return t
}
const B1 = table(tables.b1)
const PROHIBITED = table(tables.prohibited)
// Nodeprep's own prohibitions (and C.1.1, the ASCII space): resourceprep allows them.
for (const ch of ' "&\'/:<>@') PROHIBITED[ch.codePointAt(0) as number] = 0
const D1 = table(tables.d1)
const D2 = table(tables.d2)
const cp = (ch: string) => ch.codePointAt(0) as number

/** What resourceprep makes of a resource (null: refused); NFKC is the platform's. */
function resourceprep(r: string): string | null {
  const norm = Array.from(
    Array.from(r)
      .filter((ch) => B1[cp(ch)] === 0)
      .join('')
      .normalize('NFKC'),
  ).map(cp)
  if (norm.some((c) => PROHIBITED[c] === 1)) return null
  if (norm.some((c) => D1[c] === 1)) {
    if (norm.some((c) => D2[c] === 1)) return null
    if (D1[norm[0] as number] !== 1 || D1[norm.at(-1) as number] !== 1) return null
  }
  return String.fromCodePoint(...norm)
}

const problem = (nick: string): string[] => {
  const r = toResource(nick)
  return r === null || resourceprep(r) === r ? [] : [`${JSON.stringify(nick)} -> ${JSON.stringify(r)}`]
}

describe('bridge: nicks as resources', () => {
  it('every code point of the BMP, alone, after a letter and between two Hebrew letters: resourceprep takes the resource as it is', () => {
    const found: string[] = []
    for (let c = 0; c < 0x10000 && found.length < 10; c++) {
      const ch = String.fromCodePoint(c)
      found.push(...problem(ch), ...problem(`a${ch}`), ...problem(`א${ch}ב`))
    }
    expect(found).toEqual([])
  })

  it('right-to-left nicks: kept when the bidi rule holds, written out when not, also when cut at 1023 bytes', () => {
    expect(toResource('אב גד')).toBe('אב גד')
    expect(toResource('علي bob')).toBe('\\u{639}\\u{644}\\u{64a} bob')
    expect(toResource('א१ב')).toBe('\\u{5d0}१\\u{5d1}') // a Devanagari digit is left-to-right
    expect(toResource('aـ')).toBe('a\\u{640}') // the tatweel is right-to-left (table D.1)
    for (const nick of [`${'א'.repeat(600)}1`, `${'א'.repeat(511)}1${'ב'.repeat(600)}`]) {
      const r = toResource(nick) as string
      expect(Buffer.byteLength(r)).toBeLessThanOrEqual(1023)
      expect(problem(nick)).toEqual([])
    }
  })
})
