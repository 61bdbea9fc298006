// The user directory example (examples/user-directory) through real Prosody and ejabberd:
// alice registers with the form (@xmpp/client), bob searches and finds her (@xmpp/client
// with the form, slixmpp with legacy fields), alice deletes her entry and bob no longer
// finds her.

import { submitForm } from '@satellite/forms'
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { directory } from '../../examples/user-directory/src/service.js'
import { info, KINDS, type Kind, realClient, satellite, slixmpp } from './helpers.js'

const q = (xmlns: string, ...children: unknown[]) => clientXml('query', { xmlns }, ...children)

type El = {
  attrs: Record<string, string>
  getChild(n: string, ns?: string): El
  getChildren(n: string): El[]
  getChildText(n: string): string | null
}

function formJids(answer: El): string[] {
  return answer
    .getChild('query')
    .getChild('x', 'jabber:x:data')
    .getChildren('item')
    .map(
      (item) =>
        item
          .getChildren('field')
          .find((f) => f.attrs.var === 'jid')
          ?.getChildText('value') ?? '',
    )
}

describe.each(KINDS)('%s: the user directory with real clients', (kind: Kind) => {
  it('alice registers, bob finds her (form and slixmpp legacy), alice deletes her entry, bob no longer finds her', async () => {
    const s = info(kind)
    const domain = s.XMPP_DIRECTORY_DOMAIN as string
    const xmpp = satellite(kind, { domain, secret: s.XMPP_DIRECTORY_SECRET as string })
    const dir = directory(xmpp, { name: 'E2E directory' })
    afterTest(async () => dir.close())
    await xmpp.start()
    const alice = await realClient(kind, 'alice')
    const bob = await realClient(kind, 'bob')
    const aliceJid = `alice@${s.XMPP_DOMAIN}`

    // disco: directory/user identity, search and register features
    const disco = await bob.request(
      clientXml('iq', { type: 'get', to: domain }, q('http://jabber.org/protocol/disco#info')),
    )
    const identities = disco
      .getChild('query')
      .getChildren('identity')
      .map((i: El) => `${i.attrs.category}/${i.attrs.type}`)
    expect(identities).toContain('directory/user')
    const features = disco
      .getChild('query')
      .getChildren('feature')
      .map((f: El) => f.attrs.var)
    expect(features).toEqual(
      expect.arrayContaining([
        'jabber:iq:search',
        'jabber:iq:register',
        'http://jabber.org/protocol/commands',
      ]),
    )

    // alice registers with the form; her email stays private
    const form = await alice.request(clientXml('iq', { type: 'get', to: domain }, q('jabber:iq:register')))
    expect(form.getChild('query').getChild('x', 'jabber:x:data').attrs.type).toBe('form')
    const ok = await alice.request(
      clientXml(
        'iq',
        { type: 'set', to: domain },
        q(
          'jabber:iq:register',
          submitForm(
            {
              nick: 'Alice',
              fullname: 'Alice Liddell',
              locality: 'Oxford',
              email: 'alice@example.org',
              publish_email: false,
            },
            { formType: 'jabber:iq:register' },
          ),
        ),
      ),
    )
    expect(ok.attrs.type).toBe('result')
    expect((await dir.store.get(aliceJid))?.nick).toBe('Alice')

    // bob searches with the form (prefixes, any field)
    const find = (criteria: Record<string, string>) =>
      bob.request(
        clientXml(
          'iq',
          { type: 'set', to: domain },
          q('jabber:iq:search', submitForm(criteria, { formType: 'jabber:iq:search' })),
        ),
      )
    expect(formJids(await find({ text: 'lidd oxf' }))).toEqual([aliceJid])
    expect(formJids(await find({ text: 'example.org' }))).toEqual([]) // unpublished email
    expect(formJids(await find({ text: "'; DROP TABLE entries; --" }))).toEqual([])

    // bob with slixmpp and legacy fields
    const legacy = await slixmpp(kind, [
      'iq',
      domain,
      'set',
      '<query xmlns="jabber:iq:search"><nick>ali</nick></query>',
    ])
    expect(legacy).toMatchObject({ ok: true, type: 'result' })
    expect(String(legacy.xml)).toContain(aliceJid)
    expect(String(legacy.xml)).not.toContain('alice@example.org')

    // alice deletes her entry; bob no longer finds her
    await alice.request(
      clientXml('iq', { type: 'set', to: domain }, q('jabber:iq:register', clientXml('remove'))),
    )
    expect(formJids(await find({ text: 'lidd' }))).toEqual([])
    const gone = await slixmpp(kind, [
      'iq',
      domain,
      'set',
      '<query xmlns="jabber:iq:search"><nick>ali</nick></query>',
    ])
    expect(gone).toMatchObject({ ok: true, type: 'result' })
    expect(String(gone.xml)).not.toContain(aliceJid)
  })
})
