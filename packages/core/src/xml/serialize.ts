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
 */
export function serialize(el: Element): string {
  const e = el as unknown as typeof proto
  if (e.toString !== ltxToString) return el.toString()
  return write(el)
}

function write(el: Element): string {
  const e = el as unknown as typeof proto
  if (e.write !== ltxWrite || e._addChildren !== ltxAddChildren) {
    let out = ''
    e.write((c) => {
      out += c
    })
    return out
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
      else
        (child as unknown as Writable).write((c) => {
          s += c
        })
    } else if (typeof child === 'string') s += escapeText(child)
    else if (child.toString) s += escapeText((child as number).toString(10))
  }
  return `${s}</${el.name}>`
}

// Short strings (names, ids, JIDs) are scanned inline; longer ones (bodies) with a non-global regex, whose native
// scan is much faster per character than a charCodeAt loop.
const SHORT = 32
const ATTR_SPECIAL = /["&'<>]/
const TEXT_SPECIAL = /[&<>]/

/** ltx's `escapeXML`, skipped when nothing needs escaping. */
function escapeAttr(s: string): string {
  if (s.length > SHORT) return ATTR_SPECIAL.test(s) ? escapeXML(s) : s
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // " & ' < >
    if (c === 34 || c === 38 || c === 39 || c === 60 || c === 62) return escapeXML(s)
  }
  return s
}

/** ltx's `escapeXMLText`, skipped when nothing needs escaping. */
function escapeText(s: string): string {
  if (s.length > SHORT) return TEXT_SPECIAL.test(s) ? escapeXMLText(s) : s
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // & < >
    if (c === 38 || c === 60 || c === 62) return escapeXMLText(s)
  }
  return s
}
