import { createHash } from 'node:crypto'
import { SqliteStore } from '@satellite/bridge'
import { type Element, isSatelliteError, xml } from '@satellite/core'
import { toJid } from '@satellite/escaping'
import { afterTest } from '@satellite/test-support/cleanup'
import { fails, registerIq } from '@satellite/test-support/component'
import { sleep } from '@satellite/test-support/wait'
import type { SimulatedClient } from '@satellite/testing'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { legacyBridge, openBridgeStore } from '../src/bot.js'
import { LegacyClient } from '../src/network/adapter.js'
import { parseUsers, startNetwork } from '../src/network/server.js'
import { DOMAIN, SECRET, type Setup, startBridge } from './helpers.js'

const NS_REGISTER = 'jabber:iq:register'
const NS_REACTIONS = 'urn:xmpp:reactions:0'

let t: Setup
beforeEach(async () => {
  t = await startBridge()
})

const register = (username: string, password: string) => registerIq(DOMAIN, username, password)

async function zed(): Promise<{ client: LegacyClient; inbox: string[] }> {
  const inbox: string[] = []
  const client = await LegacyClient.login('127.0.0.1', t.net.port, 'zed', 'pw2', {
    message: (m) => inbox.push(`${m.from}: ${m.text}`),
    disconnected: () => {},
  })
  afterTest(() => client.logout())
  return { client, inbox }
}

const chat = (to: string, body: string, id: string) =>
  xml('message', { to, type: 'chat', id }, xml('body', {}, body))

describe('legacy-bridge through the simulated network', () => {
  it('parses --users', () => {
    expect(parseUsers('alice:pw,zed:a:b')).toEqual({ alice: 'pw', zed: 'a:b' })
    expect(() => parseUsers('alice')).toThrow(/user:password/)
  })

  it('wrong legacy credentials are not-authorized; nothing is stored', async () => {
    const alice = t.srv.client('alice@localhost/phone')
    expect((await fails(alice, register('alice', 'wrong'))).condition).toBe('not-authorized')
    expect((await fails(alice, register('nobody', 'pw'))).condition).toBe('not-authorized')
    expect(t.store.users()).toEqual([])
    expect(t.net.online()).toEqual([])
  })

  it('registers, brings the legacy contacts in, relays messages both ways, unregisters leaving no trace', async () => {
    const z = await zed()
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    expect(t.net.online()).toContain('alice')
    for (const id of ['zed', 'yan', 'Ann Lee']) {
      await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid(id, DOMAIN) })
    }
    await alice.expectStanza(
      (s) => s.name === 'presence' && s.attrs.from === toJid('zed', DOMAIN) && !s.attrs.type,
    )
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('yan', DOMAIN) })

    alice.send(chat(toJid('zed', DOMAIN), 'hello from XMPP ✓', 'a1'))
    await expect
      .poll(() => z.inbox.includes('alice: hello from XMPP ✓'), {
        message: 'zed to get the message',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(t.store.legacyIdOf('alice@localhost', 'zed', 'a1')).toMatch(/^m\d+$/)

    await z.client.send('alice', 'hi alice, multi word text')
    const m = await alice.expectStanza({ name: 'message', body: 'hi alice, multi word text' })
    expect(m.attrs.from).toBe(toJid('zed', DOMAIN))

    // zed's typing comes through (the adapter declares typing).
    await z.client.typing('alice', 'composing')
    await alice.expectStanza(
      (s) => s.getChild('composing', 'http://jabber.org/protocol/chatstates') !== undefined,
    )

    await alice.request(
      xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: NS_REGISTER }, xml('remove'))),
    )
    expect(t.store.counts('alice@localhost')).toEqual({ registrations: 0, contacts: 0, messages: 0 })
    await expect
      .poll(() => !t.net.online().includes('alice'), {
        message: 'the legacy logout',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    await alice.expectStanza({ name: 'presence', type: 'unsubscribed', from: toJid('zed', DOMAIN) })
  })

  it('reactions both ways (the adapter declares them): legacy ids ↔ XMPP ids', async () => {
    const reactions: string[] = []
    const ids: string[] = []
    const z = await LegacyClient.login('127.0.0.1', t.net.port, 'zed', 'pw2', {
      message: (m) => ids.push(m.id),
      reaction: (from, id, emojis) => reactions.push(`${from}:${id}:${emojis.join(',')}`),
      disconnected: () => {},
    })
    afterTest(() => z.logout())
    const alice = t.srv.client('alice@localhost/phone')
    const disco = (
      await alice.request(
        xml(
          'iq',
          { type: 'get', to: DOMAIN },
          xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
        ),
      )
    ).getChild('query')
    expect(disco?.getChildren('feature').map((f) => f.attrs.var)).toContain(NS_REACTIONS)
    await alice.request(register('alice', 'pw'))
    // alice's message, then zed reacts to it on the legacy network.
    alice.send(chat(toJid('zed', DOMAIN), 'lunch?', 'a1'))
    await expect
      .poll(() => ids.length === 1, { message: 'zed to get the message', timeout: 3000, interval: 5 })
      .toBe(true)
    await z.react('alice', ids[0] as string, ['👍', '🍕'])
    const r = await alice.expectStanza((s) => s.getChild('reactions', NS_REACTIONS) !== undefined)
    expect(r.attrs.from).toBe(toJid('zed', DOMAIN))
    expect(r.getChild('reactions', NS_REACTIONS)?.attrs.id).toBe('a1')
    expect(
      r
        .getChild('reactions', NS_REACTIONS)
        ?.getChildren('reaction')
        .map((e) => e.getText()),
    ).toEqual(['👍', '🍕'])
    // zed's message, then alice reacts to it from XMPP.
    const zid = await z.send('alice', 'yes!')
    const m = await alice.expectStanza({ name: 'message', body: 'yes!' })
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'r1' },
        xml('reactions', { xmlns: NS_REACTIONS, id: m.attrs.id }, xml('reaction', {}, '❤️')),
      ),
    )
    await expect
      .poll(() => reactions.includes(`alice:${zid}:❤️`), {
        message: 'zed to get the reaction',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    // The network refuses a reaction to a message that is not between them.
    await expect(z.react('alice', 'm999', ['👎'])).rejects.toThrow(/no message m999/)
  })

  it('avatars (declared): a legacy picture is announced by hash (XEP-0153) and served as the contact vCard PHOTO', async () => {
    const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex')
    const photoOf = (p: Element) => p.getChild('x', 'vcard-temp:x:update')?.getChildText('photo')
    const vcardOf = async (c: SimulatedClient, id: string) =>
      (
        await c.request(
          xml('iq', { type: 'get', to: toJid(id, DOMAIN) }, xml('vCard', { xmlns: 'vcard-temp' })),
        )
      ).getChild('vCard', 'vcard-temp') as Element
    const z = await zed()
    const pic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3])
    await z.client.setAvatar({ type: 'image/png', data: pic })
    await expect(z.client.setAvatar({ type: 'image/png', data: Buffer.alloc(40_000) })).rejects.toThrow(
      /at most/,
    )
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    const zedUp = (s: Element) =>
      s.name === 'presence' && s.attrs.from === toJid('zed', DOMAIN) && s.attrs.type === undefined
    expect(photoOf(await alice.expectStanza(zedUp))).toBe(sha1(pic))
    const card = await vcardOf(alice, 'zed')
    expect(card.getChildText('FN')).toBe('zed')
    expect(card.getChild('PHOTO')?.getChildText('TYPE')).toBe('image/png')
    expect(Buffer.from(card.getChild('PHOTO')?.getChildText('BINVAL') ?? '', 'base64')).toEqual(pic)
    // zed changes it while alice is online.
    const next = Buffer.from('a second picture')
    await z.client.setAvatar({ type: 'image/webp', data: next })
    await alice.expectStanza((s) => zedUp(s) && photoOf(s) === sha1(next))
    // yan is offline: no presence to carry the hash, but the vCard follows.
    expect((await vcardOf(alice, 'yan')).getChild('PHOTO')).toBeUndefined()
    t.net.setAvatar('yan', { type: 'image/gif', data: Buffer.from('GIF89a') })
    let type: string | undefined
    const end = Date.now() + 3000
    while (type === undefined && Date.now() < end) {
      type = (await vcardOf(alice, 'yan')).getChild('PHOTO')?.getChildText('TYPE') ?? undefined
      if (type === undefined) await sleep(10)
    }
    expect(type).toBe('image/gif')
    // Removed: an empty hash.
    await z.client.setAvatar(null)
    await alice.expectStanza((s) => zedUp(s) && photoOf(s) === '')
  })

  it('answers unknown contact, offline contact, unregistered sender and undeclared corrections with errors', async () => {
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    alice.send(chat(toJid('ghost', DOMAIN), 'hi', 'e1'))
    const e1 = await alice.expectStanza({ name: 'message', type: 'error', id: 'e1' })
    expect(e1.getChild('error')?.getChild('item-not-found')).toBeDefined()
    alice.send(chat(toJid('yan', DOMAIN), 'hi', 'e2'))
    const e2 = await alice.expectStanza({ name: 'message', type: 'error', id: 'e2' })
    expect(e2.getChild('error')?.getChild('recipient-unavailable')).toBeDefined()
    expect(e2.getChild('error')?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas')).toBe(
      'yan is offline',
    )
    const bob = t.srv.client('bob@localhost/pc')
    bob.send(chat(toJid('zed', DOMAIN), 'hi', 'e3'))
    const e3 = await bob.expectStanza({ name: 'message', type: 'error', id: 'e3' })
    expect(e3.getChild('error')?.getChild('registration-required')).toBeDefined()
    alice.send(
      xml(
        'message',
        { to: toJid('zed', DOMAIN), type: 'chat', id: 'e4' },
        xml('body', {}, 'fix'),
        xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id: 'e1' }),
      ),
    )
    const e4 = await alice.expectStanza({ name: 'message', type: 'error', id: 'e4' })
    expect(e4.getChild('error')?.getChild('feature-not-implemented')).toBeDefined()
    // The legacy id with a space maps losslessly and still works once online.
    const got: string[] = []
    const ann = await LegacyClient.login('127.0.0.1', t.net.port, 'Ann Lee', 'pw4', {
      message: (m) => got.push(`${m.from}: ${m.text}`),
      disconnected: () => {},
    })
    afterTest(() => ann.logout())
    alice.send(chat(toJid('Ann Lee', DOMAIN), 'hi Ann', 'e5'))
    await expect
      .poll(() => got.includes('alice: hi Ann'), {
        message: 'Ann to get the message',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
  })

  it('a kick from the legacy network is reported, contacts go unavailable, and the session comes back', async () => {
    await zed()
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    await alice.expectStanza(
      (s) => s.name === 'presence' && s.attrs.from === toJid('zed', DOMAIN) && !s.attrs.type,
    )
    t.net.kick('alice', 'maintenance')
    await alice.expectStanza({
      name: 'message',
      from: DOMAIN,
      body: /Disconnected from Legacy IM: maintenance/,
    })
    await alice.expectStanza({ name: 'presence', type: 'unavailable', from: toJid('zed', DOMAIN) })
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: 'Reconnected to Legacy IM.' })
    await expect
      .poll(() => t.net.online().includes('alice'), {
        message: 'alice back on the network',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(t.gw.state('alice@localhost')).toBe('online')
  })

  it('with retry.maxAttempts, a network that stays down ends in a note from the gateway; available presence logs in again', async () => {
    await t.gw.close()
    t.gw = legacyBridge(t.xmpp, {
      legacyPort: t.net.port,
      store: t.store,
      retry: { base: 20, cap: 40, maxAttempts: 2 },
    })
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    const port = t.net.port
    await t.net.close()
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /Disconnected from Legacy IM/ })
    await alice.expectStanza({ name: 'message', from: DOMAIN, body: /Gave up after 2 attempts/ })
    expect(t.gw.state('alice@localhost')).toBe('offline')
    t.net = await startNetwork({ port, users: parseUsers('alice:pw,zed:pw2') })
    alice.send(xml('presence', { to: DOMAIN }))
    // The network counts alice online when it takes the LOGIN, a moment before the bridge reads its answer.
    await expect
      .poll(() => t.gw.state('alice@localhost') === 'online', {
        message: 'the login on presence',
        timeout: 3000,
        interval: 5,
      })
      .toBe(true)
    expect(t.net.online()).toContain('alice')
  })

  it('session follows the user presence: unavailable logs out, available logs in', async () => {
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    alice.send(xml('presence', { to: DOMAIN }))
    alice.send(xml('presence', { to: DOMAIN, type: 'unavailable' }))
    await expect
      .poll(() => !t.net.online().includes('alice'), { message: 'the logout', timeout: 3000, interval: 5 })
      .toBe(true)
    alice.send(xml('presence', { to: DOMAIN }))
    await expect
      .poll(() => t.net.online().includes('alice'), { message: 'the login', timeout: 3000, interval: 5 })
      .toBe(true)
    await alice.expectStanza((s) => s.name === 'presence' && s.attrs.from === DOMAIN && !s.attrs.type)
  })

  it('a new legacy user shows up as a new contact', async () => {
    const alice = t.srv.client('alice@localhost/phone')
    await alice.request(register('alice', 'pw'))
    t.net.addUser('wes', 'pw5')
    await alice.expectStanza({ name: 'presence', type: 'subscribe', from: toJid('wes', DOMAIN) })
  })
})

describe('the network server program', () => {
  it('runs standalone: node dist/network/server.js --port 0 --users ...', async () => {
    const { spawn } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const script = fileURLToPath(new URL('../dist/network/server.js', import.meta.url))
    const child = spawn(process.execPath, [script, '--port', '0', '--users', 'kim:pw'], { stdio: 'pipe' })
    afterTest(() => child.kill())
    let out = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    await expect
      .poll(() => /listening on port \d+/.test(out), {
        message: 'the server to listen',
        timeout: 10_000,
        interval: 5,
      })
      .toBe(true)
    const port = Number(/port (\d+)/.exec(out)?.[1])
    const kim = await LegacyClient.login('127.0.0.1', port, 'kim', 'pw', { disconnected: () => {} })
    expect(await kim.contacts()).toEqual([])
    await kim.logout()
    await expect(LegacyClient.login('127.0.0.1', port, 'kim', 'bad')).rejects.toThrow(/wrong user name/)
  })
})

describe('the bridge program', () => {
  it('fails loudly without a key, with a malformed key, or with another key than the database', async () => {
    const { spawnSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    const db = join(mkdtempSync(join(tmpdir(), 'legacy-bridge-')), 'bridge.db')
    new SqliteStore({ path: db, key: Buffer.alloc(32, 1) }).close()
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [main], {
        env: {
          PATH: process.env.PATH ?? '',
          XMPP_SERVICE: 'xmpp://127.0.0.1:1',
          XMPP_DOMAIN: DOMAIN,
          XMPP_SECRET: SECRET,
          BRIDGE_DB: db,
          ...env,
        },
        encoding: 'utf8',
        timeout: 10_000,
      })
    const none = run({})
    expect(none.status).toBe(1)
    expect(none.stderr).toMatch(/set BRIDGE_KEY/)
    const bad = run({ BRIDGE_KEY: 'short' })
    expect(bad.status).toBe(1)
    expect(bad.stderr).toMatch(/32 bytes/)
    const other = run({ BRIDGE_KEY: Buffer.alloc(32, 2).toString('base64') })
    expect(other.status).toBe(1)
    expect(other.stderr).toMatch(/another BRIDGE_KEY/)
  })

  it('BRIDGE_DB=postgres://…: opened as PostgreSQL (an unreachable one fails loudly, its password never shown)', async () => {
    const { spawnSync } = await import('node:child_process')
    const { fileURLToPath } = await import('node:url')
    const main = fileURLToPath(new URL('../dist/main.js', import.meta.url))
    const run = spawnSync(process.execPath, [main], {
      env: {
        PATH: process.env.PATH ?? '',
        XMPP_SERVICE: 'xmpp://127.0.0.1:1',
        XMPP_DOMAIN: DOMAIN,
        XMPP_SECRET: SECRET,
        BRIDGE_DB: 'postgres://bridge:s3cret-pw@127.0.0.1:1/bridge',
        BRIDGE_KEY: Buffer.alloc(32, 1).toString('base64'),
      },
      encoding: 'utf8',
      timeout: 20_000,
    })
    expect(run.status).toBe(1)
    expect(run.stderr).toMatch(/cannot open postgres:\/\/bridge:\*\*\*@127\.0\.0\.1:1\/bridge/)
    expect(`${run.stdout}${run.stderr}`).not.toContain('s3cret-pw')
  })

  it('legacyBridge() without a store refuses a postgres:// BRIDGE_DB (it opens SQLite files only): openBridgeStore() opens it', async () => {
    vi.stubEnv('BRIDGE_DB', 'postgres://bridge:s3cret-pw@db.example/bridge')
    vi.stubEnv('BRIDGE_KEY', Buffer.alloc(32, 1).toString('base64'))
    afterTest(() => void vi.unstubAllEnvs())
    let err: unknown
    try {
      legacyBridge(t.xmpp)
    } catch (e) {
      err = e
    }
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as Error).message).toMatch(/openBridgeStore/)
    expect((err as Error).message).not.toContain('s3cret-pw')
    const sqlite = await openBridgeStore(':memory:', Buffer.alloc(32, 1))
    expect(sqlite).toBeInstanceOf(SqliteStore)
    await sqlite.close()
  })

  it('the component module (satellite run) opens the store BRIDGE_DB names with BRIDGE_KEY; its cleanup resolves', async () => {
    const { mkdtempSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const { component } = await import('@satellite/core')
    const { default: legacyBridgeModule } = await import('../src/bot.js')
    const db = join(mkdtempSync(join(tmpdir(), 'legacy-bridge-module-')), 'bridge.db')
    vi.stubEnv('BRIDGE_DB', db)
    vi.stubEnv('BRIDGE_KEY', Buffer.alloc(32, 1).toString('base64'))
    afterTest(() => void vi.unstubAllEnvs())
    const xmpp = component({ service: t.srv.url, domain: 'other.localhost', secret: 's' })
    const cleanup = await legacyBridgeModule(xmpp)
    await cleanup()
    // The module created the database with BRIDGE_KEY: it opens with that key and with no other.
    new SqliteStore({ path: db, key: Buffer.alloc(32, 1) }).close()
    expect(() => new SqliteStore({ path: db, key: Buffer.alloc(32, 2) })).toThrow(/another BRIDGE_KEY/)
  })
})
