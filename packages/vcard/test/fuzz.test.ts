// Fuzz tests (fast-check) of the XEP-0054 boundary: random vCard payloads set and got through
// the embedded server (random element names of the schema and others, nesting, text), and
// the builder/parser round trip. Every request gets one well-formed answer, nothing rejects
// unhandled, and no string from outside becomes an element name the schema does not have.
import { type Element, xml } from '@satellite/core'
import { serverAndComponent } from '@satellite/test-support/component'
import { answer, noUnhandledRejection, oneOf, text } from '@satellite/test-support/fuzz'
import { NS_VCARD, parseVcard, TEL_TYPES, type VCard, vcard, vcardElement } from '@satellite/vcard'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const NAMES = [
  'FN',
  'N',
  'FAMILY',
  'GIVEN',
  'NICKNAME',
  'EMAIL',
  'USERID',
  'INTERNET',
  'TEL',
  'NUMBER',
  ...TEL_TYPES,
  'ORG',
  'ORGNAME',
  'PHOTO',
  'TYPE',
  'BINVAL',
  'EXTVAL',
  'DESC',
  'X-OTHER',
  'script',
  'vCard',
]

/** A random element of vCard-ish names with the given children. */
const element = (children: fc.Arbitrary<Element[]>): fc.Arbitrary<Element> =>
  fc
    .record({
      name: fc.constantFrom(...NAMES),
      foreign: fc.boolean(),
      text: fc.option(text(), { nil: undefined }),
      children,
    })
    .map((r) => {
      const el = xml(r.name, r.foreign ? { xmlns: 'urn:example:other' } : {})
      if (r.text !== undefined) el.t(r.text)
      for (const c of r.children) el.cnode(c)
      return el
    })
/** A random element tree, three levels deep at most. */
const tree = element(
  fc.array(element(fc.array(element(fc.constant([])), { maxLength: 3 })), { maxLength: 3 }),
)

const card: fc.Arbitrary<VCard> = fc.record(
  {
    FN: text(),
    N: fc.record({ family: text(), given: text() }, { requiredKeys: [] }),
    NICKNAME: text(),
    EMAIL: fc.oneof(text(), fc.array(text(), { minLength: 2, maxLength: 3 })),
    TEL: fc.array(
      fc.record(
        {
          number: text(),
          types: fc.uniqueArray(fc.constantFrom(...TEL_TYPES), { minLength: 1, maxLength: 3 }),
        },
        { requiredKeys: ['number'] },
      ),
      { minLength: 1, maxLength: 2 },
    ),
    ORG: fc.record({ name: text(), unit: text() }, { requiredKeys: [] }),
    DESC: text(),
    PHOTO: fc.oneof(
      fc.record({ type: oneOf(['image/png']), binval: fc.base64String({ maxLength: 40 }) }),
      fc.record({ extval: text() }),
    ),
  },
  { requiredKeys: [] },
)

describe('vcard: fuzz', () => {
  it('round-trips random typed vCards through vcardElement and parseVcard', () => {
    fc.assert(
      fc.property(card, (v) => {
        const back = parseVcard(vcardElement(v))
        const expected: VCard = structuredClone(v)
        if (expected.PHOTO !== undefined && 'binval' in expected.PHOTO) {
          expected.PHOTO.binval = expected.PHOTO.binval.replace(/\s+/g, '')
        }
        expect(back).toEqual(expected)
      }),
      { numRuns: 200 },
    )
  })

  it('refuses TEL types outside the schema instead of writing them as element names', () => {
    fc.assert(
      fc.property(oneOf(['X-EVIL', 'a><b', 'NUMBER', 'work']), (type) => {
        fc.pre(!(TEL_TYPES as readonly string[]).includes(type))
        const v = { TEL: [{ number: '1', types: [type] }] } as unknown as VCard
        expect(() => vcardElement(v)).toThrow(TypeError)
      }),
      { numRuns: 100 },
    )
    const parsed = parseVcard(
      xml('vCard', { xmlns: NS_VCARD }, xml('TEL', {}, xml('X-EVIL'), xml('CELL'), xml('NUMBER', {}, '1'))),
    )
    expect(parsed.TEL).toEqual([{ number: '1', types: ['CELL'] }])
  })

  it('answers every random vCard set and get once, well-formed', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
    const cards = new Map<string, VCard>()
    vcard(xmpp, {
      get: (local) => cards.get(local) ?? null,
      set: (local, v) => {
        if (local === 'boom') throw new Error('connect ECONNREFUSED 10.0.0.7:5432')
        if (cards.size < 10 || cards.has(local)) cards.set(local, v)
      },
    })
    await xmpp.start()
    const alice = srv.client('alice@localhost/r')
    await noUnhandledRejection(async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('', 'bob', 'boom', 'c\\20d'),
          fc.array(tree, { maxLength: 5 }),
          fc.constantFrom(NS_VCARD, NS_VCARD, 'vcard-temp-x'),
          async (local, children, ns) => {
            const to = local === '' ? DOMAIN : `${local}@${DOMAIN}`
            const set = await answer(
              alice,
              xml('iq', { type: 'set', to }, xml('vCard', { xmlns: ns }, ...children)),
            )
            expect(set.toString()).not.toContain('ECONNREFUSED')
            const got = await answer(alice, xml('iq', { type: 'get', to }, xml('vCard', { xmlns: NS_VCARD })))
            if (got.attrs.type === 'result') {
              const back = parseVcard(got.getChild('vCard', NS_VCARD) as Element)
              for (const tel of back.TEL ?? [])
                for (const t of tel.types ?? []) expect(TEL_TYPES).toContain(t)
            }
          },
        ),
        { numRuns: 120 },
      )
    })
  })
})
