// Channels as rooms against a scripted IRC server: what ngircd alone cannot show (a netsplit and
// its return, a ban numeric, hostile NAMES), through the embedded XMPP server and the component.
import { createServer, type Socket } from 'node:net'
import { component, type Element } from '@satellite/core'
import { NS_MUC, NS_MUC_USER } from '@satellite/muc'
import { afterTest } from '@satellite/test-support/cleanup'
import { testServer } from '@satellite/test-support/component'
import type { SimulatedClient } from '@satellite/testing'
import { describe, expect, it } from 'vitest'
import { ircGateway } from '../src/gateway.js'
import { serversFromEnv } from '../src/servers.js'

const DOMAIN = 'irc.localhost'
const ROOM = `#c%s@${DOMAIN}`

/** An IRC server that registers the client and answers JOIN with `names` (or `refuse`); `push` writes lines. */
async function ircServer(names: string, refuse?: string) {
  let socket: Socket | undefined
  const lines: string[] = []
  const server = createServer((s) => {
    socket = s
    s.on('error', () => {})
    s.setEncoding('utf8')
    let buffer = ''
    s.on('data', (d: string) => {
      buffer += d
      let i = buffer.indexOf('\r\n')
      while (i !== -1) {
        const line = buffer.slice(0, i)
        buffer = buffer.slice(i + 2)
        i = buffer.indexOf('\r\n')
        lines.push(line)
        const nick = /^NICK (\S+)/.exec(line)?.[1]
        if (nick !== undefined) s.write(`:s.test 001 ${nick} :Welcome\r\n`)
        const join = /^JOIN (#\S+)/.exec(line)?.[1]
        if (join === undefined) continue
        if (refuse !== undefined) s.write(`${refuse}\r\n`)
        else
          s.write(
            `:Alice!u@h JOIN ${join}\r\n:s.test 353 Alice = ${join} :${names}\r\n:s.test 366 Alice ${join} :End\r\n`,
          )
      }
    })
  })
  afterTest(() => new Promise<void>((r) => server.close(() => r())))
  afterTest(() => socket?.destroy())
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const address = server.address()
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    push: (line: string) => socket?.write(`${line}\r\n`),
    lines,
  }
}

async function setup(port: number) {
  const srv = await testServer(DOMAIN, 's3cret')
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: 's3cret' })
  afterTest(() => xmpp.stop())
  const servers = serversFromEnv({ IRC_SERVERS: `s=127.0.0.1:${port}` })
  const gateway = ircGateway(xmpp, { servers, splitDelay: 300, flood: { burst: 20, interval: 10 } })
  afterTest(() => gateway.close())
  await xmpp.start()
  return srv
}

async function join(c: SimulatedClient): Promise<Element[]> {
  const start = c.received.length
  c.send(`<presence to='${ROOM}/Alice'><x xmlns='${NS_MUC}'/></presence>`)
  await c.expectStanza((s) => s.getChild('subject') !== undefined || s.attrs.type === 'error', 5000)
  return c.received.slice(start)
}

const unavailable = (c: SimulatedClient, nick: string) =>
  c.received.filter(
    (s) => s.name === 'presence' && s.attrs.type === 'unavailable' && s.attrs.from === `${ROOM}/${nick}`,
  )

describe('IRC channels against a scripted server', () => {
  it('holds a netsplit QUIT: a nick back within splitDelay never left; one that stays away leaves after it', async () => {
    const irc = await ircServer('Alice dave @erin')
    const alice = (await setup(irc.port)).client('alice@localhost/pc')
    await join(alice)
    irc.push(':dave!u@h QUIT :hub.example.net leaf.example.net')
    irc.push(':erin!u@h QUIT :hub.example.net leaf.example.net')
    await new Promise((r) => setTimeout(r, 100))
    irc.push(':dave!u@h JOIN #c')
    irc.push(':x!u@h PRIVMSG #c :marker')
    await alice.expectStanza((s) => s.getChildText('body') === 'marker', 5000)
    expect(unavailable(alice, 'erin')).toEqual([])
    await expect.poll(() => unavailable(alice, 'erin').length, { timeout: 3000 }).toBe(1)
    expect(unavailable(alice, 'erin')[0]?.getChildText('status')).toBe(
      'Quit: hub.example.net leaf.example.net',
    )
    expect(unavailable(alice, 'dave')).toEqual([])
    expect(
      alice.received.filter((s) => s.name === 'presence' && s.attrs.from === `${ROOM}/dave`),
    ).toHaveLength(1)
    irc.push(':dave!u@h QUIT :Client closed')
    await expect.poll(() => unavailable(alice, 'dave').length).toBe(1)
  })

  it('drops hostile names from NAMES and keeps the others; a ban numeric refuses the join with forbidden', async () => {
    const irc = await ircServer('Alice good bad%nick @also/bad fine')
    const alice = (await setup(irc.port)).client('alice@localhost/pc')
    const got = await join(alice)
    const nicks = got.filter((s) => s.name === 'presence').map((s) => s.attrs.from?.slice(ROOM.length + 1))
    expect(nicks).toEqual(['good', 'fine', 'Alice'])
    const banned = await ircServer('', ':s.test 474 Alice #c :Cannot join channel (+b)')
    const bob = (await setup(banned.port)).client('bob@localhost/pc')
    const refused = await join(bob)
    const error = refused.find((s) => s.attrs.type === 'error')
    expect(error?.getChild('error')?.getChild('forbidden')).toBeDefined()
    expect(error?.getChild('x', NS_MUC)).toBeDefined()
    expect(error?.getChild('x', NS_MUC_USER)).toBeUndefined()
  })

  it('a fast typist: 25 groupchats at once all go out (paced by the IRC scheduler), none refused by the room engine', async () => {
    const irc = await ircServer('Alice')
    const alice = (await setup(irc.port)).client('alice@localhost/pc')
    await join(alice)
    for (let i = 0; i < 25; i++)
      alice.send(`<message to='${ROOM}' type='groupchat'><body>line ${i}</body></message>`)
    await expect
      .poll(() => irc.lines.filter((l) => l.startsWith('PRIVMSG #c :line ')).length, { timeout: 5000 })
      .toBe(25)
    expect(alice.received.filter((s) => s.attrs.type === 'error')).toEqual([])
  })
})
