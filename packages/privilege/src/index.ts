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
