// The service's disco#items: public rooms in memory and persistent ones in the store, paged with
// XEP-0059.
import { xml } from '@satellite/core'
import { MemoryStore } from '@satellite/muc'
import { describe, expect, it } from 'vitest'
import { DOMAIN, errorOf, join, refused, setup } from './helpers.js'

const ITEMS = 'http://jabber.org/protocol/disco#items'
const RSM = 'http://jabber.org/protocol/rsm'

function itemsIq(set?: Record<string, string>) {
  const q = xml('query', { xmlns: ITEMS })
  if (set !== undefined) {
    q.children.push(xml('set', { xmlns: RSM }, ...Object.entries(set).map(([k, v]) => xml(k, {}, v))))
  }
  return xml('iq', { type: 'get', to: DOMAIN }, q)
}

describe("the service's disco#items", () => {
  it('lists persistent rooms of the store that were never loaded since start, and not the hidden ones', async () => {
    const store = new MemoryStore()
    store.saveRoom({
      jid: `stored@${DOMAIN}`,
      config: { persistent: true, name: 'Stored room' },
      subject: '',
      created: 1,
    })
    store.saveRoom({
      jid: `secret@${DOMAIN}`,
      config: { persistent: true, public: false },
      subject: '',
      created: 1,
    })
    const s = await setup({ store })
    await join(s.client('alice@localhost/a'), `live@${DOMAIN}`, 'Alice')
    const res = await s.client('bob@localhost/b').request(itemsIq())
    expect(
      res
        .getChild('query')
        ?.getChildren('item')
        .map((i) => i.attrs),
    ).toEqual([
      { jid: `live@${DOMAIN}`, name: 'live' },
      { jid: `stored@${DOMAIN}`, name: 'Stored room' },
    ])
    expect(res.getChild('query')?.getChild('set', RSM)).toBeUndefined()
  })

  it('pages both ways: max, after, before, an empty before for the last page, with first, last and count', async () => {
    const s = await setup({ limits: { discoPage: 3 } })
    const alice = s.client('alice@localhost/a')
    const names = ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7']
    for (const n of names) await join(alice, `${n}@${DOMAIN}`, 'Alice')
    const bob = s.client('bob@localhost/b')
    const page = async (set?: Record<string, string>) => {
      const q = (await bob.request(itemsIq(set))).getChild('query')
      const rsm = q?.getChild('set', RSM)
      return {
        jids: q?.getChildren('item').map((i) => i.attrs.jid?.split('@')[0]),
        first: rsm?.getChildText('first')?.split('@')[0],
        last: rsm?.getChildText('last')?.split('@')[0],
        count: rsm?.getChildText('count'),
      }
    }
    expect(await page()).toEqual({ jids: ['a1', 'a2', 'a3'], first: 'a1', last: 'a3', count: '7' })
    expect(await page({ max: '2', after: `a3@${DOMAIN}` })).toEqual({
      jids: ['a4', 'a5'],
      first: 'a4',
      last: 'a5',
      count: '7',
    })
    expect(await page({ max: '100', after: `a5@${DOMAIN}` })).toMatchObject({ jids: ['a6', 'a7'] })
    expect(await page({ max: '2', before: '' })).toMatchObject({ jids: ['a6', 'a7'] })
    expect(await page({ max: '2', before: `a6@${DOMAIN}` })).toMatchObject({ jids: ['a4', 'a5'] })
    expect(await page({ max: '0' })).toEqual({ jids: [], first: undefined, last: undefined, count: '7' })
    const err = await refused(bob, itemsIq({ max: 'many' }))
    expect(errorOf(err).condition).toBe('bad-request')
  })
})
