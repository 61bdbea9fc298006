import type { Stanza } from '@satellite/core'
import { StreamParser, type XmlViolationError } from '@satellite/core/internal'
import { describe, expect, it } from 'vitest'

const HEADER =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='c.localhost' id='abc'>"

function make(limits: Partial<{ maxStanzaBytes: number; maxDepth: number }> = {}) {
  const out = {
    starts: [] as Record<string, string>[],
    stanzas: [] as Stanza[],
    errors: [] as XmlViolationError[],
    ended: 0,
  }
  const parser = new StreamParser(
    {
      onStreamStart: (a) => out.starts.push(a),
      onStanza: (s) => out.stanzas.push(s),
      onStreamEnd: () => out.ended++,
      onError: (e) => out.errors.push(e),
    },
    { maxStanzaBytes: limits.maxStanzaBytes ?? 512 * 1024, maxDepth: limits.maxDepth ?? 64 },
  )
  const feed = (...chunks: Array<string | Buffer>) => {
    for (const c of chunks) parser.write(typeof c === 'string' ? Buffer.from(c) : c)
  }
  return { parser, out, feed }
}

describe('StreamParser', () => {
  it('parses the header, stanzas with children, text and entities', () => {
    const { out, feed } = make()
    feed(
      HEADER,
      `<message to='a@b' from="x&amp;y@c"><body>1 &lt; 2 &#x1F600; &#65;</body><x xmlns='urn:x'/></message>`,
    )
    expect(out.starts[0]?.id).toBe('abc')
    expect(out.stanzas).toHaveLength(1)
    const m = out.stanzas[0] as Stanza
    expect(m.attrs.from).toBe('x&y@c')
    expect(m.getChildText('body')).toBe('1 < 2 😀 A')
    expect(m.getChild('x', 'urn:x')).toBeTruthy()
    expect(m.toLocal).toBe('a')
  })

  it('unescapes the stream id', () => {
    const { out, feed } = make()
    feed(HEADER.replace("id='abc'", "id='a&amp;b&apos;&lt;'"))
    expect(out.starts[0]?.id).toBe("a&b'<")
  })

  it('decodes UTF-8 split at every byte offset, including inside sequences', () => {
    const text = 'héllo 😀 世界'
    const doc = Buffer.from(`${HEADER}<message to='a@b'><body>${text}</body></message>`)
    for (let cut = 1; cut < doc.length; cut++) {
      const { out, feed } = make()
      feed(doc.subarray(0, cut), doc.subarray(cut))
      expect(out.errors).toEqual([])
      expect(out.stanzas[0]?.getChildText('body')).toBe(text)
    }
  })

  it('survives byte-by-byte delivery of tags, attributes, entities and CDATA', () => {
    const doc = Buffer.from(`${HEADER}<iq type='get' id='1'><q xmlns='u'>a&amp;b<![CDATA[<raw>]]></q></iq>`)
    const { out, feed } = make()
    for (let i = 0; i < doc.length; i++) feed(doc.subarray(i, i + 1))
    expect(out.errors).toEqual([])
    expect(out.stanzas[0]?.getChild('q')?.getText()).toBe('a&b<raw>')
  })

  it('never accumulates whitespace between stanzas', () => {
    const { parser, out, feed } = make()
    feed(HEADER)
    for (let i = 0; i < 1000; i++) feed(`   \n<presence to='a@b'/>  \t `)
    expect(out.stanzas).toHaveLength(1000)
    expect(parser.root?.children).toHaveLength(0)
    expect(parser.buffered).toBe(0)
  })

  it('rejects a DOCTYPE with restricted-xml and never expands entities', () => {
    const { out, feed } = make()
    feed(HEADER, `<!DOCTYPE x [<!ENTITY a "aaaa">]><message to='a@b'><body>&a;</body></message>`)
    expect(out.errors[0]?.condition).toBe('restricted-xml')
    expect(out.stanzas).toHaveLength(0)
  })

  it('rejects comments, processing instructions and undeclared entities', () => {
    for (const bad of ['<!-- hi -->', '<?php echo 1 ?>', "<message to='a@b'><body>&nbsp;</body></message>"]) {
      const { out, feed } = make()
      feed(HEADER, bad)
      expect(out.errors[0]?.condition, bad).toBe('restricted-xml')
    }
  })

  it('rejects unbound prefixes and mismatched tags as not-well-formed', () => {
    for (const bad of [
      "<foo:message to='a@b'/>",
      "<message to='a@b' bar:x='1'/>",
      "<message to='a@b'><body></message>",
      "<message to='a@b' to='c'/>",
      '<message to=a/>',
      "<message to='a@b'><body>a & b</body></message>",
      "<message to='a@b'><body>&#0;</body></message>",
    ]) {
      const { out, feed } = make()
      feed(HEADER, bad)
      expect(out.errors[0]?.condition, bad).toBe('not-well-formed')
    }
  })

  it('accepts prefixes bound on the element, an ancestor or the stream root', () => {
    const { out, feed } = make()
    feed(
      HEADER,
      "<message to='a@b'><p:x xmlns:p='urn:p'><p:y/></p:x></message><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error>",
    )
    expect(out.errors).toEqual([])
    expect(out.stanzas.map((s) => s.name)).toEqual(['message', 'stream:error'])
  })

  it('enforces the stanza size limit before buffering a huge stanza', () => {
    const { parser, out, feed } = make({ maxStanzaBytes: 10_000 })
    feed(HEADER, "<message to='a@b'><body>")
    const chunk = 'x'.repeat(4096)
    for (let i = 0; i < 10 && out.errors.length === 0; i++) feed(chunk)
    expect(out.errors[0]?.condition).toBe('policy-violation')
    expect(parser.buffered).toBe(0)
    // inside one chunk too
    const b = make({ maxStanzaBytes: 100 })
    b.feed(HEADER, `<message to='a@b'><body>${'y'.repeat(200)}</body></message>`)
    expect(b.out.errors[0]?.condition).toBe('policy-violation')
  })

  it('counts the size limit in UTF-8 bytes, not characters', () => {
    const body = '世'.repeat(40) // 120 bytes
    const a = make({ maxStanzaBytes: 100 })
    a.feed(HEADER, `<message><body>${body}</body></message>`)
    expect(a.out.errors[0]?.condition).toBe('policy-violation')
    const b = make({ maxStanzaBytes: 200 })
    b.feed(HEADER, `<message><body>${body}</body></message>`)
    expect(b.out.errors).toEqual([])
  })

  it('enforces the nesting depth limit', () => {
    const { out, feed } = make({ maxDepth: 5 })
    feed(HEADER, `<message>${'<a>'.repeat(10)}`)
    expect(out.errors[0]?.condition).toBe('policy-violation')
  })

  it('rejects invalid UTF-8', () => {
    const { out, feed } = make()
    feed(HEADER, Buffer.from([0x3c, 0x6d, 0xff, 0xfe]))
    expect(out.errors[0]?.condition).toBe('not-well-formed')
  })

  it('reports the end of the stream', () => {
    const { out, feed } = make()
    feed(HEADER, '<handshake/>', '</stream:stream>')
    expect(out.stanzas[0]?.name).toBe('handshake')
    expect(out.ended).toBe(1)
  })

  it('requires a stream header first', () => {
    const { out, feed } = make()
    feed("<message to='a@b'/>")
    expect(out.errors[0]?.condition).toBe('bad-format')
  })

  it('serializes parsed stanzas back to equivalent XML', () => {
    const { out, feed } = make()
    const src = `<message to="a@b" id="x&amp;1"><body>&lt;hi&gt; &amp; bye</body></message>`
    feed(HEADER, src)
    expect(out.stanzas[0]?.toString()).toBe(src)
  })
})
