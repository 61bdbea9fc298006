// The PostgreSQL layer's error catalogue. A bad option is core's `optionError` (SAT_ERR_CONFIG);
// what fails against the server is a PostgresError. No message carries a URL's password.
import { SatelliteError } from '@satellite/core'

/** Codes of {@link PostgresError}. */
export const PostgresErrorCodes = {
  /** The server could not be reached or refused the connection (address, credentials, database). */
  CONNECT: 'SAT_ERR_POSTGRES_CONNECT',
  /** A migration failed; every step of that run was rolled back. */
  MIGRATE: 'SAT_ERR_POSTGRES_MIGRATE',
  /** The database's schema is newer than the code's migrations: refused rather than misread. */
  SCHEMA: 'SAT_ERR_POSTGRES_SCHEMA',
  /** A write was fenced: this instance's lease is not held any more (expired or taken over). */
  LEASE: 'SAT_ERR_POSTGRES_LEASE',
} as const

/** A code of {@link PostgresErrorCodes}. */
export type PostgresErrorCode = (typeof PostgresErrorCodes)[keyof typeof PostgresErrorCodes]

/**
 * What `@satellite/postgres` throws: a {@link SatelliteError} with a {@link PostgresErrorCodes}
 * code. Its message never holds the password of the URL it was given (the URL is shown redacted).
 *
 * @example
 * ```ts
 * try {
 *   await openPostgres(process.env.CHATROOM_DB ?? '')
 * } catch (err) {
 *   if (err instanceof PostgresError && err.code === 'SAT_ERR_POSTGRES_CONNECT') process.exit(2)
 *   throw err
 * }
 * ```
 */
export class PostgresError extends SatelliteError<PostgresErrorCode> {
  override readonly name: string = 'PostgresError'
  constructor(code: PostgresErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options)
  }
}
