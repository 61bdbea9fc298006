import { ErrorCodes, isSatelliteError, SatelliteError, StanzaError } from './errors.js'
import { logger } from './log.js'
import { errorReply, iqResult } from './routing/iq.js'
import type { IqHandler, Router } from './routing/router.js'
import { Element } from './xml/element.js'
import type { Stanza } from './xml/stanza.js'

const logRoute = logger('router')

/** What the inbound path needs of the component. */
export interface InboundHost {
  readonly router: Router
  /** Handlers running at once (`limits.concurrency`). */
  readonly concurrency: number
  /** Sends a reply (the component's `send()`). */
  send(stanza: Element): Promise<void>
  /** Hands an iq result/error to the request waiting for it; false if none waits. */
  settle(iq: Stanza): boolean
  /** Every stanza, before routing (the `stanza` event); absent when nobody listens. */
  observe(stanza: Stanza): void
  /** A handler failed (the `error` event). */
  error(err: Error): void
  /** {@link Inbound.behind} changed: reading should pause or resume. */
  pressure(): void
}

/**
 * The inbound path: routes each stanza to its handler; runs at most `concurrency` async handlers
 * at once, keeping the others' stanzas in an inbox (in order) and signalling that reading should
 * pause while it is not empty; answers every iq get/set exactly once (the handler's result, its
 * `StanzaError`, or `internal-server-error`); reports handler errors.
 */
export class Inbound {
  readonly #host: InboundHost
  #inflight = 0
  #inbox: Stanza[] = []
  #head = 0

  constructor(host: InboundHost) {
    this.#host = host
  }

  /** Handlers running now (their promises not settled). */
  get inflight(): number {
    return this.#inflight
  }

  /** Received stanzas waiting for a free handler slot. */
  get backlog(): number {
    return this.#inbox.length - this.#head
  }

  /** Handlers are behind: stanzas wait in the inbox, and the socket should not be read. */
  get behind(): boolean {
    return this.#head < this.#inbox.length
  }

  /** A stanza from the server, in order. */
  receive(stanza: Stanza): void {
    if (this.#head < this.#inbox.length) {
      this.#inbox.push(stanza)
      return
    }
    if (this.#inflight >= this.#host.concurrency) {
      this.#inbox.push(stanza)
      logRoute('handlers behind (%d running): pausing the socket', this.#inflight)
      this.#host.pressure()
      return
    }
    this.#dispatch(stanza)
  }

  #dispatch(stanza: Stanza): void {
    const host = this.#host
    host.observe(stanza)
    const name = stanza.name
    let result: unknown
    try {
      if (name === 'message') {
        const h = host.router.find(host.router.message, stanza)
        if (h === undefined) return
        result = h(stanza)
      } else if (name === 'presence') {
        const h = host.router.find(host.router.presence, stanza)
        if (h === undefined) return
        result = h(stanza)
      } else if (name === 'iq') {
        result = this.#dispatchIq(stanza)
      } else {
        logRoute('ignoring top-level <%s>', name)
        return
      }
    } catch (err) {
      this.#handlerError(stanza, err)
      return
    }
    if (result !== undefined && typeof (result as Promise<unknown>)?.then === 'function') {
      this.#inflight++
      ;(result as Promise<unknown>).then(this.#settled, (err: unknown) => {
        this.#handlerError(stanza, err)
        this.#settled()
      })
    }
  }

  #settled = (): void => {
    this.#inflight--
    const limit = this.#host.concurrency
    if (this.#head >= this.#inbox.length) return
    while (this.#head < this.#inbox.length && this.#inflight < limit) {
      const next = this.#inbox[this.#head] as Stanza
      this.#inbox[this.#head++] = undefined as unknown as Stanza
      this.#dispatch(next)
    }
    if (this.#head >= this.#inbox.length) {
      this.#inbox = []
      this.#head = 0
      logRoute('handlers caught up')
      this.#host.pressure()
    }
  }

  #handlerError(stanza: Stanza, err: unknown): void {
    const error =
      err instanceof Error
        ? err
        : new SatelliteError(ErrorCodes.STANZA, `handler threw a non-Error: ${String(err)}`)
    logRoute.error('handler for <%s> failed: %s', stanza.name, error.message)
    this.#host.error(error)
  }

  // ---------------------------------------------------------------- iq callee

  /** iq: results/errors go to the caller; get/set get exactly one reply. */
  #dispatchIq(iq: Stanza): unknown {
    const type = iq.attrs.type
    if (type === 'result' || type === 'error') {
      if (!this.#host.settle(iq)) logRoute('unmatched iq %s id=%s from=%s', type, iq.attrs.id, iq.attrs.from)
      return undefined
    }
    if (type !== 'get' && type !== 'set') {
      this.#reply(
        errorReply(
          iq,
          new StanzaError('bad-request', { text: `iq type '${type}' is not get, set, result or error` }),
        ),
      )
      return undefined
    }
    let payload: Element | undefined
    let count = 0
    for (const c of iq.children) {
      if (typeof c === 'string') continue
      count++
      payload = c as Element
    }
    if (count !== 1 || payload === undefined) {
      this.#reply(
        errorReply(
          iq,
          new StanzaError('bad-request', { text: 'an iq get/set must carry exactly one payload' }),
        ),
      )
      return undefined
    }
    const handler = this.#host.router.findIq(type, iq)
    if (handler === undefined) {
      this.#reply(errorReply(iq, new StanzaError('service-unavailable')))
      return undefined
    }
    let answer: ReturnType<IqHandler>
    try {
      answer = handler(iq, payload)
    } catch (err) {
      this.#iqError(iq, err)
      return undefined
    }
    if (answer !== undefined && typeof (answer as Promise<unknown>).then === 'function') {
      // biome-ignore lint/suspicious/noConfusingVoidType: handlers may return nothing
      return (answer as Promise<Element | undefined | void>).then(
        (res) => this.#iqResult(iq, res),
        (err: unknown) => this.#iqError(iq, err),
      )
    }
    this.#iqResult(iq, answer as Element | undefined)
    return undefined
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: handlers may return nothing
  #iqResult(iq: Stanza, res: Element | undefined | void): void {
    if (res !== undefined && !(res instanceof Element)) {
      this.#iqError(iq, new TypeError('iq handler returned something that is not an Element'))
      return
    }
    this.#reply(iqResult(iq, res ?? undefined), iq)
  }

  #iqError(iq: Stanza, err: unknown): void {
    if (err instanceof StanzaError) {
      this.#reply(errorReply(iq, err), iq)
      return
    }
    this.#handlerError(iq, err)
    this.#reply(errorReply(iq, new StanzaError('internal-server-error')))
  }

  /**
   * Sends an answer; losses are reported through 'dropped'. When the answer to `request` (an iq
   * get/set) is refused because the handler built a name that is not an XML name, the requester
   * still gets exactly one answer: `internal-server-error`, and the handler's error is reported.
   */
  #reply(stanza: Element, request?: Stanza): void {
    if (!stanza.attrs.to) return // nobody to answer (the server always stamps 'from')
    this.#host.send(stanza).catch((err: unknown) => {
      if (request === undefined || !isSatelliteError(err, ErrorCodes.XML_NAME)) return
      this.#handlerError(request, err)
      this.#reply(errorReply(request, new StanzaError('internal-server-error')))
    })
  }
}
