import { type Component, type ComponentOptions, component } from '@satellite/core'
import { createServer, type TestServer } from '@satellite/testing'
import { afterEach } from 'vitest'

export const DOMAIN = 'gw.localhost'
export const SECRET = 's3cret'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<unknown>)().catch(() => {})
})

/** An embedded server and a component on it (not started), both closed after the test. */
export async function setup(
  options: Partial<ComponentOptions> = {},
): Promise<{ srv: TestServer; xmpp: Component }> {
  const srv = await createServer({ components: { [DOMAIN]: SECRET } })
  cleanups.push(() => srv.close())
  const xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET, ...options })
  cleanups.push(() => xmpp.stop())
  return { srv, xmpp }
}
