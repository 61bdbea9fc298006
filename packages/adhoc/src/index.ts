export type {
  CommandAction,
  CommandDefinition,
  CommandErrorCondition,
  CommandResult,
  CommandStats,
  CommandsOptions,
  MaybeAsync,
  Note,
  Session,
  Stage,
  StepOutcome,
} from './commands.js'
export { CommandRegistry, commandError, commands, NS_COMMANDS, stage } from './commands.js'
