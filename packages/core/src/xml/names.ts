import { ErrorCodes, SatelliteError } from '../errors.js'

/**
 * XML names Satellite writes: namespace-qualified names (`local` or `prefix:local`, each part an
 * NCName) made of ASCII letters, digits, `_`, `-` and `.` only, not starting with a digit, `-` or
 * `.`. Every XMPP namespace uses such names. XML 1.0 (5th edition) allows more non-ASCII name
 * characters than the servers' parser does: expat (Prosody's and ejabberd's) rejects names
 * such as `⁰a` or `㐀` and would close the whole stream for one, so they are refused too.
 *
 * A name that is not one of these is the sign of a string from outside used as a name
 * (`xml(state)` with a state a remote party chose): writing it as given lets that party inject
 * markup, or close the component's stream.
 */

/** `scanQName` result for a string that is not a valid name. */
export const NOT_A_NAME = -2
/** `scanQName` result for a valid name without a prefix. */
export const UNPREFIXED = -1

/**
 * Checks `s` as a qualified name: {@link NOT_A_NAME}, {@link UNPREFIXED}, or the index of the
 * colon between prefix and local part. A loop over char codes: names are short and this runs for
 * every element and attribute written, so it must cost about as little as a cache lookup.
 */
export function scanQName(s: unknown): number {
  if (typeof s !== 'string') return NOT_A_NAME
  const n = s.length
  if (n === 0) return NOT_A_NAME
  let colon = UNPREFIXED
  let partStart = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    // a-z, A-Z, _
    if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95) continue
    // 0-9, -, . : not the first character of a part
    if ((c >= 48 && c <= 57) || c === 45 || c === 46) {
      if (i === partStart) return NOT_A_NAME
      continue
    }
    // one colon, with a non-empty part on each side
    if (c === 58 && colon === UNPREFIXED && i > 0 && i < n - 1) {
      colon = i
      partStart = i + 1
      continue
    }
    return NOT_A_NAME
  }
  return colon
}

/** Valid names seen last (name → {@link scanQName} result); emptied when {@link CACHE_SIZE} is reached. */
const cache = new Map<string, number>()
/** Names are few and repeat; anything a peer could make us write beyond this only churns the cache. */
export const CACHE_SIZE = 256

/**
 * {@link scanQName} through a small cache of valid names: a lookup of a name string whose hash
 * V8 already holds (attribute keys of object literals, names written before) costs less than
 * scanning it, which keeps the check out of the echo benchmark. Invalid names are never cached.
 */
export function checkQName(s: unknown): number {
  const hit = cache.get(s as string)
  if (hit !== undefined) return hit
  const r = scanQName(s)
  if (r !== NOT_A_NAME) {
    if (cache.size >= CACHE_SIZE) cache.clear()
    cache.set(s as string, r)
  }
  return r
}

/**
 * True if `s` is a name Satellite writes: `local` or `prefix:local`, each part ASCII letters, digits, `_`, `-` and
 * `.`, not starting with a digit, `-` or `.` (prefixes are not checked against declarations here).
 */
export function isXmlName(s: unknown): s is string {
  return scanQName(s) !== NOT_A_NAME
}

/** Shows a refused name in an error message: quoted, control characters escaped, at most 64 characters. */
function shown(name: unknown): string {
  if (typeof name !== 'string') return `a ${typeof name}`
  const s = JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}…` : name)
  return s
}

/** The typed error for a refused element or attribute name. */
export function nameError(what: 'element' | 'attribute', name: unknown, within?: string): SatelliteError {
  const where = within === undefined ? '' : ` in <${within}>`
  return new SatelliteError(
    ErrorCodes.XML_NAME,
    `${shown(name)} is not a valid XML ${what} name${where}: names are ASCII letters, digits, '_', '-', '.' and at most one ':' (nothing was written)`,
  )
}

/** The typed error for a prefix used without a declaration in scope. */
export function prefixError(name: string, within: string): SatelliteError {
  return new SatelliteError(
    ErrorCodes.XML_NAME,
    `${shown(name)} uses a namespace prefix that is not declared (xmlns:${name.slice(0, name.indexOf(':'))}) in <${within}> or above it (nothing was written)`,
  )
}

/**
 * Throws unless `name` is a valid element name: what `xml()` checks, so that a name built from a string from
 * outside fails where it is built. Attribute names and prefixes are checked by `send()` (see `serialize.ts`),
 * which is the guarantee: checking them in `xml()` too would cost about 5% of the echo benchmark's CPU per
 * stanza (measured) for what `send()` refuses anyway before anything is written.
 */
export function checkElementName(name: unknown): void {
  if (checkQName(name) === NOT_A_NAME) throw nameError('element', name)
}

/** Names in the cache now (at most {@link CACHE_SIZE}). @internal */
export function cachedNames(): number {
  return cache.size
}
