import createDebug from 'debug'

/** A `debug` logger with an `:error` channel. Internal. */
export interface Logger {
  (formatter: string, ...args: unknown[]): void
  error: (formatter: string, ...args: unknown[]) => void
}

/**
 * Creates a logger under the `satellite:testing:` namespace, e.g. `logger('server')` logs to
 * `satellite:testing:server`. Enable with `DEBUG=satellite:testing:*`. Never pass the component secret.
 * @internal
 */
export function logger(scope: string): Logger {
  const name = `satellite:testing:${scope}`
  const log = createDebug(name)
  const error = createDebug(`${name}:error`)
  return Object.assign((formatter: string, ...args: unknown[]) => log(formatter, ...args), {
    error: (formatter: string, ...args: unknown[]) => error(formatter, ...args),
  })
}
