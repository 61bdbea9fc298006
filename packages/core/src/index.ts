// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export { bareOf, domainOf, hasResource, isBareOf, localOf, resourceOf } from './address.js'
export type {
  ComponentEvents,
  ComponentListener,
  ReconnectInfo,
  RequestOptions,
  Status,
} from './component.js'
export { Component, component } from './component.js'
export type {
  ComponentOptions,
  LimitOptions,
  PingOptions,
  QueueOptions,
  ReconnectOptions,
  ResolvedOptions,
  ResponderOptions,
  TlsOptions,
} from './config.js'
export { configFromEnv, parseService, resolveOptions } from './config.js'
export type { ErrorCode, StanzaErrorCondition, StanzaErrorType } from './errors.js'
export {
  defaultErrorType,
  ErrorCodes,
  isSatelliteError,
  isStanzaErrorCondition,
  isStanzaErrorType,
  SatelliteError,
  STREAM_ERROR_CONDITIONS,
  StanzaError,
  StreamError,
} from './errors.js'
export type { JID, JidModule } from './jid.js'
export { jid, parseJid } from './jid.js'
export type { DebugModule, Logger } from './log.js'
export { enableDebug } from './log.js'
export { fromInDomain } from './outgoing.js'
export type { NumberBounds, Plugin, PluginHandle } from './plugin.js'
export { numberOption, optionError } from './plugin.js'
export type { DiscoInfo, DiscoItem, DiscoTarget, Identity } from './responders/disco.js'
export { capsHash, Disco, NS_DISCO_INFO, NS_DISCO_ITEMS } from './responders/disco.js'
export { errorElement, errorReply, iqResult, stanzaErrorFrom } from './routing/iq.js'
export type { PayloadMatch, StanzaMatch } from './routing/match.js'
export type { IqHandler, IqMatch, StanzaHandler, Unroute } from './routing/router.js'
export { Stats } from './stats.js'
export type { BackoffOptions, DisconnectClass } from './stream/backoff.js'
export { Backoff, classifyCondition, FATAL_STREAM_CONDITIONS } from './stream/backoff.js'
export type { ExtraStreamEvents } from './streams.js'
export { ExtraStream } from './streams.js'
export { Element, escapeXML, escapeXMLText, xml } from './xml/element.js'
export { isXmlName } from './xml/names.js'
export { Stanza } from './xml/stanza.js'
