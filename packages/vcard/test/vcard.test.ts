import { type Element, isSatelliteError, StanzaError, xml } from '@satellite/core'
import { serverAndComponent } from '@satellite/test-support/component'
import type { StanzaErrorResponse } from '@satellite/testing'
import { NS_VCARD, parseVcard, type VCard, type VcardOptions, vcard, vcardElement } from '@satellite/vcard'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'gw.localhost'
const SECRET = 's3cret'

const PNG = Buffer.from('\x89PNG\r\n\x1a\nfake image bytes', 'latin1').toString('base64')

const ALICE: VCard = {
  FN: 'Alice Liddell',
  N: { family: 'Liddell', given: 'Alice' },
  NICKNAME: 'alice',
  URL: 'https://example.org/~alice',
  EMAIL: 'alice@example.org',
  DESC: 'Curious & <brave>',
  PHOTO: { type: 'image/png', binval: PNG },
}

const getVcard = (to: string) => xml('iq', { type: 'get', to }, xml('vCard', { xmlns: NS_VCARD }))

async function errorOf(p: Promise<unknown>): Promise<StanzaErrorResponse> {
  try {
    await p
  } catch (err) {
    return err as StanzaErrorResponse
  }
  throw new Error('expected an error reply')
}

describe('vcardElement / parseVcard', () => {
  it('round-trips every typed field', () => {
    const full: VCard = {
      ...ALICE,
      BDAY: '1852-05-04',
      TITLE: 'Explorer',
      ROLE: 'Guest',
      JABBERID: 'alice@example.org',
      EMAIL: ['a@example.org', 'b@example.org'],
      TEL: [{ number: '+44 1865 000000', types: ['WORK', 'VOICE'] }, { number: '123' }],
      ORG: { name: 'Wonderland', unit: 'Tea party' },
      N: { family: 'Liddell', given: 'Alice', middle: 'P', prefix: 'Miss', suffix: 'I' },
      extra: [xml('X-CUSTOM', {}, 'kept')],
    }
    const el = vcardElement(full)
    expect(el.attrs.xmlns).toBe(NS_VCARD)
    const back = parseVcard(xml('vCard', { xmlns: NS_VCARD }, ...(el.children as Element[])))
    expect({ ...back, extra: back.extra?.map(String) }).toEqual({
      ...full,
      extra: ['<X-CUSTOM>kept</X-CUSTOM>'],
    })
  })

  it('writes the spec layout for N, EMAIL and PHOTO', () => {
    const el = vcardElement(ALICE)
    expect(el.getChild('N')?.getChildText('FAMILY')).toBe('Liddell')
    expect(el.getChild('EMAIL')?.getChild('INTERNET')).toBeDefined()
    expect(el.getChild('EMAIL')?.getChildText('USERID')).toBe('alice@example.org')
    expect(el.getChild('PHOTO')?.getChildText('TYPE')).toBe('image/png')
    expect(el.getChild('PHOTO')?.getChildText('BINVAL')).toBe(PNG)
    expect(
      vcardElement({ PHOTO: { extval: 'https://x/y.png' } })
        .getChild('PHOTO')
        ?.getChildText('EXTVAL'),
    ).toBe('https://x/y.png')
  })

  it('parses line-wrapped BINVAL and rejects other elements', () => {
    const el = xml(
      'vCard',
      { xmlns: NS_VCARD },
      xml(
        'PHOTO',
        {},
        xml('TYPE', {}, 'image/png'),
        xml('BINVAL', {}, `${PNG.slice(0, 8)}\n  ${PNG.slice(8)}\n`),
      ),
    )
    expect(parseVcard(el).PHOTO).toEqual({ type: 'image/png', binval: PNG })
    expect(parseVcard(xml('vCard', { xmlns: NS_VCARD }))).toEqual({})
    expect(() => parseVcard(xml('vCard', { xmlns: 'urn:other' }))).toThrow(TypeError)
    expect(() => parseVcard(xml('query', { xmlns: NS_VCARD }))).toThrow(TypeError)
  })
})

describe('vcard plugin', () => {
  async function start(options: Partial<Parameters<typeof vcard>[1]> = {}) {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const asked: string[] = []
    vcard(xmpp, {
      get: async (local) => {
        asked.push(local)
        if (local === '') return { FN: 'The gateway' }
        return local === 'alice' ? ALICE : null
      },
      ...options,
    })
    await xmpp.start()
    return { srv, xmpp, asked, bob: srv.client('bob@localhost/pc') }
  }

  it("answers the domain's and a virtual user's vCard", async () => {
    const { bob, asked } = await start()
    const dom = await bob.request(getVcard(DOMAIN))
    expect(parseVcard(dom.getChild('vCard', NS_VCARD) as Element)).toEqual({ FN: 'The gateway' })
    const res = await bob.request(getVcard(`alice@${DOMAIN}`))
    expect(res.attrs.from).toBe(`alice@${DOMAIN}`)
    expect(parseVcard(res.getChild('vCard', NS_VCARD) as Element)).toEqual(ALICE)
    expect(asked).toEqual(['', 'alice'])
  })

  it('answers item-not-found for an unknown user', async () => {
    const { bob } = await start()
    const err = await errorOf(bob.request(getVcard(`nobody@${DOMAIN}`)))
    expect(err.condition).toBe('item-not-found')
    expect(err.errorType).toBe('cancel')
  })

  it('passes a StanzaError thrown by get through, and hides other failures', async () => {
    const { bob } = await start({
      get: (local) => {
        if (local === 'secret') throw new StanzaError('forbidden')
        throw new Error('database down')
      },
    })
    expect((await errorOf(bob.request(getVcard(`secret@${DOMAIN}`)))).condition).toBe('forbidden')
    expect((await errorOf(bob.request(getVcard(`x@${DOMAIN}`)))).condition).toBe('internal-server-error')
  })

  it('answers not-allowed to a set when no set handler is given', async () => {
    const { bob } = await start()
    const err = await errorOf(
      bob.request(xml('iq', { type: 'set', to: `alice@${DOMAIN}` }, vcardElement({ FN: 'Mallory' }))),
    )
    expect(err.condition).toBe('not-allowed')
    expect(
      (await errorOf(bob.request(xml('iq', { type: 'set', to: DOMAIN }, vcardElement({}))))).condition,
    ).toBe('not-allowed')
  })

  it('hands sets to the set handler, which may refuse with forbidden', async () => {
    const saved: Array<[string, VCard]> = []
    const { bob } = await start({
      set: (local, card, iq) => {
        if (!iq.attrs.from?.startsWith('bob@localhost/')) throw new StanzaError('forbidden')
        saved.push([local, card])
      },
    })
    const res = await bob.request(
      xml('iq', { type: 'set', to: `bob@${DOMAIN}` }, vcardElement({ FN: 'Bob' })),
    )
    expect(res.attrs.type).toBe('result')
    expect(saved).toEqual([['bob', { FN: 'Bob' }]])
  })

  it('refuses sets from others with forbidden', async () => {
    const { srv } = await start({
      set: (_local, _card, iq) => {
        if (!iq.attrs.from?.startsWith('bob@localhost/')) throw new StanzaError('forbidden')
      },
    })
    const mallory = srv.client('mallory@localhost/x')
    const err = await errorOf(
      mallory.request(xml('iq', { type: 'set', to: `bob@${DOMAIN}` }, vcardElement({ FN: 'pwned' }))),
    )
    expect(err.condition).toBe('forbidden')
  })

  it('advertises vcard-temp in disco#info; close() removes the routes and the feature; idempotent', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
    await xmpp.start()
    const bob = srv.client('bob@localhost/pc')
    const features = async () =>
      (
        (
          await bob.request(
            xml(
              'iq',
              { type: 'get', to: DOMAIN },
              xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
            ),
          )
        ).getChild('query') as Element
      )
        .getChildren('feature')
        .map((f) => f.attrs.var)
    const setVcard = () => xml('iq', { type: 'set', to: DOMAIN }, vcardElement({ FN: 'new' }))
    const without = [await errorOf(bob.request(getVcard(DOMAIN))), await errorOf(bob.request(setVcard()))]
    expect(without.map((e) => e.condition)).toEqual(['service-unavailable', 'service-unavailable'])
    expect(await features()).not.toContain(NS_VCARD)

    const sets: string[] = []
    const handle = vcard(xmpp, { get: () => ({ FN: 'x' }), set: (local) => void sets.push(local) })
    expect(await features()).toContain(NS_VCARD)
    await bob.request(setVcard())
    expect(sets).toEqual([''])

    handle.close()
    expect(await features()).not.toContain(NS_VCARD)
    const after = [await errorOf(bob.request(getVcard(DOMAIN))), await errorOf(bob.request(setVcard()))]
    expect(after.map((e) => [e.condition, e.errorType])).toEqual(
      without.map((e) => [e.condition, e.errorType]),
    )
    expect(sets).toEqual(['']) // the set after close() reached no hook
    expect(() => handle.close()).not.toThrow()
  })

  it('throws a fatal SAT_ERR_CONFIG for get or set that is not a function, installing nothing', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const before = xmpp.disco.info('')?.features
    const cases: Array<[unknown, string]> = [
      [{}, 'vcard.get: must be a function, got undefined'],
      [undefined, 'vcard.get: must be a function, got undefined'],
      [{ get: { FN: 'x' } }, 'vcard.get: must be a function, got object'],
      [{ get: () => null, set: true }, 'vcard.set: must be a function, got boolean'],
    ]
    for (const [options, message] of cases) {
      let thrown: unknown
      try {
        vcard(xmpp, options as VcardOptions)
      } catch (err) {
        thrown = err
      }
      expect(isSatelliteError(thrown), message).toBe(true)
      if (!isSatelliteError(thrown)) continue
      expect(thrown.code).toBe('SAT_ERR_CONFIG')
      expect(thrown.fatal).toBe(true)
      expect(thrown.message).toBe(message)
    }
    expect(xmpp.disco.info('')?.features).toEqual(before)
  })
})
