export { commands } from './commands.js'
export type {
  CommandDefinition,
  CommandResult,
  MaybeAsync,
  Note,
  Session,
  Stage,
  StepOutcome,
} from './definition.js'
export { stage } from './definition.js'
export type { CommandErrorCondition } from './errors.js'
export { CommandDefinitionError, commandError } from './errors.js'
export type { CommandAction } from './ns.js'
export { NS_COMMANDS } from './ns.js'
export type { CommandsOptions } from './options.js'
export { CommandRegistry } from './registry.js'
export type { Requester } from './requester.js'
export { requesterOf } from './requester.js'
export type { CommandStats } from './sessions.js'
