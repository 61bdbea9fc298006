import {
  bareOf,
  domainOf,
  hasResource,
  isBareOf,
  isSatelliteError,
  localOf,
  numberOption,
  optionError,
  parseJid,
  resourceOf,
  SatelliteError,
} from '@satellite/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

describe('the parts of a JID string', () => {
  it('splits at the first @ before the first /', () => {
    const cases: [string, string, string, string, string][] = [
      // address, local, domain, bare, resource
      ['alice@example.org/phone', 'alice', 'example.org', 'alice@example.org', 'phone'],
      ['alice@example.org', 'alice', 'example.org', 'alice@example.org', ''],
      ['example.org', '', 'example.org', 'example.org', ''],
      ['example.org/a@b', '', 'example.org', 'example.org', 'a@b'],
      [
        'room@muc.example.org/nick/with/slashes',
        'room',
        'muc.example.org',
        'room@muc.example.org',
        'nick/with/slashes',
      ],
      ['room@muc.example.org/a@b@c', 'room', 'muc.example.org', 'room@muc.example.org', 'a@b@c'],
      ['c\\3a\\net@example.org', 'c\\3a\\net', 'example.org', 'c\\3a\\net@example.org', ''],
      ['', '', '', '', ''],
    ]
    for (const [address, local, domain, bare, resource] of cases) {
      expect([localOf(address), domainOf(address), bareOf(address), resourceOf(address)], address).toEqual([
        local,
        domain,
        bare,
        resource,
      ])
    }
    expect([localOf(undefined), domainOf(undefined), bareOf(undefined), resourceOf(undefined)]).toEqual([
      '',
      '',
      '',
      '',
    ])
    expect(hasResource('a@b/')).toBe(true)
    expect(hasResource('a@b')).toBe(false)
  })

  it('returns the string itself for a bare JID (nothing allocated)', () => {
    const address = `${'x'.repeat(20)}@example.org`
    expect(Object.is(bareOf(address), address)).toBe(true)
    expect(Object.is(domainOf('example.org'), 'example.org')).toBe(true)
  })

  it('agrees with parseJid on every JID it accepts', () => {
    const part = fc.stringMatching(/^[a-z0-9.\-_]{1,12}$/)
    const resource = fc.stringMatching(/^[a-zA-Z0-9@/ .]{1,12}$/)
    fc.assert(
      fc.property(
        fc.option(part, { nil: undefined }),
        part,
        fc.option(resource, { nil: undefined }),
        (l, d, r) => {
          const address = `${l === undefined ? '' : `${l}@`}${d}${r === undefined ? '' : `/${r}`}`
          let j: ReturnType<typeof parseJid>
          try {
            j = parseJid(address)
          } catch {
            return
          }
          expect(localOf(address)).toBe(j.local)
          expect(domainOf(address)).toBe(j.domain)
          expect(resourceOf(address)).toBe(j.resource)
          expect(bareOf(address)).toBe(j.bare().toString())
          expect(isBareOf(address, j.bare().toString().toUpperCase())).toBe(true)
          expect(isBareOf(address, `x${j.bare().toString()}`)).toBe(false)
        },
      ),
      { numRuns: 500 },
    )
  })

  it('compares bare JIDs case-insensitively', () => {
    expect(isBareOf('Alice@Example.org/phone', 'alice@example.org')).toBe(true)
    expect(isBareOf('alice@example.org', 'alice@example.org')).toBe(true)
    expect(isBareOf('alice@example.org/x', 'alice@example.or')).toBe(false)
    expect(isBareOf('alice@example.orga', 'alice@example.org')).toBe(false)
    expect(isBareOf(undefined, 'alice@example.org')).toBe(false)
    // The bare JID given in another case; the resource (even with @ or /) is not compared.
    expect(isBareOf('alice@example.org/Phone@Home/2', 'Alice@EXAMPLE.org')).toBe(true)
    expect(isBareOf('example.org/a@b', 'example.org')).toBe(true)
    expect(isBareOf('example.org/a@b', 'a@b')).toBe(false)
    expect(isBareOf('bob@example.org', 'alice@example.org')).toBe(false)
    expect(isBareOf('', '')).toBe(false)
  })
})

describe('plugin option errors', () => {
  it('are fatal SAT_ERR_CONFIG errors naming plugin and option', () => {
    const err = optionError('search', 'maxResults', 'must be positive')
    expect(err).toBeInstanceOf(SatelliteError)
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect(err.fatal).toBe(true)
    expect(err.message).toBe('search.maxResults: must be positive')
  })

  it('numberOption checks type, integer and bounds, and fills in the default', () => {
    expect(numberOption('p', 'n', undefined, 7)).toBe(7)
    expect(numberOption('p', 'n', 3, 7, { min: 1, max: 5 })).toBe(3)
    expect(numberOption('p', 'n', 0.5, 7, { integer: false, max: 1 })).toBe(0.5)
    expect(() => numberOption('p', 'n', 0, 7, { min: 1, max: 5 })).toThrow('p.n: must be from 1 to 5, got 0')
    expect(() => numberOption('p', 'n', -1, 7)).toThrow('p.n: must be at least 0, got -1')
    expect(() => numberOption('p', 'n', 1.5, 7)).toThrow('p.n: must be an integer, got 1.5')
    expect(() => numberOption('p', 'n', Number.NaN, 7)).toThrow('p.n: must be an integer, got NaN')
    expect(() => numberOption('p', 'n', '3', 7)).toThrow('p.n: must be an integer, got the string "3"')
    expect(() => numberOption('p', 'n', Number.POSITIVE_INFINITY, 7, { integer: false })).toThrow(
      'p.n: must be a finite number, got Infinity',
    )
  })
})
