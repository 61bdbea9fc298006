// The declarations use Node's types (Buffer, EventEmitter, NodeJS.ProcessEnv...): they come from the
// consumer's @types/node, a peer dependency (one copy for the whole program), loaded from here.
/// <reference types="node" preserve="true" />

export type { CheckOptions, CheckReport, CheckStep } from './check.js'
export { checkConnection } from './check.js'
export type { LogFormat, SatelliteConfig } from './config.js'
export {
  formatConfig,
  loadConfig,
  MIN_SECRET_LENGTH,
  redactedConfig,
  SETTINGS,
  secretMinLength,
  secretTooShort,
  settingsSchema,
  settingsTable,
} from './config.js'
export type { LifecycleLog, LogLevel } from './log.js'
export { lifecycleLog, logLifecycle } from './log.js'
export type { MetricsOptions } from './prometheus.js'
export { MAX_REASON_LABELS, prometheusMetrics } from './prometheus.js'
export type { ComponentModule, RunContext, RunningComponent, RunOptions } from './run.js'
export { runModule } from './run.js'
