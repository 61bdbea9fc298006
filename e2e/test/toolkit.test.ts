// The protocol toolkit through real servers and real clients: forms-based in-band
// registration (XEP-0077) and search (XEP-0055 with XEP-0059 paging) answered by a
// Satellite component, asked by @xmpp/client and by slixmpp.

import type { Component } from '@satellite/core'
import { submitForm } from '@satellite/forms'
import { type Registration, registration } from '@satellite/register'
import { paginate, search } from '@satellite/search'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { info, KINDS, type Kind, realClient, satellite, slixmpp } from './helpers.js'

const REG_FORM = {
  formType: 'jabber:iq:register',
  instructions: 'Choose a nickname',
  fields: [
    { type: 'text-single', var: 'nick', label: 'Nickname', required: true, maxLength: 32 },
    { type: 'list-single', var: 'color', label: 'Colour', options: [{ value: 'red' }, { value: 'blue' }] },
  ],
} as const

/** A tiny directory: registration stores a nick per JID, search finds them by nick prefix. */
function directory(xmpp: Component): Map<string, Registration> {
  const people = new Map<string, Registration>()
  registration(xmpp, {
    form: REG_FORM,
    hooks: {
      get: (jid) => people.get(jid) ?? null,
      register: (jid, values) => void people.set(jid, values),
      remove: (jid) => void people.delete(jid),
    },
  })
  search(xmpp, {
    instructions: 'Find people by nickname',
    form: { fields: [{ type: 'text-single', var: 'nick', label: 'Nickname' }] },
    maxItems: 10,
    query: (criteria, paging) => {
      const prefix = String(criteria.nick ?? '').toLowerCase()
      const hits = [...people.entries()]
        .filter(([, r]) =>
          String(r.nick ?? '')
            .toLowerCase()
            .startsWith(prefix),
        )
        .map(([jid, r]) => ({ jid, nick: String(r.nick) }))
        .sort((a, b) => a.jid.localeCompare(b.jid))
      return paginate(hits, paging, (h) => h.jid, paging.max)
    },
  })
  return people
}

const q = (xmlns: string, ...children: unknown[]) => clientXml('query', { xmlns }, ...children)

describe.each(KINDS)('%s: registration and search with real clients', (kind: Kind) => {
  it('alice registers with the form, bob finds her with paging, alice cancels and bob no longer finds her', async () => {
    const xmpp = satellite(kind)
    const people = directory(xmpp)
    await xmpp.start()
    const domain = info(kind).XMPP_ECHO_DOMAIN as string
    const alice = await realClient(kind, 'alice')
    const bob = await realClient(kind, 'bob')

    // alice asks for the registration form, then submits it
    const form = await alice.request(clientXml('iq', { type: 'get', to: domain }, q('jabber:iq:register')))
    const x = form.getChild('query').getChild('x', 'jabber:x:data')
    expect(x.attrs.type).toBe('form')
    expect(x.getChildren('field').map((f: { attrs: { var: string } }) => f.attrs.var)).toEqual([
      'FORM_TYPE',
      'nick',
      'color',
    ])
    const bad = await alice
      .request(
        clientXml(
          'iq',
          { type: 'set', to: domain },
          q('jabber:iq:register', submitForm({ color: 'green' }, { formType: 'jabber:iq:register' })),
        ),
      )
      .catch((e: { condition?: string }) => e)
    expect((bad as { condition?: string }).condition).toBe('not-acceptable')
    const ok = await alice.request(
      clientXml(
        'iq',
        { type: 'set', to: domain },
        q(
          'jabber:iq:register',
          submitForm({ nick: 'Alice', color: 'red' }, { formType: 'jabber:iq:register' }),
        ),
      ),
    )
    expect(ok.attrs.type).toBe('result')
    expect(people.get(`alice@${info(kind).XMPP_DOMAIN}`)?.nick).toBe('Alice')
    // a few more entries so that paging has something to page
    for (let i = 0; i < 5; i++) people.set(`al${i}@elsewhere.example`, { nick: `Al ${i}` })

    // bob searches "al" with a page size of 2, then asks for the next page
    const ask = (set: unknown) =>
      bob.request(
        clientXml(
          'iq',
          { type: 'set', to: domain },
          q('jabber:iq:search', submitForm({ nick: 'al' }, { formType: 'jabber:iq:search' }), set),
        ),
      )
    const page1 = await ask(
      clientXml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, clientXml('max', {}, '2')),
    )
    const results = page1.getChild('query').getChild('x', 'jabber:x:data')
    expect(results.attrs.type).toBe('result')
    expect(results.getChildren('item')).toHaveLength(2)
    const rsm = page1.getChild('query').getChild('set', 'http://jabber.org/protocol/rsm')
    expect(rsm.getChildText('count')).toBe('6')
    const page2 = await ask(
      clientXml(
        'set',
        { xmlns: 'http://jabber.org/protocol/rsm' },
        clientXml('max', {}, '10'),
        clientXml('after', {}, rsm.getChildText('last')),
      ),
    )
    const all = [
      ...results.getChildren('item'),
      ...page2.getChild('query').getChild('x', 'jabber:x:data').getChildren('item'),
    ]
    const jids = all.map(
      (item: {
        getChildren(n: string): Array<{ attrs: { var: string }; getChildText(n: string): string }>
      }) =>
        item
          .getChildren('field')
          .find((f) => f.attrs.var === 'jid')
          ?.getChildText('value'),
    )
    expect(jids).toHaveLength(6)
    expect(jids).toContain(`alice@${info(kind).XMPP_DOMAIN}`)

    // alice cancels her registration; bob searches again
    await alice.request(
      clientXml('iq', { type: 'set', to: domain }, q('jabber:iq:register', clientXml('remove'))),
    )
    const after = await ask(undefined)
    const remaining = after.getChild('query').getChild('x', 'jabber:x:data').getChildren('item')
    expect(remaining).toHaveLength(5)
  })

  it('an independent client (slixmpp) registers with the form and gets typed errors for bad input', async () => {
    const xmpp = satellite(kind)
    const people = directory(xmpp)
    await xmpp.start()
    const domain = info(kind).XMPP_ECHO_DOMAIN as string
    const form = submitForm({ nick: 'Bob' }, { formType: 'jabber:iq:register' }).toString()
    const reg = await slixmpp(kind, [
      'iq',
      domain,
      'set',
      `<query xmlns="jabber:iq:register">${form}</query>`,
    ])
    expect(reg).toMatchObject({ ok: true, type: 'result' })
    expect(people.get(`bob@${info(kind).XMPP_DOMAIN}`)?.nick).toBe('Bob')
    const unknown = await slixmpp(kind, [
      'iq',
      domain,
      'set',
      '<query xmlns="jabber:iq:register"><shoe-size>44</shoe-size></query>',
    ])
    expect(unknown).toMatchObject({ ok: false, condition: 'bad-request' })
    const noCriteria = await slixmpp(kind, ['iq', domain, 'set', '<query xmlns="jabber:iq:search"/>'])
    expect(noCriteria).toMatchObject({ ok: false, condition: 'bad-request' })
  })
})
