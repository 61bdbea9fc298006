// The event methods of the server's emitters (TestServer, ServerConnection, SimulatedClient),
// typed by their event maps: only their events, with their arguments. Declared here rather than
// taken from @types/node's generic EventEmitter<T>, whose typing lets an unknown event name
// compile (and varies with the consumer's @types/node). TypedEmitter adds no code: the methods
// are EventEmitter's, unchanged at run time.
import { EventEmitter } from 'node:events'

/** The event names of an event map. */
export type EventName<Events> = keyof Events & string

/** A listener of event `E` of an event map (event name → listener arguments). */
export type TypedListener<Events, E extends EventName<Events>> = Events[E] extends unknown[]
  ? (...args: Events[E]) => void
  : never

/**
 * An EventEmitter whose events are `Events` (event name → listener arguments):
 * `server.on('nonsense', …)` does not compile, nor does a listener taking the wrong arguments.
 * @example
 * server.on('authenticated', (conn) => console.log(conn.domain))
 */
export interface TypedEmitter<Events> {
  /** Calls `listener` on every `event`. */
  on<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** Calls `listener` on the next `event` only. */
  once<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** Removes a listener added by `on`, `once`... */
  off<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** The same as `on`. */
  addListener<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** The same as `off`. */
  removeListener<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** Like `on`, but the listener runs before those already added. */
  prependListener<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** Like `once`, but the listener runs before those already added. */
  prependOnceListener<E extends EventName<Events>>(event: E, listener: TypedListener<Events, E>): this
  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: EventName<Events>): this
  /** Calls the listeners of `event` with `args`. */
  emit<E extends EventName<Events>>(
    event: E,
    ...args: Events[E] extends unknown[] ? Events[E] : never
  ): boolean
  /** How many listeners `event` has (of `listener` only, if given). */
  listenerCount<E extends EventName<Events>>(event: E, listener?: TypedListener<Events, E>): number
  /** The listeners of `event`. */
  listeners<E extends EventName<Events>>(event: E): Array<TypedListener<Events, E>>
  /** The listeners of `event`, including the wrappers `once` adds. */
  rawListeners<E extends EventName<Events>>(event: E): Array<TypedListener<Events, E>>
}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the interface above only types EventEmitter's own methods
// biome-ignore lint/correctness/noUnusedVariables: Events is used by the merged interface
export class TypedEmitter<Events> extends EventEmitter {}
