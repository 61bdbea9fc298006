// serialize() (what send() writes) must give exactly ltx's toString(), escaping included.
import { describe, expect, it } from 'vitest'
import { Element, xml } from '../src/xml/element.js'
import { serialize } from '../src/xml/serialize.js'

const same = (el: Element) => expect(serialize(el)).toBe(el.toString())

describe('serialize', () => {
  it('matches toString() for ordinary stanzas', () => {
    same(xml('message', { to: 'a@b/c', from: 'bot@echo', type: 'chat', id: 'm1' }, xml('body', {}, 'hello')))
    same(xml('iq', { type: 'result', id: 'x' }))
    same(xml('presence', {}, xml('c', { xmlns: 'http://jabber.org/protocol/caps', ver: 'a+b/c=' })))
    same(xml('a', {}, 'one', xml('b', {}, 'two'), 'three', xml('c', {}, xml('d'))))
  })

  it('escapes attributes and text exactly like ltx', () => {
    same(xml('a', { x: `q"&'<>`, y: 'plain', z: '&amp;' }, `t<&>"'`, xml('b', {}, ']]>')))
    same(xml('a', { 'xml:lang': 'en' }, '\u00e9\u{1F600} & <'))
    // Long values take the regex path.
    const long = 'x'.repeat(100)
    same(xml('a', { v: long, w: `${long}"&'<>${long}` }, long, xml('b', {}, `${long}<&>${long}`)))
  })

  it('handles non-string attribute values, nulls and non-string children like ltx', () => {
    const el = new Element('a', { n: 5, t: true, u: undefined, z: null } as unknown as Record<string, string>)
    el.children.push(7 as unknown as string, null as unknown as string, '', xml('b', {}, ''))
    same(el)
    const empty = new Element('e')
    empty.children.push('' as string)
    same(empty)
  })

  it('defers to overridden write / toString and to foreign writable children', () => {
    class Custom extends Element {
      override write(writer: (s: string) => void): void {
        writer('<custom/>')
      }
    }
    class Str extends Element {
      override toString(): string {
        return '<str/>'
      }
    }
    same(new Custom('c'))
    same(xml('p', {}, new Custom('c'), 'x'))
    expect(serialize(new Str('s'))).toBe('<str/>')
    const foreign = { write: (w: (s: string) => void) => w('<raw/>') } as unknown as Element
    same(xml('x', {}, foreign))
  })
})
