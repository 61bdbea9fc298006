// A cap on concurrent IRC (re)connection attempts across every user of the gateway, so a server
// restart or a netsplit does not make hundreds of connections at once (matrix-appservice-irc's
// reconnect storms; servers K-line a host that reconnects too fast). An attempt holds a slot from
// the moment it starts until it registers or fails, or `holdMax` ms at most.
import { numberOption } from '@satellite/core'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import { realTimers, type Timers } from './scheduler.js'

export interface GateOptions {
  /** Attempts in progress at once (default 5). */
  concurrent?: number
  /** Attempts that may wait for a slot; past it, acquire() rejects (default 10 000). */
  maxWaiting?: number
  /** A slot is given back after this long even if its holder did not (default 30 000 ms). */
  holdMax?: number
}

/** Gives a slot back; idempotent. */
export type Release = () => void

interface Waiter {
  resolve(release: Release): void
  reject(err: Error): void
}

export class ConnectGate {
  readonly concurrent: number
  readonly #maxWaiting: number
  readonly #holdMax: number
  readonly #timers: Timers
  #active = 0
  readonly #waiting: Waiter[] = []
  #closed = false
  /** The most slots ever in use at once (for tests and metrics). */
  peak = 0

  constructor(options: GateOptions = {}, timers: Timers = realTimers) {
    this.concurrent = numberOption('irc-gateway', 'reconnect.concurrent', options.concurrent, 5, {
      min: 1,
      max: 1000,
    })
    this.#maxWaiting = numberOption('irc-gateway', 'reconnect.maxWaiting', options.maxWaiting, 10_000, {
      min: 0,
    })
    this.#holdMax = numberOption('irc-gateway', 'reconnect.holdMax', options.holdMax, 30_000, { min: 1 })
    this.#timers = timers
  }

  get active(): number {
    return this.#active
  }

  get waiting(): number {
    return this.#waiting.length
  }

  /** Resolves with a release function once a slot is free. */
  acquire(): Promise<Release> {
    if (this.#closed) return Promise.reject(stopped())
    if (this.#active < this.concurrent) return Promise.resolve(this.#take())
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(
        new IrcGatewayError(
          IrcGatewayErrorCodes.CONNECTION,
          `too many connection attempts waiting (${this.#maxWaiting})`,
        ),
      )
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }))
  }

  /** Rejects every waiter; acquire() rejects from now on. */
  close(): void {
    this.#closed = true
    for (const w of this.#waiting.splice(0)) w.reject(stopped())
  }

  #take(): Release {
    this.#active++
    if (this.#active > this.peak) this.peak = this.#active
    let done = false
    const timer = this.#timers.setTimeout(() => release(), this.#holdMax)
    const release = (): void => {
      if (done) return
      done = true
      this.#timers.clearTimeout(timer)
      this.#active--
      const next = this.#waiting.shift()
      if (next) next.resolve(this.#take())
    }
    return release
  }
}

function stopped(): IrcGatewayError {
  return new IrcGatewayError(IrcGatewayErrorCodes.CONNECTION, 'the gateway is closing')
}
