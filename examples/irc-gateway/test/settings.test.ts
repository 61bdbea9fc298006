// The settings store (IRC_GATEWAY_DB) and its key (IRC_GATEWAY_KEY / IRC_GATEWAY_KEY_FILE): sealed
// passwords, a wrong key refused at open, the bound per user, and the archive of SqliteMucStore in
// the same file, both surviving a reopen.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { xml } from '@satellite/core'
import { SqliteMucStore } from '@satellite/muc'
import { afterTest } from '@satellite/test-support/cleanup'
import { describe, expect, it } from 'vitest'
import { keyFromEnv, SettingsStore } from '../src/settings.js'
import { storageFromEnv } from '../src/storage.js'

const KEY = randomBytes(32)

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'irc-settings-'))
  afterTest(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function open(path: string, key = KEY, maxRowsPerUser?: number) {
  const archive = new SqliteMucStore({ path })
  let settings: SettingsStore
  try {
    settings = new SettingsStore({
      db: archive.db,
      key,
      ...(maxRowsPerUser === undefined ? {} : { maxRowsPerUser }),
    })
  } catch (err) {
    archive.close()
    throw err
  }
  return { archive, settings }
}

describe('keyFromEnv', () => {
  it('reads IRC_GATEWAY_KEY as hex or base64, IRC_GATEWAY_KEY_FILE as text or 32 raw bytes; none: undefined', () => {
    expect(keyFromEnv({ IRC_GATEWAY_KEY: KEY.toString('hex') })).toEqual(KEY)
    expect(keyFromEnv({ IRC_GATEWAY_KEY: KEY.toString('base64') })).toEqual(KEY)
    const dir = tempDir()
    writeFileSync(join(dir, 'raw'), KEY)
    writeFileSync(join(dir, 'text'), `${KEY.toString('base64')}\n`)
    expect(keyFromEnv({ IRC_GATEWAY_KEY_FILE: join(dir, 'raw') })).toEqual(KEY)
    expect(keyFromEnv({ IRC_GATEWAY_KEY_FILE: join(dir, 'text') })).toEqual(KEY)
    expect(keyFromEnv({})).toBeUndefined()
  })

  it('refuses a malformed key or an unreadable file with a fatal SAT_ERR_IRC_KEY that does not quote the key', () => {
    const secret = 'not-a-key-but-secret'
    let err: unknown
    try {
      keyFromEnv({ IRC_GATEWAY_KEY: secret })
    } catch (e) {
      err = e
    }
    expect(err).toMatchObject({ code: 'SAT_ERR_IRC_KEY', fatal: true })
    expect((err as Error).message).toContain('IRC_GATEWAY_KEY must be 32 bytes')
    expect((err as Error).message).not.toContain(secret)
    expect(() => keyFromEnv({ IRC_GATEWAY_KEY_FILE: '/nonexistent/key' })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_KEY',
        message: 'IRC_GATEWAY_KEY_FILE: cannot read /nonexistent/key: ENOENT',
      }),
    )
  })
})

describe('SettingsStore', () => {
  it('keeps nick, SASL and the password per (user, server), the password sealed at rest', () => {
    const { archive, settings } = open(':memory:')
    afterTest(() => archive.close())
    settings.put('alice@x', 'libera', { nick: 'alice_', password: 'hunter2', sasl: false })
    settings.put('alice@x', 'oftc', { sasl: true })
    expect(settings.get('alice@x', 'libera')).toEqual({ nick: 'alice_', password: 'hunter2', sasl: false })
    expect(settings.get('alice@x', 'oftc')).toEqual({ sasl: true })
    expect(settings.get('bob@x', 'libera')).toBeUndefined()
    const row = archive.db.prepare("SELECT password FROM irc_settings WHERE server = 'libera'").get() as {
      password: string
    }
    expect(row.password).toMatch(/^v1:/)
    expect(row.password).not.toContain('hunter2')
    expect(settings.remove('alice@x', 'oftc')).toBe(true)
    expect(settings.remove('alice@x', 'oftc')).toBe(false)
    expect(settings.count('alice@x')).toBe(1)
  })

  it('binds a sealed password to its user and server: a row copied elsewhere is SAT_ERR_IRC_KEY', () => {
    const { archive, settings } = open(':memory:')
    afterTest(() => archive.close())
    settings.put('alice@x', 'libera', { password: 'hunter2', sasl: true })
    archive.db.exec(
      "INSERT INTO irc_settings (user, server, nick, password, sasl, updated) SELECT 'mallory@x', server, nick, password, sasl, updated FROM irc_settings",
    )
    expect(() => settings.get('mallory@x', 'libera')).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_KEY',
        message: 'the stored password of mallory@x for libera cannot be read: configure it again',
      }),
    )
  })

  it('bounds the servers one user has settings for (SAT_ERR_IRC_LIMIT); updating a row is not a new one', () => {
    const { archive, settings } = open(':memory:', KEY, 2)
    afterTest(() => archive.close())
    settings.put('u@x', 'a', { sasl: true })
    settings.put('u@x', 'b', { sasl: true })
    settings.put('u@x', 'b', { nick: 'again', sasl: true })
    expect(() => settings.put('u@x', 'c', { sasl: true })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_LIMIT',
        message: 'settings for at most 2 servers per user',
      }),
    )
    settings.put('v@x', 'c', { sasl: true })
    expect(settings.count('u@x')).toBe(2)
    expect(() => new SettingsStore({ db: archive.db, key: KEY, maxRowsPerUser: 0 })).toThrow(
      expect.objectContaining({ code: 'SAT_ERR_CONFIG' }),
    )
  })

  it('shares the file with the rooms archive: both survive a reopen; another key is refused at open', () => {
    const path = join(tempDir(), 'gw.db')
    const first = open(path)
    first.settings.put('alice@x', 'libera', { nick: 'al', password: 'pw', sasl: true })
    const message = xml('message', { type: 'groupchat' }, xml('body', {}, 'kept'))
    first.archive.append(
      '#c%libera@gw',
      { id: 'm1', at: 1000, nick: 'bob', occupantId: 'o1', jid: 'bob%libera@gw', message },
      100,
    )
    first.archive.close()

    const again = open(path)
    expect(again.settings.get('alice@x', 'libera')).toEqual({ nick: 'al', password: 'pw', sasl: true })
    const page = again.archive.query('#c%libera@gw', { max: 10 })
    expect(page?.messages.map((m) => m.message.getChildText('body'))).toEqual(['kept'])
    again.archive.close()

    expect(() => open(path, randomBytes(32))).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_KEY',
        fatal: true,
        message: 'the database was first used with another IRC_GATEWAY_KEY; refusing to use it',
      }),
    )
  })
})

describe('storageFromEnv (what main.ts opens)', () => {
  it('opens nothing without IRC_GATEWAY_DB; with it, one file for the archive and the settings', () => {
    expect(storageFromEnv({ IRC_GATEWAY_KEY: KEY.toString('hex') })).toBeUndefined()
    const path = join(tempDir(), 'sub', 'gw.db')
    const storage = storageFromEnv({ IRC_GATEWAY_DB: path, IRC_GATEWAY_KEY: KEY.toString('base64') })
    afterTest(() => storage?.close())
    storage?.settings.put('a@x', 's', { nick: 'a', sasl: true })
    expect(storage?.store.db.prepare('SELECT nick FROM irc_settings').get()).toEqual({ nick: 'a' })
  })

  it('refuses to start without a key, with another key, or on a file that is not a database: fatal typed errors', () => {
    const dir = tempDir()
    const path = join(dir, 'gw.db')
    expect(() => storageFromEnv({ IRC_GATEWAY_DB: path })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_KEY',
        fatal: true,
        message: expect.stringMatching(/^IRC_GATEWAY_DB is set: set IRC_GATEWAY_KEY/),
      }),
    )
    storageFromEnv({ IRC_GATEWAY_DB: path, IRC_GATEWAY_KEY: KEY.toString('hex') })?.close()
    const other = randomBytes(32).toString('hex')
    expect(() => storageFromEnv({ IRC_GATEWAY_DB: path, IRC_GATEWAY_KEY: other })).toThrow(
      expect.objectContaining({ code: 'SAT_ERR_IRC_KEY', fatal: true }),
    )
    writeFileSync(join(dir, 'junk.db'), 'this is not SQLite '.repeat(100))
    expect(() => storageFromEnv({ IRC_GATEWAY_DB: join(dir, 'junk.db'), IRC_GATEWAY_KEY: other })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_IRC_STORE',
        fatal: true,
        message: expect.stringContaining('cannot open'),
      }),
    )
  })
})
