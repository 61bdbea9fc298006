/**
 * The one contract of every plugin (docs/plugins.md): a function `(xmpp, options) => handle`
 * that installs its routes, responders and timers on the component at once, throws a
 * `SAT_ERR_CONFIG` {@link SatelliteError} naming the option when an option is bad (before it
 * installs anything), and returns a handle whose `close()` undoes all of it.
 */
import type { Component } from './component.js'
import { ErrorCodes, SatelliteError } from './errors.js'

/**
 * What every plugin returns. `close()` removes what the plugin installed (routes, disco
 * entries, timers, listeners); it may be called more than once and in any state of the
 * component. It returns a promise when it has something to wait for (a store to close,
 * sessions to log out): await it before closing what the plugin uses.
 */
export interface PluginHandle {
  close(): void | Promise<void>
}

/**
 * A plugin: `(xmpp, options) => handle`.
 *
 * @example
 * ```ts
 * import { type Plugin, type PluginHandle, optionError, xml } from '@satellite/core'
 *
 * interface TimeOptions { to?: string }
 * export const time: Plugin<TimeOptions, PluginHandle> = (xmpp, options) => {
 *   const to = options.to ?? 'time'
 *   if (!/^[a-z]+$/.test(to)) throw optionError('time', 'to', 'must be lower-case letters')
 *   const unroute = xmpp.message({ to, type: 'chat' }, (msg) =>
 *     xmpp.send(xml('message', { to: msg.from, from: msg.to, type: 'chat' }, xml('body', {}, new Date().toISOString()))),
 *   )
 *   return { close: unroute }
 * }
 * ```
 */
export type Plugin<Options, Handle extends PluginHandle = PluginHandle> = (
  xmpp: Component,
  options: Options,
) => Handle

/**
 * The error a plugin throws for a bad option: a fatal {@link SatelliteError} `SAT_ERR_CONFIG`
 * whose message is `plugin.option: problem`.
 *
 * @example
 * ```ts
 * throw optionError('search', 'maxResults', 'must be an integer from 1 to 1000')
 * ```
 */
export function optionError(plugin: string, option: string, problem: string): SatelliteError {
  return new SatelliteError(ErrorCodes.CONFIG, `${plugin}.${option}: ${problem}`, { fatal: true })
}

/** Bounds of {@link numberOption}. */
export interface NumberBounds {
  /** Smallest value allowed (default 0). */
  min?: number
  /** Largest value allowed (default `Number.MAX_SAFE_INTEGER`). */
  max?: number
  /** Whether the value must be an integer (default true). */
  integer?: boolean
}

/**
 * Checks a plugin's numeric option: returns `value`, or `fallback` when it is `undefined`;
 * throws {@link optionError} when it is not a number within the bounds.
 *
 * @example
 * ```ts
 * const max = numberOption('search', 'maxResults', options.maxResults, 50, { min: 1, max: 1000 })
 * ```
 */
export function numberOption(
  plugin: string,
  option: string,
  value: unknown,
  fallback: number,
  bounds: NumberBounds = {},
): number {
  if (value === undefined) return fallback
  const min = bounds.min ?? 0
  const max = bounds.max ?? Number.MAX_SAFE_INTEGER
  const integer = bounds.integer ?? true
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw optionError(
      plugin,
      option,
      `must be ${integer ? 'an integer' : 'a finite number'}, got ${describe(value)}`,
    )
  }
  if (value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`
    throw optionError(plugin, option, `must be ${range}, got ${value}`)
  }
  return value
}

function describe(value: unknown): string {
  if (typeof value === 'number') return String(value)
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`
  return value === null ? 'null' : typeof value
}
