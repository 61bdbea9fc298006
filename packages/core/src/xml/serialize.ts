import { Element, escapeXML, escapeXMLText } from './element.js'

type Writer = (s: string) => void
interface Writable {
  write(writer: Writer): void
}

const proto = Element.prototype as unknown as {
  toString(): string
  write(writer: Writer): void
  _addChildren(writer: Writer): void
}
const ltxToString = proto.toString
const ltxWrite = proto.write
const ltxAddChildren = proto._addChildren

/**
 * `el.toString()`, with the same output as ltx's, built in one pass without a writer callback per token and
 * without a regex replace for the (usual) values that need no escaping. Elements whose class overrides
 * `toString`, `write` or `_addChildren` are serialised by their own methods.
 *
 * Unlike ltx, characters that XML 1.0 does not allow (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF) are
 * replaced with U+FFFD: the server would close the whole stream as not-well-formed for one of them. In text and
 * attribute values that is all that differs from ltx; output of overridden methods and foreign writable children
 * is passed through {@link xmlChars} as a whole.
 */
export function serialize(el: Element): string {
  const e = el as unknown as typeof proto
  if (e.toString !== ltxToString) return xmlChars(el.toString())
  return write(el)
}

// Characters XML 1.0 (section 2.2) does not allow, surrogates aside: Node encodes a lone surrogate as U+FFFD.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const INVALID = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const INVALID_ALL = /[\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g

/** `s` with every character XML 1.0 does not allow (C0 controls but tab, LF, CR; U+FFFE; U+FFFF) replaced by U+FFFD. */
export function xmlChars(s: string): string {
  return INVALID.test(s) ? s.replace(INVALID_ALL, '\uFFFD') : s
}

function write(el: Element): string {
  const e = el as unknown as typeof proto
  if (e.write !== ltxWrite || e._addChildren !== ltxAddChildren) {
    let out = ''
    e.write((c) => {
      out += c
    })
    return xmlChars(out)
  }
  let s = `<${el.name}`
  const attrs = el.attrs as Record<string, unknown>
  for (const k in attrs) {
    const v = attrs[k]
    // === null || undefined, as ltx
    if (v != null) s += ` ${k}="${escapeAttr(typeof v === 'string' ? v : (v as number).toString(10))}"`
  }
  const children = el.children as unknown[]
  if (children.length === 0) return `${s}/>`
  s += '>'
  for (let i = 0; i < children.length; i++) {
    const child = children[i] as { write?: unknown; toString?: unknown } | string | null | undefined
    // Skip null/undefined; then the same order of checks as ltx's _addChildren.
    if (child == null) continue
    if ((child as { write?: unknown }).write) {
      if (child instanceof Element) s += write(child)
      else {
        let out = ''
        ;(child as unknown as Writable).write((c) => {
          out += c
        })
        s += xmlChars(out)
      }
    } else if (typeof child === 'string') s += escapeText(child)
    else if (child.toString) s += escapeText((child as number).toString(10))
  }
  return `${s}</${el.name}>`
}

// Short strings (names, ids, JIDs) are scanned inline; longer ones (bodies) with a non-global regex, whose native
// scan is much faster per character than a charCodeAt loop. Both look for what needs escaping and for characters
// XML does not allow at once, so a clean value costs one scan.
const SHORT = 32
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const ATTR_SPECIAL = /["&'<>\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const TEXT_SPECIAL = /[&<>\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/

/** ltx's `escapeXML` (after {@link xmlChars}), skipped when nothing needs escaping or replacing. */
function escapeAttr(s: string): string {
  if (s.length > SHORT) return ATTR_SPECIAL.test(s) ? escapeXML(xmlChars(s)) : s
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // " & ' < >, or a control character other than tab, LF, CR
    if (c < 63) {
      if (c < 32 ? c !== 9 && c !== 10 && c !== 13 : c === 34 || c === 38 || c === 39 || c === 60 || c === 62)
        return escapeXML(xmlChars(s))
    } else if (c >= 0xfffe) return escapeXML(xmlChars(s))
  }
  return s
}

/** ltx's `escapeXMLText` (after {@link xmlChars}), skipped when nothing needs escaping or replacing. */
function escapeText(s: string): string {
  if (s.length > SHORT) return TEXT_SPECIAL.test(s) ? escapeXMLText(xmlChars(s)) : s
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // & < >, or a control character other than tab, LF, CR
    if (c < 63) {
      if (c < 32 ? c !== 9 && c !== 10 && c !== 13 : c === 38 || c === 60 || c === 62)
        return escapeXMLText(xmlChars(s))
    } else if (c >= 0xfffe) return escapeXMLText(xmlChars(s))
  }
  return s
}
