export type {
  CommandAction,
  CommandDefinition,
  CommandErrorCondition,
  CommandResult,
  CommandStats,
  CommandsOptions,
  MaybeAsync,
  Note,
  Requester,
  Session,
  Stage,
  StepOutcome,
} from './commands.js'
export { CommandRegistry, commandError, commands, NS_COMMANDS, requesterOf, stage } from './commands.js'
