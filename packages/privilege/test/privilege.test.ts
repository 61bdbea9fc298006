import { type Element, StanzaError, xml } from '@satellite/core'
import {
  type Grant,
  NS_FORWARD,
  NS_PRIVILEGE_1,
  NS_PRIVILEGE_2,
  NS_ROSTER,
  PrivilegeError,
  PrivilegeInputError,
  parseGrant,
  privileges,
} from '@satellite/privilege'
import { serverAndComponent } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import type { ServerConnection } from '@satellite/testing'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'privileged.localhost'
const SECRET = 's3cret'

/** An announcement: `privilege` in a message from `from` to the component. */
const announcement = (privilege: Element, from = 'localhost') =>
  xml('message', { from, to: DOMAIN }, privilege)

/** The <privilege/> element of Prosody's mod_privilege (urn:xmpp:privilege:2). */
const prosodyPrivilege = (perms: Record<string, string>, iq?: Record<string, string>) => {
  const p = xml('privilege', { xmlns: NS_PRIVILEGE_2 })
  for (const [access, type] of Object.entries(perms)) p.c('perm', { access, type })
  if (iq !== undefined) {
    const perm = p.c('perm', { access: 'iq' })
    for (const [ns, type] of Object.entries(iq)) perm.c('namespace', { ns, type })
  }
  return p
}

/** What Prosody's mod_privilege sends (urn:xmpp:privilege:2). */
const prosodyAnnouncement = (perms: Record<string, string>, iq?: Record<string, string>) =>
  announcement(prosodyPrivilege(perms, iq))

/** What ejabberd 23.01's mod_privilege sends (urn:xmpp:privilege:1, every access, 'none' included). */
const ejabberdAnnouncement = (roster: string, message: string, presence: string) =>
  xml(
    'message',
    { from: 'localhost', to: DOMAIN, id: '1' },
    xml(
      'privilege',
      { xmlns: NS_PRIVILEGE_1 },
      xml('perm', { access: 'message', type: message }),
      xml('perm', { access: 'roster', type: roster }),
      xml('perm', { access: 'presence', type: presence }),
    ),
  )

async function start(options: Parameters<typeof privileges>[1] = {}) {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, SECRET)
  const priv = privileges(xmpp, options)
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  // alice exists on the embedded server, so iqs to her bare JID are not bounced; the test
  // answers them through the server connection, as the real server would.
  const alice = srv.client('alice@localhost/phone')
  return { srv, xmpp, priv, conn, alice }
}

/** Answers every iq the component sends to `user` with `answer(iq)` (server side). */
function serveIqs(conn: ServerConnection, answer: (iq: Element) => Element | 'forbidden') {
  const seen: Element[] = []
  conn.on('stanza', (iq) => {
    if (iq.name !== 'iq' || (iq.attrs.type !== 'get' && iq.attrs.type !== 'set')) return
    seen.push(iq)
    const out = answer(iq)
    const base = { from: iq.attrs.to, to: iq.attrs.from, id: iq.attrs.id }
    if (out === 'forbidden') {
      conn.send(
        xml(
          'iq',
          { ...base, type: 'error' },
          xml(
            'error',
            { type: 'auth' },
            xml('forbidden', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }),
            xml('text', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' }, 'Insufficient privilege'),
          ),
        ),
      )
    } else conn.send(xml('iq', { ...base, type: 'result' }, out))
  })
  return seen
}

async function announced(priv: ReturnType<typeof privileges>, conn: ServerConnection, msg: Element) {
  const changed = new Promise<Grant | undefined>((resolve) => priv.once('change', (_s, g) => resolve(g)))
  conn.send(msg)
  return changed
}

describe('announcements', () => {
  it('records a Prosody (urn:xmpp:privilege:2) grant with every permission', async () => {
    const { priv, conn } = await start()
    expect(priv.granted()).toBeUndefined()
    const grant = await announced(
      priv,
      conn,
      prosodyAnnouncement(
        { roster: 'both', message: 'outgoing', presence: 'managed_entity' },
        { 'http://jabber.org/protocol/pubsub': 'set' },
      ),
    )
    expect(grant).toMatchObject({
      server: 'localhost',
      namespace: NS_PRIVILEGE_2,
      roster: 'both',
      rosterPush: true,
      message: 'outgoing',
      presence: 'managed_entity',
      iq: { 'http://jabber.org/protocol/pubsub': 'set' },
    })
    expect(priv.granted()).toBe(grant)
    expect(priv.granted('LOCALHOST')).toBe(grant)
    expect(priv.can('localhost', 'roster', 'get')).toBe(true)
    expect(priv.can('localhost', 'roster', 'set')).toBe(true)
    expect(priv.can('localhost', 'message')).toBe(true)
    expect(priv.can('localhost', 'presence')).toBe(true)
    expect(priv.can('localhost', 'presence', 'roster')).toBe(false)
    expect(priv.can('example.org', 'roster', 'get')).toBe(false)
  })

  it('records an ejabberd (urn:xmpp:privilege:1) grant, none values included', async () => {
    const { priv, conn } = await start()
    const grant = await announced(priv, conn, ejabberdAnnouncement('get', 'none', 'roster'))
    expect(grant).toMatchObject({
      namespace: NS_PRIVILEGE_1,
      roster: 'get',
      rosterPush: false, // 0.3 has no forwarded roster pushes
      message: 'none',
      presence: 'roster',
      iq: {},
    })
    expect(priv.can('localhost', 'roster', 'get')).toBe(true)
    expect(priv.can('localhost', 'roster', 'set')).toBe(false)
    expect(priv.can('localhost', 'message')).toBe(false)
  })

  it('replaces the grant on a new announcement and forgets it when the connection drops', async () => {
    const { priv, conn, srv } = await start()
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both' }))
    const changes: Array<[string, string | undefined]> = []
    priv.on('change', (s, g) => changes.push([s, g?.roster]))
    await announced(priv, conn, prosodyAnnouncement({ roster: 'get' }))
    expect(priv.granted()?.roster).toBe('get')
    const next = srv.waitForComponent(DOMAIN, { fresh: true, timeout: 10_000 })
    conn.drop('fin')
    await expect
      .poll(() => changes.length === 2, { message: 'the grant to be forgotten', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(changes).toEqual([
      ['localhost', 'get'],
      ['localhost', undefined],
    ])
    expect(priv.granted()).toBeUndefined()
    // the server announces again after the handshake
    const again = await announced(priv, await next, ejabberdAnnouncement('both', 'outgoing', 'none'))
    expect(again?.namespace).toBe(NS_PRIVILEGE_1)
  })

  it('honours push=false and push on a set-only roster (0.4)', () => {
    const el = (attrs: Record<string, string>) =>
      xml('privilege', { xmlns: NS_PRIVILEGE_2 }, xml('perm', { access: 'roster', ...attrs }))
    expect(parseGrant(el({ type: 'both', push: 'false' }), 'x').rosterPush).toBe(false)
    expect(parseGrant(el({ type: 'get' }), 'x').rosterPush).toBe(true)
    expect(parseGrant(el({ type: 'set', push: 'true' }), 'x').rosterPush).toBe(false)
    // unknown access values (a later version) are skipped, not fatal
    const future = xml(
      'privilege',
      { xmlns: NS_PRIVILEGE_2 },
      xml('perm', { access: 'roster', type: 'get' }),
      xml('perm', { access: 'teleport', type: 'yes' }),
    )
    expect(parseGrant(future, 'x').roster).toBe('get')
  })

  const untrusted: Array<[string, () => Element, RegExp]> = [
    [
      'a user as sender',
      () => announcement(prosodyPrivilege({ roster: 'both' }), 'mallory@localhost'),
      /must be a server domain/,
    ],
    [
      'an untrusted server',
      () => announcement(prosodyPrivilege({ roster: 'both' }), 'evil.example'),
      /not among the trusted servers/,
    ],
  ]

  for (const [what, msg, reason] of untrusted) {
    it(`ignores an announcement from ${what} and keeps the current grant`, async () => {
      const { priv, conn } = await start()
      await announced(priv, conn, ejabberdAnnouncement('get', 'none', 'none'))
      const invalid = new Promise<string>((resolve) => priv.once('invalid', (i) => resolve(i.reason)))
      let changed = false
      priv.on('change', () => {
        changed = true
      })
      conn.send(msg())
      expect(await invalid).toMatch(reason)
      expect(changed).toBe(false)
      expect(priv.granted('localhost')?.roster).toBe('get')
    })
  }

  const malformed: Array<[string, () => Element, RegExp]> = [
    [
      'a repeated access',
      () =>
        announcement(
          xml(
            'privilege',
            { xmlns: NS_PRIVILEGE_2 },
            xml('perm', { access: 'roster', type: 'get' }),
            xml('perm', { access: 'roster', type: 'both' }),
          ),
        ),
      /announced twice/,
    ],
    [
      'an iq permission in :1',
      () =>
        announcement(
          xml(
            'privilege',
            { xmlns: NS_PRIVILEGE_1 },
            xml('perm', { access: 'iq' }, xml('namespace', { ns: 'urn:x', type: 'get' })),
          ),
        ),
      /iq permission does not exist/,
    ],
    [
      'a perm without access',
      () => announcement(xml('privilege', { xmlns: NS_PRIVILEGE_1 }, xml('perm', { type: 'both' }))),
      /without 'access'/,
    ],
    [
      'too many perms',
      () => {
        const p = xml('privilege', { xmlns: NS_PRIVILEGE_2 })
        for (let i = 0; i < 65; i++) p.c('perm', { access: `x${i}`, type: 'none' })
        return announcement(p)
      },
      /more than 64/,
    ],
  ]

  for (const [what, msg, reason] of malformed) {
    it(`rejects a re-announcement with ${what} and drops the old grant`, async () => {
      const { priv, conn } = await start()
      await announced(priv, conn, ejabberdAnnouncement('both', 'outgoing', 'none'))
      const invalid = new Promise<{ reason: string; partial: boolean }>((resolve) =>
        priv.once('invalid', (i) => resolve(i)),
      )
      const changes: Array<[string, Grant | undefined]> = []
      priv.on('change', (s, g) => changes.push([s, g]))
      conn.send(msg())
      const info = await invalid
      expect(info.reason).toMatch(reason)
      expect(info.partial).toBe(false)
      // the stale (wider) grant is not kept: the server's current word is unknown
      expect(changes).toEqual([['localhost', undefined]])
      expect(priv.granted('localhost')).toBeUndefined()
      expect(priv.can('localhost', 'roster', 'set')).toBe(false)
      await expect(priv.rosterSet('alice@localhost', { jid: 'bob@localhost' })).rejects.toMatchObject({
        reason: 'not-granted',
      })
    })
  }

  it('reads an unknown or missing type as none for that perm only, and reports it', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, ejabberdAnnouncement('both', 'outgoing', 'roster'))
    const reports: Array<{ reason: string; partial: boolean }> = []
    priv.on('invalid', (i) => reports.push({ reason: i.reason, partial: i.partial }))
    const grant = await announced(
      priv,
      conn,
      announcement(
        xml(
          'privilege',
          { xmlns: NS_PRIVILEGE_2 },
          xml('perm', { access: 'roster', type: 'everything', push: 'true' }),
          xml('perm', { access: 'message', type: 'outgoing' }),
          xml('perm', { access: 'presence' }),
          xml(
            'perm',
            { access: 'iq' },
            xml('namespace', { ns: 'urn:a', type: 'all' }),
            xml('namespace', { ns: 'urn:b', type: 'get' }),
          ),
        ),
      ),
    )
    expect(grant).toMatchObject({
      roster: 'none',
      rosterPush: false,
      message: 'outgoing',
      presence: 'none',
      iq: { 'urn:b': 'get' },
    })
    expect(priv.can('localhost', 'roster', 'get')).toBe(false)
    expect(priv.can('localhost', 'message')).toBe(true)
    await expect
      .poll(() => reports.length === 3, { message: 'three reports', timeout: 3000, interval: 5 })
      .toBe(true)
    expect(reports).toEqual([
      { reason: expect.stringMatching(/unknown type 'everything' for permission 'roster'/), partial: true },
      { reason: expect.stringMatching(/unknown type '' for permission 'presence'/), partial: true },
      { reason: expect.stringMatching(/unknown iq type 'all' for urn:a/), partial: true },
    ])
    // an unknown push value reads as false (pushes refused), the type stays
    const warned: string[] = []
    const g = parseGrant(
      xml(
        'privilege',
        { xmlns: NS_PRIVILEGE_2 },
        xml('perm', { access: 'roster', type: 'get', push: 'maybe' }),
      ),
      'x',
      64,
      (r) => warned.push(r),
    )
    expect(g).toMatchObject({ roster: 'get', rosterPush: false })
    expect(warned).toEqual([expect.stringMatching(/unknown push 'maybe'/)])
  })

  it("lets a <privilege/> message from an untrusted sender through to the application's routes", async () => {
    const { xmpp, priv, conn } = await start()
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both' }))
    const seen: string[] = []
    xmpp.message({}, (m) => {
      seen.push(String(m.attrs.from))
      return undefined
    })
    const reasons: string[] = []
    priv.on('invalid', (i) => reasons.push(i.reason))
    // a user's message to a contact of the component carrying such a child
    conn.send(
      xml(
        'message',
        { from: 'mallory@localhost/pc', to: `bob@${DOMAIN}`, type: 'chat' },
        xml('body', {}, 'hi'),
        prosodyPrivilege({ roster: 'both' }),
      ),
    )
    conn.send(announcement(prosodyPrivilege({ roster: 'both' }), 'evil.example'))
    await expect
      .poll(() => seen.length === 2, {
        message: 'both messages at the application',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(seen).toEqual(['mallory@localhost/pc', 'evil.example'])
    // a trusted announcement is still kept from the application
    await announced(priv, conn, prosodyAnnouncement({ roster: 'get' }))
    await sleep(50)
    expect(seen).toHaveLength(2)
    expect(priv.granted('localhost')?.roster).toBe('get')
    expect(reasons).toHaveLength(2)
  })

  it('accepts the servers given in options, and any with servers: any', async () => {
    const { priv, conn } = await start({ servers: ['example.org'] })
    const invalid = new Promise<string>((resolve) => priv.once('invalid', (i) => resolve(i.reason)))
    conn.send(prosodyAnnouncement({ roster: 'both' })) // from localhost: not trusted now
    expect(await invalid).toMatch(/localhost is not among/)
    const g = await announced(priv, conn, announcement(prosodyPrivilege({ roster: 'set' }), 'example.org'))
    expect(g?.server).toBe('example.org')
    expect(priv.granted()).toBe(g)
  })

  it("keeps at most maxServers grants of servers admitted by 'any'; the parent domain always has its place", async () => {
    const { priv, conn } = await start({ servers: 'any', maxServers: 1 })
    await announced(priv, conn, announcement(prosodyPrivilege({ roster: 'get' }), 'other.example'))
    const invalid = new Promise<string>((resolve) => priv.once('invalid', (i) => resolve(i.reason)))
    conn.send(announcement(prosodyPrivilege({ roster: 'get' }), 'third.example'))
    expect(await invalid).toMatch(/maxServers/)
    // remote servers cannot take the slot of the component's own server
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both' }))
    expect(priv.grants().map((g) => g.server)).toEqual(['other.example', 'localhost'])
    // a re-announcement of a kept server is still taken
    await announced(priv, conn, announcement(prosodyPrivilege({ roster: 'set' }), 'other.example'))
    expect(priv.granted('other.example')?.roster).toBe('set')
  })

  it('refuses bad options with a typed error (each one: plugin.test.ts); one handle per call', async () => {
    const { xmpp } = await serverAndComponent(DOMAIN, SECRET)
    const config = { code: 'SAT_ERR_CONFIG', fatal: true }
    expect(() => privileges(xmpp, { maxItems: 0 })).toThrow(expect.objectContaining(config))
    expect(() => privileges(xmpp, { timeout: -1 })).toThrow(expect.objectContaining(config))
    expect(() => privileges(xmpp, { servers: [''] })).toThrow(expect.objectContaining(config))
    const a = privileges(xmpp)
    const b = privileges(xmpp)
    expect(b).not.toBe(a)
    a.close()
    b.close()
    expect(privileges(xmpp)).not.toBe(a)
  })
})

describe('roster', () => {
  it('gets a user roster with an iq to her bare JID', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both' }))
    const seen = serveIqs(conn, () =>
      xml(
        'query',
        { xmlns: NS_ROSTER, ver: 'v1' },
        xml('item', { jid: 'bob@localhost', subscription: 'both', name: 'Bob' }, xml('group', {}, 'Friends')),
        xml('item', { jid: 'carol@example.org', subscription: 'none', ask: 'subscribe' }),
      ),
    )
    const items = await priv.rosterGet('alice@localhost')
    expect(items).toEqual([
      { jid: 'bob@localhost', subscription: 'both', name: 'Bob', groups: ['Friends'] },
      { jid: 'carol@example.org', subscription: 'none', ask: 'subscribe' },
    ])
    expect(seen).toHaveLength(1)
    const iq = seen[0] as Element
    expect(iq.attrs).toMatchObject({ type: 'get', to: 'alice@localhost', from: DOMAIN })
    expect(iq.getChild('query', NS_ROSTER)?.children).toEqual([])
  })

  it('sets roster items one per iq, with names, groups and removals', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, ejabberdAnnouncement('set', 'none', 'none'))
    const seen = serveIqs(conn, () => xml('query', { xmlns: NS_ROSTER }))
    await priv.rosterSet('alice@localhost', [
      { jid: 'bob\\40irc@privileged.localhost', name: 'Bob <IRC>', groups: ['IRC', 'Work'] },
      { jid: 'carol@privileged.localhost', subscription: 'both' },
    ])
    await priv.rosterRemove('alice@localhost', 'dave@privileged.localhost')
    expect(seen.map((iq) => iq.attrs.type)).toEqual(['set', 'set', 'set'])
    expect(seen.every((iq) => iq.attrs.to === 'alice@localhost')).toBe(true)
    const items = seen.map((iq) => iq.getChild('query', NS_ROSTER)?.getChildren('item') ?? [])
    expect(items.map((i) => i.length)).toEqual([1, 1, 1])
    const [bob, carol, dave] = items.map((i) => i[0] as Element)
    expect(bob?.attrs).toEqual({ jid: 'bob\\40irc@privileged.localhost', name: 'Bob <IRC>' })
    expect(bob?.getChildren('group').map((g) => g.getText())).toEqual(['IRC', 'Work'])
    expect(carol?.attrs).toEqual({ jid: 'carol@privileged.localhost', subscription: 'both' })
    expect(dave?.attrs).toEqual({ jid: 'dave@privileged.localhost', subscription: 'remove' })
  })

  it('refuses without the permission, naming it and the config line, and sends nothing', async () => {
    const { priv, conn } = await start()
    const seen = serveIqs(conn, () => xml('query', { xmlns: NS_ROSTER }))
    // nothing announced yet
    const none = await priv.rosterGet('alice@localhost').catch((e: unknown) => e)
    expect(none).toBeInstanceOf(PrivilegeError)
    expect(none).toMatchObject({
      reason: 'not-granted',
      condition: 'forbidden',
      permission: 'roster',
      needed: 'get',
      server: 'localhost',
    })
    expect((none as Error).message).toMatch(/announced no privileges/)
    await announced(priv, conn, ejabberdAnnouncement('get', 'none', 'none'))
    const err = await priv.rosterSet('alice@localhost', [{ jid: 'bob@localhost' }]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PrivilegeError)
    expect(err).toBeInstanceOf(StanzaError)
    expect(err).toMatchObject({
      reason: 'not-granted',
      permission: 'roster',
      needed: 'set',
      server: 'localhost',
    })
    const text = (err as Error).message
    expect(text).toContain('granted roster=get')
    expect(text).toContain(`privileged_entities = { ["${DOMAIN}"] = { roster = "set" } }`)
    expect(text).toContain('mod_privilege: { roster: { set:')
    // a user of another server: no grant there
    await expect(priv.rosterGet('alice@example.org')).rejects.toMatchObject({ server: 'example.org' })
    await sleep(50)
    expect(seen).toEqual([])
  })

  it('turns a forbidden answer of the server into a PrivilegeError (refused)', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both' }))
    serveIqs(conn, () => 'forbidden')
    const err = await priv.rosterGet('alice@localhost').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PrivilegeError)
    expect(err).toMatchObject({ reason: 'refused', permission: 'roster' })
    expect((err as Error).message).toContain('Insufficient privilege')
  })

  it('rejects bad input with PrivilegeInputError before sending', async () => {
    const { priv, conn } = await start({ maxItems: 2 })
    await announced(priv, conn, prosodyAnnouncement({ roster: 'both', message: 'outgoing' }))
    const seen = serveIqs(conn, () => xml('query', { xmlns: NS_ROSTER }))
    for (const user of ['alice@localhost/phone', 'localhost', '', 'a b@localhost']) {
      await expect(priv.rosterGet(user)).rejects.toBeInstanceOf(PrivilegeInputError)
    }
    const bad = [
      [{ jid: 'bob@localhost/res' }],
      [{ jid: '' }],
      [{ jid: 'bob@localhost', groups: [''] }],
      [{ jid: 'bob@localhost', subscription: 'all' }],
      [{ jid: 'a@localhost' }, { jid: 'b@localhost' }, { jid: 'c@localhost' }],
    ]
    for (const items of bad) {
      await expect(priv.rosterSet('alice@localhost', items as never)).rejects.toMatchObject({
        code: 'SAT_ERR_PRIVILEGE_INPUT',
      })
    }
    await expect(
      priv.sendAs('alice@localhost', xml('presence', { to: 'bob@localhost' })),
    ).rejects.toBeInstanceOf(PrivilegeInputError)
    await expect(priv.sendAs('alice@localhost', xml('message', {}))).rejects.toBeInstanceOf(
      PrivilegeInputError,
    )
    await sleep(50)
    expect(seen).toEqual([])
  })

  it('answers forwarded roster pushes (0.4) and refuses others', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, prosodyAnnouncement({ roster: 'get' }))
    const pushes: Array<{ user: string; jids: string[] }> = []
    priv.on('rosterPush', (p) => pushes.push({ user: p.user, jids: p.items.map((i) => i.jid) }))
    const push = (from: string, id: string) =>
      conn.send(
        xml(
          'iq',
          { type: 'set', from, to: DOMAIN, id },
          xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'bob@localhost', subscription: 'both' })),
        ),
      )
    push('alice@localhost', 'p1')
    const ok = await conn.expectStanza({ name: 'iq', id: 'p1' })
    expect(ok.attrs.type).toBe('result')
    expect(pushes).toEqual([{ user: 'alice@localhost', jids: ['bob@localhost'] }])
    push('mallory@example.org', 'p2')
    const refused = await conn.expectStanza({ name: 'iq', id: 'p2' })
    expect(refused.attrs.type).toBe('error')
    // a full JID, or the server domain itself, is no user's forwarded push
    for (const [from, id] of [
      ['alice@localhost/phone', 'p3'],
      ['localhost', 'p4'],
    ] as const) {
      push(from, id)
      const answer = await conn.expectStanza({ name: 'iq', id })
      expect(answer.attrs.type).toBe('error')
      expect(answer.getChild('error')?.getChild('service-unavailable')).toBeDefined()
    }
    expect(pushes).toHaveLength(1)
  })

  it("refuses forwarded roster pushes when the server announced push='false'", async () => {
    const { priv, conn } = await start()
    await announced(
      priv,
      conn,
      announcement(
        xml(
          'privilege',
          { xmlns: NS_PRIVILEGE_2 },
          xml('perm', { access: 'roster', type: 'both', push: 'false' }),
        ),
      ),
    )
    expect(priv.granted()?.rosterPush).toBe(false)
    const pushes: unknown[] = []
    priv.on('rosterPush', (p) => pushes.push(p))
    conn.send(
      xml(
        'iq',
        { type: 'set', from: 'alice@localhost', to: DOMAIN, id: 'np1' },
        xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'bob@localhost' })),
      ),
    )
    const answer = await conn.expectStanza({ name: 'iq', id: 'np1' })
    expect(answer.attrs.type).toBe('error')
    expect(pushes).toEqual([])
  })
})

describe('messages on behalf of a user', () => {
  for (const [label, ns, announce] of [
    ['Prosody (:2)', NS_PRIVILEGE_2, prosodyAnnouncement({ message: 'outgoing' })],
    ['ejabberd (:1)', NS_PRIVILEGE_1, ejabberdAnnouncement('none', 'outgoing', 'none')],
  ] as const) {
    it(`wraps the message in privilege/forwarded with the server's namespace: ${label}`, async () => {
      const { priv, conn } = await start()
      await announced(priv, conn, announce)
      await priv.sendAs(
        'alice@localhost',
        xml('message', { to: 'bob@example.org', type: 'chat', id: 'm1' }, xml('body', {}, 'hello & bye')),
      )
      const wrapper = await conn.expectStanza({ name: 'message', to: 'localhost' })
      expect(wrapper.attrs.from).toBe(DOMAIN)
      const forwarded = wrapper.getChild('privilege', ns)?.getChild('forwarded', NS_FORWARD)
      const inner = forwarded?.getChild('message')
      expect(inner?.attrs).toEqual({
        xmlns: 'jabber:client',
        from: 'alice@localhost',
        to: 'bob@example.org',
        type: 'chat',
        id: 'm1',
      })
      expect(inner?.getChildText('body')).toBe('hello & bye')
    })
  }

  it('refuses without message=outgoing', async () => {
    const { priv, conn } = await start()
    await announced(priv, conn, ejabberdAnnouncement('both', 'none', 'none'))
    const err = await priv
      .sendAs('alice@localhost', xml('message', { to: 'bob@localhost' }))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PrivilegeError)
    expect(err).toMatchObject({ permission: 'message', needed: 'outgoing' })
    expect((err as Error).message).toContain('message = "outgoing"')
  })

  it('waits for a grant, or times out with a PrivilegeError', async () => {
    const { priv, conn } = await start()
    await expect(priv.waitForGrant('localhost', { timeout: 50 })).rejects.toMatchObject({ reason: 'timeout' })
    const waiting = priv.waitForGrant()
    conn.send(prosodyAnnouncement({ roster: 'both' }))
    expect((await waiting).roster).toBe('both')
  })
})
