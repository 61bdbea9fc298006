import {
  ErrorCodes,
  isStanzaErrorCondition,
  isStanzaErrorType,
  SatelliteError,
  StanzaError,
  type StanzaErrorType,
} from '../errors.js'
import { Element, xml } from '../xml/element.js'
import type { Stanza } from '../xml/stanza.js'

export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

/** Builds the `<iq type='result'>` answering `iq`, with an optional payload. */
export function iqResult(iq: Element, payload?: Element): Element {
  const attrs: Record<string, string> = { type: 'result', id: iq.attrs.id ?? '' }
  if (iq.attrs.to) attrs.from = iq.attrs.to
  if (iq.attrs.from) attrs.to = iq.attrs.from
  const reply = new Element('iq', attrs)
  if (payload) reply.cnode(payload)
  return reply
}

/**
 * Builds the `<error/>` element of a stanza error. The condition becomes an element name: one
 * outside RFC 6120's set (possible only if `condition` was changed after construction) is
 * written as `undefined-condition`.
 */
export function errorElement(err: StanzaError): Element {
  const condition = isStanzaErrorCondition(err.condition) ? err.condition : 'undefined-condition'
  const type = isStanzaErrorType(err.type) ? err.type : 'cancel'
  const el = xml('error', { type }, xml(condition, { xmlns: NS_STANZAS }))
  if (err.text) el.c('text', { xmlns: NS_STANZAS }).t(err.text)
  if (err.application instanceof Element) el.cnode(err.application)
  return el
}

/** Builds the error reply (`type='error'`, addresses swapped, same id) to any stanza. */
export function errorReply(stanza: Element, err: StanzaError): Element {
  const attrs: Record<string, string> = { type: 'error' }
  if (stanza.attrs.id !== undefined) attrs.id = stanza.attrs.id
  if (stanza.attrs.to) attrs.from = stanza.attrs.to
  if (stanza.attrs.from) attrs.to = stanza.attrs.from
  const reply = new Element(stanza.name, attrs)
  reply.cnode(errorElement(err))
  return reply
}

/** Reads the `<error/>` of an error stanza into a {@link StanzaError}. */
export function stanzaErrorFrom(stanza: Element): StanzaError {
  const error = stanza.getChild('error')
  if (!error) return new StanzaError('undefined-condition', { text: 'error stanza without <error/>', stanza })
  let condition = 'undefined-condition'
  let text: string | undefined
  let application: Element | undefined
  for (const child of error.children) {
    if (typeof child === 'string') continue
    const el = child as Element
    if (el.attrs.xmlns === NS_STANZAS) {
      if (el.name === 'text') text = el.getText()
      else condition = el.name
    } else {
      application = el
    }
  }
  // A peer's condition or type outside RFC 6120's closed sets is normalised by StanzaError.
  const type = (error.attrs.type as StanzaErrorType | undefined) ?? 'cancel'
  const opts: ConstructorParameters<typeof StanzaError>[1] = { type, stanza }
  if (text !== undefined) opts.text = text
  if (application !== undefined) opts.application = application
  return new StanzaError(condition, opts)
}

/** Upper bounds (ms) of the iq latency histogram buckets (non-cumulative counts; +Inf is `count`). */
export const IQ_LATENCY_BUCKETS_MS: readonly number[] = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
]

interface Pending {
  resolve: (stanza: Stanza) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
  to: string
  started: number
  /** Written while online (so a disconnect means the answer will never come). */
  onWire: boolean
}

/** iq caller bookkeeping: ids, timeouts, reply matching on id AND expected sender. */
export class IqCaller {
  readonly #pending = new Map<string, Pending>()
  #seq = 0
  readonly #prefix = `sat${Math.random().toString(36).slice(2, 8)}-`
  /** Latency of answered requests in ms (count, sum, max) and timeouts. */
  readonly latency = { count: 0, sum: 0, max: 0, timeouts: 0, buckets: IQ_LATENCY_BUCKETS_MS.map(() => 0) }

  get size(): number {
    return this.#pending.size
  }

  nextId(): string {
    return this.#prefix + (++this.#seq).toString(36)
  }

  /** Registers a pending request; returns its promise. */
  add(id: string, to: string, timeout: number, onWire: boolean): Promise<Stanza> {
    return new Promise<Stanza>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.#pending.get(id)?.timer !== timer) return
        this.#pending.delete(id)
        this.latency.timeouts++
        reject(
          new SatelliteError(
            ErrorCodes.IQ_TIMEOUT,
            `no answer from ${to} within ${timeout} ms (iq id ${id})`,
          ),
        )
      }, timeout)
      timer.unref()
      this.#pending.set(id, { resolve, reject, timer, to, started: performance.now(), onWire })
    })
  }

  has(id: string): boolean {
    return this.#pending.has(id)
  }

  /** Fails one pending request (e.g. its stanza could not be queued). */
  fail(id: string, err: Error): void {
    const p = this.#pending.get(id)
    if (!p) return
    this.#pending.delete(id)
    clearTimeout(p.timer)
    p.reject(err)
  }

  /**
   * Offers an incoming result/error; returns true if it answered a pending request.
   * A reply whose `from` is not the JID the request went to is ignored (spoofing).
   */
  settle(stanza: Stanza): boolean {
    const id = stanza.attrs.id
    if (id === undefined) return false
    const p = this.#pending.get(id)
    if (!p || !sameJid(stanza.attrs.from, p.to)) return false
    this.#pending.delete(id)
    clearTimeout(p.timer)
    const ms = performance.now() - p.started
    this.latency.count++
    this.latency.sum += ms
    if (ms > this.latency.max) this.latency.max = ms
    const bucket = IQ_LATENCY_BUCKETS_MS.findIndex((le) => ms <= le)
    if (bucket >= 0) this.latency.buckets[bucket] = (this.latency.buckets[bucket] ?? 0) + 1
    if (stanza.attrs.type === 'error') p.reject(stanzaErrorFrom(stanza))
    else p.resolve(stanza)
    return true
  }

  /** Every request now waiting was (or will be, at once) written to the new connection. */
  markOnWire(): void {
    for (const p of this.#pending.values()) p.onWire = true
  }

  /** The connection went down: requests already on the wire will never be answered. */
  disconnected(): void {
    for (const [id, p] of this.#pending) {
      if (!p.onWire) continue
      this.#pending.delete(id)
      clearTimeout(p.timer)
      p.reject(
        new SatelliteError(
          ErrorCodes.IQ_DISCONNECTED,
          `the connection went down before ${p.to} answered (iq id ${id}); the request may or may not have been processed`,
        ),
      )
    }
  }

  rejectAll(err: Error): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.#pending.clear()
  }
}

/** Compares two JID strings: domain and local part case-insensitively, resource exactly. */
export function sameJid(a: string | undefined, b: string): boolean {
  if (a === b) return true
  if (a === undefined) return false
  const sa = a.indexOf('/')
  const sb = b.indexOf('/')
  const ra = sa < 0 ? '' : a.slice(sa)
  const rb = sb < 0 ? '' : b.slice(sb)
  if (ra !== rb) return false
  return (sa < 0 ? a : a.slice(0, sa)).toLowerCase() === (sb < 0 ? b : b.slice(0, sb)).toLowerCase()
}
