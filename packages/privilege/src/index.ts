// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export type { Permission, PrivilegeErrorReason } from './errors.js'
export { configHint, PrivilegeError, PrivilegeInputError } from './errors.js'
export type {
  Grant,
  IqAccess,
  MessageAccess,
  PresenceAccess,
  PrivilegeEvents,
  PrivilegeOptions,
  RosterAccess,
  RosterItem,
} from './privilege.js'
export {
  NS_FORWARD,
  NS_PRIVILEGE_1,
  NS_PRIVILEGE_2,
  NS_ROSTER,
  Privileges,
  parseGrant,
  parseRosterItems,
  privileges,
} from './privilege.js'
