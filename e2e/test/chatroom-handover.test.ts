// A deploy without downtime on Prosody (issue #18): its own Prosody with component_conflict_resolve
// = "kick_old"; the chatroom (examples/chatroom, PostgreSQL) runs as "old"; alice (@xmpp/client over
// c2s, with bob and carol) talk in a persistent room, a message every 160 ms between them; the old instance is told (SIGUSR2), the
// new one starts and takes the domain over; the old one stops when replaced and exits 0. Counted:
// every message alice sent is reflected, refused (not-acceptable from the new instance until she
// rejoins: she rejoins at once), or lost in flight on the old socket; the archive holds every
// reflected message. The gap and the counts are printed.
import { afterTest } from '@satellite/test-support/cleanup'
import { xml as clientXml, client as xmppClient } from '@xmpp/client'
import { describe, expect, it } from 'vitest'
import type { PostgresDb } from '../../packages/postgres/src/index.js'
import type { ServerInfo } from '../setup/servers.js'
import { chatroomInstance, freshDatabase } from './chatroom-process.js'
import { ownServerAndDatabase } from './own-server.js'

type El = ReturnType<typeof clientXml>
const DOMAIN = 'handover.localhost'
const SECRET = 'handover-secret'
const ROOM = `lobby@${DOMAIN}`
const NS_MUC = 'http://jabber.org/protocol/muc'
const NS_OWNER = 'http://jabber.org/protocol/muc#owner'
const NS_MAM = 'urn:xmpp:mam:2'
const NS_RSM = 'http://jabber.org/protocol/rsm'

let server: ServerInfo
let admin: PostgresDb
ownServerAndDatabase(
  'prosody',
  {
    XMPP_EXTRA_COMPONENTS: `${DOMAIN}:${SECRET}`,
    PROSODY_CONFLICT: 'kick_old',
  },
  (s, a) => {
    server = s
    admin = a
  },
)

const instance = (name: string, db: string) =>
  chatroomInstance({
    service: `xmpp://${server.XMPP_HOST}:${server.XMPP_COMPONENT_PORT}`,
    domain: DOMAIN,
    secret: SECRET,
    db,
    occupantSecret: 'e2e handover occupant secret',
    name,
  })

describe('a deploy on Prosody (kick_old): the new chatroom instance takes the domain over, the old one stops', () => {
  it('every message alice sends is reflected, refused or counted as lost in flight; the archive holds every reflected one', async () => {
    const db = await freshDatabase(admin, 'handover')
    const old = await instance('old', db)

    // Three users, each at the engine's default rate (a burst, then 2 messages a second).
    const reflected = new Map<string, number>()
    const refused = new Set<string>()
    let rejoins = 0
    const talker = async (user: string) => {
      const c = xmppClient({
        service: `xmpp://${server.XMPP_HOST}:${server.XMPP_C2S_PORT}`,
        domain: server.XMPP_DOMAIN as string,
        resource: 'handover',
        credentials: (auth: (c: { username: string; password: string }, m: string) => Promise<void>) =>
          auth({ username: user, password: server.XMPP_PASSWORD as string }, 'PLAIN'),
      })
      c.reconnect?.stop?.()
      c.on('error', () => {})
      const join = () =>
        c.send(clientXml('presence', { to: `${ROOM}/${user}` }, clientXml('x', { xmlns: NS_MUC })))
      c.on('stanza', (el: El) => {
        const id = el.attrs.id
        if (!el.is('message') || id === undefined || !id.startsWith(`${user}-`)) return
        if (el.attrs.type === 'error') {
          refused.add(id)
          // The new instance does not know this user yet: rejoin.
          if (el.getChild('error')?.getChild('not-acceptable') !== undefined) {
            rejoins++
            void join()
          }
        } else if (el.attrs.from === `${ROOM}/${user}` && el.getChildText('body') !== null)
          reflected.set(id, Date.now())
      })
      await c.start()
      afterTest(async () => {
        c.reconnect?.stop?.()
        await c.stop().catch(() => {})
      })
      await join()
      return c
    }
    const clients = [await talker('alice'), await talker('bob'), await talker('carol')]
    const c = clients[0] as Awaited<ReturnType<typeof talker>>
    await c.iqCaller.request(
      clientXml(
        'iq',
        { type: 'set', to: ROOM },
        clientXml(
          'query',
          { xmlns: NS_OWNER },
          clientXml(
            'x',
            { xmlns: 'jabber:x:data', type: 'submit' },
            clientXml('field', { var: 'muc#roomconfig_persistentroom' }, clientXml('value', {}, '1')),
          ),
        ),
      ),
    )

    let n = 0
    const sent: string[] = []
    const users = ['alice', 'bob', 'carol']
    const timer = setInterval(() => {
      const k = n++
      const id = `${users[k % 3]}-${k}`
      sent.push(id)
      void clients[k % 3]
        ?.send(clientXml('message', { to: ROOM, type: 'groupchat', id }, clientXml('body', {}, id)))
        .catch(() => {})
    }, 160)
    await new Promise((r) => setTimeout(r, 1500))
    old.proc.kill('SIGUSR2')
    await expect
      .poll(() => old.out.some((l) => l.includes('handover: stopping when')), { timeout: 5000 })
      .toBe(true)
    const started = Date.now()
    const fresh = await instance('new', db)
    await expect.poll(() => old.proc.exitCode, { timeout: 10_000 }).toBe(0)
    expect(old.out.join('\n')).toMatch(/handover: replaced by a new instance, stopping/)
    const handedOver = Date.now() - started
    await new Promise((r) => setTimeout(r, 2000))
    clearInterval(timer)
    await new Promise((r) => setTimeout(r, 1000))

    const lost = sent.filter((id) => !reflected.has(id) && !refused.has(id))
    const times = [...reflected.values()].sort((x, y) => x - y)
    let gap = 0
    for (let i = 1; i < times.length; i++)
      gap = Math.max(gap, (times[i] as number) - (times[i - 1] as number))
    console.log(
      `chatroom handover on Prosody (kick_old): new instance online and old one gone ${handedOver} ms after the new one started; ` +
        `sent ${sent.length}, reflected ${reflected.size}, refused ${refused.size} (alice rejoined), lost in flight ${lost.length}; longest gap between reflections ${gap} ms`,
    )
    expect(reflected.size).toBeGreaterThan(sent.length / 2)
    // Lost: only what was in flight on the old socket at the handover (a message every 160 ms).
    expect(lost.length).toBeLessThanOrEqual(3)
    expect(rejoins).toBeGreaterThan(0)
    // Everything alice saw reflected is in the archive (the new instance answers MAM from PostgreSQL).
    const res = await c.iqCaller.request(
      clientXml(
        'iq',
        { type: 'set', to: ROOM },
        clientXml('query', { xmlns: NS_MAM }, clientXml('set', { xmlns: NS_RSM }, clientXml('max', {}, '0'))),
      ),
    )
    const count = Number(res.getChild('fin', NS_MAM)?.getChild('set', NS_RSM)?.getChildText('count'))
    expect(count).toBeGreaterThanOrEqual(reflected.size)
    expect(fresh.proc.exitCode).toBeNull()
  })
})
