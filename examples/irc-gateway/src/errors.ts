// The IRC gateway's error catalogue: every error it raises is a SatelliteError with one of these
// codes, so `isSatelliteError(err, 'SAT_ERR_IRC_…')` tells them apart. Configuration errors are
// core's SAT_ERR_CONFIG (optionError).
import { SatelliteError } from '@satellite/core'

/** Codes of {@link IrcGatewayError}. */
export const IrcGatewayErrorCodes = {
  /** An address of the gateway that names no server, channel or nick (bad syntax, bad characters). */
  ADDRESS: 'SAT_ERR_IRC_ADDRESS',
  /** An address names an IRC server that is not in the allow-list (`IRC_SERVERS`). */
  SERVER: 'SAT_ERR_IRC_SERVER',
  /** A value received from IRC (nick, channel, text) that cannot be shown to XMPP: dropped. */
  INPUT: 'SAT_ERR_IRC_INPUT',
  /** The nick a user asked for was refused by the IRC server (433 in use, 432 erroneous). */
  NICK: 'SAT_ERR_IRC_NICK',
  /** The IRC connection could not be made or was lost, or was used after close(). */
  CONNECTION: 'SAT_ERR_IRC_CONNECTION',
  /** IRC_GATEWAY_KEY is missing, malformed or not the database's, or a stored password does not decrypt. */
  KEY: 'SAT_ERR_IRC_KEY',
  /** The settings database is newer than this code (refused rather than misread). */
  STORE: 'SAT_ERR_IRC_STORE',
  /** A per-user bound of the settings was reached (settings for too many servers). */
  LIMIT: 'SAT_ERR_IRC_LIMIT',
  /** A raw command (`/quote`) that cannot be sent: CR, LF or NUL in it, or too long. */
  RAW: 'SAT_ERR_IRC_RAW',
} as const

export type IrcGatewayErrorCode = (typeof IrcGatewayErrorCodes)[keyof typeof IrcGatewayErrorCodes]

/** What the IRC gateway raises: a {@link SatelliteError} with an {@link IrcGatewayErrorCodes} code. */
export class IrcGatewayError extends SatelliteError<IrcGatewayErrorCode> {
  override readonly name: string = 'IrcGatewayError'
  constructor(
    code: IrcGatewayErrorCode,
    message: string,
    options: { cause?: unknown; fatal?: boolean } = {},
  ) {
    super(code, message, options)
  }
}
