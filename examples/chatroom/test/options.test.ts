// Every CHATROOM_* variable: accepted values, and each problem listed in one fatal SAT_ERR_CONFIG.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isSatelliteError } from '@satellite/core'
import { afterAll, describe, expect, it } from 'vitest'
import { chatroomConfigFromEnv, optionsFromEnv } from '../src/options.js'

const dir = mkdtempSync(join(tmpdir(), 'chatroom-options-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const SECRET = 'a secret of 16+ characters'

function problems(fn: () => unknown): string[] {
  try {
    fn()
  } catch (err) {
    expect(isSatelliteError(err)).toBe(true)
    expect(err).toMatchObject({ code: 'SAT_ERR_CONFIG', fatal: true })
    return (err as Error).message.split('\n')
  }
  throw new Error('expected a configuration error')
}

describe('optionsFromEnv', () => {
  it('several instances: CHATROOM_LEASE_TTL (PostgreSQL only, 1000 to 3600000 ms) and CHATROOM_INSTANCE', () => {
    const pg = 'postgres://chat:pw@127.0.0.1:5432/chat'
    expect(
      optionsFromEnv({
        CHATROOM_DB: pg,
        CHATROOM_OCCUPANT_SECRET: SECRET,
        CHATROOM_LEASE_TTL: '15000',
        CHATROOM_INSTANCE: 'chat-1',
      }),
    ).toMatchObject({ db: pg, leaseTtl: 15000, instance: 'chat-1' })
    expect(problems(() => optionsFromEnv({ CHATROOM_DB: ':memory:', CHATROOM_LEASE_TTL: '15000' }))).toEqual([
      'CHATROOM_LEASE_TTL: several instances need CHATROOM_DB=postgres://… (a shared database)',
    ])
    expect(
      problems(() =>
        optionsFromEnv({
          CHATROOM_DB: pg,
          CHATROOM_OCCUPANT_SECRET: SECRET,
          CHATROOM_LEASE_TTL: '10',
          CHATROOM_INSTANCE: 'a b',
        }),
      ),
    ).toEqual([
      'CHATROOM_LEASE_TTL: expected milliseconds from 1000 to 3600000, got "10"',
      'CHATROOM_INSTANCE: 1 to 200 printable characters without spaces',
    ])
  })

  it('defaults: ./chatroom.db, which needs an occupant secret', () => {
    expect(optionsFromEnv({ CHATROOM_OCCUPANT_SECRET: SECRET })).toEqual({
      db: './chatroom.db',
      occupantSecret: SECRET,
    })
    expect(problems(() => optionsFromEnv({}))).toEqual([
      expect.stringMatching(/^CHATROOM_OCCUPANT_SECRET: is not set .*occupant ids must stay the same/),
    ])
  })

  it(':memory: runs without an occupant secret; every option read', () => {
    expect(
      optionsFromEnv({
        CHATROOM_DB: ':memory:',
        CHATROOM_NAME: ' Our rooms ',
        CHATROOM_LOCK_NEW_ROOMS: 'yes',
        CHATROOM_ARCHIVE_DAYS: '30',
      }),
    ).toEqual({ db: ':memory:', name: 'Our rooms', lockNewRooms: true, archiveDays: 30 })
    expect(optionsFromEnv({ CHATROOM_DB: ':memory:', CHATROOM_LOCK_NEW_ROOMS: '0' }).lockNewRooms).toBe(false)
  })

  it('a postgres:// URL: no directory to check, the occupant secret required, a bad URL refused without its password', () => {
    const url = 'postgres://chat:pw-s3cret@127.0.0.1:5432/chat'
    expect(optionsFromEnv({ CHATROOM_DB: url, CHATROOM_OCCUPANT_SECRET: SECRET })).toEqual({
      db: url,
      occupantSecret: SECRET,
    })
    expect(optionsFromEnv({ CHATROOM_DB: 'postgresql:///chat', CHATROOM_OCCUPANT_SECRET: SECRET }).db).toBe(
      'postgresql:///chat',
    )
    expect(problems(() => optionsFromEnv({ CHATROOM_DB: url }))).toEqual([
      expect.stringMatching(/^CHATROOM_OCCUPANT_SECRET: is not set /),
    ])
    const bad = problems(() =>
      optionsFromEnv({
        CHATROOM_DB: 'postgres://chat:pw-s3cret@[::1/chat',
        CHATROOM_OCCUPANT_SECRET: SECRET,
      }),
    )
    expect(bad).toEqual(['CHATROOM_DB: not a valid PostgreSQL URL (postgres://user:password@host/db)'])
    expect(bad.join('')).not.toContain('pw-s3cret')
  })

  it('reads the occupant secret from a file, trimmed', () => {
    const file = join(dir, 'occupant-secret')
    writeFileSync(file, `${SECRET}\n`)
    expect(optionsFromEnv({ CHATROOM_DB: join(dir, 'x.db'), CHATROOM_OCCUPANT_SECRET_FILE: file })).toEqual({
      db: join(dir, 'x.db'),
      occupantSecret: SECRET,
    })
  })

  it('lists every problem at once, one a line', () => {
    expect(
      problems(() =>
        optionsFromEnv({
          CHATROOM_DB: join(dir, 'missing', 'chat.db'),
          CHATROOM_OCCUPANT_SECRET: 'short',
          CHATROOM_NAME: '   ',
          CHATROOM_LOCK_NEW_ROOMS: 'maybe',
          CHATROOM_ARCHIVE_DAYS: '-1',
          CHATROOM_ADMINS: 'alice@localhost,not a jid',
        }),
      ),
    ).toEqual([
      `CHATROOM_DB: the directory of ${JSON.stringify(join(dir, 'missing', 'chat.db'))} does not exist (${join(dir, 'missing')})`,
      'CHATROOM_OCCUPANT_SECRET: must be at least 16 characters, got 5',
      'CHATROOM_NAME: is only spaces',
      'CHATROOM_LOCK_NEW_ROOMS: expected true or false (1/0, yes/no), got "maybe"',
      'CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got "-1"',
      'CHATROOM_ADMINS: expected bare JIDs separated by commas (at most 1000), got "not a jid"',
    ])
  })

  it('the secret and its file together, an unreadable file, a non-number of days', () => {
    expect(
      problems(() =>
        optionsFromEnv({
          CHATROOM_OCCUPANT_SECRET: SECRET,
          CHATROOM_OCCUPANT_SECRET_FILE: join(dir, 'nope'),
          CHATROOM_ARCHIVE_DAYS: 'ten',
        }),
      ),
    ).toEqual([
      'CHATROOM_OCCUPANT_SECRET: set either CHATROOM_OCCUPANT_SECRET or CHATROOM_OCCUPANT_SECRET_FILE, not both',
      'CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got "ten"',
    ])
    expect(problems(() => optionsFromEnv({ CHATROOM_OCCUPANT_SECRET_FILE: join(dir, 'nope') }))).toEqual([
      `CHATROOM_OCCUPANT_SECRET_FILE: cannot read ${join(dir, 'nope')}: ENOENT`,
    ])
  })
})

describe('chatroomConfigFromEnv', () => {
  it('the connection and the options together', () => {
    expect(
      chatroomConfigFromEnv({ XMPP_DOMAIN: 'chat.localhost', XMPP_SECRET: 's', CHATROOM_DB: ':memory:' }),
    ).toEqual({
      connection: { service: 'xmpp://127.0.0.1:5347', domain: 'chat.localhost', secret: 's' },
      options: { db: ':memory:' },
    })
  })

  it("core's problems and the chatroom's in one error", () => {
    expect(problems(() => chatroomConfigFromEnv({ CHATROOM_ARCHIVE_DAYS: '0' }))).toEqual([
      'XMPP_DOMAIN: is not set: the component domain, e.g. echo.localhost',
      'XMPP_SECRET: is not set (set XMPP_SECRET or XMPP_SECRET_FILE)',
      expect.stringMatching(/^CHATROOM_OCCUPANT_SECRET: is not set/),
      'CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got "0"',
    ])
  })
})
