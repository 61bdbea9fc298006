import { createRequire } from 'node:module'
import { escapeLocal, fromJid, isEscaped, toJid, unescapeLocal, XEP0106_CHARS } from '@satellite/escaping'
import { describe, expect, it } from 'vitest'

// @xmpp/jid's own escaping (XEP-0106 as xmpp.js writes it), the reference these tests compare with.
const jid = createRequire(import.meta.url)('@xmpp/jid') as {
  (address: string): { local: string }
  escapeLocal(local: string): string
  unescapeLocal(local: string): string
}

// XEP-0106 section 5, table of examples (unescaped localpart -> escaped localpart).
const SPEC_TABLE: Array<[string, string]> = [
  ['space cadet', 'space\\20cadet'],
  ['call me "ishmael"', 'call\\20me\\20\\22ishmael\\22'],
  ['at&t guy', 'at\\26t\\20guy'],
  ["d'artagnan", 'd\\27artagnan'],
  ['/.fanboy', '\\2f.fanboy'],
  ['::foo::', '\\3a\\3afoo\\3a\\3a'],
  ['<foo>', '\\3cfoo\\3e'],
  ['user@host', 'user\\40host'],
  ['c:\\net', 'c\\3a\\net'],
  ['c:\\\\net', 'c\\3a\\\\net'],
  ['c:\\cool stuff', 'c\\3a\\cool\\20stuff'],
  ['c:\\5commas', 'c\\3a\\5c5commas'],
]

/** Deterministic PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SPECIALS = Object.keys(XEP0106_CHARS)
const PIECES = [
  ...SPECIALS,
  '\\20',
  '\\5c',
  '\\3A',
  '\\u{41}',
  '\\U{1F600}',
  '\\u{}',
  '\\u{110000}',
  '\\u{',
  'u{20}',
  '\\\\',
  '😀',
  '👩🏽‍💻',
  '🇫🇷',
  '❤️',
  'é',
  'e\u0301',
  '=\u0338',
  'a\u0335\u0302',
  '\u1100\u1161\u11a8',
  'ﬁ',
  'Ａ',
  'ß',
  'İ',
  'Ω',
  '\u212b',
  '\u0000',
  '\u0007',
  '\t',
  '\n',
  '\u00a0',
  '\u200d',
  '\u2028',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\ue000',
  '\uffff',
  'abc',
  'Bob',
  '日本',
  'עברית',
]

function randomString(next: () => number): string {
  const n = Math.floor(next() * 12)
  let s = ''
  for (let i = 0; i < n; i++) {
    const r = next()
    if (r < 0.55) s += PIECES[Math.floor(next() * PIECES.length)]
    else if (r < 0.8) s += String.fromCharCode(0x20 + Math.floor(next() * 0x5f))
    else if (r < 0.9) s += String.fromCharCode(Math.floor(next() * 0x10000))
    else s += String.fromCodePoint(Math.floor(next() * 0x110000))
  }
  return s
}

/** What every escaped local part must satisfy to survive a server unchanged. */
function expectJidSafe(local: string, preserveCase: boolean): void {
  expect(local.length).toBeGreaterThan(0)
  expect(local).not.toMatch(/[ "&'/:<>@]/)
  expect(local).not.toMatch(/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u)
  expect(local.normalize('NFKC')).toBe(local)
  expect(local.startsWith('\\20')).toBe(false)
  expect(local.endsWith('\\20')).toBe(false)
  if (preserveCase) {
    expect(local.toLowerCase()).toBe(local)
    // what the server would do to it still decodes to the same identifier
  }
}

describe('escapeLocal / unescapeLocal: XEP-0106', () => {
  it.each(SPEC_TABLE)('section 5 table: %j <-> %j', (raw, escaped) => {
    expect(escapeLocal(raw)).toBe(escaped)
    expect(unescapeLocal(escaped)).toBe(raw)
  })

  it('differs from @xmpp/jid only where @xmpp/jid departs from the spec', () => {
    const differs: string[] = []
    for (const [raw, escaped] of SPEC_TABLE) {
      if (jid.escapeLocal(raw) !== escaped) differs.push(raw)
      // @xmpp/jid decodes every spec example correctly
      expect(jid.unescapeLocal(escaped)).toBe(raw)
      // and it decodes our output of the spec examples too
      expect(jid.unescapeLocal(escapeLocal(raw))).toBe(raw)
    }
    // @xmpp/jid escapes every backslash, even one that starts no escape sequence
    expect(differs).toEqual(['c:\\net', 'c:\\\\net', 'c:\\cool stuff'])
    expect(jid.escapeLocal('c:\\net')).toBe('c\\3a\\5cnet')
    // and it drops leading/trailing white space (lossy); we keep it with the extension
    expect(unescapeLocal(jid.escapeLocal(' x '))).toBe('x')
    expect(unescapeLocal(escapeLocal(' x '))).toBe(' x ')
  })

  it('escapes each of the ten characters', () => {
    for (const [ch, hex] of Object.entries(XEP0106_CHARS)) {
      if (ch === '\\') continue
      expect(escapeLocal(`a${ch}b`)).toBe(`a\\${hex}b`)
    }
    expect(escapeLocal('a\\b')).toBe('a\\b')
    expect(escapeLocal('a\\40b')).toBe('a\\5c40b')
    expect(escapeLocal('a\\')).toBe('a\\')
  })

  it('escapes a backslash before an existing sequence, whatever the case of its hex digits', () => {
    expect(escapeLocal('\\20')).toBe('\\5c20')
    expect(escapeLocal('\\2F')).toBe('\\5c2F')
    expect(escapeLocal('\\u{9}')).toBe('\\5cu{9}')
    expect(escapeLocal('\\U{}')).toBe('\\5cU{}')
    expect(escapeLocal('\\u{zz}')).toBe('\\u{zz}')
    expect(unescapeLocal('\\5C20')).toBe('\\20')
    expect(unescapeLocal('A\\3A')).toBe('A:')
  })

  it('unescapes as plain XEP-0106 when no extension is present; unknown sequences stay literal', () => {
    expect(unescapeLocal('a\\41b')).toBe('a\\41b')
    expect(unescapeLocal('\\')).toBe('\\')
    expect(unescapeLocal('\\u{110000}')).toBe('\\u{110000}')
    expect(unescapeLocal('\\u{1234567}')).toBe('\\u{1234567}')
    expect(unescapeLocal('plain')).toBe('plain')
    expect(isEscaped('plain\\x')).toBe(false)
    expect(isEscaped('a\\20b')).toBe(true)
    expect(isEscaped('\\u{}')).toBe(true)
  })
})

describe('escapeLocal: lossless extension', () => {
  it('encodes the empty identifier, leading/trailing spaces and forbidden code points', () => {
    expect(escapeLocal('')).toBe('\\u{}')
    expect(unescapeLocal('\\u{}')).toBe('')
    expect(escapeLocal(' ')).toBe('\\u{20}')
    expect(escapeLocal('  a b  ')).toBe('\\u{20}\\20a\\20b\\20\\u{20}')
    expect(escapeLocal('tab\there')).toBe('tab\\u{9}here')
    expect(escapeLocal('nul\u0000')).toBe('nul\\u{0}')
    expect(escapeLocal('nb\u00a0sp')).toBe('nb\\u{a0}sp')
    expect(escapeLocal('lone\ud800')).toBe('lone\\u{d800}')
    expect(escapeLocal('ﬁle')).toBe('\\u{fb01}le')
    expect(escapeLocal('=\u0338')).toBe('=\\u{338}')
    expect(escapeLocal('e\u0301')).toBe('e\\u{301}')
  })

  it('keeps ordinary Unicode and emoji literal', () => {
    expect(escapeLocal('Jürgen')).toBe('Jürgen')
    expect(escapeLocal('日本語')).toBe('日本語')
    expect(escapeLocal('😀')).toBe('😀')
    expect(escapeLocal('é')).toBe('é')
  })

  it('preserveCase escapes what case folding would change', () => {
    expect(escapeLocal('Bob', { preserveCase: true })).toBe('\\u{42}ob')
    expect(escapeLocal('Straße', { preserveCase: true })).toBe('\\u{53}tra\\u{df}e')
    expect(escapeLocal('bob', { preserveCase: true })).toBe('bob')
    expect(escapeLocal('Bob')).toBe('Bob')
  })

  it('round-trips 8,000 random strings (emoji, all ten specials, existing sequences, controls, surrogates)', () => {
    const next = rng(0x5a7e11)
    for (let n = 0; n < 8000; n++) {
      const s = randomString(next)
      for (const preserveCase of [false, true]) {
        const local = escapeLocal(s, { preserveCase })
        if (unescapeLocal(local) !== s) {
          throw new Error(`round-trip failed for ${JSON.stringify(s)} -> ${JSON.stringify(local)}`)
        }
        expectJidSafe(local, preserveCase)
        if (preserveCase) {
          // a server case-folding the local part does not change what it stands for
          expect(unescapeLocal(local.toLowerCase())).toBe(s)
        }
      }
    }
  })

  it('is injective: distinct identifiers give distinct local parts', () => {
    const next = rng(7)
    const seen = new Map<string, string>()
    for (let n = 0; n < 5000; n++) {
      const s = randomString(next)
      const local = escapeLocal(s)
      const before = seen.get(local)
      if (before !== undefined) expect(before).toBe(s)
      seen.set(local, s)
    }
  })

  it('stays a valid JID; note @xmpp/jid re-escapes any local part holding a bare backslash', () => {
    for (const s of ['a b', "d'artagnan", '😀@x']) {
      const local = escapeLocal(s)
      // no bare backslash: @xmpp/jid keeps it as is
      expect(jid(`${local}@gw.example.org`).local).toBe(local)
    }
    // XEP-0106's own example c\3a\net (and our \u{...}) is re-escaped by @xmpp/jid's parser,
    // so read local parts from the raw address string (fromJid does), not from a parsed JID.
    expect(jid('c\\3a\\net@gw.example.org').local).toBe('c\\5c3a\\5cnet')
    expect(jid(`${escapeLocal('')}@gw.example.org`).local).toBe('\\5cu{}')
    expect(fromJid('c\\3a\\net@gw.example.org', 'gw.example.org')).toBe('c:\\net')
  })
})

describe('escapeLocal: differential against @xmpp/jid', () => {
  it('a XEP-0106 unescaper (@xmpp/jid) decodes our output whenever no extension was needed', () => {
    const next = rng(106)
    const alphabet = [...SPECIALS, 'a', 'B', '2', '0', '5', 'c', '3', 'f', 'é', '😀', '\\20', '\\5c', '\\3a']
    let compared = 0
    for (let n = 0; n < 5000; n++) {
      let s = ''
      const len = 1 + Math.floor(next() * 10)
      for (let i = 0; i < len; i++) s += alphabet[Math.floor(next() * alphabet.length)]
      const local = escapeLocal(s)
      expect(unescapeLocal(local)).toBe(s)
      if (local.includes('\\u{')) continue // edge spaces: XEP-0106 has no form for them
      compared++
      expect(jid.unescapeLocal(local)).toBe(s)
    }
    expect(compared).toBeGreaterThan(3000)
  })
})

describe('toJid / fromJid', () => {
  it('maps a foreign identifier to a JID at the domain and back', () => {
    const address = toJid('alice@irc.libera.chat', 'irc.example.org')
    expect(address).toBe('alice\\40irc.libera.chat@irc.example.org')
    expect(fromJid(address, 'irc.example.org')).toBe('alice@irc.libera.chat')
    expect(fromJid(`${address}/web`, 'IRC.example.org')).toBe('alice@irc.libera.chat')
    expect(fromJid(toJid('', 'gw'), 'gw')).toBe('')
    expect(fromJid(toJid('Bob', 'gw', { preserveCase: true }).toLowerCase(), 'gw')).toBe('Bob')
  })

  it('returns null for JIDs without a local part or at another domain', () => {
    expect(fromJid('irc.example.org', 'irc.example.org')).toBeNull()
    expect(fromJid('irc.example.org/x@y', 'irc.example.org')).toBeNull()
    expect(fromJid('bob@elsewhere.org', 'irc.example.org')).toBeNull()
    expect(fromJid('@irc.example.org', 'irc.example.org')).toBeNull() // an empty local part
    expect(fromJid('bob@elsewhere.org/x@irc.example.org', 'irc.example.org')).toBeNull()
    expect(fromJid('bob@irc.example.org@x', 'irc.example.org')).toBeNull() // the domain is 'irc.example.org@x'
    expect(fromJid('', 'irc.example.org')).toBeNull()
  })

  it('refuses a local part longer than 1023 bytes', () => {
    expect(() => toJid('a'.repeat(1023), 'gw')).not.toThrow()
    expect(() => toJid('a'.repeat(1024), 'gw')).toThrow(RangeError)
    expect(() => toJid('@'.repeat(400), 'gw')).toThrow(RangeError)
    // An argument error of a pure function (the identifier is data), not a plugin option.
    expect(() => toJid('a'.repeat(1024), 'gw')).toThrow(
      'the escaped local part is 1024 bytes; a JID local part holds at most 1023',
    )
  })
})
