// The StreamParser's start tags: name, attributes (names checked, values decoded, duplicates refused), end.
// A tag that a chunk ends in the middle of keeps what it has read (name, complete attributes) and goes on
// with the next chunk from the attribute it was in, never from its '<' again.
import { decodeReferences, isNameStart, isNameUnit, NAME_ASCII, shown } from './chars.js'
import type { XmlViolation } from './parser.js'
import { NEED_APOS, NEED_NAME_END, NEED_NON_SPACE, NEED_NOTHING, NEED_QUOT, type Need } from './pending.js'

const GT = 62
const SLASH = 47
const EQ = 61
const QUOT = 34
const APOS = 39
const COLON = 58

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13
}

/** Position results of {@link TagReader}: the tag is unfinished in the characters given / is malformed. */
export const UNFINISHED = -1
export const MALFORMED = -2

/**
 * Reads one start tag at a time (one instance per parser, no allocation but the attributes object). After
 * {@link TagReader.start} or {@link TagReader.resume}: the position after the tag (then `name`, `attrs`,
 * `selfClosing` describe it), UNFINISHED (`open`; the tag goes on from `resumeAt` once `need` comes), or
 * MALFORMED (`condition`, `problem`).
 */
export class TagReader {
  name = ''
  attrs: Record<string, string> = {}
  selfClosing = false
  /** Some attribute name has a ':' (a prefix, or xmlns:): only then are the attributes' prefixes checked. */
  prefixed = false
  /** A tag is unfinished: {@link TagReader.resume} goes on with it. */
  open = false
  resumeAt = 0
  need: Need = NEED_NOTHING
  condition: XmlViolation = 'not-well-formed'
  problem = ''
  /** The last thing read was an attribute value: whitespace, '>' or '/' must come next. */
  #afterValue = false

  /** Reads the start tag whose '<' is at `pos`. */
  start(s: string, pos: number): number {
    const len = s.length
    let p = pos + 1
    while (p < len) {
      const c = s.charCodeAt(p)
      if (c < 128 ? NAME_ASCII[c] === 0 : !isNameUnit(c)) break
      p++
    }
    if (p >= len) {
      // the name itself is unfinished: nothing to keep but the characters
      this.resumeAt = pos
      this.need = NEED_NAME_END
      return UNFINISHED
    }
    const c = s.charCodeAt(p)
    const name = s.slice(pos + 1, p)
    if (name.length === 0 || !(isSpace(c) || c === GT || c === SLASH) || !isNameStart(name.charCodeAt(0))) {
      return this.#malformed('not-well-formed', `malformed start tag <${shown(s.slice(pos + 1, p + 1))}`)
    }
    this.name = name
    this.attrs = {}
    this.selfClosing = false
    this.prefixed = false
    this.#afterValue = false
    return this.resume(s, p)
  }

  /** Reads the attributes and the end of the current tag from `p`. */
  resume(s: string, p: number): number {
    const len = s.length
    const name = this.name
    const attrs = this.attrs
    this.open = false
    let afterValue = this.#afterValue
    for (;;) {
      if (p >= len) return this.#unfinished(p, NEED_NOTHING, afterValue)
      if (afterValue) {
        const after = s.charCodeAt(p)
        if (!isSpace(after) && after !== GT && after !== SLASH) {
          return this.#malformed('not-well-formed', `missing space between attributes in <${name}>`)
        }
        afterValue = false
      }
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return this.#unfinished(p, NEED_NOTHING)
      const c = s.charCodeAt(p)
      if (c === GT) return p + 1
      if (c === SLASH) {
        if (p + 1 >= len) return this.#unfinished(p, NEED_NOTHING)
        if (s.charCodeAt(p + 1) !== GT)
          return this.#malformed('not-well-formed', `malformed start tag <${name}>`)
        this.selfClosing = true
        return p + 2
      }
      const nameStart = p
      let colon = false
      while (p < len) {
        const d = s.charCodeAt(p)
        if (d < 128 ? NAME_ASCII[d] === 0 : !isNameUnit(d)) break
        if (d === COLON) colon = true
        p++
      }
      if (p >= len) return this.#unfinished(nameStart, NEED_NAME_END)
      const attr = attrName(s, nameStart, p)
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return this.#unfinished(nameStart, NEED_NON_SPACE)
      if (s.charCodeAt(p) !== EQ || attr.length === 0 || !isNameStart(attr.charCodeAt(0))) {
        return this.#malformed('not-well-formed', `malformed attribute ${shown(attr)} in <${name}>`)
      }
      p++
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return this.#unfinished(nameStart, NEED_NON_SPACE)
      const q = s.charCodeAt(p)
      if (q !== QUOT && q !== APOS)
        return this.#malformed('not-well-formed', `unquoted attribute value in <${name}>`)
      const end = s.indexOf(q === QUOT ? '"' : "'", p + 1)
      if (end < 0) return this.#unfinished(nameStart, q === QUOT ? NEED_QUOT : NEED_APOS)
      const raw = s.slice(p + 1, end)
      p = end + 1
      if (raw.indexOf('<') >= 0)
        return this.#malformed('not-well-formed', `'<' in an attribute value of <${name}>`)
      let value = raw
      if (raw.indexOf('&') >= 0) {
        const decoded = decodeReferences(raw)
        if (typeof decoded !== 'string') return this.#malformed(decoded.condition, decoded.message)
        value = decoded
      }
      if (Object.hasOwn(attrs, attr)) {
        return this.#malformed('not-well-formed', `duplicate attribute ${shown(attr)} in <${name}>`)
      }
      if (attr === '__proto__') {
        // an own attribute like any other, not the object's prototype
        Object.defineProperty(attrs, attr, { value, enumerable: true, writable: true, configurable: true })
      } else attrs[attr] = value
      if (colon) this.prefixed = true
      afterValue = true
    }
  }

  /** Forgets an unfinished tag. */
  clear(): void {
    this.open = false
    this.attrs = {}
  }

  #unfinished(at: number, need: Need, afterValue = false): number {
    this.#afterValue = afterValue
    this.open = true
    this.resumeAt = at
    this.need = need
    return UNFINISHED
  }

  #malformed(condition: XmlViolation, problem: string): number {
    this.open = false
    this.condition = condition
    this.problem = problem
    return MALFORMED
  }
}

/**
 * The attribute name in `s` from `start` to `end`; the names most stanzas use as constants. A name read from
 * the input is a new string, which V8 hashes and looks up in its string table each time it is a property key
 * (the duplicate check, then the store); a constant is hashed once and for all. The same string either way,
 * only faster (about 10% of the parser's time for a message).
 */
function attrName(s: string, start: number, end: number): string {
  switch (end - start) {
    case 2: {
      const a = s.charCodeAt(start)
      const b = s.charCodeAt(start + 1)
      if (a === 116 /* t */ && b === 111 /* o */) return 'to'
      if (a === 105 /* i */ && b === 100 /* d */) return 'id'
      break
    }
    case 3:
      if (s.startsWith('var', start)) return 'var'
      break
    case 4: {
      const a = s.charCodeAt(start)
      if (a === 102 /* f */) {
        if (
          s.charCodeAt(start + 1) === 114 &&
          s.charCodeAt(start + 2) === 111 &&
          s.charCodeAt(start + 3) === 109
        )
          return 'from'
      } else if (a === 116 /* t */) {
        if (
          s.charCodeAt(start + 1) === 121 &&
          s.charCodeAt(start + 2) === 112 &&
          s.charCodeAt(start + 3) === 101
        )
          return 'type'
      }
      break
    }
    case 5:
      if (s.startsWith('xmlns', start)) return 'xmlns'
      break
    case 8:
      if (s.startsWith('xml:lang', start)) return 'xml:lang'
      break
  }
  return s.slice(start, end)
}
