// The component's input as the server reads it: bytes framed (framer.ts), each frame parsed by
// the strict parser with the header's namespaces in scope, and every refusal reduced to one
// `invalid` report (the stream error's condition, expat's message, the reason for the test).
import { type FrameError, Framer } from './framer.js'
import { logger } from './log.js'
import { type Namespaces, parseStrict, XmlSyntaxError } from './strict.js'
import type { Element } from './xml.js'

const log = logger('connection')

/** Input that closes the stream: too big, or not well-formed / restricted XML. @internal */
export type InvalidInput =
  | { kind: 'too-big' }
  | { kind: 'not-well-formed' | 'restricted-xml'; expat: string; reason: string }

/** Where a {@link StreamInput} reports. @internal */
export interface InputSink {
  /** False to skip the next stanza frame unparsed (the stream is closing or silent). */
  wants(): boolean
  header(header: Element): void
  /** A parsed stanza (or `<handshake/>`), its parent the stream header. */
  stanza(el: Element): void
  /** `</stream:stream>`. */
  end(): void
  /** `inHeader`: the stream header itself was refused (no header has been answered). */
  invalid(input: InvalidInput, inHeader: boolean): void
}

/** Frames and parses one connection's input. @internal */
export class StreamInput {
  #whitespace = 0
  #header: Element | undefined
  /** Namespace bindings of the stream header, in scope for every stanza. */
  #namespaces: Namespaces = new Map()
  readonly #framer: Framer
  readonly #sink: InputSink
  readonly #id: number

  constructor(stanzaSizeLimit: number, id: number, sink: InputSink) {
    this.#sink = sink
    this.#id = id
    this.#framer = new Framer(stanzaSizeLimit, {
      header: (text) => this.#onHeader(text),
      stanza: (text) => this.#onFrame(text),
      end: () => sink.end(),
      whitespace: (bytes) => {
        this.#whitespace += bytes
      },
      error: (error) => this.#onFrameError(error),
    })
  }

  /** Whitespace bytes received between stanzas (whitespace keepalives). */
  get whitespaceBytes(): number {
    return this.#whitespace
  }

  push(chunk: Buffer): void {
    this.#framer.push(chunk)
  }

  #onHeader(text: string): void {
    let header: Element
    try {
      const parsed = parseStrict(text, new Map(), true)
      header = parsed.element
      this.#namespaces = parsed.namespaces
    } catch (err) {
      this.#badInput(err, true)
      return
    }
    this.#header = header
    this.#sink.header(header)
  }

  #onFrame(text: string): void {
    if (!this.#sink.wants()) return
    let el: Element
    try {
      el = parseStrict(text, this.#namespaces).element
    } catch (err) {
      this.#badInput(err, false)
      return
    }
    if (this.#header) el.parent = this.#header
    this.#sink.stanza(el)
  }

  #onFrameError(error: FrameError): void {
    log('#%d input rejected: %o', this.#id, error)
    if (error.kind === 'too-big') this.#sink.invalid({ kind: 'too-big' }, false)
    else
      this.#sink.invalid(
        { kind: error.kind, expat: error.expat, reason: `${error.expat}: ${error.reason}` },
        false,
      )
  }

  /** A frame the strict parser refused (anything else thrown is a bug: not-well-formed too). */
  #badInput(err: unknown, inHeader: boolean): void {
    log('#%d input rejected: %s', this.#id, (err as Error).message)
    const input: InvalidInput =
      err instanceof XmlSyntaxError
        ? { kind: err.condition, expat: err.expat, reason: err.message }
        : { kind: 'not-well-formed', expat: 'not well-formed', reason: String((err as Error).message) }
    this.#sink.invalid(input, inHeader)
  }
}
