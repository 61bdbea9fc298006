// The bridge's error catalogue: every error it raises or reports is a SatelliteError with one
// of these codes (docs/errors.md), so `isSatelliteError(err, 'SAT_ERR_BRIDGE_…')` tells them
// apart. Option errors are core's `optionError` (SAT_ERR_CONFIG); errors answered to a user
// are StanzaErrors (AdapterError).
import { SatelliteError } from '@satellite/core'

/** Codes of {@link BridgeError}. */
export const BridgeErrorCodes = {
  /** An adapter call threw, timed out or returned garbage, or an adapter event carried garbage (dropped). */
  ADAPTER: 'SAT_ERR_BRIDGE_ADAPTER',
  /** A user's stored credentials cannot be read (altered row, other key): the user must register again. */
  CREDENTIALS: 'SAT_ERR_BRIDGE_CREDENTIALS',
  /**
   * The credentials key is missing or malformed, does not open the database, or does not
   * decrypt a stored credential ({@link BridgeKeyError}).
   */
  KEY: 'SAT_ERR_BRIDGE_KEY',
  /** A bound of `limits` or `loginLimits` was reached: something was refused or dropped. */
  LIMIT: 'SAT_ERR_BRIDGE_LIMIT',
  /** Reports were left out (more than `limits.reportsPerMinute`); the message says how many. */
  SUPPRESSED: 'SAT_ERR_BRIDGE_SUPPRESSED',
  /**
   * A bug in the bridge: a user's legacy session was asked to move in a way its lifecycle does
   * not allow (docs/bridge.md, "Sessions"); the move was refused and the session left as it was.
   */
  STATE: 'SAT_ERR_BRIDGE_STATE',
} as const

export type BridgeErrorCode = (typeof BridgeErrorCodes)[keyof typeof BridgeErrorCodes]

/**
 * What the bridge raises, or reports on the component's `error` event, about its adapter, its
 * key and store, its limits and itself: a {@link SatelliteError} with a {@link BridgeErrorCodes} code.
 */
export class BridgeError extends SatelliteError<BridgeErrorCode> {
  override readonly name: string = 'BridgeError'
  constructor(code: BridgeErrorCode, message: string, options: { cause?: unknown; fatal?: boolean } = {}) {
    super(code, message, options)
  }
}

/**
 * Thrown when the bridge key is missing, malformed, or does not decrypt the stored credentials:
 * a {@link BridgeError} with code `SAT_ERR_BRIDGE_KEY`.
 */
export class BridgeKeyError extends BridgeError {
  override readonly name: string = 'BridgeKeyError'
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(BridgeErrorCodes.KEY, message, options)
  }
}

/**
 * Thrown by `KeyedQueue.run` when too many tasks of one key are waiting: a {@link BridgeError}
 * with code `SAT_ERR_BRIDGE_LIMIT` (the callers answer the user `resource-constraint`).
 */
export class QueueFullError extends BridgeError {
  override readonly name: string = 'QueueFullError'
  constructor(message: string) {
    super(BridgeErrorCodes.LIMIT, message)
  }
}
