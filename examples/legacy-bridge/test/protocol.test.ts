// The line protocol's reading side: decoding never throws a URIError, and a line reader holds at
// most one line's worth of characters whatever the peer sends.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { dec, lineReader, ProtocolError } from '../src/network/protocol.js'

describe('the line protocol', () => {
  it('dec: a malformed percent-encoding is a ProtocolError, not a URIError', () => {
    for (const bad of ['%E0%A4%A', '%', '%zz', '%ED%A0%80']) {
      expect(() => dec(bad)).toThrow(ProtocolError)
    }
    expect(dec('a%20b')).toBe('a b')
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        try {
          dec(s)
        } catch (err) {
          expect(err).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('lineReader: a line over maxLength is dropped (to its end) and reported once; the next lines are read', () => {
    const lines: string[] = []
    const tooLong: number[] = []
    const read = lineReader((l) => lines.push(l), { maxLength: 10, onTooLong: (n) => tooLong.push(n) })
    read('short\nabcdefghij')
    expect(read.buffered).toBe(10)
    read('klmnop') // the line is now too long: nothing of it is held
    expect(read.buffered).toBe(0)
    read('qrs'.repeat(1000))
    expect(read.buffered).toBe(0)
    read('tuv\r\nnext\r\n')
    read('0123456789abc\nlast\n')
    expect(lines).toEqual(['short', 'next', 'last'])
    expect(tooLong).toEqual([16, 13])
  })

  it('lineReader: whatever the chunks, it holds at most maxLength characters and reads every short line', () => {
    const chunk = fc.oneof(
      fc.string({ unit: fc.constantFrom('a', 'b', '\n', '\r', 'é', '😀'), maxLength: 60 }),
      fc.string({ unit: 'binary', maxLength: 30 }),
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.array(chunk, { maxLength: 30 }), (max, chunks) => {
        const lines: string[] = []
        const read = lineReader((l) => lines.push(l), { maxLength: max })
        for (const c of chunks) {
          read(c)
          expect(read.buffered).toBeLessThanOrEqual(max)
        }
        // What a reader without a limit would read, less the lines over the limit.
        const all = chunks.join('').split('\n').slice(0, -1)
        const expected = all
          .filter((l) => l.length <= max)
          .map((l) => l.replace(/\r$/, ''))
          .filter((l) => l !== '')
        expect(lines).toEqual(expected)
      }),
      { numRuns: 300 },
    )
  })
})
