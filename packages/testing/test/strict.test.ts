// The embedded server parses what components send as strictly as Prosody and ejabberd (expat,
// namespace-aware): malformed input closes the stream with <not-well-formed/>, nothing of it is
// delivered, and the test API says why.

import { describe, expect, it } from 'vitest'
import { type FrameError, Framer } from '../src/framer.js'
import { parseStrict, XmlSyntaxError } from '../src/strict.js'
import { connected, echoServer, rawConnect } from './helpers.js'

const HEAD = "from='echo.localhost' to='alice@localhost/a'"

/** Malformed stanzas a component might write, with expat's message for each. */
const MALFORMED: [what: string, stanza: string, expat: string][] = [
  [
    'an element name written raw (a chat state of "a><b")',
    `<message ${HEAD}><a><b xmlns="http://jabber.org/protocol/chatstates"/></message>`,
    'mismatched tag',
  ],
  [
    'an element name that is not an XML name',
    `<message ${HEAD}><1a/></message>`,
    'not well-formed (invalid token)',
  ],
  ['a quote in an element name', `<message ${HEAD}><bo"dy/></message>`, 'not well-formed (invalid token)'],
  [
    'a name with two colons',
    `<message ${HEAD}><a:b:c xmlns:a='u'/></message>`,
    'not well-formed (invalid token)',
  ],
  [
    'an attribute name that is not an XML name',
    `<message ${HEAD} 1a='x'/>`,
    'not well-formed (invalid token)',
  ],
  ['an undeclared element prefix', `<message ${HEAD}><foo:bar>x</foo:bar></message>`, 'unbound prefix'],
  ['an undeclared attribute prefix', `<message ${HEAD} foo:x='1'/>`, 'unbound prefix'],
  ['a duplicate attribute', `<message ${HEAD} id='1' id='2'/>`, 'duplicate attribute'],
  [
    'a duplicate attribute under two prefixes of one namespace',
    `<message ${HEAD} xmlns:a='urn:x' xmlns:b='urn:x' a:k='1' b:k='2'/>`,
    'duplicate attribute',
  ],
  [
    'attributes without whitespace between them',
    `<message ${HEAD} id='1'type='chat'/>`,
    'not well-formed (invalid token)',
  ],
  ["'<' in an attribute value", `<message ${HEAD} id='<'/>`, 'not well-formed (invalid token)'],
  [
    'a control character in text',
    `<message ${HEAD}><body>a\u0001b</body></message>`,
    'not well-formed (invalid token)',
  ],
  ["']]>' in text", `<message ${HEAD}><body>a]]>b</body></message>`, 'not well-formed (invalid token)'],
  ['an undeclared prefix binding', `<message ${HEAD} xmlns:p=''/>`, 'must not undeclare prefix'],
  [
    'the xml prefix bound elsewhere',
    `<message ${HEAD} xmlns:xml='urn:x'/>`,
    'reserved prefix (xml) must not be undeclared or bound to another namespace name',
  ],
]

describe('strict parsing of component input', () => {
  it.each(MALFORMED)(
    'closes the stream over %s: not-well-formed, nothing delivered',
    async (_what, stanza, expat) => {
      for (const flavour of ['prosody', 'ejabberd'] as const) {
        const { c, conn, server } = await connected({ flavour })
        const alice = server.client('alice@localhost/a')
        c.write(stanza)
        // at once, like expat: not when a later write completes the frame
        await c.waitFor('</stream:stream>')
        await c.closed
        expect(conn.streamErrorSent?.condition).toBe('not-well-formed')
        expect(conn.streamErrorSent?.reason).toMatch(new RegExp(`^${expat.replace(/[()]/g, '\\$&')}: `))
        // Prosody closes with the bare condition; ejabberd adds expat's message as the text
        expect(conn.streamErrorSent?.text).toBe(flavour === 'ejabberd' ? expat : undefined)
        if (flavour === 'ejabberd') expect(c.text).toContain(`>${expat}</text>`)
        else expect(c.text).not.toContain('<text')
        expect(conn.received).toEqual([])
        expect(alice.received).toEqual([])
        await server.close()
      }
    },
  )

  it('delivers well-formed namespaced input intact, with the header bindings in scope', async () => {
    const { c, conn, server } = await connected()
    const alice = server.client('alice@localhost/a')
    c.write(
      `<message ${HEAD} id='ok' xml:lang='en' a='x &gt; y&#x1F600;'><x:y xmlns:x='urn:x' x:k='1' k='2'/>` +
        `<body>a &amp; <![CDATA[<b>]]> é</body ><stream:extra/></message>`,
    )
    const got = await alice.expectStanza({ id: 'ok' })
    expect(got.attrs.a).toBe('x > y😀')
    expect(got.getChildText('body')).toBe('a & <b> é')
    expect(got.getChild('y', 'urn:x')?.attrs).toEqual({ 'xmlns:x': 'urn:x', 'x:k': '1', k: '2' })
    // <stream:extra/> passed: the header's bindings are in scope; an undeclared prefix is not
    c.write(`<message ${HEAD} id='late'><late:x/></message>`)
    await c.closed
    expect(conn.streamErrorSent).toMatchObject({ condition: 'not-well-formed', reason: /unbound prefix/ })
    expect(alice.received.map((s) => s.attrs.id)).toEqual(['ok'])
  })

  it('a header with an undeclared prefix is not well-formed', async () => {
    const server = await echoServer()
    const c = await rawConnect(server.port)
    c.write("<stream:stream xmlns='jabber:component:accept' to='echo.localhost'>")
    await c.closed
    expect(c.text).toContain("<not-well-formed xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
  })
})

describe('framer', () => {
  const head =
    "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
  const frame = (input: string) => {
    const events: string[] = []
    const framer = new Framer(1_000_000, {
      header: () => events.push('header'),
      stanza: (t) => events.push(`stanza ${t}`),
      end: () => events.push('end'),
      whitespace: () => {},
      error: (e: FrameError) =>
        events.push(e.kind === 'too-big' ? 'too-big' : `${e.kind}: ${e.expat}: ${e.reason}`),
    })
    framer.push(Buffer.from(head + input))
    return events
  }

  it('reports a mismatched end tag at the end tag, whatever follows; frames any bytes in values', () => {
    expect(frame('<message><a><b/></message>')).toEqual([
      'header',
      'not-well-formed: mismatched tag: </message> closes <a>',
    ])
    expect(frame(`<message a='>"/' b="'"></message ><é/></bad>`)).toEqual([
      'header',
      `stanza <message a='>"/' b="'"></message >`,
      'stanza <é/>',
      'not-well-formed: mismatched tag: </bad> closes <stream:stream>',
    ])
    expect(frame('</stream:strea>')).toEqual([
      'header',
      'not-well-formed: mismatched tag: </stream:strea> closes <stream:stream>',
    ])
  })

  it.each([
    ['<message a="1"b="2"/>', 'malformed attribute'],
    ['<message a/>', 'attribute without a value'],
    ['<message a=1/>', 'unquoted attribute value'],
    ['<message a="<"/>', "'<' in an attribute value"],
    ['<message / >', "'/' not followed by '>'"],
    ['<message><bo"dy/></message>', 'malformed tag'],
    ['<message></ message>', 'malformed tag'],
    ['<message></message x>', 'end tag </message> with more than a name'],
  ])('reports broken tag syntax at once: %s', (input, reason) => {
    const events = frame(input)
    expect(events).toHaveLength(2)
    expect(events[1]).toContain(`not-well-formed: not well-formed (invalid token): ${reason}`)
  })
})

describe('parseStrict', () => {
  it('builds ltx elements with attributes as written and text decoded', () => {
    const { element } = parseStrict(
      "<iq type='get' xmlns:p='urn:p'>\r\n<p:q p:a='1&#10;2\t3'>x&lt;<![CDATA[&]]></p:q></iq>",
    )
    expect(element.toString()).toBe(
      '<iq type="get" xmlns:p="urn:p">\n<p:q p:a="1\n2 3">x&lt;&amp;</p:q></iq>',
    )
    expect(element.getChild('q', 'urn:p')?.parent).toBe(element)
  })

  it.each([
    ['<message/>junk', 'junk after document element'],
    ['<message/><x/>', 'junk after document element'],
    ['<message><body>&nbsp;</body></message>', 'undefined entity'],
    ['<message><body>&#0;</body></message>', 'reference to invalid character number'],
    ['<message><body>&#xD800;</body></message>', 'reference to invalid character number'],
    ['<message><body>a & b</body></message>', 'not well-formed (invalid token)'],
    ['<message><body>\uD800</body></message>', 'not well-formed (invalid token)'],
    ['<message xmlns:xmlns="urn:x"/>', 'reserved prefix (xmlns) must not be declared or undeclared'],
    [
      '<message xmlns:p="http://www.w3.org/2000/xmlns/"/>',
      'prefix must not be bound to one of the reserved namespace names',
    ],
    ['<xmlns:a/>', 'not well-formed (invalid token)'],
    ['<message><body>x</message>', 'mismatched tag'],
    ['<message>', 'unclosed token'],
    ['<message a="1', 'unclosed token'],
    ['text', 'syntax error'],
    ['', 'no element found'],
  ])('refuses %j: %s', (text, expat) => {
    const error = (() => {
      try {
        parseStrict(text)
      } catch (err) {
        return err
      }
      return undefined
    })()
    expect(error).toBeInstanceOf(XmlSyntaxError)
    expect((error as XmlSyntaxError).expat).toBe(expat)
    expect((error as XmlSyntaxError).condition).toBe('not-well-formed')
  })

  it('refuses comments, processing instructions and DOCTYPEs as restricted XML', () => {
    for (const text of ['<a><!-- c --></a>', '<a><?pi x?></a>', '<!DOCTYPE a><a/>']) {
      expect(() => parseStrict(text)).toThrow(expect.objectContaining({ condition: 'restricted-xml' }))
    }
  })

  it('a stanza given as a string by a test is parsed as strictly', async () => {
    const server = await echoServer()
    const alice = server.client('alice@localhost/a')
    expect(() => alice.send("<message to='echo.localhost'/>junk")).toThrow(/junk after document element/)
    expect(() => alice.send("<message to='echo.localhost'><foo:bar/></message>")).toThrow(/unbound prefix/)
  })

  it('nests deeply without overflowing the stack', () => {
    const depth = 50_000
    const { element } = parseStrict(`${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}`)
    expect(element.name).toBe('a')
  })
})
