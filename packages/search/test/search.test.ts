import {
  type Component,
  component,
  type Element,
  isSatelliteError,
  type SatelliteError,
  xml,
} from '@satellite/core'
import { fieldValue, NS_DATA, parseForm, submitForm } from '@satellite/forms'
import {
  NS_RSM,
  paginate,
  parseRsm,
  rsmElement,
  type SearchCriteria,
  type SearchOptions,
  type SearchPaging,
  search,
} from '@satellite/search'
import { fails } from '@satellite/test-support/component'
import { createServer, type SimulatedClient, type TestServer } from '@satellite/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

const DOMAIN = 'search.localhost'
const SECRET = 's3cret'
const NS = 'jabber:iq:search'

interface User {
  jid: string
  first: string
  last: string
  nick: string
  email: string
  online: boolean
}
const directory: User[] = Array.from({ length: 25 }, (_, i) => ({
  jid: `u${String(i).padStart(2, '0')}@example.org`,
  first: i % 2 === 0 ? 'Juliet' : 'Romeo',
  last: 'Capulet',
  nick: `nick${i}`,
  email: `u${i}@example.org`,
  online: i % 3 === 0,
}))

let srv: TestServer
let xmpp: Component
let close: (() => void) | undefined
const seen: Array<[SearchCriteria, SearchPaging]> = []

const query: SearchOptions['query'] = (criteria, paging) => {
  seen.push([criteria, paging])
  const hits = directory.filter(
    (u) =>
      (criteria.first === undefined || u.first === criteria.first) &&
      (criteria.last === undefined || u.last === criteria.last) &&
      (criteria.online === undefined || u.online === criteria.online),
  )
  return paginate(hits, paging, (u) => u.jid, paging.max)
}

beforeAll(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  await xmpp.start()
})
afterAll(async () => {
  await xmpp.stop()
  await srv.close()
})
beforeEach(() => {
  close?.()
  close = undefined
  seen.length = 0
})

function use(options: Partial<SearchOptions>): void {
  close = search(xmpp, { query, ...options }).close
}

/** The error search() throws for `options`: a fatal SAT_ERR_CONFIG, before it installs anything. */
function optionFailure(options: SearchOptions): SatelliteError<string> {
  const before = xmpp.disco.info('')?.features
  try {
    search(xmpp, options)
  } catch (err) {
    if (!isSatelliteError(err)) throw err
    expect(err.code).toBe('SAT_ERR_CONFIG')
    expect(err.fatal).toBe(true)
    expect(xmpp.disco.info('')?.features).toEqual(before)
    return err
  }
  throw new Error('expected an option error')
}

let n = 0
const client = (): SimulatedClient => srv.client(`searcher${++n}@localhost/r`)

const iq = (type: 'get' | 'set', ...children: Element[]) =>
  xml('iq', { type, to: DOMAIN }, xml('query', { xmlns: NS }, ...children))

const set = (children: Record<string, string>) =>
  xml('set', { xmlns: NS_RSM }, ...Object.entries(children).map(([k, v]) => xml(k, {}, v)))

function rsmOf(q: Element) {
  const s = q.getChild('set', NS_RSM)
  if (!s) return undefined
  return {
    first: s.getChildText('first'),
    index: s.getChild('first')?.attrs.index,
    last: s.getChildText('last'),
    count: s.getChildText('count'),
  }
}

describe('search: legacy fields', () => {
  it('answers get with instructions and fields, and set with items', async () => {
    use({ fields: ['first', 'last', 'nick', 'email'], instructions: 'Fill in a field' })
    const c = client()
    const q = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(q.getChildElements().map((e) => e.name)).toEqual([
      'instructions',
      'first',
      'last',
      'nick',
      'email',
    ])

    const res = (await c.request(iq('set', xml('first', {}, 'Romeo'), xml('nick')))).getChild(
      'query',
      NS,
    ) as Element
    const items = res.getChildren('item')
    expect(items).toHaveLength(12)
    expect(items[0]?.toString()).toBe(
      '<item jid="u01@example.org"><first>Romeo</first><last>Capulet</last><nick>nick1</nick><email>u1@example.org</email></item>',
    )
    expect(rsmOf(res)).toBeUndefined() // no RSM asked, everything fits
    expect(seen[0]).toEqual([{ first: 'Romeo' }, { max: 50, from: c.bare }])
  })

  it('advertises jabber:iq:search in disco', async () => {
    use({ fields: ['nick'] })
    const info = await client().request(
      xml(
        'iq',
        { type: 'get', to: DOMAIN },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    )
    expect(
      info
        .getChild('query')
        ?.getChildren('feature')
        .map((f) => f.attrs.var),
    ).toContain(NS)
  })

  it('pages with RSM: max, after, before, last page, index, count only', async () => {
    use({ fields: ['first', 'last'], maxItems: 10 })
    const c = client()
    const page = async (rsm: Record<string, string>) =>
      (await c.request(iq('set', xml('last', {}, 'Capulet'), set(rsm)))).getChild('query', NS) as Element

    const p1 = await page({ max: '5' })
    expect(p1.getChildren('item').map((i) => i.attrs.jid)).toEqual(directory.slice(0, 5).map((u) => u.jid))
    expect(rsmOf(p1)).toEqual({ first: 'u00@example.org', index: '0', last: 'u04@example.org', count: '25' })

    const p2 = await page({ max: '5', after: 'u04@example.org' })
    expect(rsmOf(p2)).toEqual({ first: 'u05@example.org', index: '5', last: 'u09@example.org', count: '25' })

    const back = await page({ max: '3', before: 'u05@example.org' })
    expect(back.getChildren('item').map((i) => i.attrs.jid)).toEqual([
      'u02@example.org',
      'u03@example.org',
      'u04@example.org',
    ])

    const lastPage = await page({ max: '4', before: '' })
    expect(rsmOf(lastPage)).toEqual({
      first: 'u21@example.org',
      index: '21',
      last: 'u24@example.org',
      count: '25',
    })

    const byIndex = await page({ max: '2', index: '10' })
    expect(rsmOf(byIndex)).toEqual({
      first: 'u10@example.org',
      index: '10',
      last: 'u11@example.org',
      count: '25',
    })

    const countOnly = await page({ max: '0' })
    expect(countOnly.getChildren('item')).toHaveLength(0)
    expect(rsmOf(countOnly)).toEqual({ first: null, index: undefined, last: null, count: '25' })

    // max is capped by maxItems; without RSM the response still says there is more.
    const capped = await page({ max: '100' })
    expect(capped.getChildren('item')).toHaveLength(10)
    const noRsm = (await c.request(iq('set', xml('last', {}, 'Capulet')))).getChild('query', NS) as Element
    expect(noRsm.getChildren('item')).toHaveLength(10)
    expect(rsmOf(noRsm)?.count).toBe('25')
  })

  it('rejects malformed requests with the right condition', async () => {
    use({ fields: ['first', 'last'] })
    const c = client()
    const crit = xml('first', {}, 'Romeo')
    const cases: Array<[Element, string, RegExp?]> = [
      [xml('iq', { type: 'set', to: DOMAIN }), 'bad-request'], // no query at all (answered by core)
      [xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: 'urn:other' })), 'service-unavailable'],
      [iq('set'), 'bad-request', /criteria/],
      [iq('set', xml('first'), xml('last')), 'bad-request', /criteria/], // all empty
      [iq('set', xml('nick', {}, 'x')), 'bad-request', /nick/], // not offered
      [iq('set', xml('shoe-size', {}, '42')), 'bad-request', /shoe-size/],
      [iq('set', xml('first', {}, 'a'), xml('first', {}, 'b')), 'bad-request'],
      [iq('set', crit, set({ max: '-1' })), 'bad-request', /max/],
      [iq('set', crit, set({ max: 'ten' })), 'bad-request', /max/],
      [iq('set', crit, set({ max: '1.5' })), 'bad-request', /max/],
      [iq('set', crit, set({ index: '-3' })), 'bad-request', /index/],
      [iq('set', crit, set({ after: 'u01@example.org', before: 'u09@example.org' })), 'bad-request'],
      [iq('set', crit, set({ after: 'u01@example.org', index: '2' })), 'bad-request'],
      [iq('set', crit, set({ after: '' })), 'bad-request'],
      [iq('set', crit, set({ max: '1' }), set({ max: '2' })), 'bad-request'],
      [
        iq('set', crit, xml('set', { xmlns: NS_RSM }, xml('max', {}, '1'), xml('max', {}, '2'))),
        'bad-request',
      ],
      [iq('set', crit, set({ after: 'nobody@example.org' })), 'item-not-found'],
      [iq('set', submitForm({ first: 'Romeo' }, { formType: 'urn:wrong' })), 'bad-request', /FORM_TYPE/],
      [iq('set', submitForm({ first: 'Romeo', color: 'red' }, { formType: NS })), 'bad-request', /color/],
    ]
    for (const [request, condition, text] of cases) {
      const err = await fails(c, request)
      expect(err.condition, request.toString()).toBe(condition)
      if (text) expect(err.text, request.toString()).toMatch(text)
    }
  })

  it('legacy fields only: a form submission gets a form result with labelled columns; no match is an empty query', async () => {
    use({ fields: ['first', 'nick'] })
    const c = client()
    const res = (
      await c.request(iq('set', submitForm({ first: 'Romeo' }, { formType: NS }), set({ max: '1' })))
    ).getChild('query', NS) as Element
    const x = parseForm(res.getChild('x', NS_DATA) as Element)
    expect(x.reported?.map((r) => [r.var, r.label])).toEqual([
      ['jid', 'JID'],
      ['first', 'First Name'],
      ['nick', 'Nickname'],
    ])
    expect(x.items).toHaveLength(1)
    const none = await c.request(iq('set', xml('first', {}, 'Mercutio')))
    expect(none.getChild('query', NS)?.toString()).toBe('<query xmlns="jabber:iq:search"/>')
  })

  it('answers forbidden when allow() refuses', async () => {
    use({ fields: ['first'], allow: () => false })
    const c = client()
    expect((await fails(c, iq('get'))).condition).toBe('forbidden')
    expect((await fails(c, iq('set', xml('first', {}, 'Romeo')))).condition).toBe('forbidden')
    expect(seen).toHaveLength(0)
  })
})

describe('search: extended search (data forms)', () => {
  const form: SearchOptions['form'] = {
    title: 'User directory',
    instructions: 'Search by first name',
    fields: [
      {
        type: 'list-single',
        var: 'first',
        label: 'First name',
        required: true,
        options: [{ value: 'Juliet' }, { value: 'Romeo' }],
      },
      { type: 'boolean', var: 'online', label: 'Online only' },
    ],
  }

  it('sends the form, answers with <reported/> and items, with RSM', async () => {
    use({ form, fields: ['first'] })
    const c = client()
    const q = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(q.getChildElements().map((e) => e.name)).toEqual(['first', 'x'])
    const f = parseForm(q.getChild('x', NS_DATA) as Element)
    expect(f.formType).toBe(NS)
    expect(f.fields.map((x) => x.var)).toEqual(['FORM_TYPE', 'first', 'online'])

    const res = (
      await c.request(
        iq('set', submitForm({ first: 'Juliet', online: 'true' }, { formType: NS }), set({ max: '2' })),
      )
    ).getChild('query', NS) as Element
    const x = parseForm(res.getChild('x', NS_DATA) as Element)
    expect(x.type).toBe('result')
    expect(x.formType).toBe(NS)
    expect(x.reported?.map((r) => [r.var, r.type, r.label])).toEqual([
      ['jid', 'jid-single', 'JID'],
      ['first', 'list-single', 'First name'],
      ['online', 'boolean', 'Online only'],
    ])
    expect(
      x.items.map((row) =>
        row.map((fld) => [fld.var, fieldValue(fld, fld.var === 'online' ? 'boolean' : undefined)]),
      ),
    ).toEqual([
      [
        ['jid', 'u00@example.org'],
        ['first', 'Juliet'],
        ['online', true],
      ],
      [
        ['jid', 'u06@example.org'],
        ['first', 'Juliet'],
        ['online', true],
      ],
    ])
    expect(rsmOf(res)).toEqual({ first: 'u00@example.org', index: '0', last: 'u06@example.org', count: '5' })
    expect(seen[0]?.[0]).toEqual({ first: 'Juliet', online: true })
  })

  it('rejects bad form submissions: missing required, not in options, boolean maybe', async () => {
    use({ form })
    const c = client()
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ online: '1' }, 'not-acceptable', /first/],
      [{ first: 'Tybalt' }, 'not-acceptable', /first/],
      [{ first: 'Romeo', online: 'maybe' }, 'bad-request', /online/],
    ]
    for (const [values, condition, text] of cases) {
      const err = await fails(c, iq('set', submitForm(values, { formType: NS })))
      expect(err.condition, JSON.stringify(values)).toBe(condition)
      expect(err.text).toMatch(text)
    }
    // Form only: legacy criteria are refused.
    expect((await fails(c, iq('set', xml('first', {}, 'Romeo')))).condition).toBe('bad-request')
    expect(optionFailure({ query }).message).toBe(
      'search.fields: is required when there is no `form` (give either or both)',
    )
  })
})

describe('search: the plugin contract', () => {
  const discoFeatures = async (c: SimulatedClient) =>
    (
      (
        await c.request(
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

  it('close() removes both routes and the disco feature; a request then gets what it gets without the plugin; idempotent', async () => {
    const c = client()
    const without = await fails(c, iq('get'))
    expect(without.condition).toBe('service-unavailable')
    expect(await discoFeatures(c)).not.toContain(NS)

    const handle = search(xmpp, { query, fields: ['first'] })
    expect(await discoFeatures(c)).toContain(NS)
    await c.request(iq('set', xml('first', {}, 'Romeo')))
    expect(seen).toHaveLength(1)

    handle.close()
    expect(await discoFeatures(c)).not.toContain(NS)
    for (const request of [iq('get'), iq('set', xml('first', {}, 'Romeo'))]) {
      const after = await fails(c, request)
      expect(after.condition).toBe(without.condition)
      expect(after.errorType).toBe(without.errorType)
    }
    expect(seen).toHaveLength(1) // the set after close() reached no query
    expect(() => handle.close()).not.toThrow()
  })

  it('throws a fatal SAT_ERR_CONFIG naming the option, installing nothing', () => {
    const cases: Array<[Partial<SearchOptions>, string]> = [
      [
        { fields: ['nick', 'a><b' as 'nick'] },
        "search.fields: 'a><b' is not a legacy search field of XEP-0055",
      ],
      [
        { fields: ['nick'], query: undefined as unknown as SearchOptions['query'] },
        'search.query: must be a function, got undefined',
      ],
      [
        { fields: ['nick'], allow: 'yes' as unknown as () => boolean },
        'search.allow: must be a function, got string',
      ],
      [{ fields: ['nick'], maxItems: 0 }, 'search.maxItems: must be at least 1, got 0'],
      [{ fields: ['nick'], maxItems: 2.5 }, 'search.maxItems: must be an integer, got 2.5'],
      [{ fields: ['nick'], maxItems: Number.NaN }, 'search.maxItems: must be an integer, got NaN'],
    ]
    for (const [options, message] of cases) {
      expect(optionFailure({ query, ...options } as SearchOptions).message).toBe(message)
    }
  })
})

describe('rsm helpers', () => {
  it('parses requests and builds responses', () => {
    expect(parseRsm(xml('query', {}))).toBeUndefined()
    expect(parseRsm(xml('query', {}, set({ max: '10', before: '' })))).toEqual({ max: 10, before: '' })
    expect(parseRsm(xml('query', {}, set({ max: ' 3 ', index: '0' })))).toEqual({ max: 3, index: 0 })
    expect(rsmElement({ first: 'a', firstIndex: 0, last: 'c', count: 10 }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><first index="0">a</first><last>c</last><count>10</count></set>',
    )
    expect(rsmElement({ count: 0 }).toString()).toBe(
      '<set xmlns="http://jabber.org/protocol/rsm"><count>0</count></set>',
    )
  })

  it('paginates an in-memory list', () => {
    const all = ['a', 'b', 'c', 'd', 'e']
    const id = (s: string) => s
    expect(paginate(all, { max: 2 }, id)).toEqual({
      items: ['a', 'b'],
      count: 5,
      first: 'a',
      last: 'b',
      firstIndex: 0,
    })
    expect(paginate(all, { max: 2, after: 'd' }, id).items).toEqual(['e'])
    expect(paginate(all, { max: 2, before: 'b' }, id).items).toEqual(['a'])
    expect(paginate(all, { max: 2, before: '' }, id).items).toEqual(['d', 'e'])
    expect(paginate(all, { index: 9 }, id)).toEqual({ items: [], count: 5 })
    expect(paginate(all, undefined, id, 3).items).toEqual(['a', 'b', 'c'])
    expect(() => paginate(all, { after: 'z' }, id)).toThrow(/item-not-found/)
  })
})
