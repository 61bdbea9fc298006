/**
 * The typed error catalogue of `@satellite/core`. Every error the SDK raises is a
 * {@link SatelliteError} with a stable `code`; match on `err.code` (or use
 * {@link isSatelliteError}), never on the message. The codes are documented in
 * `docs/errors.md`. No message ever contains the component secret.
 */

/** Every error code the SDK can raise. */
export const ErrorCodes = {
  /**
   * Options passed to `component()` or to a plugin, or read from the environment, are invalid;
   * the message names the setting (`plugin.option: problem` for a plugin's).
   */
  CONFIG: 'SAT_ERR_CONFIG',
  /** The server rejected the handshake secret (`not-authorized`). Fatal. */
  AUTH: 'SAT_ERR_AUTH',
  /** The server closed the stream with a stream error. `fatal` says whether Satellite stops. */
  STREAM: 'SAT_ERR_STREAM',
  /** The server sent bytes that break the XML or the limits; Satellite closed the stream. */
  XML: 'SAT_ERR_XML',
  /** No stream header or handshake answer arrived in time. */
  HANDSHAKE_TIMEOUT: 'SAT_ERR_HANDSHAKE_TIMEOUT',
  /** The server answered something other than a stream header or `<handshake/>`. */
  PROTOCOL: 'SAT_ERR_PROTOCOL',
  /** TCP or TLS failure: refused, reset, DNS, certificate. */
  TRANSPORT: 'SAT_ERR_TRANSPORT',
  /** The XEP-0199 ping to the server got no answer in time; the link was treated as dead. */
  PING_TIMEOUT: 'SAT_ERR_PING_TIMEOUT',
  /** The reconnect policy gave up (`maxAttempts` reached). */
  RECONNECT_EXHAUSTED: 'SAT_ERR_RECONNECT_EXHAUSTED',
  /** `stop()` was called or the AbortSignal fired while an operation was pending. */
  STOPPED: 'SAT_ERR_STOPPED',
  /** The outbound queue is full; the stanza was not accepted. */
  QUEUE_FULL: 'SAT_ERR_QUEUE_FULL',
  /** A queued stanza waited longer than its TTL and was dropped. */
  STANZA_EXPIRED: 'SAT_ERR_STANZA_EXPIRED',
  /** An outbound stanza has a missing `to` or a `from` outside the component's domain. */
  ADDRESS: 'SAT_ERR_ADDRESS',
  /** An outbound stanza is larger than `limits.maxOutboundStanzaBytes`; the server would close the stream. */
  STANZA_TOO_BIG: 'SAT_ERR_STANZA_TOO_BIG',
  /** `send()` was given something that is not a stanza element. */
  INVALID_STANZA: 'SAT_ERR_INVALID_STANZA',
  /**
   * An element or attribute name is not a valid XML name, or uses an undeclared prefix: refused
   * by `xml()` or `send()` before anything is written (the connection stays up).
   */
  XML_NAME: 'SAT_ERR_XML_NAME',
  /** An iq request got no answer before its timeout. */
  IQ_TIMEOUT: 'SAT_ERR_IQ_TIMEOUT',
  /** The connection went down while an iq request was waiting for its answer. */
  IQ_DISCONNECTED: 'SAT_ERR_IQ_DISCONNECTED',
  /** Too many iq requests are in flight (`limits.maxPendingRequests`). */
  IQ_TOO_MANY: 'SAT_ERR_IQ_TOO_MANY',
  /** A stanza-level error: an iq answered with `type='error'`, or one a handler throws. */
  STANZA: 'SAT_ERR_STANZA',
} as const

/** A code from {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes]

const BRAND = Symbol.for('satellite.error')

/**
 * Base class of every error the SDK raises.
 *
 * @example
 * ```ts
 * try { await xmpp.start() } catch (err) {
 *   if (isSatelliteError(err, 'SAT_ERR_AUTH')) console.error(err.message)
 * }
 * ```
 */
export class SatelliteError<Code extends string = ErrorCode> extends Error {
  /** The error's code: one of {@link ErrorCodes}, or a plugin's (`SAT_ERR_BRIDGE_…`), listed in docs/errors.md. */
  readonly code: Code
  /** True when Satellite stopped because of this error (no retry will follow). */
  readonly fatal: boolean
  constructor(code: Code, message: string, options: { cause?: unknown; fatal?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'SatelliteError'
    this.code = code
    this.fatal = options.fatal ?? false
  }
  get [BRAND](): true {
    return true
  }
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses use the prototype chain; the base class also recognises errors made
    // by another copy of this package (the brand is a global symbol).
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class instanceof was asked about
    if (this !== SatelliteError) return Function.prototype[Symbol.hasInstance].call(this, value)
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true
  }
}

/**
 * True if `err` is a {@link SatelliteError} (core's or a plugin's), optionally with the given
 * code. Works across duplicate installs of the package.
 *
 * @example
 * ```ts
 * xmpp.send(stanza).catch((err) => { if (isSatelliteError(err, 'SAT_ERR_QUEUE_FULL')) slowDown() })
 * ```
 */
export function isSatelliteError(err: unknown): err is SatelliteError<string>
export function isSatelliteError<C extends string>(err: unknown, code: C): err is SatelliteError<C>
export function isSatelliteError(err: unknown, code?: string): boolean {
  return err instanceof SatelliteError && (code === undefined || err.code === code)
}

/**
 * The server closed the stream with `<stream:error>`.
 *
 * @example
 * ```ts
 * xmpp.on('error', (err) => { if (err instanceof StreamError) console.log(err.condition) })
 * ```
 */
export class StreamError extends SatelliteError {
  /** The RFC 6120 stream error condition, e.g. `conflict`. */
  readonly condition: string
  /** The server's `<text/>`, if any. */
  readonly text: string | undefined
  constructor(
    condition: string,
    text: string | undefined,
    message: string,
    options: { fatal?: boolean; code?: ErrorCode } = {},
  ) {
    super(options.code ?? ErrorCodes.STREAM, message, { fatal: options.fatal ?? false })
    this.name = 'StreamError'
    this.condition = condition
    this.text = text
  }
}

/** The conditions of RFC 6120 section 4.9.3 (stream errors). */
export const STREAM_ERROR_CONDITIONS: ReadonlySet<string> = new Set([
  'bad-format',
  'bad-namespace-prefix',
  'conflict',
  'connection-timeout',
  'host-gone',
  'host-unknown',
  'improper-addressing',
  'internal-server-error',
  'invalid-from',
  'invalid-namespace',
  'invalid-xml',
  'not-authorized',
  'not-well-formed',
  'policy-violation',
  'remote-connection-failed',
  'reset',
  'resource-constraint',
  'restricted-xml',
  'see-other-host',
  'system-shutdown',
  'undefined-condition',
  'unsupported-encoding',
  'unsupported-feature',
  'unsupported-stanza-type',
  'unsupported-version',
])

/** Conditions of RFC 6120 section 8.3.3 (stanza errors). */
export type StanzaErrorCondition =
  | 'bad-request'
  | 'conflict'
  | 'feature-not-implemented'
  | 'forbidden'
  | 'gone'
  | 'internal-server-error'
  | 'item-not-found'
  | 'jid-malformed'
  | 'not-acceptable'
  | 'not-allowed'
  | 'not-authorized'
  | 'payment-required'
  | 'policy-violation'
  | 'recipient-unavailable'
  | 'redirect'
  | 'registration-required'
  | 'remote-server-not-found'
  | 'remote-server-timeout'
  | 'resource-constraint'
  | 'service-unavailable'
  | 'subscription-required'
  | 'undefined-condition'
  | 'unexpected-request'

/** Error types of RFC 6120 section 8.3.2. */
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait'

const DEFAULT_TYPES: Record<StanzaErrorCondition, StanzaErrorType> = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'payment-required': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
}

/** The default error `type` for a condition, as RFC 6120 section 8.3.3 suggests. */
export function defaultErrorType(condition: string): StanzaErrorType {
  return isStanzaErrorCondition(condition) ? DEFAULT_TYPES[condition] : 'cancel'
}

/** True for the 22 conditions of RFC 6120 section 8.3.3 and RFC 3920's `payment-required` (the closed set a condition belongs to). */
export function isStanzaErrorCondition(s: unknown): s is StanzaErrorCondition {
  return typeof s === 'string' && Object.hasOwn(DEFAULT_TYPES, s)
}

const ERROR_TYPES: ReadonlySet<string> = new Set(['auth', 'cancel', 'continue', 'modify', 'wait'])

/** True for the five error types of RFC 6120 section 8.3.2. */
export function isStanzaErrorType(s: unknown): s is StanzaErrorType {
  return typeof s === 'string' && ERROR_TYPES.has(s)
}

/**
 * A stanza-level error (RFC 6120 section 8.3). Throw it from an iq handler to answer
 * with that condition; `request()` rejects with one when the peer answers `type='error'`.
 *
 * The second argument is either the human-readable text (`new StanzaError('not-allowed',
 * 'Search is for local users only')`) or the options `{ text, type, application, stanza }`.
 *
 * The condition is always one of the 22 of RFC 6120 or `payment-required` (RFC 3920) (it becomes an element name on the wire):
 * anything else, such as a condition read from a legacy network or from a peer's error, becomes
 * `undefined-condition` (RFC 6120: an unknown condition is treated as that), and a `type` that
 * is not one of the five becomes the condition's default. Application-specific conditions go in
 * `application`.
 *
 * @example
 * ```ts
 * xmpp.iqGet({ xmlns: 'jabber:iq:search' }, () => {
 *   throw new StanzaError('not-allowed', 'Search is for local users only')
 * })
 * throw new StanzaError('resource-constraint', { type: 'wait', text: 'try again in 5 s' })
 * ```
 */
export class StanzaError extends SatelliteError {
  /** One of the 22 conditions of RFC 6120 or `payment-required` (anything else given became `undefined-condition`). */
  readonly condition: StanzaErrorCondition
  readonly type: StanzaErrorType
  readonly text: string | undefined
  /** An application-specific condition element, if any (kept as the parsed element). */
  readonly application: unknown
  /** The error stanza that carried this error, when it came from the network. */
  readonly stanza: unknown
  /** A stanza error with `text` as its human-readable `<text/>`. */
  constructor(condition: StanzaErrorCondition | (string & {}), text?: string)
  /** A stanza error with options: `type` (default: the condition's), `text`, `application`, `stanza`. */
  constructor(
    condition: StanzaErrorCondition | (string & {}),
    options?: { type?: StanzaErrorType; text?: string; application?: unknown; stanza?: unknown },
  )
  constructor(
    condition: StanzaErrorCondition | (string & {}),
    textOrOptions?:
      | string
      | { type?: StanzaErrorType; text?: string; application?: unknown; stanza?: unknown },
  ) {
    const options =
      typeof textOrOptions === 'string'
        ? { text: textOrOptions }
        : typeof textOrOptions === 'object' && textOrOptions !== null
          ? textOrOptions
          : {}
    const known = isStanzaErrorCondition(condition)
    const cond = known ? condition : 'undefined-condition'
    const label = known ? cond : `${cond} (given ${shownCondition(condition)})`
    super(ErrorCodes.STANZA, options.text ? `${label}: ${options.text}` : label)
    this.name = 'StanzaError'
    this.condition = cond
    this.type = isStanzaErrorType(options.type) ? options.type : defaultErrorType(cond)
    this.text = options.text
    this.application = options.application
    this.stanza = options.stanza
  }
}

function shownCondition(c: unknown): string {
  if (typeof c !== 'string') return `a ${typeof c}`
  return JSON.stringify(c.length > 64 ? `${c.slice(0, 64)}…` : c)
}
