// text.ts and decode.ts: the splitter and the decoder, by property (fast-check) and by example.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodeLine, FALLBACK_ENCODINGS } from '../src/decode.js'
import { ircToXmppText, splitLine, splitMessage, textBudget, utf8Length } from '../src/text.js'

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8')
/** One code point of any plane (no lone surrogate). */
const codePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .filter((c) => c < 0xd800 || c > 0xdfff)
  .map((c) => String.fromCodePoint(c))
/** One UTF-16 code unit, lone surrogates included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))
/** Any well-formed string: code points of every plane (so 1- to 4-byte UTF-8), spaces often. */
const text = fc.string({
  unit: fc.oneof(codePoint, fc.constant(' '), fc.constant('é'), fc.constant('😀')),
  maxLength: 400,
})

describe('splitLine', () => {
  it('gives chunks of at most maxBytes, non-empty, whose concatenation is the line, never cutting a code point', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 4, max: 120 }), (line, max) => {
        const chunks = splitLine(line, max)
        expect(chunks.join('')).toBe(line)
        for (const c of chunks) {
          expect(c.length).toBeGreaterThan(0)
          expect(bytes(c)).toBeLessThanOrEqual(max)
          // a chunk cut inside a surrogate pair would not survive a UTF-8 round trip
          expect(Buffer.from(c, 'utf8').toString('utf8')).toBe(c)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('fills chunks: each but the last is more than half full (no needless tiny lines)', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 8, max: 120 }), (line, max) => {
        const chunks = splitLine(line, max)
        for (const c of chunks.slice(0, -1)) expect(bytes(c)).toBeGreaterThan(max / 2 - 4)
      }),
    )
  })

  it('breaks after a space when one is near the limit', () => {
    expect(splitLine('hello world again', 12)).toEqual(['hello world ', 'again'])
    expect(splitLine('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij'])
    expect(splitLine('éééé', 5)).toEqual(['éé', 'éé'])
    expect(splitLine('😀😀', 5)).toEqual(['😀', '😀'])
    expect(splitLine('', 10)).toEqual([])
  })

  it('refuses a limit that cannot hold every character', () => {
    expect(() => splitLine('x', 3)).toThrow(RangeError)
    expect(() => splitLine('x', 4.5)).toThrow(RangeError)
  })
})

describe('splitMessage', () => {
  it('splits at CRLF, CR and LF, drops empty lines and NUL/U+0001, keeps every other character in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: codePoint, maxLength: 300 }), { maxLength: 6 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.integer({ min: 4, max: 200 }),
        (lines, eol, max) => {
          const input = lines.join(eol)
          const out = splitMessage(input, max)
          for (const c of out) {
            expect(bytes(c)).toBeLessThanOrEqual(max)
            // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
            expect(c).not.toMatch(/[\r\n\0\x01]/)
          }
          const expected = input
            .split(/\r\n|\r|\n/)
            // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
            .map((l) => l.replace(/[\0\x01]/g, ''))
            .filter((l) => l.trim() !== '')
            .join('')
          expect(out.join('')).toBe(expected)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('turns a 50-line paste into 50 lines', () => {
    const paste = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n')
    expect(splitMessage(paste, 400)).toHaveLength(50)
  })
})

describe('textBudget', () => {
  it('leaves room for the prefix the server adds, the command, the target and CRLF within 512 bytes', () => {
    const nick = 'somebody'
    const target = '#channel'
    const budget = textBudget({ command: 'PRIVMSG', target, nick })
    const worst = `:${nick}!${'u'.repeat(11)}@${'h'.repeat(63)} PRIVMSG ${target} :${'x'.repeat(budget)}\r\n`
    expect(bytes(worst)).toBe(512)
    const action = textBudget({ command: 'PRIVMSG', target, nick, action: true })
    expect(
      bytes(
        `:${nick}!${'u'.repeat(11)}@${'h'.repeat(63)} PRIVMSG ${target} :\x01ACTION ${'x'.repeat(action)}\x01\r\n`,
      ),
    ).toBe(512)
    expect(textBudget({ command: 'NOTICE', target, nick, user: '~xmpp', host: '127.0.0.1' })).toBe(
      512 - bytes(`:${nick}!~xmpp@127.0.0.1 NOTICE ${target} :\r\n`),
    )
  })

  it('counts UTF-8 bytes like Buffer.byteLength', () => {
    fc.assert(
      fc.property(fc.string({ unit: codeUnit }), (s) => {
        expect(utf8Length(s)).toBe(bytes(s))
      }),
    )
  })
})

describe('ircToXmppText', () => {
  it('strips bold, colours (with and without numbers), hex colours, reset, italic, underline, reverse, monospace', () => {
    expect(ircToXmppText('\x02b\x02 \x034red\x03 \x0304,12on blue\x03 \x03,5x \x04ff0000hex\x04 \x0fr')).toBe(
      'b red on blue ,5x hex r',
    )
    expect(ircToXmppText('\x1di\x1d \x1fu\x1f \x16r\x16 \x11m\x11 \x1es\x1e')).toBe('i u r m s')
    expect(ircToXmppText('\x0312345')).toBe('345')
  })

  it('never lets out a character XML 1.0 cannot carry, a control (but tab and LF) or a lone surrogate', () => {
    const forbidden =
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
      /[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.integer({ min: 0, max: 0x3f }).map((c) => String.fromCharCode(c)),
            codeUnit,
          ),
        }),
        (s) => {
          expect(ircToXmppText(s)).not.toMatch(forbidden)
        },
      ),
      { numRuns: 1000 },
    )
  })

  it('keeps text without controls as it is (the same string)', () => {
    fc.assert(
      fc.property(
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
        fc.string({ unit: codePoint }).filter((s) => !/[\0-\x1f\x7f-\x9f\ufffe\uffff]/.test(s)),
        (s) => {
          expect(ircToXmppText(s)).toBe(s)
        },
      ),
    )
  })
})

describe('decodeLine', () => {
  it('decodes valid UTF-8 as UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: codePoint }), (s) => {
        expect(decodeLine(Buffer.from(s, 'utf8'))).toBe(s)
      }),
    )
  })

  it('decodes bytes that are not UTF-8 with the fallback, never to U+FFFD, one character per byte', () => {
    for (const encoding of FALLBACK_ENCODINGS) {
      fc.assert(
        fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (raw) => {
          const out = decodeLine(raw, encoding)
          if (Buffer.from(out, 'utf8').equals(Buffer.from(raw))) return // it was UTF-8
          expect(out).not.toContain('\ufffd')
          expect([...out]).toHaveLength(raw.length)
        }),
        { numRuns: 200 },
      )
    }
  })

  it('reads Latin-1 as IRC users mean it (windows-1252), and an ISO-8859-15 server its euro sign', () => {
    expect(decodeLine(Buffer.from('café crème', 'latin1'))).toBe('café crème')
    expect(decodeLine(Buffer.from([0x80, 0x20, 0x93, 0x71, 0x94]))).toBe('€ “q”')
    expect(decodeLine(Buffer.from([0x70, 0xa4]), 'iso-8859-15')).toBe('p€')
    expect(decodeLine(Buffer.from([0xc3, 0xa9]))).toBe('é')
    // UTF-8 then a stray Latin-1 byte: the whole line is not UTF-8, so the fallback reads it
    expect(decodeLine(Buffer.from([0xc3, 0xa9, 0x20, 0xe9]))).toBe('Ã© é')
  })
})
