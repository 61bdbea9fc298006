// The room engine's error catalogue. Option errors are core's `optionError` (SAT_ERR_CONFIG);
// what is refused to a user is a StanzaError answered on the wire; what the engine reports to the
// operator (on the component's `error` event) or throws from its API is a MucError.
import { SatelliteError } from '@satellite/core'

/** Codes of {@link MucError}. */
export const MucErrorCodes = {
  /** The history store threw or rejected: a message was not kept, or a join got no history. */
  STORE: 'SAT_ERR_MUC_STORE',
  /** A bug in the engine: handling a stanza threw; the sender was answered `internal-server-error`. */
  INTERNAL: 'SAT_ERR_MUC_INTERNAL',
  /** An API call named a room that is not a room of this service (not a valid local part). */
  ROOM: 'SAT_ERR_MUC_ROOM',
  /** The backend of remote rooms threw something other than a StanzaError: the user was answered `internal-server-error`. */
  BACKEND: 'SAT_ERR_MUC_BACKEND',
  /** A hook (`hooks.onJoin`, `hooks.beforeMessage`) threw something other than a StanzaError: the user was answered `internal-server-error`. */
  HOOK: 'SAT_ERR_MUC_HOOK',
} as const

/** A code of {@link MucErrorCodes}. */
export type MucErrorCode = (typeof MucErrorCodes)[keyof typeof MucErrorCodes]

/**
 * What the room engine throws from its API or reports on the component's `error` event: a
 * {@link SatelliteError} with a {@link MucErrorCodes} code.
 *
 * @example
 * ```ts
 * xmpp.on('error', (err) => { if (err instanceof MucError && err.code === 'SAT_ERR_MUC_STORE') alert(err) })
 * ```
 */
export class MucError extends SatelliteError<MucErrorCode> {
  override readonly name: string = 'MucError'
  constructor(code: MucErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options)
  }
}
