import { createServer, type TestServer } from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { count, rawComponent } from './helpers.js'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

const components = { 'echo.localhost': 'secret' }

async function messagesArrived(
  parts: { text: string }[],
  total: number,
  needle = '<message',
): Promise<number[]> {
  await expect.poll(() => parts.reduce((n, p) => n + count(p.text, needle), 0)).toBe(total)
  return parts.map((p) => count(p.text, needle))
}

describe('conflict policies', () => {
  it('kick_new (Prosody default): the new connection gets <conflict/>, the old one keeps working', async () => {
    server = await createServer({ components })
    const first = await rawComponent(server.port, 'echo.localhost', 'secret')
    const second = await rawComponent(server.port, 'echo.localhost', 'secret', { expectSuccess: false })
    await second.closed
    expect(second.text).toContain("<conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>")
    expect(second.text).toContain('Component already connected')
    expect(second.text).not.toContain('<handshake/>')
    server.client('alice@localhost/a').send("<message to='echo.localhost' id='k1'/>")
    await first.waitFor('id="k1"')
    expect(server.connectionsFor('echo.localhost')).toHaveLength(1)
    first.destroy()
  })

  it('kick_old: the old connection gets <conflict/> "Replaced by a new connection"', async () => {
    server = await createServer({ components, conflict: 'kick_old' })
    const first = await rawComponent(server.port, 'echo.localhost', 'secret')
    const oldConn = await server.waitForComponent('echo.localhost')
    const second = await rawComponent(server.port, 'echo.localhost', 'secret')
    await first.closed
    await oldConn.closed
    expect(first.text).toContain('<conflict')
    expect(first.text).toContain('Replaced by a new connection')
    const newConn = await server.waitForComponent('echo.localhost')
    expect(newConn).not.toBe(oldConn)
    server.client('alice@localhost/a').send("<message to='echo.localhost' id='k2'/>")
    await second.waitFor('id="k2"')
    second.destroy()
  })

  it('balance (ejabberd default): all connections stay and stanzas are spread at random', async () => {
    server = await createServer({ components, flavour: 'ejabberd' })
    expect(server.options.conflict).toBe('balance')
    const a = await rawComponent(server.port, 'echo.localhost', 'secret')
    const b = await rawComponent(server.port, 'echo.localhost', 'secret')
    expect(server.connectionsFor('echo.localhost')).toHaveLength(2)
    const alice = server.client('alice@localhost/a')
    for (let i = 0; i < 40; i++) alice.send(`<message to='echo.localhost' id='b${i}'/>`)
    const [na, nb] = await messagesArrived([a, b], 40)
    expect(na).toBeGreaterThan(0)
    expect(nb).toBeGreaterThan(0)
    a.destroy()
    b.destroy()
  })

  it("balance with 'bare_source' is sticky per sender's bare JID", async () => {
    server = await createServer({ components, conflict: 'balance', balance: 'bare_source' })
    const a = await rawComponent(server.port, 'echo.localhost', 'secret')
    const b = await rawComponent(server.port, 'echo.localhost', 'secret')
    const users = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'].map((u) => server!.client(`${u}@localhost/r1`))
    const phones = users.map((u) => server!.client(`${u.bare}/r2`))
    for (let i = 0; i < 5; i++) {
      for (const u of [...users, ...phones]) u.send(`<message to='echo.localhost' id='${u.bare}-${i}'/>`)
    }
    await messagesArrived([a, b], 60)
    for (const u of users) {
      const inA = count(a.text, `id="${u.bare}-`)
      const inB = count(b.text, `id="${u.bare}-`)
      expect([inA, inB].sort()).toEqual([0, 10])
    }
    a.destroy()
    b.destroy()
  })

  it("balance with 'round_robin' alternates", async () => {
    server = await createServer({ components, conflict: 'balance', balance: 'round_robin' })
    const a = await rawComponent(server.port, 'echo.localhost', 'secret')
    const b = await rawComponent(server.port, 'echo.localhost', 'secret')
    const alice = server.client('alice@localhost/a')
    for (let i = 0; i < 10; i++) alice.send(`<message to='echo.localhost' id='rr${i}'/>`)
    expect(await messagesArrived([a, b], 10)).toEqual([5, 5])
    expect(a.text).toContain('id="rr0"')
    expect(b.text).toContain('id="rr1"')
    a.destroy()
    b.destroy()
  })
})
