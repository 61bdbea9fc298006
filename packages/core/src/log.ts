import { createRequire } from 'node:module'
import type createDebugType from 'debug'

// Loaded through require: importing a CommonJS module from ESM starts Node's CJS export
// lexer (a WASM module), which alone adds about 4 MiB to the idle RSS of a component.
const createDebug = createRequire(import.meta.url)('debug') as typeof createDebugType

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
