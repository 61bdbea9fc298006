/**
 * Byte-level framing of an incoming XMPP stream: finds the stream header, each top-level
 * element (stanza) and the closing tag without decoding or building trees, so that the bytes of
 * one stanza can be counted and bounded before anything is parsed. Complete frames are decoded
 * (strict UTF-8) and handed to the strict parser (strict.ts) by the connection.
 *
 * The framer checks the tag syntax as it reads (`<name attr='value' …>`, `</name>`, `/>`) and
 * that every end tag closes the element it should, so broken input fails at the byte where
 * expat (Prosody, ejabberd) fails, not when a frame that never ends reaches the size limit.
 * Names, namespaces, attributes and references are checked by the parser on the whole frame.
 *
 * Never holds more than `limit` bytes of an unfinished frame (plus the names of its open
 * elements, which are part of those bytes); inter-stanza whitespace is dropped at once.
 * @internal
 */

/**
 * Why the framer gave up. For XML faults, `expat` is the message expat gives for the same fault
 * (ejabberd sends it as the stream error's text) and `reason` says where.
 * @internal
 */
export type FrameError =
  | { kind: 'too-big'; bytes: number }
  | { kind: 'not-well-formed' | 'restricted-xml'; expat: string; reason: string }

/** Callbacks for the framer. @internal */
export interface FrameHandlers {
  header(text: string): void
  stanza(text: string, bytes: number): void
  end(text: string): void
  whitespace(bytes: number): void
  error(error: FrameError): void
}

enum State {
  Outside = 0,
  /** after `<` */
  Lt = 1,
  /** in the name of a start or end tag */
  Name = 2,
  /** after the name of an end tag: only whitespace, then `>` */
  EndTagSpace = 3,
  /** in a start tag, between attributes */
  TagSpace = 4,
  AttrName = 5,
  /** after an attribute name, before `=` */
  AttrEq = 6,
  /** after `=`, before the quote */
  AttrValue = 7,
  Quote = 8,
  /** after `/` in a start tag: `>` must follow */
  SelfClose = 9,
  CdataOpen = 10,
  Cdata = 11,
  Pi = 12,
}

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const BANG = 0x21
const QMARK = 0x3f
const EQ = 0x3d
const DQUOTE = 0x22
const SQUOTE = 0x27
const CDATA_OPEN = Buffer.from('[CDATA[')
const INVALID_TOKEN = 'not well-formed (invalid token)'

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

/** Bytes that end a name or an attribute name where they are not allowed. */
function isDelimiter(c: number): boolean {
  return c === LT || c === GT || c === EQ || c === DQUOTE || c === SQUOTE || c === SLASH
}

/** A name collected byte by byte (one char per byte), for messages. */
function shown(name: string): string {
  const text = Buffer.from(name, 'latin1').toString('utf8')
  return text.length <= 40 ? text : `${text.slice(0, 40)}…`
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** @internal */
export class Framer {
  #state: State = State.Outside
  /** Names of the open elements (the stream header first), one char per byte. */
  readonly #open: string[] = []
  #name = ''
  #tagIsEnd = false
  #spaced = false
  #quote = 0
  #match = 0
  #pieces: Buffer[] = []
  #held = 0
  #framing = false
  #done = false
  readonly #limit: number
  readonly #on: FrameHandlers

  constructor(limit: number, handlers: FrameHandlers) {
    this.#limit = limit
    this.#on = handlers
  }

  /** True once the stream ended or an error was reported; further input is ignored. */
  get done(): boolean {
    return this.#done
  }

  /** Bytes of the unfinished frame currently held. */
  get held(): number {
    return this.#held
  }

  push(chunk: Buffer): void {
    if (this.#done) return
    let frameStart = this.#framing ? 0 : -1
    let whitespace = 0
    const n = chunk.length
    for (let pos = 0; pos < n && !this.#done; pos++) {
      const c = chunk[pos]!
      switch (this.#state) {
        case State.Outside: {
          const depth = this.#open.length
          if (depth >= 2) {
            // text inside a stanza: the parser checks it
            const lt = chunk.indexOf(LT, pos)
            if (lt === -1) {
              pos = n
              break
            }
            pos = lt
            this.#state = State.Lt
            break
          }
          if (c === LT) {
            frameStart = pos
            this.#framing = true
            this.#state = State.Lt
          } else if (isSpace(c)) {
            whitespace++
          } else {
            this.#invalid(
              depth === 0 ? 'syntax error' : INVALID_TOKEN,
              `text outside of a stanza at depth ${depth}`,
            )
          }
          break
        }
        case State.Lt: {
          const depth = this.#open.length
          if (c === QMARK) {
            if (depth === 0) {
              this.#state = State.Pi
              this.#match = 0
              // the XML declaration is not part of the header frame
              this.#framing = false
              this.#pieces = []
              this.#held = 0
              frameStart = -1
            } else {
              this.#restricted('processing instruction')
            }
          } else if (c === BANG) {
            if (depth >= 2) {
              this.#state = State.CdataOpen
              this.#match = 0
            } else {
              this.#restricted('comment or DOCTYPE outside of a stanza')
            }
          } else if (c === SLASH) {
            this.#tagIsEnd = true
            this.#name = ''
            this.#state = State.Name
          } else if (isSpace(c) || isDelimiter(c)) {
            this.#invalid(INVALID_TOKEN, 'malformed tag')
          } else {
            this.#tagIsEnd = false
            this.#name = String.fromCharCode(c)
            this.#state = State.Name
          }
          break
        }
        case State.Name: {
          if (isSpace(c) && this.#name) {
            this.#state = this.#tagIsEnd ? State.EndTagSpace : State.TagSpace
            this.#spaced = true
          } else if (c === GT && this.#name) {
            this.#state = State.Outside
            frameStart = this.#closeTag(chunk, frameStart, pos, false)
          } else if (c === SLASH && !this.#tagIsEnd && this.#name) {
            this.#state = State.SelfClose
          } else if (isSpace(c) || isDelimiter(c)) {
            this.#invalid(INVALID_TOKEN, `malformed tag <${this.#tagIsEnd ? '/' : ''}${shown(this.#name)}`)
          } else {
            this.#name += String.fromCharCode(c)
          }
          break
        }
        case State.EndTagSpace: {
          if (c === GT) {
            this.#state = State.Outside
            frameStart = this.#closeTag(chunk, frameStart, pos, false)
          } else if (!isSpace(c)) {
            this.#invalid(INVALID_TOKEN, `end tag </${shown(this.#name)}> with more than a name`)
          }
          break
        }
        case State.TagSpace: {
          if (isSpace(c)) {
            this.#spaced = true
          } else if (c === GT) {
            this.#state = State.Outside
            frameStart = this.#closeTag(chunk, frameStart, pos, false)
          } else if (c === SLASH) {
            this.#state = State.SelfClose
          } else if (isDelimiter(c) || !this.#spaced) {
            this.#invalid(INVALID_TOKEN, `malformed attribute in <${shown(this.#name)}>`)
          } else {
            this.#state = State.AttrName
          }
          break
        }
        case State.AttrName: {
          if (isSpace(c)) this.#state = State.AttrEq
          else if (c === EQ) this.#state = State.AttrValue
          else if (c === GT || c === SLASH)
            this.#invalid(INVALID_TOKEN, `attribute without a value in <${shown(this.#name)}>`)
          else if (isDelimiter(c))
            this.#invalid(INVALID_TOKEN, `malformed attribute in <${shown(this.#name)}>`)
          break
        }
        case State.AttrEq: {
          if (c === EQ) this.#state = State.AttrValue
          else if (!isSpace(c))
            this.#invalid(INVALID_TOKEN, `attribute without a value in <${shown(this.#name)}>`)
          break
        }
        case State.AttrValue: {
          if (c === DQUOTE || c === SQUOTE) {
            this.#quote = c
            this.#state = State.Quote
          } else if (!isSpace(c)) {
            this.#invalid(INVALID_TOKEN, `unquoted attribute value in <${shown(this.#name)}>`)
          }
          break
        }
        case State.Quote: {
          const q = chunk.indexOf(this.#quote, pos)
          if (chunk.subarray(pos, q === -1 ? n : q).includes(LT)) {
            this.#invalid(INVALID_TOKEN, `'<' in an attribute value of <${shown(this.#name)}>`)
            break
          }
          if (q === -1) {
            pos = n
            break
          }
          pos = q
          this.#spaced = false
          this.#state = State.TagSpace
          break
        }
        case State.SelfClose: {
          if (c === GT) {
            this.#state = State.Outside
            frameStart = this.#closeTag(chunk, frameStart, pos, true)
          } else {
            this.#invalid(INVALID_TOKEN, `'/' not followed by '>' in <${shown(this.#name)}>`)
          }
          break
        }
        case State.CdataOpen: {
          if (c === CDATA_OPEN[this.#match]) {
            this.#match++
            if (this.#match === CDATA_OPEN.length) {
              this.#state = State.Cdata
              this.#match = 0
            }
          } else if (this.#match === 0 && (c === 0x2d || c === 0x44)) {
            this.#restricted('comment or DOCTYPE')
          } else {
            this.#invalid(INVALID_TOKEN, "malformed '<!'")
          }
          break
        }
        case State.Cdata: {
          // looking for ]]>
          if (c === 0x5d) this.#match = Math.min(this.#match + 1, 2)
          else if (c === GT && this.#match === 2) this.#state = State.Outside
          else this.#match = 0
          break
        }
        case State.Pi: {
          if (c === GT && this.#match === 1) this.#state = State.Outside
          this.#match = c === QMARK ? 1 : 0
          break
        }
      }
    }
    if (whitespace > 0) this.#on.whitespace(whitespace)
    if (this.#done || !this.#framing || frameStart < 0 || frameStart >= n) return
    const rest = chunk.subarray(frameStart)
    if (this.#held + rest.length > this.#limit) {
      this.#fail({ kind: 'too-big', bytes: this.#held + rest.length })
      return
    }
    this.#pieces.push(rest)
    this.#held += rest.length
  }

  /** Handles a tag's closing `>` at `pos`; returns the new frame start (or -1). */
  #closeTag(chunk: Buffer, frameStart: number, pos: number, selfClosing: boolean): number {
    if (this.#tagIsEnd) {
      const open = this.#open.pop()
      if (open === undefined) {
        this.#invalid(INVALID_TOKEN, 'closing tag before the stream header')
        return -1
      }
      if (open !== this.#name) {
        this.#invalid('mismatched tag', `</${shown(this.#name)}> closes <${shown(open)}>`)
        return -1
      }
      const depth = this.#open.length
      if (depth === 1) return this.#emit(chunk, frameStart, pos, 'stanza')
      if (depth === 0) return this.#emit(chunk, frameStart, pos, 'end')
      return frameStart
    }
    const depth = this.#open.length
    if (selfClosing) {
      if (depth === 1) return this.#emit(chunk, frameStart, pos, 'stanza')
      if (depth === 0) {
        this.#emit(chunk, frameStart, pos, 'header')
        this.#on.end('')
        this.#done = true
        return -1
      }
      return frameStart
    }
    this.#open.push(this.#name)
    if (depth === 0) return this.#emit(chunk, frameStart, pos, 'header')
    return frameStart
  }

  #emit(chunk: Buffer, frameStart: number, pos: number, kind: 'header' | 'stanza' | 'end'): number {
    const last = chunk.subarray(Math.max(frameStart, 0), pos + 1)
    const bytes = this.#held + last.length
    if (bytes > this.#limit) {
      this.#fail({ kind: 'too-big', bytes })
      return -1
    }
    const frame = this.#pieces.length === 0 ? last : Buffer.concat([...this.#pieces, last], bytes)
    this.#pieces = []
    this.#held = 0
    this.#framing = false
    let text: string
    try {
      text = utf8.decode(frame)
    } catch {
      this.#invalid(INVALID_TOKEN, 'invalid UTF-8')
      return -1
    }
    if (kind === 'header') this.#on.header(text)
    else if (kind === 'stanza') this.#on.stanza(text, bytes)
    else {
      this.#done = true
      this.#on.end(text)
    }
    return -1
  }

  #invalid(expat: string, reason: string): void {
    this.#fail({ kind: 'not-well-formed', expat, reason })
  }

  #restricted(reason: string): void {
    this.#fail({ kind: 'restricted-xml', expat: 'restricted XML (RFC 6120 §11.1)', reason })
  }

  #fail(error: FrameError): void {
    if (this.#done) return
    this.#done = true
    this.#pieces = []
    this.#held = 0
    this.#open.length = 0
    this.#on.error(error)
  }
}
