import createDebug from 'debug'

/** A `debug` logger with an `error` channel. Namespaces: `satellite:core:<subsystem>`. */
export interface Logger {
  (formatter: string, ...args: unknown[]): void
  enabled: boolean
  error: (formatter: string, ...args: unknown[]) => void
}

/**
 * Creates the logger of one subsystem (`satellite:core:connection`, `...:stream`, ...).
 * Enable with `DEBUG=satellite:*`. The secret is never passed to a logger.
 */
export function logger(subsystem: string): Logger {
  const log = createDebug(`satellite:core:${subsystem}`) as unknown as Logger
  log.error = createDebug(`satellite:core:${subsystem}:error`)
  return log
}
