// Decoding the bytes of one IRC line: UTF-8 when the line is valid UTF-8, else the server's
// fallback encoding (Latin-1 by default), never U+FFFD replacement characters.
//
// A client that decodes every line with one encoding (irc-framework's `encoding` option, through
// iconv-lite) gets it wrong both ways: with 'utf8' invalid bytes become U+FFFD (a Latin-1 "café"
// arrives as "caf�"), with 'latin1' valid UTF-8 is mangled ("cafÃ©"). The gateway's IRC client
// (irc/client.ts) hands each line's bytes to decodeLine instead.
import { TextDecoder } from 'node:util'

/** Encodings a server's fallback may name: WHATWG labels that Node's TextDecoder knows. */
export const FALLBACK_ENCODINGS = [
  'latin1',
  'windows-1252',
  'iso-8859-15',
  'iso-8859-2',
  'windows-1250',
  'windows-1251',
  'koi8-r',
] as const

export type FallbackEncoding = (typeof FALLBACK_ENCODINGS)[number]

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const fallbacks = new Map<string, TextDecoder>()

/**
 * windows-1252's 0x80-0x9F (WHATWG index; the five holes 0x81 0x8D 0x8F 0x90 0x9D stay C1 controls,
 * which ircToXmppText removes). Done here because Node's TextDecoder reads 'latin1' and
 * 'windows-1252' as ISO-8859-1 in some versions (0x80 -> U+0080), and the result must not depend
 * on the Node version.
 */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178'

function decodeCp1252(bytes: Uint8Array): string {
  let out = ''
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!
    out += b >= 0x80 && b < 0xa0 ? CP1252_HIGH[b - 0x80] : String.fromCharCode(b)
  }
  return out
}

/** True when `name` is one of {@link FALLBACK_ENCODINGS}. */
export function isFallbackEncoding(name: string): name is FallbackEncoding {
  return (FALLBACK_ENCODINGS as readonly string[]).includes(name)
}

/**
 * Decodes one line's bytes: as UTF-8 when they are valid UTF-8, else with `fallback`. Note that
 * the WHATWG label 'latin1' is windows-1252 (0x80-0x9F are € ‚ ƒ … rather than C1 controls),
 * which is what IRC users who send "Latin-1" mean. Every byte sequence decodes to a string
 * without U+FFFD unless the bytes held one.
 */
export function decodeLine(bytes: Uint8Array, fallback: FallbackEncoding = 'latin1'): string {
  // ASCII fast path: most IRC traffic.
  let ascii = true
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 0x7f) {
      ascii = false
      break
    }
  }
  if (ascii) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
  try {
    return utf8.decode(bytes)
  } catch {
    if (fallback === 'latin1' || fallback === 'windows-1252') return decodeCp1252(bytes)
    let decoder = fallbacks.get(fallback)
    if (decoder === undefined) {
      decoder = new TextDecoder(fallback)
      fallbacks.set(fallback, decoder)
    }
    return decoder.decode(bytes)
  }
}
