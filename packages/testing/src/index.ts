// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export type { Behaviour, StreamErrorSpec } from './behaviour.js'
export type { CliIo, RunningCli } from './cli.js'
export { runCli } from './cli.js'
export type { SimulatedClientEvents } from './client.js'
export { SimulatedClient } from './client.js'
export type {
  CommandNote,
  CommandOptions,
  CommandStatus,
  CommandStep,
  ReceivedField,
  ReceivedForm,
  SubmitValues,
} from './command.js'
export { CommandSession, formSubmission, readForm } from './command.js'
export { ServerConnection } from './connection.js'
export type { SentStreamError, ServerConnectionEvents, WriteOptions } from './connection-types.js'
export type { ErrorReplyOptions, StanzaErrorType, StreamErrorCondition } from './errors.js'
export { StanzaErrorResponse, serverErrorReply, serverStreamErrorXml } from './errors.js'
export type { EventName, TypedListener } from './events.js'
export { TypedEmitter } from './events.js'
export type { FaultAddress } from './faults.js'
export {
  everyByte,
  garbage,
  hugeStanza,
  messageXml,
  splitUtf8Message,
  utf8SplitPoints,
  whitespace,
} from './faults.js'
export { computeHandshake, ejabberdStreamId, prosodyStreamId, verifyHandshake } from './handshake.js'
export type { Jid } from './jid.js'
export { tryParseJid } from './jid.js'
export type { StanzaMatcher, StanzaPattern, StringMatch } from './match.js'
export { ExpectTimeoutError, matchStanza } from './match.js'
export type {
  BalancePolicy,
  ConflictPolicy,
  Flavour,
  ServerOptions,
  ServerResolvedOptions,
} from './options.js'
export { REDACTED, redactStanza } from './redact.js'
export type { RoutedEvent, RouteOutcome, UndeliveredStanza } from './router.js'
export type { RefuseOptions, TestServerEvents, WaitForComponentOptions } from './server.js'
export { createServer, TestServer } from './server.js'
export { XmlSyntaxError } from './strict.js'
export type { Element } from './xml.js'
export { xml } from './xml.js'
