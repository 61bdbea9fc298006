// The blaster: a fake XEP-0114 server written with plain `net` and string operations (no XMPP library),
// which starts a subject component as a child process, accepts its handshake and drives one scenario.
//
// One call to `runScenario` = one fresh subject process = one measurement. It is bounded (idle wait,
// warm-up, measured window, stall detection, hard time limit) and always stops the child by pid.
//
// Its parts: config.ts (what a run is told), run.ts (the run: server socket, handshake, stall check,
// snapshots), scenarios.ts (phases, what is sent, the per-stanza checks of the replies), subject.ts (the
// subject's process), results.ts (the result and its statistics), wire.ts (constants and string scanning).
import type { RunConfig } from './config.js'
import type { RunResult } from './results.js'
import { Run } from './run.js'

export type { RunConfig, ScenarioKind, SubjectSpec } from './config.js'
export type { FloodStats, LatencyStats, RunResult } from './results.js'
export { envNodeArgs, SUBJECTS } from './subject.js'
export { DOMAIN, IQ_TARGET } from './wire.js'

/** Runs one scenario against one fresh subject process. Never throws for subject failures: see `ok`/`error`. */
export async function runScenario(cfg: RunConfig): Promise<RunResult> {
  const run = new Run(cfg)
  return run.execute()
}
