// XEP-0356 through real Prosody (mod_privilege of prosody-modules, urn:xmpp:privilege:2) and
// ejabberd 23.01 (mod_privilege, urn:xmpp:privilege:1), both configured by scripts/xmpp-server
// to grant privileged.localhost roster=both, message=outgoing, presence=managed_entity: the
// announcement arrives and a message sent on alice's behalf reaches bob from alice's bare JID
// on both. On Prosody a roster set lands in alice's real roster (pushed to her client), a
// roster get reads it back and slixmpp sees it in bob's roster. ejabberd 23.01 answers every
// privileged roster set with internal-server-error (its bug #3942, fixed in later releases:
// mod_roster looks up its options for the component's domain); a roster get works there.

import { xml } from '@satellite/core'
import { NS_PRIVILEGE_1, NS_PRIVILEGE_2, NS_ROSTER, PrivilegeError, privileges } from '@satellite/privilege'
import { xml as clientXml } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import { info, KINDS, type Kind, realClient, satellite, slixmpp } from './helpers.js'

type El = ReturnType<typeof clientXml>

const NAMESPACE: Record<Kind, string> = { prosody: NS_PRIVILEGE_2, ejabberd: NS_PRIVILEGE_1 }

async function privileged(kind: Kind) {
  const s = info(kind)
  const domain = s.XMPP_PRIVILEGED_DOMAIN as string
  expect(domain, 'scripts/xmpp-server prints XMPP_PRIVILEGED_DOMAIN').toBe('privileged.localhost')
  const xmpp = satellite(kind, { domain, secret: s.XMPP_PRIVILEGED_SECRET as string })
  const priv = privileges(xmpp)
  await xmpp.start()
  const grant = await priv.waitForGrant(s.XMPP_DOMAIN as string, { timeout: 5000 })
  return { s, domain, xmpp, priv, grant }
}

describe.each(KINDS)('%s: XEP-0356 privileged entity', (kind: Kind) => {
  it('announces the grant in the namespace the server speaks', async () => {
    const { s, grant } = await privileged(kind)
    expect(s.XMPP_PRIVILEGED_GRANTS).toBe('roster=both,message=outgoing,presence=managed_entity')
    expect(grant).toMatchObject({
      server: 'localhost',
      namespace: NAMESPACE[kind],
      roster: 'both',
      message: 'outgoing',
      presence: 'managed_entity',
    })
  })

  it("sends a message on alice's behalf: bob gets it from alice's bare JID", async () => {
    const { priv } = await privileged(kind)
    const bob = await realClient(kind, 'bob', 'priv')
    await priv.sendAs(
      'alice@localhost',
      xml('message', { to: bob.jid, type: 'chat' }, xml('body', {}, 'sent by the component')),
    )
    const msg = await bob.expect(
      (el) => el.is('message') && el.getChildText('body') === 'sent by the component',
    )
    expect(msg.attrs.from).toBe('alice@localhost')
  })

  it('the other component domains get no privileges: a roster get is refused with a PrivilegeError', async () => {
    const s = info(kind)
    const xmpp = satellite(kind, {
      domain: s.XMPP_DIRECTORY_DOMAIN as string,
      secret: s.XMPP_DIRECTORY_SECRET as string,
    })
    const priv = privileges(xmpp)
    await xmpp.start()
    // not announced: refused before anything is sent
    await expect(priv.rosterGet('alice@localhost')).rejects.toMatchObject({ reason: 'not-granted' })
    // and the server itself refuses the iq too (asked without the client-side check)
    const answer = await xmpp
      .request(xml('iq', { type: 'get', to: 'alice@localhost' }, xml('query', { xmlns: NS_ROSTER })))
      .catch((e: unknown) => e)
    expect(answer).toMatchObject({
      condition: expect.stringMatching(/forbidden|not-allowed|service-unavailable/),
    })
    expect(answer).not.toBeInstanceOf(PrivilegeError)
  })
})

describe('prosody: privileged roster', () => {
  const kind: Kind = 'prosody'
  it("a roster set lands in alice's roster (pushed to her client), a roster get reads it back, a remove takes it out", async () => {
    const { domain, priv } = await privileged(kind)
    const alice = await realClient(kind, 'alice', 'priv')
    const contact = `bob\\40irc@${domain}`
    await priv.rosterSet('alice@localhost', [{ jid: contact, name: 'Bob (IRC)', groups: ['IRC'] }])

    const isPush = (el: El) =>
      el.is('iq') &&
      el.attrs.type === 'set' &&
      el.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === contact
    const push = await alice.expect(isPush)
    expect(push.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.name).toBe('Bob (IRC)')

    const mine = await alice.request(
      clientXml('iq', { type: 'get' }, clientXml('query', { xmlns: NS_ROSTER })),
    )
    const item = (mine.getChild('query', NS_ROSTER)?.getChildren('item') ?? []).find(
      (i: El) => i.attrs.jid === contact,
    )
    expect(item?.attrs.name).toBe('Bob (IRC)')
    expect(item?.getChildText('group')).toBe('IRC')

    const seen = await priv.rosterGet('alice@localhost')
    expect(seen.find((i) => i.jid === contact)).toMatchObject({ name: 'Bob (IRC)', groups: ['IRC'] })

    await priv.rosterRemove('alice@localhost', contact)
    expect((await priv.rosterGet('alice@localhost')).some((i) => i.jid === contact)).toBe(false)
  })

  it("slixmpp (an independent client) sees the item in bob's roster", async () => {
    const { domain, priv } = await privileged(kind)
    const contact = `carol\\40irc@${domain}`
    await priv.rosterSet('bob@localhost', [{ jid: contact, name: 'Carol', groups: ['IRC'] }])
    try {
      const report = await slixmpp(kind, ['iq', 'bob@localhost', 'get', `<query xmlns='${NS_ROSTER}'/>`])
      expect(report.ok).toBe(true)
      expect(String(report.xml)).toContain(`jid="${contact}"`)
      expect(String(report.xml)).toContain('name="Carol"')
    } finally {
      await priv.rosterRemove('bob@localhost', contact)
    }
  })
})

describe('ejabberd 23.01: privileged roster', () => {
  const kind: Kind = 'ejabberd'
  it('a roster get reads what alice added herself; a roster set fails with internal-server-error (ejabberd bug #3942)', async () => {
    const { domain, priv } = await privileged(kind)
    const alice = await realClient(kind, 'alice', 'priv')
    const contact = `dave\\40irc@${domain}`
    await alice.request(
      clientXml(
        'iq',
        { type: 'set' },
        clientXml('query', { xmlns: NS_ROSTER }, clientXml('item', { jid: contact, name: 'Dave' })),
      ),
    )
    try {
      expect((await priv.rosterGet('alice@localhost')).find((i) => i.jid === contact)).toMatchObject({
        name: 'Dave',
      })
      const err = await priv
        .rosterSet('alice@localhost', [{ jid: contact, name: 'Dave 2' }])
        .catch((e: unknown) => e)
      expect(err).toMatchObject({ condition: 'internal-server-error' })
      expect(err).not.toBeInstanceOf(PrivilegeError)
    } finally {
      await alice.request(
        clientXml(
          'iq',
          { type: 'set' },
          clientXml(
            'query',
            { xmlns: NS_ROSTER },
            clientXml('item', { jid: contact, subscription: 'remove' }),
          ),
        ),
      )
    }
  })
})
