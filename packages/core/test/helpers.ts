import { type Component, type ComponentOptions, component } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { sleep } from '@satellite/test-support/wait'
import { createServer, type ServerOptions, type TestServer } from '@satellite/testing'

export { sleep }

export const DOMAIN = 'echo.localhost'
export const SECRET = 'sécret-🔑'

/** An embedded server with the echo domain, closed after the test. */
export async function server(options: ServerOptions = {}): Promise<TestServer> {
  const s = await createServer({ components: { [DOMAIN]: SECRET }, ...options })
  afterTest(() => s.close())
  return s
}

/** A component pointed at `srv` with fast reconnects, stopped after the test. */
export function make(srv: TestServer, options: Partial<ComponentOptions> = {}): Component {
  const xmpp = component({
    service: srv.url,
    domain: DOMAIN,
    secret: SECRET,
    reconnect: { base: 20, cap: 100, conflictFloor: 300 },
    ...options,
  })
  afterTest(() => xmpp.stop())
  return xmpp
}

type AnyEmitter = { once(event: string, fn: (...args: never[]) => void): unknown }

/**
 * Resolves when `emitter` emits `event` (with a timeout). A Component is named apart: its typed
 * `once` takes only its own event names.
 */
export function once<T = unknown>(
  emitter: AnyEmitter | Component,
  event: string,
  timeout = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), timeout)
    ;(emitter as AnyEmitter).once(event, ((value: T) => {
      clearTimeout(t)
      resolve(value)
    }) as (...args: never[]) => void)
  })
}
