// What one run of the blaster is told: the scenario, the subject and the bounds.

export type ScenarioKind = 'echo' | 'pingpong' | 'large' | 'flood' | 'iq' | 'users'

export interface SubjectSpec {
  /** Short name: raw, xmppjs, satellite. */
  name: string
  /** Absolute path of the JS file node runs. */
  file: string
}

export interface RunConfig {
  subject: SubjectSpec
  scenario: ScenarioKind
  /** Load before the measured window (not counted). */
  warmupMs: number
  /** Measured window (ignored by flood, which uses floodMs and then drains). */
  durationMs: number
  /** Stanzas in flight (echo, large, users) or iq requests the subject keeps in flight (iq). Ping-pong is 1. */
  window?: number
  /** Body length of the large scenario, in characters (ASCII, so also bytes). */
  bodyBytes?: number
  /** Distinct local parts of the users scenario. */
  users?: number
  /** Ping-pong: run the subject and the blaster on CPU 0 with taskset. */
  pin?: boolean
  /** Flood: busy-wait per stanza in the subject's handler (env BENCH_SLOW_US). */
  slowUs?: number
  /** Flood: how long to send as fast as the socket accepts. */
  floodMs?: number
  /** Flood: cap on messages sent, so the drain stays bounded. */
  floodMax?: number
  /** No progress for this long while replies are due = stall (run fails). */
  stallMs?: number
  /** Absolute bound on the whole run, start to stop. */
  hardLimitMs?: number
  /** The subject must connect and complete the handshake within this (default 15 s). */
  connectLimitMs?: number
  /** Wait after the handshake before reading the idle RSS. */
  idleWaitMs?: number
  /** Check from/to/type/body on every n-th reply (the id is checked on every reply). */
  verifyEvery?: number
  /**
   * Extra node flags for the subject, before its script (e.g. `--cpu-prof`). Default: the whitespace-separated
   * words of env `BENCH_SUBJECT_NODE_ARGS`, if set.
   */
  nodeArgs?: string[]
  /** Called with everything the subject writes to stdout/stderr (e.g. `--trace-gc` lines). */
  onChildOutput?: (text: string) => void
}
