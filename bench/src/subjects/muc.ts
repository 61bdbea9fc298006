// Subject "muc": a chatroom service, `@satellite/muc` on a Satellite component, for the muc scenarios
// (bench/src/muc.ts drives it). Every room is persistent (so a room left empty stays: "idle persistent
// room"); the limits are raised so that 1,000 occupants fit in one room and the message rate limit does not
// throttle the fan-out measurement. BENCH_MUC_DB: a SQLite file (SqliteMucStore) instead of the default
// MemoryStore. A message to `bench@domain` answers with the process's memory after a full GC (needs
// node --expose-gc), as `<body>{"heap":…,"rss":…}</body>`.
import { component, configFromEnv, type Stanza, xml } from '@satellite/core'
import { muc, SqliteMucStore } from '@satellite/muc'

const dbPath = process.env.BENCH_MUC_DB
const store = dbPath ? new SqliteMucStore({ path: dbPath }) : undefined
const xmpp = component(configFromEnv())
const rooms = muc(xmpp, {
  isRoom: (local) => local !== 'bench',
  defaults: { persistent: true, historyLength: 20 },
  limits: {
    rooms: 100_000,
    occupantsPerRoom: 10_000,
    messageRate: { burst: 1_000_000, perSecond: 1_000_000 },
  },
  // The whole pre-built archive is kept (the default, 10,000 per room, would prune it at start).
  archive: { maxPerRoom: 100_000_000 },
  occupantIdSecret: 'bench-occupant-id-secret',
  ...(store ? { store } : {}),
})

const gc = (globalThis as { gc?: () => void }).gc
xmpp.message({ to: 'bench' }, (msg: Stanza) => {
  gc?.()
  gc?.()
  const mem = { heap: process.memoryUsage().heapUsed, rss: process.memoryUsage.rss(), gc: gc !== undefined }
  void xmpp.send(
    xml(
      'message',
      { from: msg.attrs.to ?? '', to: msg.attrs.from ?? '', type: 'chat', id: msg.attrs.id ?? '' },
      xml('body', {}, JSON.stringify(mem)),
    ),
  )
})

process.once('SIGTERM', () => {
  rooms.close()
  store?.close()
  process.exit(0)
})

await xmpp.start()
