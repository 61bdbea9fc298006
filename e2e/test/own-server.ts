// A server of the test file's own (e2e/setup/servers.ts's ownServer: its directory, free ports,
// scripts/xmpp-server settings such as EJABBERD_BALANCING or PROSODY_CONFLICT) and a connection
// to the e2e project's PostgreSQL, for the cluster tests: started before the file's tests,
// stopped after them.
import { afterAll, beforeAll, inject } from 'vitest'
import { openPostgres, type PostgresDb } from '../../packages/postgres/src/index.js'
import { ownServer, type ServerInfo } from '../setup/servers.js'

/** Registers the file's beforeAll/afterAll; `ready` gets the server's settings and the database. */
export function ownServerAndDatabase(
  kind: 'prosody' | 'ejabberd',
  env: Record<string, string>,
  ready: (server: ServerInfo, admin: PostgresDb) => void,
): void {
  let own: { info: ServerInfo; stop(): void } | undefined
  let admin: PostgresDb | undefined
  beforeAll(async () => {
    own = await ownServer(kind, env)
    admin = await openPostgres(inject('postgres').PG_URL as string)
    ready(own.info, admin)
  }, 120_000)
  afterAll(async () => {
    await admin?.close()
    own?.stop()
  })
}
