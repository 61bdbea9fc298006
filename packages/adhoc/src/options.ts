import { numberOption, optionError } from '@satellite/core'
import type { Requester } from './requester.js'

/**
 * Options of {@link commands}.
 *
 * @example
 * ```ts
 * const options: CommandsOptions = { sessionTimeout: 5 * 60_000, maxSessionsPerRequester: 3 }
 * ```
 */
export interface CommandsOptions {
  /** Local part the commands live at: `''` (the domain, default), `'bot'`, or `'*'` (every user). */
  to?: string
  /** Idle time after which a session expires, in ms (default 600000, 10 minutes). */
  sessionTimeout?: number
  /** Live sessions per requester (bare JID) before `resource-constraint` (default 5). */
  maxSessionsPerRequester?: number
  /** Live sessions in all (default 10000). */
  maxSessions?: number
  /** How many expired session ids are remembered to answer `session-expired` (default 1000). */
  rememberExpired?: number
  /**
   * Requesters (full JID and its parts, as `allowed` receives them) who may use the
   * `reservedSessions`: typically the administrators. Default: nobody.
   */
  privileged?: (from: string, requester: Requester) => boolean | Promise<boolean>
  /**
   * Sessions of `maxSessions` that only `privileged` requesters may open: the others share
   * `maxSessions - reservedSessions`, so however many accounts they use they cannot lock the
   * administrators out. Default (with `privileged`): 100, or half of `maxSessions` if smaller.
   */
  reservedSessions?: number
}

/** The options of {@link CommandsOptions}, checked, with their defaults. */
export interface ResolvedCommandsOptions {
  to: string
  sessionTimeout: number
  maxSessionsPerRequester: number
  maxSessions: number
  rememberExpired: number
  privileged: CommandsOptions['privileged']
  reservedSessions: number
}

const PLUGIN = 'commands'

/**
 * Checks the options of `commands()`: a bad one throws a fatal `SAT_ERR_CONFIG`
 * `SatelliteError` (`commands.option: problem`).
 */
export function resolveOptions(options: CommandsOptions): ResolvedCommandsOptions {
  if (typeof options !== 'object' || options === null) {
    throw optionError(
      PLUGIN,
      'options',
      `must be an object, got ${options === null ? 'null' : typeof options}`,
    )
  }
  const to = options.to ?? ''
  if (typeof to !== 'string')
    throw optionError(PLUGIN, 'to', `must be a string (a local part), got ${typeof to}`)
  // setTimeout's range: beyond it Node fires at once, and every session would expire immediately
  const sessionTimeout = numberOption(PLUGIN, 'sessionTimeout', options.sessionTimeout, 600_000, {
    min: 1,
    max: 2 ** 31 - 1,
  })
  const maxSessionsPerRequester = numberOption(
    PLUGIN,
    'maxSessionsPerRequester',
    options.maxSessionsPerRequester,
    5,
    { min: 1 },
  )
  const maxSessions = numberOption(PLUGIN, 'maxSessions', options.maxSessions, 10_000, { min: 1 })
  const rememberExpired = numberOption(PLUGIN, 'rememberExpired', options.rememberExpired, 1000, { min: 0 })
  const privileged = options.privileged
  if (privileged !== undefined && typeof privileged !== 'function') {
    throw optionError(PLUGIN, 'privileged', `must be a function, got ${typeof privileged}`)
  }
  if (privileged === undefined && options.reservedSessions !== undefined) {
    throw optionError(PLUGIN, 'reservedSessions', 'needs privileged (who may use them)')
  }
  const reserveDefault = privileged === undefined ? 0 : Math.min(100, Math.floor(maxSessions / 2))
  const reservedSessions = numberOption(
    PLUGIN,
    'reservedSessions',
    options.reservedSessions,
    reserveDefault,
    {
      min: 0,
    },
  )
  if (reservedSessions >= maxSessions) {
    throw optionError(
      PLUGIN,
      'reservedSessions',
      `must be less than maxSessions (${maxSessions}), got ${reservedSessions}`,
    )
  }
  return {
    to,
    sessionTimeout,
    maxSessionsPerRequester,
    maxSessions,
    rememberExpired,
    privileged,
    reservedSessions,
  }
}
