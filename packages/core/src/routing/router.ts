import type { Element } from '../xml/element.js'
import type { Stanza } from '../xml/stanza.js'
import { CompiledMatch, type PayloadMatch, type StanzaMatch } from './match.js'

/** Handles a message or presence. May return a promise; it counts towards `limits.concurrency`. */
export type StanzaHandler = (stanza: Stanza) => unknown

/**
 * Handles an iq get or set. Return the payload of the result (or nothing for an empty
 * result); throw a `StanzaError` to answer with that error. Satellite sends exactly one reply.
 */
export type IqHandler = (
  iq: Stanza,
  payload: Element,
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that returns nothing answers with an empty result
) => Element | undefined | void | Promise<Element | undefined | void>

/** What an iq route matches: the payload namespace (and name) plus the usual filters. */
export interface IqMatch extends Omit<StanzaMatch, 'payload' | 'type'> {
  xmlns: string
  name?: string
}

interface Route<H> {
  match: CompiledMatch
  handler: H
}

/** Removes a route when called. */
export type Unroute = () => void

/**
 * The routing table: message, presence and iq (get/set) routes, tried in registration
 * order, first match wins; fallback routes (the built-in responders) after them.
 */
export class Router {
  readonly message: Route<StanzaHandler>[] = []
  readonly presence: Route<StanzaHandler>[] = []
  readonly get: Route<IqHandler>[] = []
  readonly set: Route<IqHandler>[] = []
  readonly fallbackGet: Route<IqHandler>[] = []
  readonly fallbackSet: Route<IqHandler>[] = []
  /** Called when iq routes change (disco and caps are derived from them). */
  onChange: () => void = () => {}

  add(kind: 'message' | 'presence', m: StanzaMatch | undefined, handler: StanzaHandler): Unroute {
    return this.#add(this[kind], { match: new CompiledMatch(kind, m), handler })
  }

  addIq(kind: 'get' | 'set', m: IqMatch, handler: IqHandler, fallback = false): Unroute {
    const { xmlns, name, ...rest } = m
    const payload: PayloadMatch = name === undefined ? { xmlns } : { xmlns, name }
    const list = fallback ? (kind === 'get' ? this.fallbackGet : this.fallbackSet) : this[kind]
    const unroute = this.#add(list, { match: new CompiledMatch('iq', { ...rest, payload }), handler })
    this.onChange()
    return () => {
      unroute()
      this.onChange()
    }
  }

  #add<H>(list: Route<H>[], route: Route<H>): Unroute {
    list.push(route)
    return () => {
      const i = list.indexOf(route)
      if (i >= 0) list.splice(i, 1)
    }
  }

  /** The first message/presence route for `stanza`, if any. */
  find(list: Route<StanzaHandler>[], stanza: Stanza): StanzaHandler | undefined {
    for (let i = 0; i < list.length; i++) {
      const r = list[i] as Route<StanzaHandler>
      if (r.match.test(stanza)) return r.handler
    }
    return undefined
  }

  /** The iq route for a get/set, user routes first. */
  findIq(kind: 'get' | 'set', iq: Stanza): IqHandler | undefined {
    const lists = kind === 'get' ? [this.get, this.fallbackGet] : [this.set, this.fallbackSet]
    for (const list of lists) {
      for (let i = 0; i < list.length; i++) {
        const r = list[i] as Route<IqHandler>
        if (r.match.test(iq)) return r.handler
      }
    }
    return undefined
  }

  /** Namespaces of iq routes that apply to a JID with local part `local` ('' = the domain). */
  features(local: string): Set<string> {
    const out = new Set<string>()
    for (const list of [this.get, this.set, this.fallbackGet, this.fallbackSet]) {
      for (const r of list) {
        const to = r.match.to
        const ns = r.match.payload?.xmlns
        if (ns === undefined) continue
        if (to === undefined || to === local || (to === '*' && local !== '')) out.add(ns)
      }
    }
    return out
  }
}
