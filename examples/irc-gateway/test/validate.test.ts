// validate.ts and nick.ts: what is accepted from IRC, and the fallback nicks.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { IrcGatewayError } from '../src/errors.js'
import { fallbackNick, sanitizeNick } from '../src/nick.js'
import { checkChannel, checkNick, checkText, isChannel, isNick } from '../src/validate.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(IrcGatewayError)
    return (err as IrcGatewayError).code
  }
  return undefined
}

describe('checkNick', () => {
  it('accepts RFC 2812 nicks and letters of any script', () => {
    for (const n of ['alice', 'Bob_', '[away]', 'a-b', '`x^{|}\\', 'élodie', 'ворон', 'x1'])
      expect(checkNick(n)).toBe(n)
  })

  it('refuses what would forge an address or break XML, with SAT_ERR_IRC_INPUT', () => {
    for (const n of [
      '',
      'a b',
      'a@b',
      'a/b',
      'a%b',
      '#chan',
      ':x',
      'a!b',
      'a,b',
      'a\x00',
      'a\x07',
      'a\ufffe',
      '1abc',
      '-x',
      'x'.repeat(65),
      'a.b',
    ]) {
      expect(
        codeOf(() => checkNick(n)),
        n,
      ).toBe('SAT_ERR_IRC_INPUT')
      expect(isNick(n)).toBe(false)
    }
  })
})

describe('checkChannel', () => {
  it('accepts channel names of every type prefix, with non-ASCII', () => {
    for (const c of ['#chan', '&local', '+modeless', '!ABCDEchan', '#café', '##linux', '#a-b_c.d'])
      expect(checkChannel(c)).toBe(c)
  })

  it('refuses non-channels and names with space, comma, BEL, colon, %, /, @, controls', () => {
    for (const c of [
      '',
      '#',
      'chan',
      '#a b',
      '#a,b',
      '#a\x07',
      '#a:b',
      '#a%b',
      '#a/b',
      '#a@b',
      '#a\x00',
      '#a\u0085',
      `#${'x'.repeat(200)}`,
    ]) {
      expect(
        codeOf(() => checkChannel(c)),
        c,
      ).toBe('SAT_ERR_IRC_INPUT')
      expect(isChannel(c)).toBe(false)
    }
  })
})

describe('checkText', () => {
  it('refuses non-strings and overlong text, and cleans the rest', () => {
    expect(codeOf(() => checkText(undefined))).toBe('SAT_ERR_IRC_INPUT')
    expect(codeOf(() => checkText('x'.repeat(8193)))).toBe('SAT_ERR_IRC_INPUT')
    expect(checkText('\x02hi\x02\x00')).toBe('hi')
  })
})

describe('fallbackNick', () => {
  it('gives nick_, nick__, nick___, then nick_ and 4 digits, within the length limit', () => {
    expect([1, 2, 3].map((i) => fallbackNick('alice', i, 'in-use', 30))).toEqual([
      'alice_',
      'alice__',
      'alice___',
    ])
    expect(fallbackNick('alice', 4, 'in-use', 30, () => 0.0421)).toBe('alice_0421')
    expect(fallbackNick('abcdefghi', 1, 'in-use', 9)).toBe('abcdefgh_')
  })

  it('cleans an erroneous nick to RFC 2812 characters first', () => {
    expect(sanitizeNick('hé llo')).toBe('hllo')
    expect(sanitizeNick('42-x')).toBe('x')
    expect(sanitizeNick('éè')).toBe('xmpp')
    expect(fallbackNick('hé llo', 1, 'erroneous', 30)).toBe('hllo_')
  })

  it('always gives a valid nick within the limit', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 9, max: 30 }),
        (n, i, max) => {
          const out = fallbackNick(n, i, 'erroneous', max)
          expect(isNick(out)).toBe(true)
          expect(out.length).toBeLessThanOrEqual(max)
        },
      ),
    )
  })
})
