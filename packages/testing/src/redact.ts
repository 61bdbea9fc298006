/**
 * Masking of secrets in stanzas before they are printed (the dev server's console, the text of
 * expectation errors): passwords of registrations and logins, secret data-form values and
 * handshake digests never reach a log.
 */
import { cloneElement, type Element, isElement, truncate } from './xml.js'

/**
 * What replaces a secret value in printed stanzas.
 * @example
 * expect(redactStanza(iq).getChild('query')?.getChildText('password')).toBe(REDACTED)
 */
export const REDACTED = '[redacted]'

const NS_DATA = 'jabber:x:data'
/** Elements whose text is a secret, in any namespace (jabber:iq:register, jabber:iq:auth, MUC…). */
const SECRET_ELEMENTS = new Set(['password', 'digest', 'handshake'])
/** Form fields whose values are secrets, by `var` (`key`: XEP-0077's field, private to the bridge). */
const SECRET_VAR = /pass(word|phrase)|secret|token|^key$/i
const NS_REGISTER = 'jabber:iq:register'

function masked(el: Element): boolean {
  if (SECRET_ELEMENTS.has(el.getName())) return true
  // XEP-0077's <key/>: a registration key, which the bridge kit treats as a password.
  if (el.getName() === 'key' && (el.attrs.xmlns ?? el.parent?.attrs.xmlns) === NS_REGISTER) return true
  if (el.getName() !== 'field' || el.parent?.getName() !== 'x') return false
  if (el.parent.attrs.xmlns !== NS_DATA) return false
  return el.attrs.type === 'text-private' || SECRET_VAR.test(String(el.attrs.var ?? ''))
}

function hasSecret(el: Element): boolean {
  return masked(el) || el.children.some((c) => isElement(c) && hasSecret(c))
}

function mask(el: Element): void {
  if (masked(el)) {
    if (el.getName() === 'field') {
      for (const value of el.getChildren('value')) value.children = value.children.length ? [REDACTED] : []
    } else if (el.children.length > 0) {
      el.children = [REDACTED]
    }
    return
  }
  for (const child of el.children) if (isElement(child)) mask(child)
}

/**
 * A copy of `stanza` that is safe to print: the text of `<password/>`, `<digest/>` (XEP-0078)
 * and `<handshake/>` elements, and the values of data-form fields of type `text-private` or
 * whose `var` names a password, secret or token, are replaced by `[redacted]`. The stanza
 * itself is returned when it holds none of them.
 * @example
 * console.log(redactStanza(iq).toString()) // …<password>[redacted]</password>…
 */
export function redactStanza(stanza: Element): Element {
  if (!hasSecret(stanza)) return stanza
  const copy = cloneElement(stanza)
  mask(copy)
  return copy
}

/** `redactStanza(stanza).toString()`, shortened to `max` characters. @internal */
export function printable(stanza: Element, max: number): string {
  return truncate(redactStanza(stanza).toString(), max)
}
