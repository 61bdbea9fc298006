import type { StreamErrorCondition } from './errors.js'

/**
 * A stream error to send: a condition, or a condition with text and an optional delay.
 * @example
 * const e: StreamErrorSpec = { condition: 'system-shutdown', text: 'bye', delayMs: 50 }
 */
export type StreamErrorSpec =
  | StreamErrorCondition
  | { condition: StreamErrorCondition | (string & {}); text?: string; delayMs?: number }

/**
 * Scripted misbehaviour of the server for upcoming connections (see `server.behave()`) or
 * for one connection (`conn.behave()`, from the `connection` event).
 * @example
 * server.behave({ rejectHandshake: 'conflict', times: 2 }) // the next two handshakes get <conflict/>
 */
export interface Behaviour {
  /** Never answer the stream header (nor anything after it): the component's header/handshake timeout must fire. */
  noHeader?: boolean
  /** Delay the header reply by this many milliseconds. */
  headerDelayMs?: number
  /** Swallow the handshake: no `<handshake/>`, no error, the connection stays unauthenticated. */
  noHandshakeReply?: boolean
  /** Delay the `<handshake/>` reply by this many milliseconds. */
  handshakeDelayMs?: number
  /** Answer any handshake (even a correct one) with this stream error, then close. */
  rejectHandshake?: StreamErrorSpec
  /** Authenticate, send `<handshake/>`, then this stream error (after `delayMs`, default 0). */
  streamErrorAfterHandshake?: StreamErrorSpec
  /** Authenticate, send `<handshake/>`, then close the TCP connection this way (no stream error). */
  dropAfterHandshake?: 'fin' | 'rst'
  /** Number of connections this applies to (`server.behave` only); default: all until `behave(null)`. */
  times?: number
}

/** Normalizes a {@link StreamErrorSpec}. @internal */
export function streamErrorOf(spec: StreamErrorSpec): { condition: string; text?: string; delayMs: number } {
  if (typeof spec === 'string') return { condition: spec, delayMs: 0 }
  const out: { condition: string; text?: string; delayMs: number } = {
    condition: spec.condition,
    delayMs: spec.delayMs ?? 0,
  }
  if (spec.text !== undefined) out.text = spec.text
  return out
}

/** Hands out server-wide behaviour to new connections, counting `times`. @internal */
export class BehaviourQueue {
  #current: Behaviour | null = null
  #left = Number.POSITIVE_INFINITY

  set(behaviour: Behaviour | null): void {
    this.#current = behaviour ? { ...behaviour } : null
    this.#left = behaviour?.times ?? Number.POSITIVE_INFINITY
  }

  /** The behaviour for the next accepted connection. */
  take(): Behaviour {
    const current = this.#current
    if (!current) return {}
    this.#left--
    if (this.#left <= 0) this.#current = null
    return current
  }
}
