/**
 * `@satellite/core/internal`: the stream-level pieces of the connector that Satellite's own
 * packages share. `satellite check` (`@satellite/cli`) drives the component's own connection
 * attempt, {@link Session}, one step at a time, so that its TLS options, handshake, stream errors
 * and TLS-error diagnosis are the component's. Also here: the streaming XML parser, the stream
 * header, the handshake digest, stream errors and their explanations.
 *
 * Not part of the public API: no stability promise, and no semver guarantee. Any release may
 * change or remove these exports. A component needs none of them; use `@satellite/core`.
 *
 * @packageDocumentation
 */
export { explainStreamError } from './stream/explain.js'
export { handshakeDigest, NS_COMPONENT, streamErrorXml, streamHeader } from './stream/handshake.js'
export type {
  EndClass,
  Liveness,
  SessionEnd,
  SessionHandlers,
  SessionOptions,
  SessionPhase,
} from './stream/session.js'
export { Session } from './stream/session.js'
export type { TlsProblem } from './stream/transport.js'
export { tlsProblem } from './stream/transport.js'
export type { StreamParserHandlers, StreamParserLimits, XmlViolation } from './xml/parser.js'
export { StreamParser, XmlViolationError } from './xml/parser.js'
