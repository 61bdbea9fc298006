import { ErrorCodes, SatelliteError } from '../errors.js'
import { Element, escapeXML, escapeXMLText } from './element.js'
import { checkQName, NOT_A_NAME, nameError, prefixError, scanQName, UNPREFIXED } from './names.js'
import { StreamParser } from './parser.js'

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
 * `toString`, `write` or `_addChildren` are serialised by their own methods, whose output is then parsed and
 * checked as the server would (it must be a self-contained well-formed fragment).
 *
 * Unlike ltx, every element and attribute name must be a valid XML name whose prefix (if any) is declared in
 * the stanza (see `names.ts`): otherwise a `SatelliteError` `SAT_ERR_XML_NAME` is thrown and nothing is written.
 *
 * Unlike ltx, characters that XML 1.0 does not allow (C0 controls other than tab, LF and CR, U+FFFE, U+FFFF) are
 * replaced with U+FFFD: the server would close the whole stream as not-well-formed for one of them; and tab, LF
 * and CR in attribute values are written as character references (a parser would read them as spaces). In text
 * and attribute values that is all that differs from ltx; output of overridden methods and foreign writable
 * children is passed through {@link xmlChars} as a whole.
 */
export function serialize(el: Element): string {
  const e = el as unknown as typeof proto
  if (e.toString !== ltxToString) return checkedFragment(xmlChars(el.toString()), el.name, true)
  return write(el, ROOT_SCOPE, true)
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

/** Namespace prefixes declared by the elements being written, innermost first. */
type Scope = { readonly prefix: string; readonly uri: string; readonly next: Scope } | null

const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

/** Declared around every stanza: `xml` by definition, `stream` by the stream header. */
const ROOT_SCOPE: Scope = {
  prefix: 'xml',
  uri: XML_NS,
  next: { prefix: 'stream', uri: 'http://etherx.jabber.org/streams', next: null },
}

function resolve(prefix: string, scope: Scope): string | undefined {
  for (let s = scope; s !== null; s = s.next) if (s.prefix === prefix) return s.uri
  return undefined
}

/**
 * A namespace declaration the servers' parser rejects (Namespaces in XML 1.0 section 3): undeclaring a prefix
 * (`xmlns:p=""`), declaring `xmlns`, binding `xml` to another namespace or another prefix (or the default
 * namespace) to the `xml` or `xmlns` namespace.
 */
function badDeclaration(attr: string, uri: string, within: string): SatelliteError {
  return new SatelliteError(
    ErrorCodes.XML_NAME,
    `${attr}=${JSON.stringify(uri.length > 64 ? `${uri.slice(0, 64)}…` : uri)} in <${within}> is not an allowed namespace declaration (nothing was written)`,
  )
}

function write(el: Element, scope: Scope, top = false): string {
  const e = el as unknown as typeof proto
  if (e.write !== ltxWrite || e._addChildren !== ltxAddChildren) {
    let out = ''
    e.write((c) => {
      out += c
    })
    return checkedFragment(xmlChars(out), el.name, top)
  }
  return writeTree(el.name, el.attrs as Record<string, unknown>, el.children as unknown[], scope)
}

/**
 * One element and its subtree. Every element and attribute name is checked as it is written
 * ({@link checkQName}: a lookup in a small cache of valid names), and every prefix against the declarations in
 * scope; a bad one throws `SAT_ERR_XML_NAME` and nothing of the stanza is written.
 */
function writeTree(name: unknown, attrs: Record<string, unknown>, children: unknown[], outer: Scope): string {
  const colon = checkQName(name)
  if (colon === NOT_A_NAME) throw nameError('element', name)
  const tag = name as string
  let scope = outer
  let s = `<${tag}`
  let prefixedAttr = false
  for (const k in attrs) {
    const v = attrs[k]
    // === null || undefined, as ltx
    if (v == null) continue
    const value = typeof v === 'string' ? v : (v as number).toString(10)
    const kc = checkQName(k)
    if (kc === NOT_A_NAME) throw nameError('attribute', k, tag)
    if (kc !== UNPREFIXED) {
      if (kc === 5 && k.startsWith('xmlns')) {
        const prefix = k.slice(6)
        if (
          value === '' ||
          prefix === 'xmlns' ||
          (prefix === 'xml') !== (value === XML_NS) ||
          value === XMLNS_NS
        ) {
          throw badDeclaration(k, value, tag)
        }
        scope = { prefix, uri: value, next: scope }
      } else prefixedAttr = true
    } else if (k === 'xmlns' && (value === XML_NS || value === XMLNS_NS)) throw badDeclaration(k, value, tag)
    s += ` ${k}="${escapeAttr(value)}"`
  }
  if (colon !== UNPREFIXED) {
    const prefix = tag.slice(0, colon)
    if (prefix === 'xmlns' || resolve(prefix, scope) === undefined) throw prefixError(tag, tag)
  }
  if (prefixedAttr) checkPrefixedAttributes(attrs, scope, tag)
  if (children.length === 0) return `${s}/>`
  s += '>'
  for (let i = 0; i < children.length; i++) {
    const child = children[i] as { write?: unknown; toString?: unknown } | string | null | undefined
    // Skip null/undefined; then the same order of checks as ltx's _addChildren.
    if (child == null) continue
    if ((child as { write?: unknown }).write) {
      if (child instanceof Element) s += write(child, scope)
      else if (isElementLike(child as object)) {
        const foreign = child as unknown as ElementLike
        s += writeTree(foreign.name, foreign.attrs, foreign.children, scope)
      } else {
        let out = ''
        ;(child as unknown as Writable).write((c) => {
          out += c
        })
        s += checkedFragment(xmlChars(out), tag, false)
      }
    } else if (typeof child === 'string') s += escapeText(child)
    else if (child.toString) s += escapeText((child as number).toString(10))
  }
  return `${s}</${tag}>`
}

/**
 * Rare path (an attribute with a prefix other than `xmlns:`): each prefix must be declared, and no two
 * attributes may have the same expanded name (namespace and local part), which Namespaces in XML forbids.
 */
function checkPrefixedAttributes(attrs: Record<string, unknown>, scope: Scope, tag: string): void {
  const seen = new Set<string>()
  for (const k in attrs) {
    if (attrs[k] == null) continue
    const kc = k.indexOf(':')
    if (kc < 0 || (kc === 5 && k.startsWith('xmlns'))) continue
    const uri = resolve(k.slice(0, kc), scope)
    if (uri === undefined) throw prefixError(k, tag)
    const expanded = `${uri} ${k.slice(kc + 1)}`
    if (seen.has(expanded)) {
      throw new SatelliteError(
        ErrorCodes.XML_NAME,
        `${JSON.stringify(k)} in <${tag}> repeats an attribute of the same namespace and name under another prefix (nothing was written)`,
      )
    }
    seen.add(expanded)
  }
}

/** An element of another copy of ltx (e.g. a second `@xmpp/xml`): written as ours, names checked. */
type ElementLike = { name: unknown; attrs: Record<string, unknown>; children: unknown[] }
function isElementLike(c: object): c is ElementLike {
  const o = c as { name?: unknown; attrs?: unknown; children?: unknown }
  return (
    typeof o.name === 'string' && typeof o.attrs === 'object' && o.attrs !== null && Array.isArray(o.children)
  )
}

const FRAGMENT_HEADER = Buffer.from(
  "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept'>",
)
const UNLIMITED = { maxStanzaBytes: Number.POSITIVE_INFINITY, maxDepth: Number.POSITIVE_INFINITY }

/**
 * Markup written by an overridden `write`/`toString` or by a foreign writable child is not built
 * by Satellite: it is parsed (strictly, as the server would) and its names checked before it is
 * accepted. It must be a self-contained well-formed fragment (prefixes declared within it); for a
 * stanza itself (`top`), exactly one element named as the stanza, and no text around it.
 */
function checkedFragment(out: string, within: unknown, top: boolean): string {
  let wrapper: Element | undefined
  let problem: string | undefined
  const parser = new StreamParser(
    {
      onStreamStart() {},
      onStanza(stanza) {
        if (wrapper === undefined) wrapper = stanza
        else problem = 'more than one element'
      },
      onStreamEnd() {},
      onError(err) {
        problem ??= err.message
      },
    },
    UNLIMITED,
  )
  parser.write(FRAGMENT_HEADER)
  parser.write(Buffer.from(`<w>${out}</w>`))
  if (wrapper === undefined && problem === undefined) problem = 'unbalanced markup'
  if (problem === undefined && top) {
    const children = (wrapper as Element).children
    const only = children.length === 1 ? children[0] : undefined
    if (typeof only !== 'object' || (only as Element).name !== within) {
      problem = `a stanza must be exactly one <${String(within)}> element`
    }
  }
  if (problem !== undefined) {
    throw new SatelliteError(
      ErrorCodes.XML_NAME,
      `the markup written by a custom write()/toString() in <${String(within)}> is not a well-formed fragment (${problem}); nothing was written`,
    )
  }
  checkParsedNames(wrapper as Element)
  return out
}

function checkParsedNames(el: Element): void {
  for (const child of el.children) {
    if (typeof child === 'string') continue
    const c = child as Element
    if (scanQName(c.name) === NOT_A_NAME) throw nameError('element', c.name)
    for (const k in c.attrs) if (scanQName(k) === NOT_A_NAME) throw nameError('attribute', k, c.name)
    checkParsedNames(c)
  }
}

// Short strings (names, ids, JIDs) are scanned inline; longer ones (bodies) with a non-global regex, whose native
// scan is much faster per character than a charCodeAt loop. Both look for what needs escaping and for characters
// XML does not allow at once, so a clean value costs one scan.
const SHORT = 32
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const ATTR_SPECIAL = /["&'<>\0-\x1F\uFFFE\uFFFF]/
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const TEXT_SPECIAL = /[&<>\0-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/

/**
 * ltx's `escapeXML` (after {@link xmlChars}), skipped when nothing needs escaping or replacing; unlike ltx, tab,
 * LF and CR are written as character references. A parser normalises them to spaces in attribute values (XML 1.0
 * section 3.3.3), so written raw an `id` with a tab comes back from the server as another id and the answer to it
 * is never matched (found by the fuzz test).
 */
/** An attribute value as the serializer writes it (between double quotes). @internal */
export function escapeAttributeValue(s: string): string {
  return escapeAttr(s)
}

function escapeAttr(s: string): string {
  if (s.length > SHORT) return ATTR_SPECIAL.test(s) ? escapeAttrSlow(s) : s
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // " & ' < >, or a control character
    if (c < 63) {
      if (c < 32 || c === 34 || c === 38 || c === 39 || c === 60 || c === 62) return escapeAttrSlow(s)
    } else if (c >= 0xfffe) return escapeAttrSlow(s)
  }
  return s
}

const ATTR_WHITESPACE = /[\t\n\r]/g
const WHITESPACE_REFS: Record<string, string> = { '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' }

function escapeAttrSlow(s: string): string {
  const escaped = escapeXML(xmlChars(s))
  return escaped.replace(ATTR_WHITESPACE, (c) => WHITESPACE_REFS[c] as string)
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
