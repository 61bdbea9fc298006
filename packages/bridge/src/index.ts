// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export type {
  Avatar,
  AvatarsCapability,
  Capabilities,
  ChatState,
  CorrectionsCapability,
  Credentials,
  GroupsCapability,
  IncomingGroupMessage,
  IncomingMessage,
  LegacyContact,
  LegacyGroup,
  LegacyMember,
  NetworkAdapter,
  ReactionsCapability,
  ReceiptsCapability,
  SessionEvents,
  StatusCapability,
  TypingCapability,
} from './adapter.js'
export type { Bridge, BridgeOptions, BridgeSizes, SessionState } from './bridge.js'
export {
  bridge,
  NS_CHATSTATES,
  NS_CORRECT,
  NS_GATEWAY,
  NS_NICK,
  NS_REACTIONS,
  NS_RECEIPTS,
  NS_VCARD,
  NS_VCARD_UPDATE,
} from './bridge.js'
export { decrypt, encrypt, keyFromEnv, parseKey } from './crypto.js'
export type { BridgeErrorCode } from './errors.js'
export { BridgeError, BridgeErrorCodes, BridgeKeyError } from './errors.js'
export type { GroupSizes } from './groups.js'
export { NS_MUC, NS_MUC_USER } from './groups.js'
export type { BridgeLimits, LoginLimits } from './limits.js'
export type { BridgeStore, MaybePromise, MessageMapping, SqliteStoreOptions, StoredContact } from './store.js'
export { BRIDGE_MIGRATIONS, SqliteStore } from './store.js'
