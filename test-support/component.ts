// Test support for the repository's own tests (not published): an embedded server and a
// component on it, closed after the test.
import { type Component, type ComponentOptions, component, type Element, xml } from '@satellite/core'
import { createServer, type SimulatedClient, StanzaErrorResponse, type TestServer } from '@satellite/testing'
import { afterTest } from './cleanup.js'

/**
 * An embedded server that accepts the component `domain` with `secret`, closed after the test.
 * With `strict`, an error while closing it fails the test.
 */
export async function testServer(
  domain: string,
  secret: string,
  options: { strict?: boolean } = {},
): Promise<TestServer> {
  const srv = await createServer({ components: { [domain]: secret } })
  afterTest(() => srv.close(), options)
  return srv
}

/** An embedded server and a component on it (not started), both closed after the test. */
export async function serverAndComponent(
  domain: string,
  secret: string,
  options: Partial<ComponentOptions> = {},
): Promise<{ srv: TestServer; xmpp: Component }> {
  const srv = await testServer(domain, secret)
  const xmpp = component({ service: srv.url, domain, secret, ...options })
  afterTest(() => xmpp.stop())
  return { srv, xmpp }
}

/**
 * Makes `srv` greet every connection with `header` (written `delayMs` after it opens) instead
 * of its own stream header: a port that is not what the component expects.
 */
export function greetWith(srv: TestServer, header: string, delayMs: number): void {
  srv.on('connection', (conn) => {
    conn.behave({ noHeader: true })
    setTimeout(() => void conn.write(header), delayMs)
  })
}

/** Sends `request`, expecting an error reply; resolves with it. */
export async function fails(c: SimulatedClient, request: Element): Promise<StanzaErrorResponse> {
  try {
    await c.request(request)
  } catch (err) {
    if (err instanceof StanzaErrorResponse) return err
    throw err
  }
  throw new Error(`expected an error for ${request.toString()}`)
}

/** A jabber:iq:register set to `domain` with the username and password fields (XEP-0077). */
export const registerIq = (domain: string, username: string, password: string): Element =>
  xml(
    'iq',
    { type: 'set', to: domain },
    xml(
      'query',
      { xmlns: 'jabber:iq:register' },
      xml('username', {}, username),
      xml('password', {}, password),
    ),
  )
