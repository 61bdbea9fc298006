// The user directory's service suites (examples/user-directory/test: registration, search with
// paging, commands, limits, the fuzz test, the demo) run again here with every directory on the
// PostgreSQL store, each in a schema of its own: the same suites on both backends. (The suites that
// open SQLite files by path, or test the directory closing the store it opened, stay on SQLite.)
import { expect, inject, it } from 'vitest'
import {
  type PostgresDirectoryStore,
  postgresStore,
} from '../../examples/user-directory/src/postgres-store.js'
import { setup, useStores } from '../../examples/user-directory/test/helpers.js'
import '../../examples/user-directory/test/service.test.js'
import '../../examples/user-directory/test/limits.test.js'
import '../../examples/user-directory/test/fuzz.test.js'
import '../../examples/user-directory/test/demo.test.js'

const PG_URL = inject('postgres').PG_URL as string
let schemas = 0
useStores(() =>
  postgresStore(PG_URL, { schema: `directory_svc_${process.pid}_${Date.now()}_${schemas++}`, max: 2 }),
)

it('the suites above run on PostgreSQL: setup() gives the directory a PostgreSQL store of its own', async () => {
  const s = await setup()
  const store = s.dir.store as PostgresDirectoryStore
  expect(await store.db.schemaVersion('directory')).toBeGreaterThan(0)
  expect(store.db.schema).toMatch(/^directory_svc_/)
})
