import { IQ_LATENCY_BUCKETS_MS, type IqCaller } from './routing/iq.js'
import type { Outbound } from './stream/outbound.js'

/**
 * Live counters of a component, cheap to read at any time (feed them to metrics).
 *
 * @example
 * ```ts
 * setInterval(() => console.log(xmpp.stats.toJSON()), 10_000)
 * ```
 */
export class Stats {
  /** Stanzas received while online. */
  stanzasIn = 0
  /** Reconnects scheduled, in total and by reason (stream error condition, errno code...). */
  reconnects = 0
  readonly reconnectsByReason: Record<string, number> = {}
  readonly #outbound: Outbound
  readonly #iq: IqCaller
  readonly #inflight: () => number
  readonly #backlog: () => number

  /** @internal Created by the component; read it as `xmpp.stats`. */
  constructor(outbound: Outbound, iq: IqCaller, inflight: () => number, backlog: () => number) {
    this.#outbound = outbound
    this.#iq = iq
    this.#inflight = inflight
    this.#backlog = backlog
  }

  /** Stanzas written to the socket. */
  get stanzasOut(): number {
    return this.#outbound.written
  }
  /** Stanzas waiting in the outbound queue. */
  get queueDepth(): number {
    return this.#outbound.depth
  }
  /** Handlers running now (their promises not settled). */
  get inflight(): number {
    return this.#inflight()
  }
  /** Received stanzas waiting for a free handler slot. */
  get inboundBacklog(): number {
    return this.#backlog()
  }
  /** iq requests waiting for answers. */
  get pendingRequests(): number {
    return this.#iq.size
  }
  /** Answered iq requests: count, mean and max latency in ms, timeouts. */
  get iqLatency(): {
    count: number
    meanMs: number
    maxMs: number
    timeouts: number
    /** Cumulative histogram: answered requests with latency ≤ `le` ms. */
    buckets: Array<{ le: number; count: number }>
  } {
    const l = this.#iq.latency
    let acc = 0
    const buckets = IQ_LATENCY_BUCKETS_MS.map((le, i) => {
      acc += l.buckets[i] ?? 0
      return { le, count: acc }
    })
    return {
      count: l.count,
      meanMs: l.count ? l.sum / l.count : 0,
      maxMs: l.max,
      timeouts: l.timeouts,
      buckets,
    }
  }

  /** @internal */
  reconnect(reason: string): void {
    this.reconnects++
    this.reconnectsByReason[reason] = (this.reconnectsByReason[reason] ?? 0) + 1
  }

  toJSON(): Record<string, unknown> {
    return {
      stanzasIn: this.stanzasIn,
      stanzasOut: this.stanzasOut,
      reconnects: this.reconnects,
      reconnectsByReason: { ...this.reconnectsByReason },
      queueDepth: this.queueDepth,
      inflight: this.inflight,
      inboundBacklog: this.inboundBacklog,
      pendingRequests: this.pendingRequests,
      iqLatency: this.iqLatency,
    }
  }
}
