import { type Element, escapeXMLText, NS, xml } from './xml.js'

/**
 * Stream error conditions of RFC 6120 §4.9.3.
 * @example
 * const c: StreamErrorCondition = 'conflict'
 */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version'

/**
 * Stanza error types of RFC 6120 §8.3.2.
 * @example
 * const t: StanzaErrorType = 'cancel'
 */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait'

/**
 * Serializes `<stream:error>` plus `</stream:stream>`, as the test server sends it (the text with
 * `xml:lang='en'`, as Prosody does; core's internal `streamErrorXml` is the component's).
 * @example
 * serverStreamErrorXml('conflict', 'Component already connected')
 * // "<stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns=...>Component already connected</text></stream:error></stream:stream>"
 */
export function serverStreamErrorXml(condition: string, text?: string): string {
  const textXml =
    text === undefined ? '' : `<text xmlns='${NS.streams}' xml:lang='en'>${escapeXMLText(text)}</text>`
  return `<stream:error><${condition} xmlns='${NS.streams}'/>${textXml}</stream:error></stream:stream>`
}

/**
 * Options for {@link serverErrorReply}.
 * @example
 * const options: ErrorReplyOptions = { type: 'wait', condition: 'resource-constraint', text: 'busy' }
 */
export interface ErrorReplyOptions {
  type: StanzaErrorType
  condition: string
  text?: string
  /** Extra application-specific child of `<error/>`, e.g. Prosody's `<not-connected/>`. */
  extra?: Element
  /** `from` of the reply; defaults to the original `to`. */
  from?: string
}

/**
 * Builds an error reply to `stanza` the way Prosody's `st.error_reply` does: same name and id,
 * `from`/`to` swapped, `type='error'`, original payload not copied. (`@satellite/core`'s
 * `errorReply(stanza, err)` is the component's, from a `StanzaError`.)
 * @example
 * const reply = serverErrorReply(iq, { type: 'cancel', condition: 'service-unavailable' })
 */
export function serverErrorReply(stanza: Element, options: ErrorReplyOptions): Element {
  const attrs: Record<string, string> = { type: 'error' }
  const from = options.from ?? stanza.attrs.to
  if (from) attrs.from = String(from)
  if (stanza.attrs.from) attrs.to = String(stanza.attrs.from)
  if (stanza.attrs.id !== undefined) attrs.id = String(stanza.attrs.id)
  const error = xml('error', { type: options.type }, xml(options.condition, { xmlns: NS.stanzas }))
  if (options.text !== undefined) error.append(xml('text', { xmlns: NS.stanzas }, options.text))
  if (options.extra) error.append(options.extra)
  return xml(stanza.name, attrs, error)
}

/** True for stanzas that must never be answered with an error (type error or result). @internal */
export function isNoReplyType(stanza: Element): boolean {
  const type = stanza.attrs.type
  return type === 'error' || (stanza.name === 'iq' && type === 'result')
}

/**
 * Rejection of `client.request()` when the answer is an `<iq type='error'/>`.
 * @example
 * try { await alice.request(iq) } catch (e) { if (e instanceof StanzaErrorResponse) console.log(e.condition) }
 */
export class StanzaErrorResponse extends Error {
  override readonly name = 'StanzaErrorResponse'
  /** The whole error stanza. */
  readonly stanza: Element
  /** Its `<error/>` element (undefined if the stanza had none). */
  readonly error: Element | undefined
  /** The defined condition, e.g. `service-unavailable`. */
  readonly condition: string | undefined
  /** The error type, e.g. `cancel`. */
  readonly errorType: string | undefined
  /** The `<text/>` of the error, if any. */
  readonly text: string | undefined
  /**
   * The name of the application-specific condition (a child of `<error/>` in another
   * namespace), e.g. `bad-payload` for XEP-0050; its element is in `error`.
   */
  readonly application: string | undefined

  constructor(stanza: Element) {
    const error = stanza.getChild('error')
    const condition = error
      ?.getChildElements()
      .find((c) => c.getNS() === NS.stanzas && c.name !== 'text')?.name
    const application = error?.getChildElements().find((c) => c.getNS() !== NS.stanzas)?.name
    const text = error?.getChildText('text', NS.stanzas) ?? undefined
    super(
      `${stanza.name} error from ${stanza.attrs.from ?? '(no from)'}: ${condition ?? 'unknown'}${text ? ` (${text})` : ''}`,
    )
    this.stanza = stanza
    this.error = error
    this.condition = condition
    this.errorType = error?.attrs.type
    this.text = text
    this.application = application
  }
}
