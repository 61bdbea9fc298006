export type { AffiliationEntry, ListedAffiliation } from './affiliations.js'
export { Affiliations } from './affiliations.js'
export type { ArchiveOptions } from './archive.js'
export type { Departure, JoinAnswer, MucBackend, RemoteOccupant, RoomView, Said } from './backend.js'
export type { MucErrorCode } from './errors.js'
export { MucError, MucErrorCodes } from './errors.js'
export type { HistoryEntry, HistoryQuery, HistoryStore } from './history.js'
export { MemoryHistory } from './history.js'
export type { JoinInfo, MessageInfo, MucHooks } from './hooks.js'
export type { MucService, OccupantSnapshot, RoomSnapshot } from './muc.js'
export { muc } from './muc.js'
export type { NickResult } from './nick.js'
export { enforceNick, nickKey } from './nick.js'
export {
  NS_DELAY,
  NS_MUC,
  NS_MUC_ADMIN,
  NS_MUC_OWNER,
  NS_MUC_ROOMCONFIG,
  NS_MUC_ROOMINFO,
  NS_MUC_SELF_PING,
  NS_MUC_STABLE_ID,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  NS_SID,
} from './ns.js'
export type { MucLimits, MucOptions, RoomDefaults } from './options.js'
export type { Affiliation, Role } from './room.js'
export type { SqliteMucStoreOptions } from './sqlite-store.js'
export { MUC_MIGRATIONS, SqliteMucStore } from './sqlite-store.js'
export type {
  ArchivedMessage,
  ArchivePage,
  ArchiveQuery,
  MaybePromise,
  MucStore,
  Retention,
  StoredAffiliation,
  StoredRoom,
} from './store.js'
export { MemoryStore } from './store.js'
