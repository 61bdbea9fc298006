// sendEach(): one stanza to many recipients, serialized once.
import { xml } from '@satellite/core'
import { serverAndComponent } from '@satellite/test-support/component'
import { describe, expect, it } from 'vitest'

const DOMAIN = 'echo.localhost'

describe('sendEach()', () => {
  it('writes one copy per recipient with its to, in order; the stanza itself keeps its own to', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's')
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const users = ['alice@localhost/a', 'bob@localhost/b', "o'brien&co@localhost/c"]
    const clients = users.map((u) => srv.client(u))
    const m = xml(
      'message',
      { from: `room@${DOMAIN}/carol`, type: 'groupchat', to: 'kept@localhost' },
      xml('body', {}, 'hi <all>'),
    )
    await xmpp.sendEach(m, users)
    for (const [i, c] of clients.entries()) {
      const got = await c.expectStanza((s) => s.name === 'message')
      expect(got.attrs).toEqual({ from: `room@${DOMAIN}/carol`, type: 'groupchat', to: users[i] })
      expect(got.getChildText('body')).toBe('hi <all>')
    }
    expect(m.attrs.to).toBe('kept@localhost')
    expect(conn.received.filter((s) => s.name === 'message').map((s) => s.attrs.to)).toEqual(users)
  })

  it('rejects as a whole, writing nothing: an empty recipient, a from outside the domain, after stop()', async () => {
    const { srv, xmpp } = await serverAndComponent(DOMAIN, 's')
    await xmpp.start()
    const conn = await srv.waitForComponent(DOMAIN)
    const m = xml('message', { from: `room@${DOMAIN}` }, xml('body', {}, 'x'))
    await expect(xmpp.sendEach(m, ['alice@localhost', ''])).rejects.toMatchObject({ code: 'SAT_ERR_ADDRESS' })
    await expect(
      xmpp.sendEach(xml('message', { from: 'room@elsewhere.example' }), ['alice@localhost']),
    ).rejects.toMatchObject({ code: 'SAT_ERR_ADDRESS' })
    await expect(
      xmpp.sendEach(xml('message', { 'bad name': 'x' }), ['alice@localhost']),
    ).rejects.toMatchObject({
      code: 'SAT_ERR_XML_NAME',
    })
    await new Promise((r) => setTimeout(r, 50))
    expect(conn.received.filter((s) => s.name === 'message')).toEqual([])
    await xmpp.sendEach(m, [])
    await xmpp.stop()
    await expect(xmpp.sendEach(m, ['alice@localhost'])).rejects.toMatchObject({ code: 'SAT_ERR_STOPPED' })
  })
})
