import { describe, expect, it } from 'vitest'
import { type FrameError, Framer } from '../src/framer.js'

function run(input: Buffer[], limit = 1_000_000) {
  const events: string[] = []
  let maxHeld = 0
  const framer = new Framer(limit, {
    header: (t) => events.push(`header ${t}`),
    stanza: (t) => events.push(`stanza ${t}`),
    end: (t) => events.push(`end ${t}`),
    whitespace: (n) => events.push(`ws ${n}`),
    error: (e: FrameError) => events.push(`error ${e.kind}`),
  })
  for (const chunk of input) {
    framer.push(chunk)
    maxHeld = Math.max(maxHeld, framer.held)
  }
  return { events: events.filter((e) => !e.startsWith('ws')), all: events, maxHeld }
}

const stream =
  "<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a.b'>" +
  "<handshake>abc</handshake> \n<message to='x' a='>/'><body>é😀 &amp; <![CDATA[<not a tag>]]></body><x/></message><presence/>" +
  '</stream:stream>'

describe('Framer', () => {
  it('frames header, stanzas and end the same whether fed at once or byte by byte', () => {
    const whole = run([Buffer.from(stream)])
    const bytes = Buffer.from(stream)
    const single = run([...bytes].map((b) => Buffer.from([b])))
    expect(whole.events).toEqual([
      "header <stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a.b'>",
      'stanza <handshake>abc</handshake>',
      "stanza <message to='x' a='>/'><body>é😀 &amp; <![CDATA[<not a tag>]]></body><x/></message>",
      'stanza <presence/>',
      'end </stream:stream>',
    ])
    expect(single.events).toEqual(whole.events)
  })

  it('never holds more than the limit and reports too-big', () => {
    const head =
      "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
    const chunks = [Buffer.from(head), Buffer.from('<message><body>')]
    for (let i = 0; i < 100; i++) chunks.push(Buffer.alloc(100, 0x61))
    const result = run(chunks, 1000)
    expect(result.events.at(-1)).toBe('error too-big')
    expect(result.maxHeld).toBeLessThanOrEqual(1000)
  })

  it('drops whitespace between stanzas without holding it', () => {
    const head =
      "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
    const result = run([Buffer.from(head), Buffer.from(' '.repeat(5000)), Buffer.from('\n\t')], 100_000)
    expect(result.all).toContain('ws 5000')
    expect(result.maxHeld).toBe(0)
  })

  it.each([
    ['<!-- c -->', 'restricted-xml'],
    ['<?pi x?>', 'restricted-xml'],
    ['<!DOCTYPE x>', 'restricted-xml'],
    ['<message><!-- c --></message>', 'restricted-xml'],
    ['<message><![CDXTA[x]]></message>', 'not-well-formed'],
    ['text', 'not-well-formed'],
    ['<message a="x"<b/>', 'not-well-formed'],
  ])('rejects %s', (payload, kind) => {
    const head =
      "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
    expect(run([Buffer.from(head + payload)]).events.at(-1)).toBe(`error ${kind}`)
  })

  it('rejects invalid UTF-8 inside a stanza', () => {
    const head =
      "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='a'>"
    const bad = Buffer.concat([
      Buffer.from(`${head}<message>`),
      Buffer.from([0xff]),
      Buffer.from('</message>'),
    ])
    expect(run([bad]).events.at(-1)).toBe('error not-well-formed')
  })
})
