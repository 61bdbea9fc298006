/**
 * `@satellite/core/internal`: the stream-level pieces of the connector that Satellite's own
 * packages share (the `satellite check` command of `@satellite/cli` speaks the XEP-0114 stream
 * itself, step by step): the streaming XML parser, the stream header, the handshake digest,
 * stream errors and their explanations.
 *
 * Not part of the public API: no stability promise, and no semver guarantee. Any release may
 * change or remove these exports. A component needs none of them; use `@satellite/core`.
 *
 * @packageDocumentation
 */
export { explainStreamError } from './stream/explain.js'
export { handshakeDigest, NS_COMPONENT, streamErrorXml, streamHeader } from './stream/handshake.js'
export type { StreamParserHandlers, StreamParserLimits, XmlViolation } from './xml/parser.js'
export { StreamParser, XmlViolationError } from './xml/parser.js'
