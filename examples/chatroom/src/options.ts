// The chatroom's settings from the environment: every CHATROOM_* variable checked, every problem
// listed in one fatal SAT_ERR_CONFIG (as core's configFromEnv does for XMPP_*).
import { existsSync, readFileSync, statSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { configFromEnv, ErrorCodes, isSatelliteError, SatelliteError } from '@satellite/core'
import { isPostgresUrl } from '@satellite/postgres'

/** What the chatroom service needs besides the component's connection. */
export interface ChatroomOptions {
  /**
   * Where persistent rooms and the archive live: an SQLite file, `':memory:'`, or a PostgreSQL
   * URL (`postgres://user:password@host:5432/db`) that several instances may share (default
   * `./chatroom.db`).
   */
  db: string
  /** Secret of the XEP-0421 occupant ids (at least 16 characters); random when undefined (`:memory:` only). */
  occupantSecret?: string
  /** The service's name in disco#info (default 'Chatrooms'). */
  name?: string
  /** New rooms stay locked until their owner submits the configuration form (default false: instant rooms). */
  lockNewRooms?: boolean
  /** Archived messages older than this many days are deleted (default: kept, at most 10,000 per room). */
  archiveDays?: number
  /**
   * Several instances on one domain (docs/scaling.md; PostgreSQL only): the lease's time to live
   * in ms. Unset: one instance.
   */
  leaseTtl?: number
  /** This instance's id in the cluster (default: a random UUID). */
  instance?: string
  /** Service admins (bare JIDs, lower case): owners of every room (@satellite/muc's affiliation source). */
  admins?: string[]
}

// A bare JID as an operator writes it: local@domain, no resource, no spaces or controls.
const BARE_JID = /^[^@/\s\p{Cc}]{1,1023}@[^@/\s\p{Cc}]{1,1023}$/u
const TRUE = /^(1|true|yes|on)$/i
const FALSE = /^(0|false|no|off)$/i

/** A variable's value, undefined when unset or empty. */
function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v === '' ? undefined : v
}

/** `NAME` or the contents of the file `NAME_FILE` (trimmed), never both. */
function secretOf(env: NodeJS.ProcessEnv, name: string, problems: string[]): string | undefined {
  const direct = value(env, name)
  const file = value(env, `${name}_FILE`)
  if (direct !== undefined && file !== undefined) {
    problems.push(`${name}: set either ${name} or ${name}_FILE, not both`)
    return undefined
  }
  if (file === undefined) return direct
  try {
    const s = readFileSync(file, 'utf8').trim()
    if (s === '') problems.push(`${name}_FILE: ${file} is empty`)
    return s || undefined
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
    problems.push(`${name}_FILE: cannot read ${file}: ${reason}`)
    return undefined
  }
}

/**
 * The chatroom's options from `env`, or a fatal `SAT_ERR_CONFIG` listing every problem, one a
 * line (`CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got "x"`).
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): ChatroomOptions {
  const problems = chatroomProblems(env)
  if (problems.problems.length > 0) {
    throw new SatelliteError(ErrorCodes.CONFIG, problems.problems.join('\n'), { fatal: true })
  }
  return problems.options
}

/**
 * The component's connection (`XMPP_SERVICE`, `XMPP_DOMAIN`, `XMPP_SECRET`/`_FILE`) and the
 * chatroom's options, with the problems of both in one fatal `SAT_ERR_CONFIG`.
 */
export function chatroomConfigFromEnv(env: NodeJS.ProcessEnv = process.env): {
  connection: ReturnType<typeof configFromEnv>
  options: ChatroomOptions
} {
  const problems: string[] = []
  let connection: ReturnType<typeof configFromEnv> | undefined
  try {
    connection = configFromEnv(env)
  } catch (err) {
    if (!isSatelliteError(err) || err.code !== ErrorCodes.CONFIG) throw err
    problems.push(...err.message.split('\n'))
  }
  const own = chatroomProblems(env)
  problems.push(...own.problems)
  if (problems.length > 0 || connection === undefined) {
    throw new SatelliteError(ErrorCodes.CONFIG, problems.join('\n'), { fatal: true })
  }
  return { connection, options: own.options }
}

function chatroomProblems(env: NodeJS.ProcessEnv): { options: ChatroomOptions; problems: string[] } {
  const problems: string[] = []
  const db = value(env, 'CHATROOM_DB') ?? './chatroom.db'
  if (isPostgresUrl(db)) {
    // Checked here, shown without its password; the server is reached at start.
    if (!URL.canParse(db))
      problems.push('CHATROOM_DB: not a valid PostgreSQL URL (postgres://user:password@host/db)')
  } else if (db !== ':memory:') {
    const dir = dirname(resolve(db))
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      problems.push(`CHATROOM_DB: the directory of ${JSON.stringify(db)} does not exist (${dir})`)
    }
  }
  const options: ChatroomOptions = { db }

  const secret = secretOf(env, 'CHATROOM_OCCUPANT_SECRET', problems)
  if (secret !== undefined) {
    if ([...secret].length < 16) {
      problems.push(`CHATROOM_OCCUPANT_SECRET: must be at least 16 characters, got ${[...secret].length}`)
    } else options.occupantSecret = secret
  } else if (db !== ':memory:' && value(env, 'CHATROOM_OCCUPANT_SECRET_FILE') === undefined) {
    problems.push(
      'CHATROOM_OCCUPANT_SECRET: is not set (set CHATROOM_OCCUPANT_SECRET or CHATROOM_OCCUPANT_SECRET_FILE, ' +
        'at least 16 characters): with a database, occupant ids must stay the same across restarts',
    )
  }

  const name = value(env, 'CHATROOM_NAME')
  if (name !== undefined) {
    if (name.trim() === '') problems.push('CHATROOM_NAME: is only spaces')
    else options.name = name.trim()
  }

  const lock = value(env, 'CHATROOM_LOCK_NEW_ROOMS')
  if (lock !== undefined) {
    if (TRUE.test(lock)) options.lockNewRooms = true
    else if (FALSE.test(lock)) options.lockNewRooms = false
    else
      problems.push(
        `CHATROOM_LOCK_NEW_ROOMS: expected true or false (1/0, yes/no), got ${JSON.stringify(lock)}`,
      )
  }

  const days = value(env, 'CHATROOM_ARCHIVE_DAYS')
  if (days !== undefined) {
    const n = Number(days)
    if (days.trim() === '' || !Number.isFinite(n) || n <= 0) {
      problems.push(`CHATROOM_ARCHIVE_DAYS: expected a positive number of days, got ${JSON.stringify(days)}`)
    } else options.archiveDays = n
  }

  const ttl = value(env, 'CHATROOM_LEASE_TTL')
  if (ttl !== undefined) {
    const n = Number(ttl)
    if (!Number.isInteger(n) || n < 1000 || n > 3_600_000) {
      problems.push(
        `CHATROOM_LEASE_TTL: expected milliseconds from 1000 to 3600000, got ${JSON.stringify(ttl)}`,
      )
    } else if (!isPostgresUrl(options.db)) {
      problems.push('CHATROOM_LEASE_TTL: several instances need CHATROOM_DB=postgres://… (a shared database)')
    } else options.leaseTtl = n
  }
  const instance = value(env, 'CHATROOM_INSTANCE')
  if (instance !== undefined) {
    if (!/^[\x21-\x7e]{1,200}$/.test(instance)) {
      problems.push('CHATROOM_INSTANCE: 1 to 200 printable characters without spaces')
    } else options.instance = instance
  }

  const admins = value(env, 'CHATROOM_ADMINS')
  if (admins !== undefined) {
    const list = admins
      .split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '')
    const bad = list.filter((a) => !BARE_JID.test(a))
    if (bad.length > 0 || list.length === 0 || list.length > 1000) {
      problems.push(
        `CHATROOM_ADMINS: expected bare JIDs separated by commas (at most 1000), got ${JSON.stringify(bad[0] ?? admins).slice(0, 100)}`,
      )
    } else options.admins = list.map((a) => a.toLowerCase())
  }
  return { options, problems }
}
