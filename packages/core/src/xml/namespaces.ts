// Namespaces in XML 1.0 for the StreamParser: names have at most one ':', between two NCNames; every prefix an
// element or attribute uses is declared on it, an ancestor or the stream root; declarations do not bind a
// prefix to nothing, nor touch xml and xmlns.
import { colonProblem } from './chars.js'
import type { Element } from './element.js'

const XML_PREFIX = 'xml'
const XML_NS = 'http://www.w3.org/XML/1998/namespace'
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/'

/**
 * What is wrong with the prefixes of a complete start tag (`parent` its parent element, or the stream
 * root for a stanza, null for the root itself), or null. Always a not-well-formed violation. `prefixed`:
 * some attribute name has a ':' (when none has, the attributes are not looked at).
 */
export function namespaceProblem(
  name: string,
  attrs: Record<string, string>,
  prefixed: boolean,
  parent: Element | null,
): string | null {
  const colon = name.indexOf(':')
  if (colon >= 0) {
    const problem = colonProblem(name, colon)
    if (problem !== null) return problem
    if (!bound(name.slice(0, colon), attrs, parent)) return `unbound namespace prefix in <${name}>`
  }
  if (!prefixed) return null
  for (const attr in attrs) {
    const ac = attr.indexOf(':')
    if (ac < 0) continue
    const problem = colonProblem(attr, ac)
    if (problem !== null) return problem
    const prefix = attr.slice(0, ac)
    if (prefix === 'xmlns') {
      // xmlns:p='' undeclares nothing in XML 1.0 namespaces; xml and xmlns are bound for good
      const local = attr.slice(ac + 1)
      const uri = attrs[attr]
      if (
        uri === '' ||
        local === 'xmlns' ||
        uri === XMLNS_NS ||
        (local === XML_PREFIX) !== (uri === XML_NS)
      ) {
        return `bad namespace declaration ${attr} in <${name}>`
      }
      continue
    }
    if (prefix !== XML_PREFIX && !bound(prefix, attrs, parent)) {
      return `unbound namespace prefix in attribute ${attr} of <${name}>`
    }
  }
  return null
}

function bound(prefix: string, attrs: Record<string, string>, parent: Element | null): boolean {
  if (prefix === XML_PREFIX) return true
  const key = `xmlns:${prefix}`
  if (attrs[key]) return true
  let el: Element | null = parent
  while (el !== null) {
    if (el.attrs[key]) return true
    el = el.parent as Element | null
  }
  return false
}
