// What the server does with the component's handshake and stanzas, by the flavour's rules:
// decisions only; the connection carries them out.
import { isNoReplyType, serverErrorReply } from './errors.js'
import { verifyHandshake } from './handshake.js'
import { tryParseJid } from './jid.js'
import type { ServerResolvedOptions } from './options.js'
import { cloneElement, type Element } from './xml.js'

/** A stream error to send, closing the stream. @internal */
export interface CloseWith {
  kind: 'stream-error'
  condition: string
  text?: string
}

/** What to do with a stanza from the component. @internal */
export type StanzaVerdict =
  | CloseWith
  /** Answer the component with this error stanza (the stanza goes nowhere). */
  | { kind: 'reply'; reply: Element }
  /** Drop it silently. */
  | { kind: 'drop' }
  /** Route this copy (parentless, `from` filled in). */
  | { kind: 'route'; stanza: Element }

const STANZAS = new Set(['message', 'presence', 'iq'])

function closeWith(condition: string, text?: string): CloseWith {
  return text === undefined ? { kind: 'stream-error', condition } : { kind: 'stream-error', condition, text }
}

/** True for the three stanza kinds; anything else closes the stream. @internal */
export function isStanzaName(name: string): boolean {
  return STANZAS.has(name)
}

/** Checks a `<handshake/>`: `undefined` when accepted, else the stream error to send. @internal */
export function checkHandshake(
  handshake: Element,
  domain: string,
  streamId: string,
  options: ServerResolvedOptions,
): CloseWith | undefined {
  const secret = options.components.get(domain)
  const ok =
    secret !== undefined &&
    verifyHandshake(handshake.getText(), streamId, secret, {
      caseSensitive: options.rules.handshakeCaseSensitive,
    })
  if (!ok) return closeWith('not-authorized', options.rules.wrongSecretText)
  if (domain === options.domain)
    return closeWith('conflict', 'Unable to register route on existing local domain')
  return undefined
}

/** A stanza received before the handshake succeeded. @internal */
export function stanzaBeforeAuth(el: Element, options: ServerResolvedOptions): StanzaVerdict {
  if (options.rules.beforeAuth === 'not-authorized') return closeWith('not-authorized')
  if (isNoReplyType(el)) return { kind: 'drop' }
  return { kind: 'reply', reply: serverErrorReply(el, { type: 'cancel', condition: 'service-unavailable' }) }
}

/** A stanza of an authenticated component for `domain`: its addressing checked. @internal */
export function stanzaAfterAuth(el: Element, domain: string, options: ServerResolvedOptions): StanzaVerdict {
  const { rules } = options
  const attrs = el.attrs as Record<string, string | undefined>
  let from = attrs.from
  if (!from) {
    if (rules.missingFrom === 'improper-addressing')
      return closeWith('improper-addressing', "Missing 'from' attribute")
    from = domain
  }
  const fromDomain = tryParseJid(from)?.domain
  const allowed =
    fromDomain === domain ||
    (rules.fromAnyListenerDomain && fromDomain !== undefined && options.components.has(fromDomain))
  if (!allowed && options.validateFrom) return closeWith('invalid-from', rules.invalidFromText(from, domain))
  if (!attrs.to) {
    if (rules.missingTo === 'improper-addressing')
      return closeWith('improper-addressing', "Missing 'to' attribute")
    if (isNoReplyType(el)) return { kind: 'drop' }
    return {
      kind: 'reply',
      reply: serverErrorReply(el, { type: 'modify', condition: 'bad-request', from: domain }),
    }
  }
  const routed = cloneElement(el)
  routed.parent = null
  routed.attrs.from = from
  return { kind: 'route', stanza: routed }
}
