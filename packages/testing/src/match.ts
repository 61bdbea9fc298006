import { printable } from './redact.js'
import type { Element } from './xml.js'

/**
 * A string compared exactly, or a regular expression tested against the value.
 * @example
 * await alice.expectStanza({ from: /^echo\.localhost/ })
 */
export type StringMatch = string | RegExp

/**
 * Partial description of a stanza; every given field must match.
 * @example
 * await alice.expectStanza({ name: 'message', from: 'echo.localhost', body: /hello/ })
 * await alice.expectStanza({ name: 'iq', type: 'result', xmlns: 'urn:xmpp:ping' })
 */
export interface StanzaPattern {
  /** Element name: `message`, `presence`, `iq`, or any other. */
  name?: string
  type?: StringMatch
  from?: StringMatch
  to?: StringMatch
  id?: StringMatch
  /** Some direct child has this namespace (with `child`: the same child). */
  xmlns?: string
  /** Some direct child has this name (with `xmlns`: the same child). */
  child?: string
  /** Text of the `<body/>` child. */
  body?: StringMatch
  /** Other attributes of the stanza. */
  attrs?: Record<string, StringMatch>
}

/**
 * What `expectStanza` accepts: a predicate or a {@link StanzaPattern}.
 * @example
 * const m: StanzaMatcher = (el) => el.is('message') && el.getChildText('body') === 'hi'
 */
export type StanzaMatcher = StanzaPattern | ((stanza: Element) => boolean)

function test(pattern: StringMatch, value: unknown): boolean {
  if (value === undefined || value === null) return false
  const s = String(value)
  return typeof pattern === 'string' ? pattern === s : pattern.test(s)
}

/**
 * Tests a stanza against a matcher.
 * @example
 * matchStanza(stanza, { name: 'iq', type: 'result' }) // boolean
 */
export function matchStanza(stanza: Element, matcher: StanzaMatcher): boolean {
  if (typeof matcher === 'function') return matcher(stanza)
  const p = matcher
  if (p.name !== undefined && stanza.name !== p.name) return false
  if (p.type !== undefined && !test(p.type, stanza.attrs.type)) return false
  if (p.from !== undefined && !test(p.from, stanza.attrs.from)) return false
  if (p.to !== undefined && !test(p.to, stanza.attrs.to)) return false
  if (p.id !== undefined && !test(p.id, stanza.attrs.id)) return false
  if (p.body !== undefined && !test(p.body, stanza.getChildText('body'))) return false
  if (p.xmlns !== undefined || p.child !== undefined) {
    const found = stanza
      .getChildElements()
      .some(
        (c) =>
          (p.child === undefined || c.name === p.child) && (p.xmlns === undefined || c.getNS() === p.xmlns),
      )
    if (!found) return false
  }
  for (const [name, pattern] of Object.entries(p.attrs ?? {})) {
    if (!test(pattern, stanza.attrs[name])) return false
  }
  return true
}

/** Human-readable form of a matcher for error messages. @internal */
export function describeMatcher(matcher: StanzaMatcher): string {
  if (typeof matcher === 'function') return `predicate ${matcher.name || '(anonymous)'}`
  const parts = Object.entries(matcher).map(([k, v]) =>
    v instanceof RegExp ? `${k}: ${v}` : `${k}: ${JSON.stringify(v)}`,
  )
  return `{ ${parts.join(', ')} }`
}

interface Waiter {
  matcher: StanzaMatcher
  resolve(stanza: Element): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

/**
 * Error thrown by `expectStanza` on timeout or close; `received` lists what arrived.
 * @example
 * try { await alice.expectStanza({ name: 'message' }, 100) } catch (e) { if (e instanceof ExpectTimeoutError) console.log(e.received) }
 */
export class ExpectTimeoutError extends Error {
  override readonly name = 'ExpectTimeoutError'
  /** All stanzas received by the endpoint, in order. */
  readonly received: readonly Element[]
  constructor(message: string, received: readonly Element[]) {
    super(message)
    this.received = received
  }
}

/**
 * Received stanzas plus "expect" bookkeeping, shared by simulated clients and server
 * connections. A stanza is consumed by the first expectation it satisfies.
 * @internal
 */
export class Inbox {
  readonly received: Element[] = []
  readonly #consumed = new WeakSet<Element>()
  readonly #waiters = new Set<Waiter>()
  readonly #label: string
  readonly #limit: number
  #closedReason: string | undefined

  constructor(label: string, limit = Number.POSITIVE_INFINITY) {
    this.#label = label
    this.#limit = limit
  }

  push(stanza: Element): void {
    this.received.push(stanza)
    if (this.received.length > this.#limit) this.received.shift()
    for (const waiter of this.#waiters) {
      if (safeMatch(stanza, waiter.matcher)) {
        this.#consumed.add(stanza)
        this.#settle(waiter)
        waiter.resolve(stanza)
        return
      }
    }
  }

  /** Marks an already received stanza as consumed. */
  consume(stanza: Element): void {
    this.#consumed.add(stanza)
  }

  expect(matcher: StanzaMatcher, timeout: number): Promise<Element> {
    for (const stanza of this.received) {
      if (!this.#consumed.has(stanza) && safeMatch(stanza, matcher)) {
        this.#consumed.add(stanza)
        return Promise.resolve(stanza)
      }
    }
    if (this.#closedReason !== undefined) {
      return Promise.reject(this.#error(matcher, `${this.#label} is closed (${this.#closedReason})`))
    }
    return new Promise<Element>((resolve, reject) => {
      const waiter: Waiter = {
        matcher,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#settle(waiter)
          reject(this.#error(matcher, `timed out after ${timeout} ms`))
        }, timeout),
      }
      this.#waiters.add(waiter)
    })
  }

  /** Rejects all pending expectations; later ones fail at once. */
  close(reason: string): void {
    if (this.#closedReason !== undefined) return
    this.#closedReason = reason
    for (const waiter of this.#waiters) {
      this.#settle(waiter)
      waiter.reject(this.#error(waiter.matcher, `${this.#label} closed (${reason})`))
    }
  }

  #settle(waiter: Waiter): void {
    clearTimeout(waiter.timer)
    this.#waiters.delete(waiter)
  }

  #error(matcher: StanzaMatcher, what: string): ExpectTimeoutError {
    const lines = this.received.map(
      (s, i) => `  ${i + 1}.${this.#consumed.has(s) ? ' (consumed)' : ''} ${printable(s, 300)}`,
    )
    const list = lines.length === 0 ? ' nothing.' : `\n${lines.join('\n')}`
    return new ExpectTimeoutError(
      `${this.#label}: expected a stanza matching ${describeMatcher(matcher)}, ${what}. Received ${lines.length} stanza(s):${list}`,
      [...this.received],
    )
  }
}

function safeMatch(stanza: Element, matcher: StanzaMatcher): boolean {
  try {
    return matchStanza(stanza, matcher)
  } catch {
    return false
  }
}
