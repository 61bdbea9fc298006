// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export type { Permission, PrivilegeErrorCode, PrivilegeErrorReason } from './errors.js'
export { configHint, PrivilegeError, PrivilegeErrorCodes, PrivilegeInputError } from './errors.js'
export type { PrivilegeEvents, PrivilegeListener } from './events.js'
export type { Grant, IqAccess, MessageAccess, PresenceAccess, RosterAccess } from './grant.js'
export { parseGrant } from './grant.js'
export { NS_FORWARD, NS_PRIVILEGE_1, NS_PRIVILEGE_2, NS_ROSTER } from './ns.js'
export type { PrivilegeOptions } from './options.js'
export { Privileges, privileges } from './privileges.js'
export type { RosterItem } from './roster.js'
export { parseRosterItems } from './roster.js'
