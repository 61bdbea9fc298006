import { createServer, ExpectTimeoutError, matchStanza, type TestServer, xml } from '@satellite/testing'
import { afterEach, describe, expect, it } from 'vitest'

let server: TestServer | undefined
afterEach(async () => {
  await server?.close()
  server = undefined
})

describe('matching and expectations', () => {
  const msg = xml(
    'message',
    { from: 'a@localhost/x', to: 'echo.localhost', type: 'chat', id: 'm1', foo: 'bar' },
    xml('body', {}, 'hello world'),
    xml('request', { xmlns: 'urn:xmpp:receipts' }),
  )

  it('matches partial patterns and predicates', () => {
    expect(matchStanza(msg, { name: 'message', type: 'chat', from: /^a@localhost\//, id: 'm1' })).toBe(true)
    expect(matchStanza(msg, { body: /world/, xmlns: 'urn:xmpp:receipts', child: 'request' })).toBe(true)
    expect(matchStanza(msg, { attrs: { foo: 'bar' } })).toBe(true)
    expect(matchStanza(msg, { xmlns: 'urn:xmpp:receipts', child: 'body' })).toBe(false)
    expect(matchStanza(msg, { name: 'iq' })).toBe(false)
    expect(matchStanza(msg, { to: 'other.localhost' })).toBe(false)
    expect(matchStanza(msg, (el) => el.getChildText('body') === 'hello world')).toBe(true)
  })

  it('consumes each stanza once and lists what was received on timeout', async () => {
    server = await createServer({ components: { 'echo.localhost': 's' } })
    const alice = server.client('alice@localhost/a')
    const bob = server.client('bob@localhost/b')
    bob.send(xml('message', { to: alice.jid, id: 'one' }, xml('body', {}, 'first')))
    bob.send(xml('message', { to: alice.jid, id: 'two' }, xml('body', {}, 'second')))
    expect((await alice.expectStanza({ name: 'message' })).attrs.id).toBe('one')
    expect((await alice.expectStanza({ name: 'message' })).attrs.id).toBe('two')
    const error = await alice.expectStanza({ name: 'message' }, 50).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ExpectTimeoutError)
    expect((error as Error).message).toMatch(/timed out after 50 ms. Received 2 stanza\(s\):/)
    expect((error as Error).message).toContain('(consumed) <message to="alice@localhost/a" id="one"')
    expect((error as ExpectTimeoutError).received).toHaveLength(2)
  })

  it('waits for a stanza that arrives later, in order of expectations', async () => {
    server = await createServer({ components: {} })
    const alice = server.client('alice@localhost/a')
    const bob = server.client('bob@localhost')
    expect(bob.jid).toMatch(/^bob@localhost\/res-/)
    const first = alice.expectStanza({ id: 'late' })
    const second = alice.expectStanza({ id: 'late' }, 100)
    setTimeout(() => bob.send(xml('message', { to: 'alice@localhost', id: 'late' })), 20)
    expect((await first).attrs.from).toBe(bob.jid)
    await expect(second).rejects.toThrow(/\(consumed\)/)
  })

  it('rejects client JIDs outside the server domain', async () => {
    server = await createServer()
    expect(() => server!.client('alice@elsewhere')).toThrow(/live at localhost/)
    expect(() => server!.client('localhost')).toThrow(/Not a user JID/)
  })
})
