import { decodeReferences, FORBIDDEN_CHAR, mayHoldControls, openReference, shown } from './chars.js'
import { Element } from './element.js'
import { namespaceProblem } from './namespaces.js'
import {
  NEED_CDATA_END,
  NEED_DECL_END,
  NEED_GT,
  NEED_NAME_END,
  NEED_NON_DIGIT,
  NEED_NON_HEX,
  NEED_NOTHING,
  type Need,
  Pending,
} from './pending.js'
import { Stanza } from './stanza.js'
import { MALFORMED, TagReader, UNFINISHED } from './tag.js'
import { Utf8Stream } from './utf8.js'

/** Stream error condition a parser violation maps to. */
export type XmlViolation = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'bad-format'

/** Raised (through `onError`) when the peer's bytes break XML, the restrictions of RFC 6120 or a limit. */
export class XmlViolationError extends Error {
  readonly condition: XmlViolation
  constructor(condition: XmlViolation, message: string) {
    super(message)
    this.name = 'XmlViolationError'
    this.condition = condition
  }
}

export interface StreamParserHandlers {
  onStreamStart(attrs: Record<string, string>): void
  onStanza(stanza: Stanza): void
  onStreamEnd(): void
  onError(err: XmlViolationError): void
}

export interface StreamParserLimits {
  /** Largest stanza accepted, in bytes of UTF-8 (default 512 KiB, Prosody's default). */
  maxStanzaBytes: number
  /** Deepest nesting accepted inside a stanza, the stanza itself being depth 1 (default 64). */
  maxDepth: number
}

const STREAM_NAME = 'stream:stream'

// Character codes
const LT = 60
const SLASH = 47
const BANG = 33
const QMARK = 63
const RSQB = 93

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13
}

const REFERENCE_NEEDS = { dec: NEED_NON_DIGIT, hex: NEED_NON_HEX, name: NEED_NAME_END, any: NEED_NOTHING }

/**
 * A strict, incremental XML stream parser for XMPP, built for speed and bounded memory.
 *
 * - Bytes are decoded as UTF-8 across chunk boundaries (invalid UTF-8 is not-well-formed; what comes
 *   before it in the chunk is parsed first, so the outcome does not depend on where chunks end).
 * - Whitespace and text between stanzas is dropped, never accumulated.
 * - The stanza size limit is enforced while bytes arrive, in bytes of UTF-8: after each chunk the parser
 *   holds at most `maxStanzaBytes` of the current stanza (parsed or not), else it fails with
 *   policy-violation. The limit applies to the stream header and the XML declaration too.
 * - A token that spans chunks is not parsed again from its start for each chunk: a start tag keeps the
 *   attributes read so far, and an unfinished name, value, CDATA section or end tag waits for the
 *   character that can end it (linear time whatever the chunking).
 * - DOCTYPE, comments, processing instructions (other than the XML declaration) and undeclared entities
 *   are restricted-xml, never expanded. Characters XML does not allow (C0 controls other than tab, LF
 *   and CR, U+FFFE, U+FFFF), names that are not XML names or qualified names, unbound namespace prefixes,
 *   bad namespace declarations, ']]>' in text and malformed references are not-well-formed.
 * - Like ltx (xmpp.js), line ends and whitespace in attribute values are passed on as written (no
 *   XML 1.0 end-of-line or attribute-value normalisation): a tab a server forwards raw in an `id` comes
 *   back in the answer as it was sent.
 *
 * Elements are `@xmpp/xml` (ltx) Elements; top-level stanzas are {@link Stanza}s.
 * After an error the parser is dead until {@link StreamParser.reset}.
 */
export class StreamParser {
  readonly #h: StreamParserHandlers
  readonly #limits: StreamParserLimits
  #utf8 = new Utf8Stream()
  /** The unparsed end of what was read: an unfinished token, or the unfinished part of a start tag. */
  readonly #pending = new Pending()
  /** Start tags; it holds the one a chunk ended in (`open`). */
  readonly #reader = new TagReader()
  /** The stream root (its attributes carry the stream-level namespace declarations). */
  #root: Element | null = null
  /** Innermost open element inside the current stanza, or null between stanzas. */
  #cursor: Element | null = null
  #stanza: Stanza | null = null
  #depth = 0
  /** Text accumulated for #cursor (flushed when a tag starts). */
  #text = ''
  /** UTF-8 bytes of the current stanza (or header) already consumed in earlier chunks. */
  #carried = 0
  #dead = false
  #ended = false

  constructor(handlers: StreamParserHandlers, limits: StreamParserLimits) {
    this.#h = handlers
    this.#limits = limits
  }

  /** Forgets everything; ready for a new stream. */
  reset(): void {
    this.#utf8 = new Utf8Stream()
    this.#clearPending()
    this.#root = null
    this.#cursor = null
    this.#stanza = null
    this.#depth = 0
    this.#text = ''
    this.#carried = 0
    this.#dead = false
    this.#ended = false
  }

  /** Stops parsing for good (the connection is being torn down). */
  close(): void {
    this.#dead = true
    this.#clearPending()
    this.#text = ''
  }

  /** The stream root element (attributes of the peer's stream header), once seen. */
  get root(): Element | null {
    return this.#root
  }

  /** UTF-8 bytes held for the current stanza: parsed into its elements and text, or waiting to be parsed. */
  get buffered(): number {
    return this.#carried + this.#pending.bytes
  }

  /** Feeds one chunk of bytes from the socket. */
  write(chunk: Uint8Array): void {
    if (this.#dead || this.#ended || chunk.length === 0) return
    const data = this.#utf8.decode(chunk)
    if (data === null) {
      // parse what comes before the invalid bytes, so that the chunking does not change what is reported
      this.#accept(this.#utf8.valid)
      if (!this.#dead && !this.#ended) this.#fail('not-well-formed', 'invalid UTF-8 in the stream')
      return
    }
    // the characters XML forbids: C0 controls are looked for in the bytes (faster), U+FFFE and U+FFFF in what
    // the decoder made of bytes that are not ASCII; the regular expression only when one may be there
    const utf8 = this.#utf8
    if (
      mayHoldControls(chunk) ||
      (!utf8.ascii && (data.indexOf('\uFFFE') >= 0 || data.indexOf('\uFFFF') >= 0))
    ) {
      this.#accept(data)
    } else this.#feed(data)
  }

  #accept(data: string): void {
    if (FORBIDDEN_CHAR.test(data)) {
      const at = data.search(FORBIDDEN_CHAR)
      this.#feed(data.slice(0, at))
      const code = data.charCodeAt(at).toString(16).toUpperCase().padStart(4, '0')
      if (!this.#dead && !this.#ended) this.#fail('not-well-formed', `U+${code} is not allowed in XML`)
      return
    }
    this.#feed(data)
  }

  /** Parses decoded characters, unless the unfinished token they follow cannot get further with them. */
  #feed(data: string): void {
    if (data.length === 0 || this.#dead || this.#ended) return
    const s = this.#pending.take(data)
    if (s !== null) this.#parse(s)
    else if (this.buffered > this.#limits.maxStanzaBytes) this.#tooBig()
  }

  #clearPending(): void {
    this.#pending.clear()
    this.#reader.clear()
  }

  #fail(condition: XmlViolation, message: string): void {
    this.#dead = true
    this.#clearPending()
    this.#text = ''
    this.#carried = 0
    this.#cursor = null
    this.#stanza = null
    this.#h.onError(new XmlViolationError(condition, message))
  }

  #tooBig(): void {
    const max = this.#limits.maxStanzaBytes
    this.#fail('policy-violation', `stanza larger than the limit of ${max} bytes (limits.maxStanzaBytes)`)
  }

  #parse(s: string): void {
    const len = s.length
    let pos = 0
    let need: Need = NEED_NOTHING
    // Offset in `s` where the current stanza started (or 0 if it started in an earlier chunk).
    let stanzaStart = 0
    // ']]>' is only allowed to end a CDATA section: text is searched for it only if it occurs at all
    const cdataEnds = s.indexOf(']]>') >= 0
    const reader = this.#reader
    if (reader.open) {
      // The rest of a start tag begun in an earlier chunk.
      const next = this.#startTag(s, 0, this.#cursor, true)
      if (next === MALFORMED) return
      if (next === UNFINISHED) {
        pos = reader.resumeAt
        need = reader.need
      } else {
        pos = next
        if (this.#cursor === null) stanzaStart = pos
      }
    }
    while (pos < len && !reader.open && !this.#dead && !this.#ended) {
      const cursor = this.#cursor
      if (cursor === null) {
        // Between stanzas (or before the stream header): drop text and whitespace.
        const lt = s.indexOf('<', pos)
        if (lt < 0) {
          pos = len
          break
        }
        pos = lt
        stanzaStart = lt
      } else if (s.charCodeAt(pos) !== LT) {
        // Text inside a stanza.
        const lt = s.indexOf('<', pos)
        const end = lt < 0 ? len : lt
        let stop = end
        if (lt < 0) {
          // The end of the chunk: keep an unfinished reference, or ']' that may begin ']]>', for the next.
          const amp = s.lastIndexOf('&', end - 1)
          if (amp >= pos && s.indexOf(';', amp) < 0) {
            const open = openReference(s, amp)
            if (open !== null) {
              stop = amp
              need = REFERENCE_NEEDS[open]
            }
          }
          if (stop === end && s.charCodeAt(end - 1) === RSQB) {
            stop = end - 2 >= pos && s.charCodeAt(end - 2) === RSQB ? end - 2 : end - 1
          }
        }
        if (stop > pos) {
          const raw = s.slice(pos, stop)
          if (cdataEnds && raw.indexOf(']]>') >= 0) {
            this.#fail('not-well-formed', "']]>' in character data")
            return
          }
          let text = raw
          if (raw.indexOf('&') >= 0) {
            const decoded = decodeReferences(raw)
            if (typeof decoded !== 'string') {
              this.#fail(decoded.condition, decoded.message)
              return
            }
            text = decoded
          }
          this.#text = this.#text.length === 0 ? text : this.#text + text
        }
        pos = stop
        if (lt < 0) break
        continue
      }
      // At '<'.
      if (pos + 1 >= len) break
      const c1 = s.charCodeAt(pos + 1)
      if (c1 === SLASH) {
        const gt = s.indexOf('>', pos + 2)
        if (gt < 0) {
          need = NEED_GT
          break
        }
        let name = s.slice(pos + 2, gt)
        if (isSpace(name.charCodeAt(name.length - 1))) name = name.trimEnd()
        pos = gt + 1
        if (cursor === null) {
          if (this.#root !== null && name === STREAM_NAME) {
            this.#ended = true
            this.#clearPending()
            this.#h.onStreamEnd()
            return
          }
          this.#fail('not-well-formed', `unexpected end tag </${shown(name)}>`)
          return
        }
        if (name !== cursor.name) {
          this.#fail('not-well-formed', `</${shown(name)}> does not close <${cursor.name}>`)
          return
        }
        this.#flushText(cursor)
        this.#depth--
        if (this.#depth === 0) {
          const stanza = this.#stanza as Stanza
          if (!this.#checkSize(s, stanzaStart, pos)) return
          this.#cursor = null
          this.#stanza = null
          this.#carried = 0
          this.#h.onStanza(stanza)
        } else {
          this.#cursor = cursor.parent as Element
        }
        continue
      }
      if (c1 === BANG) {
        if (len - pos < 9) {
          if ('<![CDATA['.startsWith(s.slice(pos, len)) || '<!--'.startsWith(s.slice(pos, len))) break
        }
        if (s.startsWith('<![CDATA[', pos)) {
          if (cursor === null) {
            this.#fail('not-well-formed', 'CDATA outside a stanza')
            return
          }
          const end = s.indexOf(']]>', pos + 9)
          if (end < 0) {
            need = NEED_CDATA_END
            break
          }
          const text = s.slice(pos + 9, end)
          this.#text = this.#text.length === 0 ? text : this.#text + text
          pos = end + 3
          continue
        }
        const what = s.startsWith('<!--', pos) ? 'comments are' : 'DOCTYPE and DTD declarations are'
        this.#fail('restricted-xml', `${what} not allowed in XMPP (RFC 6120 section 11.1)`)
        return
      }
      if (c1 === QMARK) {
        if (this.#root === null && cursor === null) {
          if (len - pos < 6) break
          if (s.startsWith('<?xml', pos) && isSpace(s.charCodeAt(pos + 5))) {
            const end = s.indexOf('?>', pos)
            if (end < 0) {
              need = NEED_DECL_END
              break
            }
            if (!this.#checkSize(s, pos, end + 2)) return
            pos = end + 2
            continue
          }
        }
        this.#fail(
          'restricted-xml',
          'processing instructions are not allowed in XMPP (RFC 6120 section 11.1)',
        )
        return
      }
      // Start tag.
      const next = this.#startTag(s, pos, cursor, false)
      if (next === MALFORMED) return // error already reported
      if (next === UNFINISHED) {
        // from `resumeAt` on, it waits for more
        pos = reader.resumeAt
        need = reader.need
        break
      }
      pos = next
      if (this.#cursor === null) {
        // Stream header or a self-closing top-level stanza already emitted.
        stanzaStart = pos
      }
    }
    if (this.#dead || this.#ended) return
    // Keep what was not consumed, and account the consumed part of an open stanza (or tag).
    if ((this.#cursor !== null || reader.open) && pos > stanzaStart) {
      this.#carried += Buffer.byteLength(pos - stanzaStart === len ? s : s.slice(stanzaStart, pos))
    }
    this.#pending.keep(pos < len ? s.slice(pos) : '', need)
    if (this.buffered > this.#limits.maxStanzaBytes) this.#tooBig()
  }

  /** True if the stanza (or header) ending at `end` is within the limit; fails otherwise. */
  #checkSize(s: string, start: number, end: number): boolean {
    const max = this.#limits.maxStanzaBytes
    const chars = end - start
    if (this.#carried + chars > max) {
      this.#tooBig()
      return false
    }
    if (this.#carried + chars * 3 > max && this.#carried + Buffer.byteLength(s.slice(start, end)) > max) {
      this.#tooBig()
      return false
    }
    return true
  }

  #flushText(el: Element): void {
    if (this.#text.length > 0) {
      el.children.push(this.#text)
      this.#text = ''
    }
  }

  /**
   * Reads a start tag (whose '<' is at `pos`, or the rest of the unfinished one from `pos` if `resume`) and
   * opens its element. Returns the position after it, UNFINISHED (the reader keeps the tag, and what is
   * after `reader.resumeAt` is kept for the next chunk), or MALFORMED after reporting an error.
   */
  #startTag(s: string, pos: number, parent: Element | null, resume: boolean): number {
    const reader = this.#reader
    const p = resume ? reader.resume(s, pos) : reader.start(s, pos)
    if (p < 0) {
      if (p === MALFORMED) this.#fail(reader.condition, reader.problem)
      return p
    }
    const { name, attrs, selfClosing } = reader
    const tagStart = pos
    // Complete tag: check namespaces, then build.
    const nsProblem = namespaceProblem(name, attrs, reader.prefixed, parent ?? this.#root)
    if (nsProblem !== null) {
      this.#fail('not-well-formed', nsProblem)
      return MALFORMED
    }
    if (this.#root === null) {
      if (name !== STREAM_NAME || attrs['xmlns:stream'] !== 'http://etherx.jabber.org/streams') {
        this.#fail('bad-format', `expected a <stream:stream> header, got <${name}>`)
        return MALFORMED
      }
      if (!this.#checkSize(s, tagStart, p)) return MALFORMED
      this.#carried = 0
      const root = new Element(name)
      root.attrs = attrs
      this.#root = root
      this.#h.onStreamStart(attrs)
      if (selfClosing) {
        this.#ended = true
        this.#h.onStreamEnd()
      }
      return p
    }
    if (parent === null) {
      const stanza = new Stanza(name)
      stanza.attrs = attrs
      stanza.parent = this.#root
      if (selfClosing) {
        if (!this.#checkSize(s, tagStart, p)) return MALFORMED
        this.#carried = 0
        this.#h.onStanza(stanza)
        return p
      }
      this.#stanza = stanza
      this.#cursor = stanza
      this.#depth = 1
      return p
    }
    if (this.#depth >= this.#limits.maxDepth) {
      this.#fail('policy-violation', `elements nested deeper than ${this.#limits.maxDepth} (limits.maxDepth)`)
      return MALFORMED
    }
    this.#flushText(parent)
    const el = new Element(name)
    el.attrs = attrs
    el.parent = parent
    parent.children.push(el)
    if (!selfClosing) {
      this.#cursor = el
      this.#depth++
    }
    return p
  }
}
