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
 *   compose with their neighbour, a leading or trailing space), and `\u{}` for the empty
 *   identifier. A `\` followed by anything else stays a literal backslash.
 */

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
const NEVER_LITERAL = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u

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
  if (NEVER_LITERAL.test(ch)) return false
  if (ch.normalize('NFKC') !== ch) return false
  if (preserveCase && (ch.toLowerCase() !== ch || ch.toUpperCase().toLowerCase() !== ch)) return false
  if (prev !== '') {
    const pair = prev + ch
    if (pair.normalize('NFKC') !== pair) return false
  }
  return true
}

function escapeWith(id: string, preserveCase: boolean, asciiOnly: boolean): string {
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
 * the result is stable under NFKC normalization, so a server's stringprep/PRECIS does not
 * alter it. The result never is empty, nor starts or ends with a space escape `\20`.
 *
 * Not handled: the 1023-byte limit of a local part ({@link toJid} checks it), and the
 * bidirectional-text rule some servers apply to local parts mixing right-to-left and
 * left-to-right scripts.
 *
 * @example
 * ```ts
 * escapeLocal('space cadet')   // 'space\\20cadet'
 * escapeLocal('c:\\net')        // 'c\\3a\\net' (the backslash starts no sequence)
 * escapeLocal('tab\there')     // 'tab\\u{9}here' (extension)
 * escapeLocal('')              // '\\u{}' (extension)
 * escapeLocal('Bob', { preserveCase: true }) // '\\u{42}ob'
 * ```
 */
export function escapeLocal(foreignId: string, options: EscapeOptions = {}): string {
  if (foreignId === '') return '\\u{}'
  const preserveCase = options.preserveCase === true
  const out = escapeWith(foreignId, preserveCase, false)
  if (out.normalize('NFKC') === out) return out
  // A composition across more than two code points slipped through: fall back to
  // escaping every non-ASCII code point, which is always normalization-stable.
  return escapeWith(foreignId, preserveCase, true)
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
  const slash = address.indexOf('/')
  const bare = slash < 0 ? address : address.slice(0, slash)
  const at = bare.indexOf('@')
  if (at <= 0) return null
  if (bare.slice(at + 1).toLowerCase() !== domain.toLowerCase()) return null
  return unescapeLocal(bare.slice(0, at))
}
