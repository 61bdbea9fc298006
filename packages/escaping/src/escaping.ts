/**
 * XEP-0106 JID escaping, plus a lossless extension for identifiers a JID local part
 * cannot hold at all.
 *
 * Escaped form grammar (what {@link unescapeLocal} decodes; everything else is literal):
 *
 * - `\20 \22 \26 \27 \2f \3a \3c \3e \40 \5c`: the ten XEP-0106 sequences
 *   (space `"` `&` `'` `/` `:` `<` `>` `@` `\`), hex digits in either case;
 * - `\u{H…}` (extension): zero to six hex digits, a sequence of at most one code point.
 *   {@link escapeLocal} writes it for code points a local part must not contain or that a
 *   server would rewrite (controls, format characters, non-ASCII white space, lone
 *   surrogates, private use and unassigned code points, characters NFKC changes or that
 *   compose with their neighbour, characters nodeprep maps to nothing or prohibits, a leading
 *   or trailing space), for the right-to-left characters of an identifier that would break
 *   the bidi rule, and `\u{}` for the empty identifier. A `\` followed by anything else
 *   stays a literal backslash.
 */

import { domainOf, localOf } from '@satellite/core'

/**
 * The ten characters XEP-0106 escapes, with their two-digit hex code.
 *
 * @example
 * ```ts
 * XEP0106_CHARS['@'] // '40'
 * ```
 */
export const XEP0106_CHARS: Readonly<Record<string, string>> = Object.freeze({
  ' ': '20',
  '"': '22',
  '&': '26',
  "'": '27',
  '/': '2f',
  ':': '3a',
  '<': '3c',
  '>': '3e',
  '@': '40',
  '\\': '5c',
})

const CODE_TO_CHAR = new Map<string, string>(Object.entries(XEP0106_CHARS).map(([c, h]) => [h, c]))

/** After a backslash: a XEP-0106 code or an extension sequence (case-insensitive, as servers fold case). */
const SEQUENCE = /^(?:2[02367f]|3[ace]|40|5c|u\{[0-9a-f]{0,6}\})/i
const EXTENSION = /^u\{([0-9a-f]{0,6})\}/i
const NEVER_LITERAL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}\p{Default_Ignorable_Code_Point}]/u
/**
 * What nodeprep (RFC 3491 via RFC 6122) maps to nothing or prohibits beyond NEVER_LITERAL:
 * U+1806 (table B.1), ideographic description characters (C.7; U+2FFC-2FFF and U+31EF, their
 * newer kin), U+FFFC and U+FFFD (C.6). Default ignorables (variation selectors, the combining
 * grapheme joiner, Mongolian free variation selectors, soft hyphen...) are in NEVER_LITERAL.
 */
const NODEPREP_REWRITES = /[\u1806\u2FF0-\u2FFF\u31EF\uFFFC\uFFFD]/u

/** RFC 3454 table D.1: the characters of bidi class R and AL (Unicode 3.2), which stringprep's bidi rule is about. */
const D1 =
  /[\u05BE\u05C0\u05C3\u05D0-\u05EA\u05F0-\u05F4\u061B\u061F\u0621-\u063A\u0640-\u064A\u066D-\u066F\u0671-\u06D5\u06DD\u06E5\u06E6\u06FA-\u06FE\u0700-\u070D\u0710\u0712-\u072C\u0780-\u07A5\u07B1\u200F\uFB1D\uFB1F-\uFB28\uFB2A-\uFB36\uFB38-\uFB3C\uFB3E\uFB40\uFB41\uFB43\uFB44\uFB46-\uFBB1\uFBD3-\uFD3D\uFD50-\uFD8F\uFD92-\uFDC7\uFDF0-\uFDFC\uFE70-\uFE74\uFE76-\uFEFC]/u
/**
 * Right-to-left scripts (their letters are bidi class R or AL in today's Unicode, which PRECIS
 * servers apply; those Unicode 3.2 lacks are unassigned to stringprep): with D1, what the bidi
 * rule is about.
 */
const RTL_SCRIPT =
  /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}\p{Script=Samaritan}\p{Script=Mandaic}\p{Script=Adlam}\p{Script=Hanifi_Rohingya}\p{Script=Mende_Kikakui}\p{Script=Yezidi}\p{Script=Old_Hungarian}\p{Script=Phoenician}\p{Script=Kharoshthi}\p{Script=Imperial_Aramaic}\p{Script=Old_South_Arabian}\p{Script=Old_North_Arabian}\p{Script=Avestan}\p{Script=Inscriptional_Parthian}\p{Script=Inscriptional_Pahlavi}\p{Script=Psalter_Pahlavi}\p{Script=Old_Turkic}\p{Script=Cypriot}\p{Script=Lydian}\p{Script=Nabataean}\p{Script=Palmyrene}\p{Script=Hatran}\p{Script=Manichaean}\p{Script=Elymaic}\p{Script=Sogdian}\p{Script=Old_Sogdian}\p{Script=Chorasmian}\p{Script=Old_Uyghur}\p{Script=Meroitic_Cursive}\p{Script=Meroitic_Hieroglyphs}]/u
const LETTER = /\p{L}/u
/**
 * What may stand between right-to-left characters without breaking the bidi rule (never bidi
 * class L, in Unicode 3.2 or now): ASCII but letters (a XEP-0106 escape such as `\20` is made
 * of these), the Arabic comma, and nonspacing or enclosing marks of the inherited script (some
 * marks of other scripts were letters in Unicode 3.2). Anything else counts as left-to-right.
 */
const BIDI_NEUTRAL = /[\u0020-\u0040\u005B-\u0060\u007B-\u007E\u060C]/u
const INHERITED_MARK = /[\p{Mn}\p{Me}]/u
const INHERITED = /\p{Script=Inherited}/u
const isNeutral = (ch: string) => BIDI_NEUTRAL.test(ch) || (INHERITED_MARK.test(ch) && INHERITED.test(ch))

/**
 * Whether a character (one code point) is right-to-left for the bidi rule: bidi class R or AL
 * in Unicode 3.2 (RFC 3454 table D.1) or of a right-to-left script.
 *
 * @example
 * ```ts
 * isRightToLeft('א') // true
 * isRightToLeft('1') // false
 * ```
 */
export const isRightToLeft = (ch: string): boolean => D1.test(ch) || RTL_SCRIPT.test(ch)
const isRtl = isRightToLeft

/**
 * Whether `s` (a local part or a resource, as it is sent) satisfies the bidi rule of stringprep
 * (RFC 3454 §6) and of RFC 5893, conservatively: with a right-to-left character in it
 * ({@link isRightToLeft}), only right-to-left characters and neutral ones (ASCII but letters,
 * marks of the inherited script, the Arabic comma), and a right-to-left letter first and last
 * (of table D.1 when `s` holds one). Servers refuse addresses that break it.
 *
 * @example
 * ```ts
 * bidiRuleHolds('אב גד') // true
 * bidiRuleHolds('aא')    // false
 * bidiRuleHolds('א1')    // false: it must end with a right-to-left letter
 * ```
 */
export function bidiRuleHolds(s: string): boolean {
  const cps = Array.from(s)
  if (!cps.some(isRtl)) return true
  if (!cps.every((ch) => isRtl(ch) || isNeutral(ch))) return false
  const ends = cps.some((ch) => D1.test(ch))
    ? (ch: string) => D1.test(ch)
    : (ch: string) => RTL_SCRIPT.test(ch) && LETTER.test(ch)
  return ends(cps[0] as string) && ends(cps.at(-1) as string)
}

/**
 * Options of {@link escapeLocal} and {@link toJid}.
 *
 * @example
 * ```ts
 * const options: EscapeOptions = { preserveCase: true }
 * ```
 */
export interface EscapeOptions {
  /**
   * Also escape characters that case folding changes (`A`, `É`, `ß`...), for foreign
   * systems where `Bob` and `bob` are different users: servers case-fold local parts, so
   * without this option both map to the same JID. Default `false`.
   */
  preserveCase?: boolean
}

function extension(cp: number): string {
  return `\\u{${cp.toString(16)}}`
}

function literalAllowed(ch: string, prev: string, preserveCase: boolean): boolean {
  const cp = ch.codePointAt(0) as number
  if (cp < 0x80) {
    if (cp < 0x21 || cp === 0x7f) return false
    return !(preserveCase && cp >= 0x41 && cp <= 0x5a)
  }
  if (NEVER_LITERAL.test(ch) || NODEPREP_REWRITES.test(ch)) return false
  if (ch.normalize('NFKC') !== ch) return false
  if (preserveCase && (ch.toLowerCase() !== ch || ch.toUpperCase().toLowerCase() !== ch)) return false
  if (prev !== '') {
    const pair = prev + ch
    if (pair.normalize('NFKC') !== pair) return false
  }
  return true
}

function escapeWith(id: string, preserveCase: boolean, asciiOnly: boolean, rtl: boolean): string {
  let out = ''
  let prev = ''
  const cps = Array.from(id) // code points; lone surrogates stay single units
  for (let i = 0; i < cps.length; i++) {
    const ch = cps[i] as string
    let piece: string
    if (ch === '\\') {
      // XEP-0106: escape a backslash only when it would otherwise start an escape sequence.
      piece = SEQUENCE.test(cps.slice(i + 1, i + 10).join('')) ? '\\5c' : '\\'
    } else if (ch === ' ') {
      piece = i === 0 || i === cps.length - 1 ? extension(0x20) : '\\20'
    } else if (XEP0106_CHARS[ch] !== undefined) {
      piece = `\\${XEP0106_CHARS[ch]}`
    } else if (
      (asciiOnly && (ch.codePointAt(0) as number) >= 0x80) ||
      (rtl && isRtl(ch)) ||
      !literalAllowed(ch, prev, preserveCase)
    ) {
      piece = extension(ch.codePointAt(0) as number)
    } else {
      piece = ch
    }
    out += piece
    prev = Array.from(piece).at(-1) as string
  }
  return out
}

/**
 * Escapes a foreign identifier into a JID local part, losslessly: for every string `s`,
 * `unescapeLocal(escapeLocal(s)) === s`. Identifiers made of ordinary characters get
 * exactly the XEP-0106 escaping (a backslash is escaped only before an escape sequence);
 * the `\u{…}` extension covers what XEP-0106 cannot (see the module documentation), and
 * the result is stable under NFKC normalization and under nodeprep (nothing in it is mapped to
 * nothing or prohibited, and it satisfies the bidi rule), so a server's stringprep/PRECIS
 * neither alters nor refuses it, except for case folding (see {@link EscapeOptions}). An
 * identifier whose right-to-left characters would break the bidi rule (`aא`, `א1`) gets them
 * written with the extension (`a\u{5d0}`). The result never is empty, nor starts or ends with
 * a space escape `\20`.
 *
 * Not handled: the 1023-byte limit of a local part ({@link toJid} checks it).
 *
 * @example
 * ```ts
 * escapeLocal('space cadet')   // 'space\\20cadet'
 * escapeLocal('c:\\net')        // 'c\\3a\\net' (the backslash starts no sequence)
 * escapeLocal('tab\there')     // 'tab\\u{9}here' (extension)
 * escapeLocal('aא')            // 'a\\u{5d0}' (the bidi rule)
 * escapeLocal('')              // '\\u{}' (extension)
 * escapeLocal('Bob', { preserveCase: true }) // '\\u{42}ob'
 * ```
 */
export function escapeLocal(foreignId: string, options: EscapeOptions = {}): string {
  if (foreignId === '') return '\\u{}'
  const preserveCase = options.preserveCase === true
  let out = escapeWith(foreignId, preserveCase, false, false)
  // Right-to-left characters that break the bidi rule are escaped, all of them.
  if (!bidiRuleHolds(out)) out = escapeWith(foreignId, preserveCase, false, true)
  if (out.normalize('NFKC') === out) return out
  // A composition across more than two code points slipped through: fall back to
  // escaping every non-ASCII code point, which is always normalization-stable.
  return escapeWith(foreignId, preserveCase, true, true)
}

/**
 * Reverses {@link escapeLocal}: decodes the ten XEP-0106 sequences and the `\u{…}`
 * extension (hex digits in either case, since servers case-fold local parts); any other
 * backslash is literal. Decoding a local part escaped by plain XEP-0106 gives the same
 * result as a XEP-0106 unescaper.
 *
 * @example
 * ```ts
 * unescapeLocal('space\\20cadet') // 'space cadet'
 * unescapeLocal('c\\3a\\net')     // 'c:\\net'
 * unescapeLocal('a\\u{1f600}')    // 'a😀'
 * ```
 */
export function unescapeLocal(local: string): string {
  let out = ''
  let i = 0
  for (;;) {
    const j = local.indexOf('\\', i)
    if (j < 0) return out + local.slice(i)
    out += local.slice(i, j)
    const code = local.slice(j + 1, j + 3).toLowerCase()
    const ch = CODE_TO_CHAR.get(code)
    if (ch !== undefined) {
      out += ch
      i = j + 3
      continue
    }
    const m = EXTENSION.exec(local.slice(j + 1, j + 11))
    if (m) {
      const hex = m[1] as string
      const cp = hex === '' ? -1 : Number.parseInt(hex, 16)
      if (cp <= 0x10ffff) {
        if (cp >= 0) out += String.fromCodePoint(cp)
        i = j + 1 + m[0].length
        continue
      }
    }
    out += '\\'
    i = j + 1
  }
}

/**
 * True if `local` contains an escape sequence (XEP-0106 or the extension), i.e. its
 * unescaped form differs from it.
 *
 * @example
 * ```ts
 * isEscaped('space\\20cadet') // true
 * isEscaped('c\\net')         // false
 * ```
 */
export function isEscaped(local: string): boolean {
  return unescapeLocal(local) !== local
}

/**
 * Maximum length of a local part in bytes (RFC 7622).
 *
 * @example
 * ```ts
 * Buffer.byteLength(escapeLocal(id)) <= MAX_LOCAL_BYTES
 * ```
 */
export const MAX_LOCAL_BYTES = 1023

/**
 * The bare JID (`local@domain`) standing for a foreign identifier at a component's domain.
 * Throws a `RangeError` when the escaped local part exceeds 1023 bytes.
 *
 * @example
 * ```ts
 * toJid('alice@irc.libera.chat', 'irc.example.org') // 'alice\\40irc.libera.chat@irc.example.org'
 * ```
 */
export function toJid(foreignId: string, domain: string, options: EscapeOptions = {}): string {
  const local = escapeLocal(foreignId, options)
  const bytes = Buffer.byteLength(local, 'utf8')
  if (bytes > MAX_LOCAL_BYTES) {
    throw new RangeError(`the escaped local part is ${bytes} bytes; a JID local part holds at most 1023`)
  }
  return `${local}@${domain}`
}

/**
 * The foreign identifier a JID at `domain` stands for (the resource is ignored), or
 * `null` if the JID has no local part or is at another domain (compared case-insensitively).
 * The identifier may be one no foreign system takes (`\u{d800}` decodes to a lone
 * surrogate): check it before use.
 *
 * @example
 * ```ts
 * fromJid('alice\\40irc.libera.chat@irc.example.org/web', 'irc.example.org') // 'alice@irc.libera.chat'
 * fromJid('bob@elsewhere.org', 'irc.example.org')                          // null
 * ```
 */
export function fromJid(address: string, domain: string): string | null {
  const local = localOf(address)
  if (local === '') return null
  if (domainOf(address).toLowerCase() !== domain.toLowerCase()) return null
  return unescapeLocal(local)
}
