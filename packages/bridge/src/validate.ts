// What the adapter hands over is checked here before it becomes part of a stanza: an XML name
// (chat states), an error type, a JID (contact and group ids) or a resource (nicks), or text (an
// error condition is checked with core's isStanzaErrorCondition). Everything else (wrong types,
// lone surrogates, oversized strings) is refused or cut.
import type { StanzaErrorType } from '@satellite/core'
import { bidiRuleHolds, escapeLocal, isRightToLeft, MAX_LOCAL_BYTES } from '@satellite/escaping'
import type { ChatState } from './adapter.js'

/** The five chat states of XEP-0085, the only element names a chat state may have. */
export const CHAT_STATES: ReadonlySet<string> = new Set<ChatState>([
  'active',
  'composing',
  'paused',
  'inactive',
  'gone',
])

export const isChatState = (x: unknown): x is ChatState => typeof x === 'string' && CHAT_STATES.has(x)

export const ERROR_TYPES: ReadonlySet<string> = new Set<StanzaErrorType>([
  'auth',
  'cancel',
  'continue',
  'modify',
  'wait',
])

const LONE_SURROGATE = /\p{Cs}/u
const LONE_SURROGATES = /\p{Cs}/gu
// XML 1.0 forbids C0 controls but tab, LF and CR, and U+FFFE/U+FFFF.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

/** True if `s` holds no lone surrogate (it can be encoded as UTF-8 and sent). */
export const isWellFormed = (s: string): boolean => !LONE_SURROGATE.test(s)

/**
 * A legacy id that can stand for a contact or a group: a non-empty, well-formed string whose
 * escaped local part fits a JID (1023 bytes).
 */
export function isLegacyId(x: unknown): x is string {
  if (typeof x !== 'string' || x === '' || x.length > MAX_LOCAL_BYTES || !isWellFormed(x)) return false
  return Buffer.byteLength(escapeLocal(x), 'utf8') <= MAX_LOCAL_BYTES
}

/**
 * Text for a stanza: a string, with lone surrogates and characters XML forbids replaced by
 * U+FFFD, cut to `max` UTF-16 units (never inside a surrogate pair). Anything else: undefined.
 */
export function cleanText(x: unknown, max: number): string | undefined {
  if (typeof x !== 'string') return undefined
  let s = x.length > max ? x.slice(0, max) : x
  if (s.length === max && /[\uD800-\uDBFF]$/.test(s)) s = s.slice(0, -1)
  return s.replace(LONE_SURROGATES, '\uFFFD').replace(NOT_XML, '\uFFFD')
}

/** A MIME type (`type/subtype`, RFC 6838 restricted names, at most 127 characters). */
export const isMimeType = (x: unknown): x is string =>
  typeof x === 'string' &&
  x.length <= 127 &&
  /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/i.test(x)

// Resourceprep (RFC 6122, the stringprep profile Prosody and ejabberd 23 apply) and the
// OpaqueString profile of RFC 7622: characters mapped to nothing, prohibited characters.
// biome-ignore lint/suspicious/noMisleadingCharacterClass: single code points, each removed on its own
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200B-\u200D\u2060\uFE00-\uFE0F\uFEFF]/gu
const PROHIBITED = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u2FF0-\u2FFB\uFFF9-\uFFFD]/gu
const SPACES = /\p{Zs}/gu
const CODE_POINTS = /[\s\S]/gu

function cutBytes(s: string, max: number): string {
  if (Buffer.byteLength(s, 'utf8') <= max) return s
  let out = ''
  let bytes = 0
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8')
    if (bytes + n > max) break
    out += ch
    bytes += n
  }
  return out
}

/**
 * A nick as a JID resource (occupant addresses `room@gateway/<nick>`), or null when nothing of
 * it can be one: non-ASCII spaces become spaces, characters resourceprep maps to nothing or
 * prohibits (controls, format characters, surrogates, private use, unassigned, U+FFFD...)
 * are dropped, the result is NFKC-normalised (stable under the servers' stringprep and
 * PRECIS), it is cut to 1023 bytes, and a nick breaking the bidi rule (`bidiRuleHolds` of
 * `@satellite/escaping`) gets its right-to-left characters written as `\u{hex}`. Empty or
 * blank: null.
 */
export function toResource(x: unknown): string | null {
  if (typeof x !== 'string') return null
  let s = x.length > 4 * MAX_LOCAL_BYTES ? x.slice(0, 4 * MAX_LOCAL_BYTES) : x
  for (let i = 0; i < 3; i++) {
    const next = s
      .replace(SPACES, ' ')
      .replace(MAPPED_TO_NOTHING, '')
      .normalize('NFKC')
      .replace(PROHIBITED, '')
    if (next === s) break
    s = next
  }
  s = cutBytes(s, MAX_LOCAL_BYTES)
  // The bidi rule as @satellite/escaping checks it for local parts (RFC 3454 tables D.1 and
  // D.2); once the right-to-left characters are written out, no cut can break it.
  if (!bidiRuleHolds(s)) {
    const written = s.replace(CODE_POINTS, (ch) =>
      isRightToLeft(ch) ? `\\u{${(ch.codePointAt(0) as number).toString(16)}}` : ch,
    )
    s = cutBytes(written, MAX_LOCAL_BYTES)
  }
  return s.trim() === '' ? null : s
}
