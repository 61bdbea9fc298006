// examples/chatroom as a child process for the e2e tests that run several instances of it
// (chatroom-cluster, chatroom-ejabberd-cluster, chatroom-handover, chatroom-failover-load), and a fresh PostgreSQL
// database for each such test.
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterTest } from '@satellite/test-support/cleanup'
import { expect, inject } from 'vitest'
import type { PostgresDb } from '../../packages/postgres/src/index.js'

const MAIN = fileURLToPath(new URL('../../examples/chatroom/dist/main.js', import.meta.url))

export interface ChatroomInstanceOptions {
  /** XMPP_SERVICE: the server's component port, `xmpp://host:port`. */
  service: string
  domain: string
  secret: string
  /** CHATROOM_DB: the PostgreSQL URL. */
  db: string
  occupantSecret: string
  /** CHATROOM_INSTANCE. */
  name: string
  /** CHATROOM_LEASE_TTL in ms; unset: the chatroom's default. */
  leaseTtl?: number
  /** More environment variables (e.g. DEBUG). */
  env?: Record<string, string>
}

export interface ChatroomInstance {
  proc: ChildProcess
  /** Every line the process wrote to stdout and stderr so far. */
  out: string[]
}

/**
 * Starts examples/chatroom (its dist build) as its own process; resolves once it logs that it is
 * online (20 s at the most). The process is killed (SIGKILL) after the test if still running.
 */
export async function chatroomInstance(o: ChatroomInstanceOptions): Promise<ChatroomInstance> {
  const out: string[] = []
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      XMPP_SERVICE: o.service,
      XMPP_DOMAIN: o.domain,
      XMPP_SECRET: o.secret,
      CHATROOM_DB: o.db,
      CHATROOM_OCCUPANT_SECRET: o.occupantSecret,
      ...(o.leaseTtl !== undefined ? { CHATROOM_LEASE_TTL: String(o.leaseTtl) } : {}),
      CHATROOM_INSTANCE: o.name,
      ...o.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  afterTest(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  for (const s of [proc.stdout, proc.stderr])
    s?.on('data', (d: Buffer) => out.push(...d.toString().split('\n')))
  await expect.poll(() => out.some((l) => l.includes('online as')), { timeout: 20_000 }).toBe(true)
  return { proc, out }
}

/** Creates a new database `<prefix>_<pid>_<now>` on the e2e PostgreSQL; resolves with its URL. */
export async function freshDatabase(admin: PostgresDb, prefix: string): Promise<string> {
  const pgUrl = inject('postgres').PG_URL as string
  const name = `${prefix}_${process.pid}_${Date.now()}`
  await admin.sql.unsafe(`CREATE DATABASE ${name}`)
  const u = new URL(pgUrl)
  u.pathname = `/${name}`
  return u.toString()
}
