import { localOf } from '../address.js'
import { type JID, parseJid } from '../jid.js'
import { Element } from './element.js'

/**
 * A top-level stanza received from the server: an `Element` (so `attrs`, `getChild()`,
 * `toString()` work as in xmpp.js) with typed, lazily computed address accessors. The
 * JIDs are parsed only when asked for; routing reads the raw strings.
 *
 * @example
 * ```ts
 * xmpp.message({ type: 'chat' }, (msg) => {
 *   console.log(msg.fromJid?.bare().toString(), msg.getChildText('body'))
 * })
 * ```
 */
export class Stanza extends Element {
  #from: JID | null | undefined = undefined
  #to: JID | null | undefined = undefined

  /** `from` attribute as sent by the server, or `undefined`. */
  get from(): string | undefined {
    return this.attrs.from
  }
  /** `to` attribute, or `undefined`. */
  get to(): string | undefined {
    return this.attrs.to
  }
  /** `type` attribute, or `undefined`. */
  get type(): string | undefined {
    return this.attrs.type
  }
  /** `id` attribute, or `undefined`. */
  get id(): string | undefined {
    return this.attrs.id
  }
  /** The parsed `from` JID (cached), or `null` if absent or malformed. */
  get fromJid(): JID | null {
    if (this.#from === undefined) this.#from = safeJid(this.attrs.from)
    return this.#from
  }
  /** The parsed `to` JID (cached), or `null` if absent or malformed. */
  get toJid(): JID | null {
    if (this.#to === undefined) this.#to = safeJid(this.attrs.to)
    return this.#to
  }
  /** The local part of `to` (the part before `@`), or `''` when addressed to the domain. */
  get toLocal(): string {
    return localOf(this.attrs.to)
  }
}

function safeJid(value: string | undefined): JID | null {
  if (!value) return null
  try {
    return parseJid(value)
  } catch {
    return null
  }
}
