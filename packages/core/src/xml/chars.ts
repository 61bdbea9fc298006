// Character-level rules of XML 1.0 (fifth edition) and Namespaces in XML 1.0 that the StreamParser applies:
// which characters a document may hold, which make names, how references decode. Kept apart from parser.ts
// so that the parser's file is the stream's grammar only.

import type { XmlViolation } from './parser.js'

/**
 * Characters XML 1.0 forbids anywhere in a document: C0 controls other than tab, LF and CR, and the
 * non-characters U+FFFE and U+FFFF (lone surrogates cannot come out of UTF-8 decoding). One native scan
 * of each decoded chunk.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
export const FORBIDDEN_CHAR = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/

/** Bytes below 0x20 that are not tab, LF or CR: the C0 controls XML forbids (in UTF-8, never part of a sequence). */
const CONTROL_BYTE: Uint8Array = (() => {
  const t = new Uint8Array(32)
  t.fill(1)
  t[9] = 0
  t[10] = 0
  t[13] = 0
  return t
})()

/**
 * True if the UTF-8 bytes `chunk` may hold a C0 control that XML forbids; false if they certainly do not (then
 * their characters need no {@link FORBIDDEN_CHAR} scan for those). Reads 4 bytes at a time, 64 per check (a
 * byte below 0x20 sets a high bit of `(x - 0x20202020) & ~x`), and looks at the bytes of a block only when
 * that says it has one below 0x20: several times faster than the regular expression over the characters.
 */
export function mayHoldControls(chunk: Uint8Array): boolean {
  const len = chunk.length
  let i = 0
  if (len >= 64) {
    const head = (4 - (chunk.byteOffset & 3)) & 3
    for (; i < head; i++) if ((chunk[i] as number) < 32 && CONTROL_BYTE[chunk[i] as number] === 1) return true
    const words = (len - head) >>> 2
    const u = new Uint32Array(chunk.buffer, chunk.byteOffset + head, words)
    for (let w = 0; w < words; w += 16) {
      const end = Math.min(w + 16, words)
      let acc = 0
      for (let k = w; k < end; k++) {
        const x = u[k] as number
        acc |= (x - 0x20202020) & ~x
      }
      if ((acc & 0x80808080) !== 0) {
        for (let b = head + w * 4, stop = head + end * 4; b < stop; b++) {
          if ((chunk[b] as number) < 32 && CONTROL_BYTE[chunk[b] as number] === 1) return true
        }
      }
    }
    i = head + words * 4
  }
  for (; i < len; i++) if ((chunk[i] as number) < 32 && CONTROL_BYTE[chunk[i] as number] === 1) return true
  return false
}

/** True for a code point XML 1.0's Char production allows (the target of a character reference). */
export function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  )
}

/**
 * ASCII name characters: 1 may start a name (letters, '_'), 2 may only continue one (digits, '-', '.'), 3 is
 * ':' (a name character that Namespaces in XML allows once, between prefix and local part; see colonProblem).
 */
export const NAME_ASCII: Uint8Array = (() => {
  const t = new Uint8Array(128)
  for (let c = 65; c <= 90; c++) t[c] = 1
  for (let c = 97; c <= 122; c++) t[c] = 1
  t[95] = 1 // _
  for (let c = 48; c <= 57; c++) t[c] = 2
  t[45] = 2 // -
  t[46] = 2 // .
  t[58] = 3 // :
  return t
})()

/**
 * A UTF-16 code unit above U+007F that XML 1.0's NameStartChar allows (surrogates: the high half of
 * U+10000-U+EFFFF and any low half, which decoded UTF-8 only ever has after a high half).
 */
export function isNameStartUnit(c: number): boolean {
  return (
    (c >= 0xc0 && c <= 0xd6) ||
    (c >= 0xd8 && c <= 0xf6) ||
    (c >= 0xf8 && c <= 0x2ff) ||
    (c >= 0x370 && c <= 0x37d) ||
    (c >= 0x37f && c <= 0x1fff) ||
    c === 0x200c ||
    c === 0x200d ||
    (c >= 0x2070 && c <= 0x218f) ||
    (c >= 0x2c00 && c <= 0x2fef) ||
    (c >= 0x3001 && c <= 0xdb7f) ||
    (c >= 0xdc00 && c <= 0xdfff) ||
    (c >= 0xf900 && c <= 0xfdcf) ||
    (c >= 0xfdf0 && c <= 0xfffd)
  )
}

/** A UTF-16 code unit above U+007F that XML 1.0's NameChar allows. */
export function isNameUnit(c: number): boolean {
  return c === 0xb7 || (c >= 0x300 && c <= 0x36f) || c === 0x203f || c === 0x2040 || isNameStartUnit(c)
}

/** True if code unit `c` may continue a name. */
export function isNameChar(c: number): boolean {
  return c < 128 ? NAME_ASCII[c] !== 0 : isNameUnit(c)
}

/** True if code unit `c` may start an NCName (a name without ':'). */
export function isNameStart(c: number): boolean {
  return c < 128 ? NAME_ASCII[c] === 1 : isNameStartUnit(c)
}

/** Index of the first character of `s` at or after `from` that cannot continue a name, or -1. */
export function nameEnd(s: string, from: number): number {
  for (let i = from; i < s.length; i++) if (!isNameChar(s.charCodeAt(i))) return i
  return -1
}

/**
 * What is wrong with a name made of name characters that starts with an NCName start character and has a
 * ':' at `colon` (Namespaces in XML: one ':', between two NCNames), or null.
 */
export function colonProblem(name: string, colon: number): string | null {
  if (
    colon === name.length - 1 ||
    name.indexOf(':', colon + 1) >= 0 ||
    !isNameStart(name.charCodeAt(colon + 1))
  ) {
    return `'${shown(name)}' is not a qualified name (Namespaces in XML)`
  }
  return null
}

/** A problem found while decoding references: the condition and the message. */
export interface Violation {
  condition: XmlViolation
  message: string
}

const HEX = /^[0-9a-fA-F]+$/
const DEC = /^[0-9]+$/

/**
 * Decodes the predefined entities and character references (decimal, `x` hexadecimal, any number of leading
 * zeros) of a complete text run or attribute value. A reference to an entity that is not predefined is
 * restricted-xml (entities are never expanded); '&' that does not start a reference, a malformed reference or
 * one to a character XML does not allow is not-well-formed.
 */
export function decodeReferences(raw: string): string | Violation {
  let out = ''
  let last = 0
  let amp = raw.indexOf('&')
  while (amp >= 0) {
    const semi = raw.indexOf(';', amp + 1)
    if (semi < 0) return { condition: 'not-well-formed', message: "bare '&' (not a complete reference)" }
    const ref = raw.slice(amp + 1, semi)
    let ch: string
    switch (ref) {
      case 'amp':
        ch = '&'
        break
      case 'lt':
        ch = '<'
        break
      case 'gt':
        ch = '>'
        break
      case 'quot':
        ch = '"'
        break
      case 'apos':
        ch = "'"
        break
      default: {
        if (ref.charCodeAt(0) === 35 /* # */) {
          const hex = ref.charCodeAt(1) === 120 /* x */
          const digits = ref.slice(hex ? 2 : 1)
          const code = (hex ? HEX : DEC).test(digits) ? Number.parseInt(digits, hex ? 16 : 10) : Number.NaN
          if (!isXmlChar(code)) {
            return { condition: 'not-well-formed', message: `invalid character reference &${shown(ref)};` }
          }
          ch = String.fromCodePoint(code)
          break
        }
        if (
          ref.length === 0 ||
          nameEnd(ref, 0) >= 0 ||
          !isNameStart(ref.charCodeAt(0)) ||
          ref.includes(':')
        ) {
          return { condition: 'not-well-formed', message: "bare '&' (not a reference)" }
        }
        return {
          condition: 'restricted-xml',
          message: `undeclared entity &${shown(ref)}; (entities are never expanded)`,
        }
      }
    }
    out += raw.slice(last, amp) + ch
    last = semi + 1
    amp = raw.indexOf('&', last)
  }
  return out + raw.slice(last)
}

/** A name or reference from the peer in a message: at most 40 characters. */
export function shown(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s
}

/**
 * How a reference that starts at `amp` and runs to the end of `s` may still continue: 'dec' or 'hex' digits,
 * 'name' characters, 'any' (too short to tell), or null when it already cannot be a reference (the text is
 * then handed to {@link decodeReferences}, which reports it).
 */
export function openReference(s: string, amp: number): 'dec' | 'hex' | 'name' | 'any' | null {
  const n = s.length - amp - 1
  if (n === 0) return 'any'
  if (s.charCodeAt(amp + 1) === 35 /* # */) {
    if (n === 1) return 'any'
    const hex = s.charCodeAt(amp + 2) === 120 /* x */
    const from = amp + (hex ? 3 : 2)
    if (from < s.length && !(hex ? HEX : DEC).test(s.slice(from))) return null
    return hex ? 'hex' : 'dec'
  }
  return nameEnd(s, amp + 1) < 0 ? 'name' : null
}
