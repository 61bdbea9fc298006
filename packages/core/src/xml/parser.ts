import { Element } from './element.js'
import { Stanza } from './stanza.js'

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

const XML_NS_PREFIX = 'xml'
const STREAM_NAME = 'stream:stream'

// Character codes
const LT = 60
const GT = 62
const SLASH = 47
const EQ = 61
const QUOT = 34
const APOS = 39
const BANG = 33
const QMARK = 63
const COLON = 58

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13
}

/**
 * A strict, incremental XML stream parser for XMPP, built for speed and bounded memory.
 *
 * - Bytes are decoded as UTF-8 across chunk boundaries (fatal on invalid UTF-8).
 * - Whitespace and text between stanzas is dropped, never accumulated.
 * - The stanza size limit is enforced while bytes arrive: the parser never holds more than
 *   one stanza's worth (plus one socket read) of unparsed input.
 * - DOCTYPE, comments, processing instructions (other than the XML declaration),
 *   undeclared entities and unbound namespace prefixes are rejected, never expanded.
 *
 * Elements are `@xmpp/xml` (ltx) Elements; top-level stanzas are {@link Stanza}s.
 * After an error the parser is dead until {@link StreamParser.reset}.
 */
export class StreamParser {
  readonly #h: StreamParserHandlers
  readonly #limits: StreamParserLimits
  #decoder = new TextDecoder('utf-8', { fatal: true })
  /** Unparsed tail of the previous chunk (an incomplete token). */
  #rest = ''
  /** The stream root (its attributes carry the stream-level namespace declarations). */
  #root: Element | null = null
  /** Innermost open element inside the current stanza, or null between stanzas. */
  #cursor: Element | null = null
  #stanza: Stanza | null = null
  #depth = 0
  /** Text accumulated for #cursor (flushed when a tag starts). */
  #text = ''
  /** UTF-8 bytes of the current stanza already consumed in earlier chunks. */
  #carried = 0
  #dead = false
  #ended = false

  constructor(handlers: StreamParserHandlers, limits: StreamParserLimits) {
    this.#h = handlers
    this.#limits = limits
  }

  /** Forgets everything; ready for a new stream. */
  reset(): void {
    this.#decoder = new TextDecoder('utf-8', { fatal: true })
    this.#rest = ''
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
    this.#rest = ''
    this.#text = ''
  }

  /** The stream root element (attributes of the peer's stream header), once seen. */
  get root(): Element | null {
    return this.#root
  }

  /** Bytes currently buffered for an incomplete token or stanza. */
  get buffered(): number {
    return this.#rest.length + this.#text.length + this.#carried
  }

  /** Feeds one chunk of bytes from the socket. */
  write(chunk: Uint8Array): void {
    if (this.#dead || this.#ended) return
    let data: string
    try {
      data = this.#decoder.decode(chunk, { stream: true })
    } catch {
      this.#fail('not-well-formed', 'invalid UTF-8 in the stream')
      return
    }
    this.#parse(this.#rest.length === 0 ? data : this.#rest + data)
  }

  #fail(condition: XmlViolation, message: string): void {
    this.#dead = true
    this.#rest = ''
    this.#text = ''
    this.#carried = 0
    this.#cursor = null
    this.#stanza = null
    this.#h.onError(new XmlViolationError(condition, message))
  }

  #parse(s: string): void {
    const len = s.length
    let pos = 0
    // Offset in `s` where the current stanza started (or 0 if it started in an earlier chunk).
    let stanzaStart = 0
    while (pos < len && !this.#dead && !this.#ended) {
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
          // Keep a possibly incomplete entity reference for the next chunk.
          const amp = s.lastIndexOf('&', end - 1)
          if (amp >= pos && end - amp <= 12 && s.indexOf(';', amp) < 0) stop = amp
        }
        if (stop > pos) {
          const raw = s.slice(pos, stop)
          const text = raw.indexOf('&') < 0 ? raw : this.#unescape(raw)
          if (text === null) return
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
        if (gt < 0) break
        let name = s.slice(pos + 2, gt)
        if (isSpace(name.charCodeAt(name.length - 1))) name = name.trimEnd()
        pos = gt + 1
        if (cursor === null) {
          if (this.#root !== null && name === STREAM_NAME) {
            this.#ended = true
            this.#rest = ''
            this.#h.onStreamEnd()
            return
          }
          this.#fail('not-well-formed', `unexpected end tag </${name}>`)
          return
        }
        if (name !== cursor.name) {
          this.#fail('not-well-formed', `</${name}> does not close <${cursor.name}>`)
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
          if (end < 0) break
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
            if (end < 0) break
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
      const next = this.#startTag(s, pos, cursor)
      if (next === -2) return // error already reported
      if (next === -1) break // incomplete
      pos = next
      if (this.#cursor === null && this.#stanza === null && this.#depth === 0) {
        // Stream header or a self-closing top-level stanza already emitted.
        stanzaStart = pos
      }
    }
    if (this.#dead || this.#ended) return
    // Keep what was not consumed, and account the consumed part of an open stanza.
    const rest = pos < len ? s.slice(pos) : ''
    if (this.#cursor !== null || rest.length > 0) {
      if (this.#cursor !== null && pos > stanzaStart) {
        this.#carried += Buffer.byteLength(s.length === pos - stanzaStart ? s : s.slice(stanzaStart, pos))
      }
      const pending = this.#carried + rest.length
      if (pending > this.#limits.maxStanzaBytes) {
        this.#fail(
          'policy-violation',
          `stanza larger than the limit of ${this.#limits.maxStanzaBytes} bytes (limits.maxStanzaBytes)`,
        )
        return
      }
    }
    this.#rest = rest
  }

  #checkSize(s: string, start: number, end: number): boolean {
    const max = this.#limits.maxStanzaBytes
    const chars = end - start
    let size = this.#carried + chars
    if (size > max) {
      this.#fail('policy-violation', `stanza larger than the limit of ${max} bytes (limits.maxStanzaBytes)`)
      return false
    }
    if (this.#carried + chars * 3 > max) {
      size = this.#carried + Buffer.byteLength(s.slice(start, end))
      if (size > max) {
        this.#fail('policy-violation', `stanza larger than the limit of ${max} bytes (limits.maxStanzaBytes)`)
        return false
      }
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
   * Parses a start tag at `pos`. Returns the position after it, -1 when the tag is
   * incomplete in `s`, -2 after reporting an error.
   */
  #startTag(s: string, pos: number, parent: Element | null): number {
    const len = s.length
    let p = pos + 1
    // Name
    while (p < len) {
      const c = s.charCodeAt(p)
      if (isSpace(c) || c === GT || c === SLASH) break
      p++
    }
    if (p >= len) return -1
    const name = s.slice(pos + 1, p)
    if (name.length === 0 || name.charCodeAt(0) === COLON) {
      this.#fail('not-well-formed', 'malformed start tag')
      return -2
    }
    const attrs: Record<string, string> = {}
    let selfClosing = false
    for (;;) {
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return -1
      const c = s.charCodeAt(p)
      if (c === GT) {
        p++
        break
      }
      if (c === SLASH) {
        if (p + 1 >= len) return -1
        if (s.charCodeAt(p + 1) !== GT) {
          this.#fail('not-well-formed', `malformed start tag <${name}>`)
          return -2
        }
        selfClosing = true
        p += 2
        break
      }
      const nameStart = p
      while (p < len) {
        const d = s.charCodeAt(p)
        if (d === EQ || isSpace(d) || d === GT || d === SLASH || d === LT) break
        p++
      }
      if (p >= len) return -1
      const attr = s.slice(nameStart, p)
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return -1
      if (s.charCodeAt(p) !== EQ || attr.length === 0) {
        this.#fail('not-well-formed', `malformed attribute in <${name}>`)
        return -2
      }
      p++
      while (p < len && isSpace(s.charCodeAt(p))) p++
      if (p >= len) return -1
      const q = s.charCodeAt(p)
      if (q !== QUOT && q !== APOS) {
        this.#fail('not-well-formed', `unquoted attribute value in <${name}>`)
        return -2
      }
      const end = s.indexOf(q === QUOT ? '"' : "'", p + 1)
      if (end < 0) return -1
      const raw = s.slice(p + 1, end)
      p = end + 1
      if (raw.indexOf('<') >= 0) {
        this.#fail('not-well-formed', `'<' in an attribute value of <${name}>`)
        return -2
      }
      let value: string | null = raw
      if (raw.indexOf('&') >= 0) {
        value = this.#unescape(raw)
        if (value === null) return -2
      }
      if (Object.hasOwn(attrs, attr)) {
        this.#fail('not-well-formed', `duplicate attribute ${attr} in <${name}>`)
        return -2
      }
      attrs[attr] = value
      if (p < len) {
        const after = s.charCodeAt(p)
        if (!isSpace(after) && after !== GT && after !== SLASH) {
          this.#fail('not-well-formed', `missing space between attributes in <${name}>`)
          return -2
        }
      }
    }
    // Complete tag: check namespaces, then build.
    if (!this.#checkPrefixes(name, attrs, parent)) return -2
    if (this.#root === null) {
      if (name !== STREAM_NAME || attrs['xmlns:stream'] !== 'http://etherx.jabber.org/streams') {
        this.#fail('bad-format', `expected a <stream:stream> header, got <${name}>`)
        return -2
      }
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
        if (!this.#checkSize(s, pos, p)) return -2
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
      return -2
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

  #checkPrefixes(name: string, attrs: Record<string, string>, parent: Element | null): boolean {
    const colon = name.indexOf(':')
    if (colon >= 0 && !this.#prefixBound(name.slice(0, colon), attrs, parent)) {
      this.#fail('not-well-formed', `unbound namespace prefix in <${name}>`)
      return false
    }
    for (const attr in attrs) {
      const ac = attr.indexOf(':')
      if (ac < 0) continue
      const prefix = attr.slice(0, ac)
      if (prefix === 'xmlns' || prefix === XML_NS_PREFIX) continue
      if (!this.#prefixBound(prefix, attrs, parent)) {
        this.#fail('not-well-formed', `unbound namespace prefix in attribute ${attr} of <${name}>`)
        return false
      }
    }
    return true
  }

  #prefixBound(prefix: string, attrs: Record<string, string>, parent: Element | null): boolean {
    if (prefix === XML_NS_PREFIX) return true
    const key = `xmlns:${prefix}`
    if (attrs[key]) return true
    let el: Element | null = parent ?? this.#root
    while (el !== null) {
      if (el.attrs[key]) return true
      el = el.parent as Element | null
    }
    return false
  }

  /** Decodes the five predefined entities and character references; null after reporting an error. */
  #unescape(raw: string): string | null {
    let out = ''
    let last = 0
    let amp = raw.indexOf('&')
    while (amp >= 0) {
      const semi = raw.indexOf(';', amp + 1)
      if (semi < 0 || semi - amp > 12) {
        this.#fail('not-well-formed', "bare '&' (unterminated entity reference)")
        return null
      }
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
          if (ref.charCodeAt(0) !== 35 /* # */) {
            this.#fail('restricted-xml', `undeclared entity &${ref}; (entities are never expanded)`)
            return null
          }
          const hex = ref.charCodeAt(1) === 120 /* x */
          const digits = hex ? ref.slice(2) : ref.slice(1)
          const code =
            digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits)
              ? Number.parseInt(digits, hex ? 16 : 10)
              : Number.NaN
          if (!isXmlChar(code)) {
            this.#fail('not-well-formed', `invalid character reference &${ref};`)
            return null
          }
          ch = String.fromCodePoint(code)
        }
      }
      out += raw.slice(last, amp) + ch
      last = semi + 1
      amp = raw.indexOf('&', last)
    }
    return out + raw.slice(last)
  }
}

function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  )
}
