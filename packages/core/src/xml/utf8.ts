// The StreamParser's UTF-8 decoding: chunks in, characters out, sequences split between chunks joined,
// invalid UTF-8 refused (with the characters before it, so that where chunks end changes nothing).
import type * as NodeBuffer from 'node:buffer'

const { isAscii } = process.getBuiltinModule('node:buffer') as typeof NodeBuffer

/**
 * A stream of UTF-8 chunks as characters. ASCII chunks (most of XMPP) are read as latin1, several times
 * faster than TextDecoder; the others go through a fatal, streaming TextDecoder. A byte order mark at the
 * start is dropped; U+FEFF later on is a character like any other.
 */
export class Utf8Stream {
  #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
  /** The last chunk through the decoder ended in a non-ASCII byte: it may hold a sequence's first bytes. */
  #open = false
  /** The last (up to) 3 bytes of that chunk, to find where invalid UTF-8 starts. */
  #tail: Uint8Array | null = null
  /** A character has been decoded (a byte order mark is dropped only before the first). */
  #started = false
  /** After {@link Utf8Stream.decode} returned null: the characters of the chunk before the invalid bytes. */
  valid = ''
  /** The last chunk decoded was ASCII (read as latin1): its characters are its bytes. */
  ascii = false

  /** The characters of `chunk`, or null if it holds invalid UTF-8 (see {@link Utf8Stream.valid}). */
  decode(chunk: Uint8Array): string | null {
    let data: string
    this.ascii = !this.#open && isAscii(chunk)
    if (this.ascii) {
      // ASCII is its own UTF-8 (and latin1) decoding
      data = (
        Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)
      ).toString('latin1')
    } else {
      try {
        data = this.#decoder.decode(chunk, { stream: true })
      } catch {
        this.valid = this.#bom(this.#validPart(chunk))
        return null
      }
      this.#noteTail(chunk)
    }
    return this.#started ? data : this.#bom(data)
  }

  #bom(data: string): string {
    if (this.#started || data.length === 0) return data
    this.#started = true
    return data.charCodeAt(0) === 0xfeff ? data.slice(1) : data
  }

  /** Remembers the end of a chunk that went through the decoder (it may hold an unfinished sequence). */
  #noteTail(chunk: Uint8Array): void {
    if (chunk.length === 0) return
    if ((chunk[chunk.length - 1] as number) < 0x80) {
      this.#open = false
      this.#tail = null
      return
    }
    let tail = chunk.slice(-3)
    if (chunk.length < 3 && this.#tail !== null) tail = concat(this.#tail, chunk).slice(-3)
    this.#open = true
    this.#tail = tail
  }

  /** The characters of `chunk` (after what the decoder held back) that come before invalid UTF-8. */
  #validPart(chunk: Uint8Array): string {
    const open = this.#open && this.#tail !== null ? openSequence(this.#tail) : new Uint8Array(0)
    const bytes = open.length > 0 ? concat(open, chunk) : chunk
    const valid = validUtf8Prefix(bytes)
    if (valid <= open.length || valid >= bytes.length) return ''
    try {
      return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(0, valid))
    } catch {
      return ''
    }
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** Length of the sequence a UTF-8 lead byte starts (0 for a byte that cannot start one). */
function seqLength(b: number): number {
  if (b < 0x80) return 1
  if (b >= 0xc2 && b <= 0xdf) return 2
  if (b >= 0xe0 && b <= 0xef) return 3
  if (b >= 0xf0 && b <= 0xf4) return 4
  return 0
}

/**
 * The bytes at the end of `tail` that start a UTF-8 sequence not complete yet (what a streaming decoder
 * holds back), given at least the last 3 bytes read so far.
 */
export function openSequence(tail: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, tail.length); back++) {
    const b = tail[tail.length - back] as number
    if ((b & 0xc0) === 0x80) continue
    return seqLength(b) > back ? tail.slice(tail.length - back) : new Uint8Array(0)
  }
  return new Uint8Array(0)
}

/**
 * Length of the longest prefix of `bytes` that is valid UTF-8 as far as it goes (an incomplete sequence at
 * the very end counts as valid: more bytes may complete it). The rules of a fatal TextDecoder: no overlong
 * forms, no surrogates, nothing above U+10FFFF.
 */
export function validUtf8Prefix(bytes: Uint8Array): number {
  let i = 0
  while (i < bytes.length) {
    const b = bytes[i] as number
    const n = seqLength(b)
    if (n === 0) return i
    for (let k = 1; k < n; k++) {
      if (i + k >= bytes.length) return bytes.length
      const c = bytes[i + k] as number
      let lo = 0x80
      let hi = 0xbf
      if (k === 1) {
        if (b === 0xe0) lo = 0xa0
        else if (b === 0xed) hi = 0x9f
        else if (b === 0xf0) lo = 0x90
        else if (b === 0xf4) hi = 0x8f
      }
      if (c < lo || c > hi) return i
    }
    i += n
  }
  return i
}
