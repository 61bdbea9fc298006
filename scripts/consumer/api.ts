// The consumer check's type program (scripts/check-packages): the public API of every package, as a
// user's project sees it once the packed tarballs are installed. It is type-checked with `strict`,
// `skipLibCheck: false` (so every .d.ts the packages ship is checked too), once with
// module/moduleResolution nodenext and once with moduleResolution bundler. Never run.
//
// Each `@ts-expect-error` below marks a wrong usage that must not compile: if it compiles, tsc reports
// the directive as unused (TS2578) and the check fails.

import { commandError, commands, NS_COMMANDS, stage } from '@satellite/adhoc'
import {
  type BridgeOptions,
  bridge,
  type Credentials,
  type LegacyContact,
  type NetworkAdapter,
  type SessionEvents,
  SqliteStore,
} from '@satellite/bridge'
import { type CheckReport, type ComponentModule, checkConnection, runModule } from '@satellite/cli'
import {
  type Component,
  component,
  configFromEnv,
  isSatelliteError,
  type JID,
  optionError,
  type Plugin,
  type PluginHandle,
  type ReconnectInfo,
  type Stanza,
  StanzaError,
  type Status,
  xml,
} from '@satellite/core'
import { escapeLocal, fromJid, toJid } from '@satellite/escaping'
import { defineForm, type FormValues, formElement, parseForm } from '@satellite/forms'
import { muc } from '@satellite/muc'
import { PostgresMucStore, type PostgresMucStoreOptions } from '@satellite/muc/postgres'
import {
  isPostgresUrl,
  openPostgres,
  type PostgresDb,
  PostgresError,
  type PostgresErrorCode,
  type Migration as PostgresMigration,
  type PostgresOptions,
  redactUrl,
} from '@satellite/postgres'
import { type PrivilegeOptions, privileges } from '@satellite/privilege'
import { type Registration, registration } from '@satellite/register'
import { search } from '@satellite/search'
import { type Db, type Migration, openDatabase } from '@satellite/sqlite'
import { createServer, StanzaErrorResponse, type TestServer } from '@satellite/testing'
import { parseVcard, vcard } from '@satellite/vcard'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const assertType = <T extends true>(_: T): void => {}

// --- @satellite/core: a component, its events, routing and request() --------------------------------

const xmpp: Component = component({
  service: 'xmpp://127.0.0.1:5347',
  domain: 'bot.localhost',
  secret: 'secret-42',
})
component({ ...configFromEnv(), name: 'Echo bot', reconnect: { base: 500 }, queue: { max: 100 } })

xmpp.on('status', (status, info) => {
  assertType<Equal<typeof status, Status>>(true)
  assertType<Equal<typeof info, ReconnectInfo | undefined>>(true)
})
xmpp.on('online', (address) => assertType<Equal<typeof address, JID>>(true))
xmpp.once('stopped', ({ error }) => error?.message)
xmpp.on('error', (err) => err.message)
xmpp.off('dropped', ({ data, error }) => `${data}${error.code}`)

// @ts-expect-error an unknown event name
xmpp.on('statuss', () => {})
// @ts-expect-error a wrong handler signature: 'online' gives a JID, not a number
xmpp.on('online', (address: number) => address)
// @ts-expect-error a misspelt option
component({ service: 'xmpp://127.0.0.1:5347', domain: 'bot.localhost', secret: 'secret-42', reconect: false })
// @ts-expect-error a required option missing
component({ service: 'xmpp://127.0.0.1:5347', domain: 'bot.localhost' })

const unroute: () => void = xmpp.message({ type: ['chat', 'normal'], to: '*' }, (msg: Stanza) => {
  const body = msg.getChildText('body')
  if (body === null) return
  return xmpp.send(
    xml('message', { from: msg.attrs.to, to: msg.attrs.from, type: 'chat' }, xml('body', {}, body)),
  )
})
unroute()
xmpp.presence({ type: 'subscribe' }, (p) =>
  xmpp.send(xml('presence', { to: p.from ?? '', type: 'subscribed' })),
)
xmpp.iqGet({ xmlns: 'jabber:iq:last', name: 'query', to: '' }, () =>
  xml('query', { xmlns: 'jabber:iq:last', seconds: '0' }),
)
xmpp.iqSet({ xmlns: 'urn:example:admin' }, async (iq) => {
  if (iq.fromJid?.domain !== 'localhost') throw new StanzaError('forbidden', 'admins only')
  throw new StanzaError('not-allowed', { text: 'not now', type: 'wait' })
})
// @ts-expect-error an iq route needs the payload's namespace
xmpp.iqGet({ name: 'query' }, () => undefined)
// @ts-expect-error not a stanza error type
new StanzaError('forbidden', { type: 'fatal' })

async function ask(): Promise<string | undefined> {
  try {
    const res: Stanza = await xmpp.request(
      xml('iq', { type: 'get', to: 'alice@localhost/phone' }, xml('query', { xmlns: 'jabber:iq:version' })),
      { timeout: 5000 },
    )
    return res.getChild('query')?.getChildText('name') ?? undefined
  } catch (err) {
    if (err instanceof StanzaError) return err.condition
    if (isSatelliteError(err, 'SAT_ERR_IQ_TIMEOUT')) return err.code
    throw err
  }
}
// @ts-expect-error a misspelt request option
xmpp.request(xml('iq', { type: 'get', to: 'a@b' }), { timout: 5 })

const address: Promise<JID> = xmpp.start()
const stopped: Promise<void> = xmpp.stop()

// --- @satellite/testing: the embedded server and a simulated client ----------------------------------

async function test(): Promise<void> {
  const server: TestServer = await createServer({ components: { 'bot.localhost': 'secret-42' } })
  const url: string = server.url
  const alice = server.client('alice@localhost/phone')
  alice.send(xml('message', { to: 'bot.localhost', type: 'chat' }, xml('body', {}, 'hi')))
  const reply = await alice.expectStanza({ name: 'message', from: 'bot.localhost' })
  reply.getChildText('body')
  const error = await alice.request(xml('iq', { type: 'get', to: 'bot.localhost' })).catch((e: unknown) => e)
  if (error instanceof StanzaErrorResponse) error.condition?.toUpperCase()
  const session = await alice.command('bot.localhost', 'poll')
  await session.next({ question: 'Lunch?' })
  session.status satisfies string
  // @ts-expect-error a misspelt server option
  await createServer({ components: {}, flavor: 'prosody' })
  await server.close()
  void url
}

// --- plugins: ad-hoc commands, registration, search, vCard, privileges, forms -------------------------

const pollFields = [
  { type: 'text-single', var: 'question', required: true },
  { type: 'list-multi', var: 'choices', options: [{ value: 'a' }, { value: 'b' }] },
] as const
const form = defineForm({ title: 'Poll', fields: pollFields })
const pollValues = (v: FormValues<typeof pollFields>): string => `${v.question}${v.choices?.join(',') ?? ''}`
// @ts-expect-error a required field is always there: question is a string, not string | undefined
const noQuestion = (v: FormValues<typeof pollFields>): undefined => v.question
formElement(form)
parseForm(xml('x', { xmlns: 'jabber:x:data', type: 'submit' }))

const registry = commands(xmpp, { sessionTimeout: 60_000 })
registry.register<{ question?: string }>({
  node: 'poll',
  name: 'Create a poll',
  stages: [
    stage(form, (values, session) => {
      session.state.question = pollValues(values)
    }),
  ],
  complete: (session) => ({ notes: [`Poll: ${session.state.question}`] }),
})
commandError('bad-payload', 'wrong')
NS_COMMANDS satisfies string
// @ts-expect-error a command needs a name
registry.register({ node: 'nameless' })

const users = new Map<string, Registration>()
const reg = registration(xmpp, {
  fields: ['username', 'password'],
  hooks: {
    get: (jid) => users.get(jid) ?? null,
    register: (jid, values) => void users.set(jid, values),
    remove: (jid) => void users.delete(jid),
  },
})
const finder = search(xmpp, { fields: ['nick'], query: () => ({ items: [] }) })
const cards = vcard(xmpp, { get: (local) => (local === '' ? { FN: 'Bot' } : null) })
parseVcard(xml('vCard', { xmlns: 'vcard-temp' })).FN satisfies string | undefined
const privilegeOptions: PrivilegeOptions = {}
const priv = privileges(xmpp, privilegeOptions)
// @ts-expect-error the privileges handle's events are typed
priv.on('nonsense', () => {})
const rooms = muc(xmpp, {})

// --- the plugin contract: every plugin returns a handle with close(); a user's plugin is typed alike ----

const handles: PluginHandle[] = [registry, reg, finder, cards, priv, rooms]
for (const h of handles) void h.close()
const hello: Plugin<{ to?: string }> = (x, o) => {
  if (o.to === '') throw optionError('hello', 'to', 'must not be empty')
  return { close: x.message({ to: o.to ?? 'hello' }, () => undefined) }
}
hello(xmpp, { to: 'hi' }).close()
// @ts-expect-error a plugin returns a handle with close()
const noHandle: Plugin<object> = () => ({})
isSatelliteError(optionError('a', 'b', 'c'), 'SAT_ERR_CONFIG') satisfies boolean
escapeLocal('space cadet') satisfies string
toJid('alice@libera', 'irc.localhost') satisfies string
fromJid('a@irc.localhost', 'irc.localhost') satisfies string | null

// --- @satellite/bridge: the adapter a user writes; @satellite/sqlite ---------------------------------

interface LegacySession {
  user: string
  events: SessionEvents
}
const adapter: NetworkAdapter<LegacySession> = {
  network: { type: 'irc', name: 'IRC' },
  login: async (credentials: Credentials, events) => ({ user: String(credentials.username), events }),
  logout: async () => {},
  sendText: async (session, to, text) => {
    session.events.message({ from: to, id: 'legacy-id-1', text })
    return 'legacy-id-1'
  },
  listContacts: async (): Promise<LegacyContact[]> => [{ id: 'bob', name: 'Bob', online: true }],
}
const badAdapter: NetworkAdapter<LegacySession> = {
  ...adapter,
  // @ts-expect-error sendText resolves with the legacy id of the message, a string
  sendText: async () => 42,
}
const migrations: Migration[] = []
const db: Db = openDatabase({ path: ':memory:', migrations })
db.close()
const options: BridgeOptions<LegacySession> = {
  adapter,
  store: new SqliteStore({ key: Buffer.alloc(32) }),
  allowedDomains: ['localhost'],
}
const gateway = bridge(xmpp, options)
gateway.sizes()
gateway.close() satisfies Promise<void>

// --- @satellite/postgres and @satellite/muc/postgres: a store on PostgreSQL, chosen by a URL ----------

const setting = process.env.CHATROOM_DB ?? 'chatroom.db'
isPostgresUrl(setting) satisfies boolean
redactUrl('postgres://chat:secret@127.0.0.1/chat') satisfies string
const pgMigrations: PostgresMigration[] = [
  'CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL)',
  async (tx) => {
    await tx`INSERT INTO notes (id, body) VALUES (${1}, ${'first'})`
  },
]
const pgOptions: PostgresOptions = {
  max: 4,
  statementTimeout: 10_000,
  schema: 'notes',
  migrations: pgMigrations,
  name: 'notes',
}
// @ts-expect-error a misspelt option
const pgTypo: PostgresOptions = { maxx: 4 }
const notes: Promise<PostgresDb> = openPostgres('postgres://chat@127.0.0.1/chat', pgOptions)
notes.then(async (pg) => {
  const rows = await pg.sql`SELECT body FROM notes WHERE id = ${1}`
  rows.length satisfies number
  ;(await pg.schemaVersion('notes')) satisfies number
  await pg.close()
})
notes.catch((err: unknown) => {
  if (err instanceof PostgresError) err.code satisfies PostgresErrorCode
})
const storeOptions: PostgresMucStoreOptions = { max: 10 }
const pgStore: Promise<PostgresMucStore> = PostgresMucStore.open(
  'postgres://chat@127.0.0.1/chat',
  storeOptions,
)
pgStore.then(async (store) => {
  const pgRooms = muc(xmpp, { store })
  pgRooms.close()
  await store.close()
})

// --- @satellite/cli: the checks and the module contract of `satellite run` ---------------------------

const report: Promise<CheckReport> = checkConnection({
  service: 'xmpp://127.0.0.1:5347',
  domain: 'bot.localhost',
  secret: 'secret-42',
  timeout: 2000,
})
report.then((r) => r.steps.map((s) => `${s.ok ? '✔' : '✘'} ${s.name}: ${s.detail} ${s.fix ?? ''}`))
// @ts-expect-error checkConnection needs the secret
checkConnection({ service: 'xmpp://127.0.0.1:5347', domain: 'bot.localhost' })
const module: ComponentModule = (x) => {
  x.message((m) => x.send(xml('message', { to: m.attrs.from }, xml('body', {}, 'hi'))))
  return () => undefined
}
runModule({ module: './dist/bot.js', healthPort: 9464 }).then((running) => running.stop())

export { address, ask, badAdapter, module, noHandle, noQuestion, pgTypo, stopped, test }
