import {
  SatelliteError,
  StanzaError,
  type StanzaErrorCondition,
  type StanzaErrorType,
  xml,
} from '@satellite/core'
import { NS_COMMANDS } from './ns.js'

/**
 * The XEP-0050 application error conditions (namespace {@link NS_COMMANDS}).
 *
 * @example
 * ```ts
 * const c: CommandErrorCondition = 'bad-payload'
 * ```
 */
export type CommandErrorCondition =
  | 'bad-action'
  | 'malformed-action'
  | 'bad-locale'
  | 'bad-payload'
  | 'bad-sessionid'
  | 'session-expired'

/**
 * A stanza error carrying a XEP-0050 application condition: `session-expired` goes with
 * `not-allowed` (as the specification's table says), the others with `bad-request`. The
 * second argument is the text, or `{ text, type }`, as for `new StanzaError(condition, …)`.
 *
 * @example
 * ```ts
 * throw commandError('bad-payload', 'the amount must be positive')
 * throw commandError('bad-payload', { text: 'the poll is being counted', type: 'wait' })
 * ```
 */
export function commandError(
  condition: CommandErrorCondition,
  textOrOptions?: string | { text?: string; type?: StanzaErrorType },
): StanzaError {
  const defined: StanzaErrorCondition = condition === 'session-expired' ? 'not-allowed' : 'bad-request'
  const application = xml(condition, { xmlns: NS_COMMANDS })
  const { text, type } = typeof textOrOptions === 'string' ? { text: textOrOptions } : (textOrOptions ?? {})
  return new StanzaError(defined, {
    application,
    ...(text === undefined ? {} : { text }),
    ...(type === undefined ? {} : { type }),
  })
}

/**
 * `CommandRegistry.register()` refused a definition: its node is already registered. Nothing
 * was changed. `code` is `SAT_ERR_ADHOC_DEFINITION`.
 *
 * @example
 * ```ts
 * try { registry.register(def) } catch (err) {
 *   if (err instanceof CommandDefinitionError) registry.unregister(def.node)
 * }
 * ```
 */
export class CommandDefinitionError extends SatelliteError<'SAT_ERR_ADHOC_DEFINITION'> {
  constructor(message: string) {
    super('SAT_ERR_ADHOC_DEFINITION', message)
    this.name = 'CommandDefinitionError'
  }
}
