import type { ReconnectInfo, Status } from './events.js'
import type { JID } from './jid.js'

/** What the supervisor needs of a connection attempt (a {@link Session}, or a fake in tests). */
export interface Attempt {
  /** Ends the attempt (gracefully once online); resolves when it is closed. */
  close(timeout: number): Promise<void>
}

/**
 * The component's lifecycle: ONE value, tagged with the public {@link Status} it announces, and
 * carrying what that state owns. Changed only by {@link Supervisor}'s transition function.
 */
export type State<A extends Attempt = Attempt> =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: A }
  | { status: 'authenticating'; attempt: A }
  | { status: 'online'; attempt: A; since: number; address: JID }
  /** An online connection ended; `stopping` is set when that happened during a stop. */
  | { status: 'offline'; stopping: Promise<void> | null }
  | { status: 'reconnecting'; timer: NodeJS.Timeout; info: ReconnectInfo }
  /** `attempt`: the live attempt being closed, if there was one. */
  | { status: 'stopping'; done: Promise<void>; attempt: A | null }
  | { status: 'stopped' }

/**
 * The changes docs/connection.md allows ("Statuses and events"). `offline` goes on to `stopped`
 * only when it happened during a stop, and to `reconnecting` or `stopping` only otherwise.
 */
export const TRANSITIONS: { readonly [S in Status]: readonly Status[] } = {
  idle: ['connecting', 'stopping'],
  connecting: ['authenticating', 'reconnecting', 'stopping'],
  authenticating: ['online', 'reconnecting', 'stopping'],
  online: ['offline', 'stopping'],
  offline: ['reconnecting', 'stopping', 'stopped'],
  reconnecting: ['connecting', 'stopping'],
  stopping: ['offline', 'stopped'],
  stopped: ['connecting'],
}

/** True if the lifecycle allows going from `from` to a state with status `to`. */
export function allowed(from: State<Attempt>, to: Status): boolean {
  if (!TRANSITIONS[from.status].includes(to)) return false
  if (from.status === 'offline') return (from.stopping !== null) === (to === 'stopped')
  return true
}

/** A transition the lifecycle does not allow: a bug in Satellite. */
export class IllegalTransition extends Error {
  constructor(from: Status, to: Status) {
    super(`illegal lifecycle transition ${from} → ${to} (a bug in Satellite; please report it)`)
    this.name = 'IllegalTransition'
  }
}
