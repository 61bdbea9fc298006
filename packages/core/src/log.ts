import { requireDep as require } from './builtins.js'

/** A `debug` logger with an `error` channel. Namespaces: `satellite:core:<subsystem>`. */
export interface Logger {
  (formatter: string, ...args: unknown[]): void
  readonly enabled: boolean
  error: (formatter: string, ...args: unknown[]) => void
}

/**
 * The part of the `debug` module that {@link enableDebug} returns: enough to change what is
 * logged and where it goes. (Declared here so that the package's types stand alone: `debug`
 * ships no types of its own.)
 */
export interface DebugModule {
  /** Enables the given namespaces (DEBUG syntax: `satellite:*,-satellite:core:outbound`), replacing those enabled. */
  enable(namespaces: string): void
  /** Disables every namespace; returns the namespaces that were enabled. */
  disable(): string
  /** Whether a namespace is enabled. */
  enabled(namespace: string): boolean
  /** Where every logger writes (default: standard error). Replace it to capture the logs. */
  log: (...args: unknown[]) => void
}

type DebugFn = ((formatter: string, ...args: unknown[]) => void) & { enabled: boolean }
type CreateDebug = DebugModule & ((namespace: string) => DebugFn)

let createDebug: CreateDebug | undefined
const bindings: Array<() => void> = []

// `debug` (and what it pulls in) is loaded only when logging is asked for: with DEBUG set
// in the environment, or through enableDebug(). An idle component stays ~7 MiB smaller.
function load(): CreateDebug {
  if (createDebug === undefined) {
    createDebug = require('debug') as CreateDebug
    for (const bind of bindings) bind()
  }
  return createDebug
}

/**
 * Creates the logger of one subsystem (`satellite:core:connection`, `...:stream`, ...).
 * Enable with `DEBUG=satellite:*` (or {@link enableDebug}). The secret is never passed
 * to a logger.
 */
export function logger(subsystem: string): Logger {
  const ns = `satellite:core:${subsystem}`
  let main: DebugFn | undefined
  let err: DebugFn | undefined
  const log = ((formatter: string, ...args: unknown[]) => {
    if (main?.enabled) main(formatter, ...args)
  }) as Logger
  log.error = (formatter: string, ...args: unknown[]) => {
    if (err?.enabled) err(formatter, ...args)
  }
  Object.defineProperty(log, 'enabled', { get: () => main?.enabled === true })
  const bind = () => {
    const cd = createDebug as CreateDebug
    main = cd(ns)
    err = cd(`${ns}:error`)
  }
  bindings.push(bind)
  if (createDebug !== undefined) bind()
  return log
}

/**
 * Turns on `debug` logging for the given namespaces (same syntax as the DEBUG environment
 * variable), loading `debug` if needed. Returns the `debug` module, e.g. to set `.log`.
 *
 * @example
 * ```ts
 * enableDebug('satellite:core:*')
 * ```
 */
export function enableDebug(namespaces: string): DebugModule {
  const cd = load()
  cd.enable(namespaces)
  return cd
}

if (process.env.DEBUG) load()
