export type { CheckOptions, CheckReport, CheckStep } from './check.js'
export { checkConnection } from './check.js'
export type { ComponentModule, RunningComponent, RunOptions } from './run.js'
export { metrics, runModule } from './run.js'
