/**
 * Byte-level framing of an incoming XMPP stream: finds the stream header, each top-level
 * element (stanza) and the closing tag without decoding or building trees, so that the bytes of
 * one stanza can be counted and bounded before anything is parsed. Complete frames are decoded
 * (strict UTF-8) and handed to the XML parser by the connection.
 *
 * Never holds more than `limit` bytes of an unfinished frame; inter-stanza whitespace is
 * dropped at once.
 * @internal
 */

/** Why the framer gave up. @internal */
export type FrameError =
  | { kind: 'too-big'; bytes: number }
  | { kind: 'not-well-formed'; reason: string }
  | { kind: 'restricted-xml'; reason: string }

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
  Lt = 1,
  Tag = 2,
  Quote = 3,
  CdataOpen = 4,
  Cdata = 5,
  Pi = 6,
}

const LT = 0x3c
const GT = 0x3e
const SLASH = 0x2f
const BANG = 0x21
const QMARK = 0x3f
const DQUOTE = 0x22
const SQUOTE = 0x27
const CDATA_OPEN = Buffer.from('[CDATA[')

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** @internal */
export class Framer {
  #state: State = State.Outside
  #depth = 0
  #tagIsEnd = false
  #lastTagByte = 0
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
          if (this.#depth >= 2) {
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
            this.#fail({
              kind: 'not-well-formed',
              reason: `text outside of a stanza at depth ${this.#depth}`,
            })
          }
          break
        }
        case State.Lt: {
          if (c === QMARK) {
            if (this.#depth === 0) {
              this.#state = State.Pi
              this.#match = 0
              // the XML declaration is not part of the header frame
              this.#framing = false
              this.#pieces = []
              this.#held = 0
              frameStart = -1
            } else {
              this.#fail({ kind: 'restricted-xml', reason: 'processing instruction' })
            }
          } else if (c === BANG) {
            if (this.#depth >= 2) {
              this.#state = State.CdataOpen
              this.#match = 0
            } else {
              this.#fail({ kind: 'restricted-xml', reason: 'comment or DOCTYPE outside of a stanza' })
            }
          } else if (c === SLASH) {
            this.#tagIsEnd = true
            this.#lastTagByte = c
            this.#state = State.Tag
          } else if (isSpace(c) || c === GT || c === LT) {
            this.#fail({ kind: 'not-well-formed', reason: 'malformed tag' })
          } else {
            this.#tagIsEnd = false
            this.#lastTagByte = c
            this.#state = State.Tag
          }
          break
        }
        case State.Tag: {
          if (c === GT) {
            this.#state = State.Outside
            const selfClosing = this.#lastTagByte === SLASH && !this.#tagIsEnd
            frameStart = this.#closeTag(chunk, frameStart, pos, selfClosing)
          } else if (c === DQUOTE || c === SQUOTE) {
            this.#quote = c
            this.#state = State.Quote
          } else if (c === LT) {
            this.#fail({ kind: 'not-well-formed', reason: "'<' inside a tag" })
          } else if (!isSpace(c)) {
            this.#lastTagByte = c
          }
          break
        }
        case State.Quote: {
          const q = chunk.indexOf(this.#quote, pos)
          if (q === -1) {
            pos = n
            break
          }
          pos = q
          this.#lastTagByte = this.#quote
          this.#state = State.Tag
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
            this.#fail({ kind: 'restricted-xml', reason: 'comment or DOCTYPE' })
          } else {
            this.#fail({ kind: 'not-well-formed', reason: "malformed '<!'" })
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
      this.#depth--
      if (this.#depth < 0) {
        this.#fail({ kind: 'not-well-formed', reason: 'closing tag before the stream header' })
        return -1
      }
      if (this.#depth === 1) return this.#emit(chunk, frameStart, pos, 'stanza')
      if (this.#depth === 0) return this.#emit(chunk, frameStart, pos, 'end')
      return frameStart
    }
    if (selfClosing) {
      if (this.#depth === 1) return this.#emit(chunk, frameStart, pos, 'stanza')
      if (this.#depth === 0) {
        this.#emit(chunk, frameStart, pos, 'header')
        this.#on.end('')
        this.#done = true
        return -1
      }
      return frameStart
    }
    this.#depth++
    if (this.#depth === 1) return this.#emit(chunk, frameStart, pos, 'header')
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
      this.#fail({ kind: 'not-well-formed', reason: 'invalid UTF-8' })
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

  #fail(error: FrameError): void {
    if (this.#done) return
    this.#done = true
    this.#pieces = []
    this.#held = 0
    this.#on.error(error)
  }
}
