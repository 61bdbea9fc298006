export type { Cluster, ClusterOptions } from './cluster.js'
export { joinCluster } from './cluster.js'
export type {
  MigrateOptions,
  Migration,
  PostgresDb,
  PostgresOptions,
  Sql,
  TransactionSql,
} from './database.js'
export { migrate, openPostgres, schemaVersion } from './database.js'
export type { PostgresErrorCode } from './errors.js'
export { PostgresError, PostgresErrorCodes } from './errors.js'
export { KeyedQueue } from './keyed-queue.js'
export type { LeaseEvents, LeaseOptions, LeaseRow, LeaseState } from './lease.js'
export { LEASE_MIGRATIONS, Lease } from './lease.js'
export { isPostgresUrl, redactUrl } from './url.js'
