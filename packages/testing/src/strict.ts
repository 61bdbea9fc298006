/**
 * A strict XML parser for what components send, as namespace-aware as the expat parsers of
 * Prosody and ejabberd: names must be XML names (QNames: at most one colon), prefixes declared,
 * attributes unique (also as expanded names) and written `name='value'` with whitespace between
 * them, end tags must match, references must be the five predefined entities or character
 * references to XML characters, and nothing but whitespace may follow the root element.
 * Comments, processing instructions and DOCTYPEs are restricted XML (RFC 6120 §11.1).
 * Builds ltx elements (attributes as written, `xmlns` declarations included). Iterative, so a
 * deep nesting cannot overflow the call stack.
 * @internal
 */
import { type Element, ElementClass, truncate } from './xml.js'

/** Namespace bindings in scope: prefix (`''` for the default namespace) → namespace URI. @internal */
export type Namespaces = ReadonlyMap<string, string>

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

/**
 * Input that is not well-formed (or restricted) XML: thrown when a stanza given as a string is
 * malformed, and the reason the server closes a component's stream. `expat` is the message
 * expat gives for the same fault (ejabberd puts it in the stream error's text); the message
 * adds where.
 * @example
 * try { alice.send('<message><a></message>') } catch (e) { if (e instanceof XmlSyntaxError) console.log(e.expat) } // mismatched tag
 */
export class XmlSyntaxError extends Error {
  override readonly name = 'XmlSyntaxError'
  readonly condition: 'not-well-formed' | 'restricted-xml'
  readonly expat: string
  constructor(
    expat: string,
    detail: string,
    condition: 'not-well-formed' | 'restricted-xml' = 'not-well-formed',
  ) {
    super(`${expat}: ${detail}`)
    this.expat = expat
    this.condition = condition
  }
}

const INVALID_TOKEN = 'not well-formed (invalid token)'

const START =
  'A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}'
const NCNAME = new RegExp(`^[${START}][${START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]*$`, 'u')
/** Characters XML 1.0 allows (a lone surrogate is not one). */
const NOT_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const SPACE = /[ \t\r\n]/
const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

/** True when `name` is an XML name without a colon (NCName). @internal */
export function isNcName(name: string): boolean {
  return NCNAME.test(name)
}

/** Splits a QName into prefix and local part; throws unless it is one. */
function qname(name: string, what: string): [prefix: string, local: string] {
  const colon = name.indexOf(':')
  const prefix = colon === -1 ? '' : name.slice(0, colon)
  const local = colon === -1 ? name : name.slice(colon + 1)
  if ((colon !== -1 && !NCNAME.test(prefix)) || !NCNAME.test(local)) {
    throw new XmlSyntaxError(INVALID_TOKEN, `${what} ${show(name)} is not an XML name`)
  }
  return [prefix, local]
}

function show(s: string): string {
  return JSON.stringify(truncate(s, 40))
}

/** Checks that `raw` holds only XML characters; normalises line ends to LF. */
function chars(raw: string): string {
  const bad = NOT_CHAR.exec(raw)
  if (bad) {
    const code = bad[0].codePointAt(0) ?? 0
    throw new XmlSyntaxError(INVALID_TOKEN, `character U+${code.toString(16).toUpperCase().padStart(4, '0')}`)
  }
  return raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw
}

/** Checks characters, normalises line ends (and, in attributes, whitespace) and expands references. */
function decode(raw: string, inAttribute: boolean): string {
  let s = chars(raw)
  if (inAttribute) s = s.replace(/[\t\n]/g, ' ')
  if (!s.includes('&')) return s
  let out = ''
  let from = 0
  for (let amp = s.indexOf('&'); amp !== -1; amp = s.indexOf('&', from)) {
    const semi = s.indexOf(';', amp)
    if (semi === -1) throw new XmlSyntaxError(INVALID_TOKEN, `'&' without ';'`)
    out += s.slice(from, amp) + reference(s.slice(amp + 1, semi))
    from = semi + 1
  }
  return out + s.slice(from)
}

function reference(name: string): string {
  const predefined = PREDEFINED[name]
  if (predefined !== undefined && Object.hasOwn(PREDEFINED, name)) return predefined
  const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(name)
  if (m) {
    const code = m[1] !== undefined ? Number.parseInt(m[1], 16) : Number(m[2])
    const ok =
      code === 0x9 ||
      code === 0xa ||
      code === 0xd ||
      (code >= 0x20 && code <= 0xd7ff) ||
      (code >= 0xe000 && code <= 0xfffd) ||
      (code >= 0x10000 && code <= 0x10ffff)
    if (!ok) throw new XmlSyntaxError('reference to invalid character number', `&${truncate(name, 20)};`)
    return String.fromCodePoint(code)
  }
  if (NCNAME.test(name)) throw new XmlSyntaxError('undefined entity', `&${truncate(name, 40)};`)
  throw new XmlSyntaxError(INVALID_TOKEN, `&${truncate(name, 40)};`)
}

interface Open {
  el: Element
  name: string
  ns: Namespaces
  text: string
}

/**
 * Parses exactly one element (whitespace around it allowed). `inherited` are the bindings in
 * scope (the stream header's). With `startTagOnly`, `text` is a start tag (the stream header):
 * the element is returned without children, with the bindings it declares.
 * @internal
 */
export function parseStrict(
  text: string,
  inherited: Namespaces = new Map(),
  startTagOnly = false,
): { element: Element; namespaces: Namespaces } {
  const n = text.length
  const stack: Open[] = []
  let root: { element: Element; namespaces: Namespaces } | undefined
  let i = 0
  while (i < n && SPACE.test(text[i] as string)) i++
  while (i < n) {
    const c = text[i]
    if (root !== undefined) {
      if (SPACE.test(c as string)) {
        i++
        continue
      }
      throw new XmlSyntaxError('junk after document element', `at offset ${i}`)
    }
    if (c !== '<') {
      const top = stack.at(-1)
      if (!top) throw new XmlSyntaxError('syntax error', 'text before the root element')
      const lt = text.indexOf('<', i)
      const end = lt === -1 ? n : lt
      const raw = text.slice(i, end)
      if (raw.includes(']]>')) throw new XmlSyntaxError(INVALID_TOKEN, "']]>' in text")
      top.text += decode(raw, false)
      i = end
      continue
    }
    const next = text[i + 1]
    if (next === '!' || next === '?') {
      if (text.startsWith('<![CDATA[', i) && stack.length > 0) {
        const close = text.indexOf(']]>', i + 9)
        if (close === -1) throw new XmlSyntaxError('unclosed CDATA section', `at offset ${i}`)
        const top = stack.at(-1) as Open
        top.text += chars(text.slice(i + 9, close))
        i = close + 3
        continue
      }
      const what =
        next === '?' ? 'processing instruction' : text.startsWith('<!--', i) ? 'comment' : 'DOCTYPE'
      throw new XmlSyntaxError(what, 'not allowed in XMPP (RFC 6120 §11.1)', 'restricted-xml')
    }
    if (next === '/') {
      i = endTag(text, i, stack)
      const done = stack.pop() as Open
      if (done.text) done.el.t(done.text)
      if (stack.length === 0) root = { element: done.el, namespaces: done.ns }
      else (stack.at(-1) as Open).el.cnode(done.el)
      continue
    }
    const top = stack.at(-1)
    if (top?.text) {
      top.el.t(top.text)
      top.text = ''
    }
    const tag = startTag(text, i, top?.ns ?? inherited)
    i = tag.end
    if (startTagOnly) {
      if (top) throw new XmlSyntaxError(INVALID_TOKEN, 'a stream header is one start tag')
      root = { element: tag.el, namespaces: tag.ns }
      continue
    }
    if (tag.selfClosing) {
      if (top) top.el.cnode(tag.el)
      else root = { element: tag.el, namespaces: tag.ns }
    } else {
      stack.push({ el: tag.el, name: tag.name, ns: tag.ns, text: '' })
    }
  }
  if (root === undefined) {
    throw new XmlSyntaxError(
      stack.length > 0 ? 'unclosed token' : 'no element found',
      stack.length > 0 ? `<${truncate((stack[0] as Open).name, 40)}> is not closed` : 'empty input',
    )
  }
  return root
}

/** Reads `</name>` at `i`, checks it closes the innermost open element; returns the offset after it. */
function endTag(text: string, i: number, stack: Open[]): number {
  const gt = text.indexOf('>', i)
  if (gt === -1) throw new XmlSyntaxError('unclosed token', `end tag at offset ${i}`)
  const name = text.slice(i + 2, gt).replace(/[ \t\r\n]+$/, '')
  const top = stack.at(-1)
  if (!top) throw new XmlSyntaxError(INVALID_TOKEN, `</${truncate(name, 40)}> without a start tag`)
  if (name !== top.name) {
    if (/[\s<]/.test(name)) throw new XmlSyntaxError(INVALID_TOKEN, `end tag ${show(name)}`)
    throw new XmlSyntaxError('mismatched tag', `</${truncate(name, 40)}> closes <${truncate(top.name, 40)}>`)
  }
  return gt + 1
}

/** Reads a start tag at `i`: name, attributes, namespace declarations; checks names and bindings. */
function startTag(
  text: string,
  i: number,
  scope: Namespaces,
): { el: Element; name: string; ns: Namespaces; selfClosing: boolean; end: number } {
  const n = text.length
  let j = i + 1
  while (j < n && !/[ \t\r\n/>]/.test(text[j] as string)) j++
  const name = text.slice(i + 1, j)
  const [prefix] = qname(name, 'element name')
  const attrs = new Map<string, string>()
  let selfClosing = false
  for (;;) {
    const spaced = j < n && SPACE.test(text[j] as string)
    while (j < n && SPACE.test(text[j] as string)) j++
    if (j >= n) throw new XmlSyntaxError('unclosed token', `<${truncate(name, 40)}> is not closed`)
    if (text[j] === '>') {
      j++
      break
    }
    if (text[j] === '/') {
      if (text[j + 1] !== '>') throw new XmlSyntaxError(INVALID_TOKEN, `'/' in <${truncate(name, 40)}>`)
      selfClosing = true
      j += 2
      break
    }
    if (!spaced)
      throw new XmlSyntaxError(INVALID_TOKEN, `no space before an attribute of <${truncate(name, 40)}>`)
    const start = j
    while (j < n && !/[ \t\r\n=/>]/.test(text[j] as string)) j++
    const attr = text.slice(start, j)
    qname(attr, 'attribute name')
    while (j < n && SPACE.test(text[j] as string)) j++
    if (text[j] !== '=') throw new XmlSyntaxError(INVALID_TOKEN, `attribute ${show(attr)} without a value`)
    j++
    while (j < n && SPACE.test(text[j] as string)) j++
    const quote = text[j]
    if (quote !== '"' && quote !== "'")
      throw new XmlSyntaxError(INVALID_TOKEN, `unquoted value of ${show(attr)}`)
    const close = text.indexOf(quote, j + 1)
    if (close === -1) throw new XmlSyntaxError('unclosed token', `value of ${show(attr)}`)
    const raw = text.slice(j + 1, close)
    if (raw.includes('<')) throw new XmlSyntaxError(INVALID_TOKEN, `'<' in the value of ${show(attr)}`)
    if (attrs.has(attr)) throw new XmlSyntaxError('duplicate attribute', show(attr))
    attrs.set(attr, decode(raw, true))
    j = close + 1
  }
  const ns = declare(attrs, scope)
  if (prefix === 'xmlns')
    throw new XmlSyntaxError(INVALID_TOKEN, `element ${show(name)} uses the xmlns prefix`)
  if (prefix && prefix !== 'xml' && !ns.has(prefix))
    throw new XmlSyntaxError('unbound prefix', `<${truncate(name, 40)}>`)
  const expanded = new Set<string>()
  for (const attr of attrs.keys()) {
    const [p, local] = qname(attr, 'attribute name')
    if (!p || p === 'xmlns' || attr === 'xmlns') continue
    const uri = p === 'xml' ? XML_NS : ns.get(p)
    if (uri === undefined) throw new XmlSyntaxError('unbound prefix', `attribute ${show(attr)}`)
    const key = `${uri} ${local}`
    if (expanded.has(key))
      throw new XmlSyntaxError('duplicate attribute', `${show(attr)} (same namespace and name)`)
    expanded.add(key)
  }
  const el = new ElementClass(name)
  for (const [k, v] of attrs)
    Object.defineProperty(el.attrs, k, { value: v, enumerable: true, writable: true, configurable: true })
  return { el, name, ns, selfClosing, end: j }
}

/** The bindings in scope inside an element: `scope` plus its `xmlns` declarations, checked. */
function declare(attrs: Map<string, string>, scope: Namespaces): Namespaces {
  let ns: Map<string, string> | undefined
  for (const [attr, value] of attrs) {
    let prefix: string
    if (attr === 'xmlns') prefix = ''
    else if (attr.startsWith('xmlns:')) prefix = attr.slice(6)
    else continue
    if (prefix === 'xmlns') {
      throw new XmlSyntaxError('reserved prefix (xmlns) must not be declared or undeclared', show(attr))
    }
    if (prefix === 'xml' ? value !== XML_NS : value === XML_NS) {
      throw new XmlSyntaxError(
        'reserved prefix (xml) must not be undeclared or bound to another namespace name',
        show(attr),
      )
    }
    if (value === XMLNS_NS) {
      throw new XmlSyntaxError('prefix must not be bound to one of the reserved namespace names', show(attr))
    }
    if (prefix && value === '') throw new XmlSyntaxError('must not undeclare prefix', show(attr))
    ns ??= new Map(scope)
    ns.set(prefix, value)
  }
  return ns ?? scope
}

/**
 * Parses one XML element from a string (a stanza given as a string), as strictly as the wire.
 * Throws an {@link XmlSyntaxError} on anything that is not exactly one well-formed element.
 * @internal
 */
export function parseElement(text: string): Element {
  return parseStrict(text).element
}

/** Accepts an element or an XML string and returns an element. @internal */
export function toElement(stanza: Element | string): Element {
  return typeof stanza === 'string' ? parseElement(stanza) : stanza
}
