import { type Component, type ComponentOptions, component } from '@satellite/core'
import { createServer, type ServerOptions, type TestServer } from '@satellite/testing'
import { afterEach } from 'vitest'

export const DOMAIN = 'echo.localhost'
export const SECRET = 'sécret-🔑'

const cleanups: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (cleanups.length > 0) await (cleanups.pop() as () => Promise<unknown>)().catch(() => {})
})

/** An embedded server with the echo domain, closed after the test. */
export async function server(options: ServerOptions = {}): Promise<TestServer> {
  const s = await createServer({ components: { [DOMAIN]: SECRET }, ...options })
  cleanups.push(() => s.close())
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
  cleanups.push(() => xmpp.stop())
  return xmpp
}

/** Resolves when `emitter` emits `event` (with a timeout). */
export function once<T = unknown>(
  emitter: { once(event: string, fn: (...args: never[]) => void): unknown },
  event: string,
  timeout = 3000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for '${event}'`)), timeout)
    emitter.once(event, ((value: T) => {
      clearTimeout(t)
      resolve(value)
    }) as (...args: never[]) => void)
  })
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `cond` until true (or fails after `timeout`). */
export async function until(cond: () => boolean, timeout = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}
