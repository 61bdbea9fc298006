import type { Element } from '../xml/element.js'
import type { Stanza } from '../xml/stanza.js'

/** A payload element a route requires: a child with this namespace (and name). */
export interface PayloadMatch {
  xmlns: string
  name?: string
}

/**
 * What a route matches. Every field is optional; all given fields must match.
 *
 * @example
 * ```ts
 * xmpp.message({ type: ['chat', 'normal'], to: '*' }, onUserMessage)     // any user@domain
 * xmpp.message({ to: 'bot', payload: { xmlns: 'urn:xmpp:receipts' } }, onReceipt)
 * ```
 */
export interface StanzaMatch {
  /** The stanza's `type` (one or several). For message, a missing type counts as `normal`; for presence, as `available`. */
  type?: string | readonly string[]
  /** Local part of `to`: `'bot'` for bot@domain, `'*'` for any user@domain, `''` for the bare domain itself. */
  to?: string
  /** A child element the stanza must carry. */
  payload?: PayloadMatch
  /** Any other condition. */
  where?: (stanza: Stanza) => boolean
}

/** Compiled form of a {@link StanzaMatch}; `test` is allocation-free. */
export class CompiledMatch {
  readonly #types: readonly string[] | null
  readonly #defaultType: string
  readonly to: string | undefined
  readonly payload: PayloadMatch | undefined
  readonly #where: ((stanza: Stanza) => boolean) | undefined

  constructor(kind: string, m: StanzaMatch = {}) {
    this.#types = m.type === undefined ? null : typeof m.type === 'string' ? [m.type] : [...m.type]
    this.#defaultType = kind === 'message' ? 'normal' : kind === 'presence' ? 'available' : ''
    this.to = m.to === undefined ? undefined : m.to.toLowerCase()
    this.payload = m.payload
    this.#where = m.where
  }

  test(stanza: Stanza): boolean {
    const attrs = stanza.attrs
    if (this.#types !== null) {
      const type = attrs.type ?? this.#defaultType
      const types = this.#types
      if (types.length === 1 ? types[0] !== type : !types.includes(type)) return false
    }
    if (this.to !== undefined && !matchLocal(attrs.to, this.to)) return false
    if (this.payload !== undefined && findPayload(stanza, this.payload) === undefined) return false
    if (this.#where !== undefined && !this.#where(stanza)) return false
    return true
  }
}

/** True if the local part of `address` is `local` (`'*'`: any non-empty one; `''`: none). */
export function matchLocal(address: string | undefined, local: string): boolean {
  if (address === undefined) return false
  const at = address.indexOf('@')
  const slash = address.indexOf('/')
  const hasLocal = at > 0 && (slash < 0 || at < slash)
  if (local === '*') return hasLocal
  if (local === '') return !hasLocal
  if (!hasLocal || at !== local.length) return false
  if (address.startsWith(local)) return true
  return address.slice(0, at).toLowerCase() === local
}

/** The first child element matching `p` (namespace inherited from the stanza counts). */
export function findPayload(stanza: Element, p: PayloadMatch): Element | undefined {
  const children = stanza.children
  for (let i = 0; i < children.length; i++) {
    const c = children[i]
    if (typeof c === 'string') continue
    const el = c as Element
    if (p.name !== undefined && el.name !== p.name) continue
    const ns = el.attrs.xmlns ?? el.getNS()
    if (ns === p.xmlns) return el
  }
  return undefined
}
