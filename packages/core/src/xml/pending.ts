// What the StreamParser keeps of a token that a chunk ended in the middle of, and what that token waits
// for: parsing it again before the character that can end it arrives would only scan it again (quadratic
// time for a long value, CDATA section or name coming in small chunks), so until then chunks are only
// collected and counted.
import { nameEnd } from './chars.js'

/** Nothing in particular: parse again with the next chunk (short tokens). */
export const NEED_NOTHING = 0
/** A character that ends a name (element, attribute or entity name). */
export const NEED_NAME_END = 1
/** A character other than whitespace. */
export const NEED_NON_SPACE = 2
/** `'` (the end of an attribute value). */
export const NEED_APOS = 3
/** `"` (the end of an attribute value). */
export const NEED_QUOT = 4
/** '>' (an end tag). */
export const NEED_GT = 5
/** ']]>' (a CDATA section). */
export const NEED_CDATA_END = 6
/** '?>' (the XML declaration). */
export const NEED_DECL_END = 7
/** A character other than a decimal digit (a decimal character reference). */
export const NEED_NON_DIGIT = 8
/** A character other than a hexadecimal digit (a hexadecimal character reference). */
export const NEED_NON_HEX = 9
export type Need = number

const NON_SPACE = /[^ \t\r\n]/
const NON_DIGIT = /[^0-9]/
const NON_HEX = /[^0-9a-fA-F]/

/** The unparsed end of the characters read so far, and the chunks that came while it waited. */
export class Pending {
  /** Unparsed characters: an unfinished token, or the unfinished part of a start tag. */
  #rest = ''
  #restBytes = 0
  #need: Need = NEED_NOTHING
  #parts: string[] = []
  #partsBytes = 0
  /** The last two characters of the rest and parts (for ']]>' and '?>' across chunks). */
  #tail2 = ''

  /** UTF-8 bytes held. */
  get bytes(): number {
    return this.#restBytes + this.#partsBytes
  }

  /** Keeps `rest`, the end of the characters just parsed, until `need` comes. */
  keep(rest: string, need: Need): void {
    this.#rest = rest
    this.#restBytes = rest.length === 0 ? 0 : Buffer.byteLength(rest)
    this.#need = rest.length === 0 ? NEED_NOTHING : need
    if (this.#need !== NEED_NOTHING) this.#tail2 = rest.slice(-2)
  }

  clear(): void {
    this.#rest = ''
    this.#restBytes = 0
    this.#need = NEED_NOTHING
    if (this.#parts.length > 0) this.#parts = []
    this.#partsBytes = 0
    this.#tail2 = ''
  }

  /**
   * The characters to parse now that `data` came (what was kept, then `data`), or null if what was kept
   * still waits (then `data` is kept too).
   */
  take(data: string): string | null {
    const rest = this.#rest
    if (this.#need === NEED_NOTHING) {
      if (rest.length === 0) return data
      this.#rest = ''
      this.#restBytes = 0
      return rest + data
    }
    if (!this.#satisfied(data)) {
      this.#parts.push(data)
      this.#partsBytes += Buffer.byteLength(data)
      this.#tail2 = (this.#tail2 + data).slice(-2)
      return null
    }
    const s = rest + this.#parts.join('') + data
    this.clear()
    return s
  }

  #satisfied(data: string): boolean {
    switch (this.#need) {
      case NEED_NAME_END:
        return nameEnd(data, 0) >= 0
      case NEED_NON_SPACE:
        return NON_SPACE.test(data)
      case NEED_APOS:
        return data.indexOf("'") >= 0
      case NEED_QUOT:
        return data.indexOf('"') >= 0
      case NEED_GT:
        return data.indexOf('>') >= 0
      case NEED_CDATA_END:
        return (this.#tail2 + data).indexOf(']]>') >= 0
      case NEED_DECL_END:
        return (this.#tail2 + data).indexOf('?>') >= 0
      case NEED_NON_DIGIT:
        return NON_DIGIT.test(data)
      case NEED_NON_HEX:
        return NON_HEX.test(data)
      default:
        return true
    }
  }
}
