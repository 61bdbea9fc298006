// Shared setup of the hostile-input, limits and fuzz tests: an embedded server, an in-memory
// store, a component and the bridge on it, all stopped after the test; what the bridge
// reports on the error event; uncaught exceptions and unhandled rejections.
import { type Bridge, type BridgeOptions, bridge, SqliteStore } from '@satellite/bridge'
import { type Component, component, type Element, isSatelliteError, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { registerIq, testServer } from '@satellite/test-support/component'
import { RFC6120_CONDITIONS } from '@satellite/test-support/fuzz'
import type { ServerConnection, SimulatedClient, TestServer } from '@satellite/testing'
import { expect } from 'vitest'
import { FakeNetwork, type FakeSession } from './fake.js'

export const DOMAIN = 'bridge.localhost'
export const SECRET = 'bridge-secret'
export const KEY = Buffer.alloc(32, 7)

export interface Gateway {
  srv: TestServer
  xmpp: Component
  gw: Bridge
  store: SqliteStore
  net: FakeNetwork
  /** What the bridge reported on the component's error event. */
  errors: Error[]
  /** The component's connection on the server (the one it had when it came online). */
  conn: ServerConnection
  /** Every stanza the component wrote. */
  written: Element[]
}

/** Starts a gateway; `options` go to bridge() (the adapter defaults to the fake network's). */
export async function gateway(
  options: Partial<BridgeOptions<FakeSession>> = {},
  net = new FakeNetwork(),
): Promise<Gateway> {
  const srv = await testServer(DOMAIN, SECRET, { strict: true })
  const store = new SqliteStore({ key: KEY })
  afterTest(() => store.close())
  const xmpp = component({
    service: srv.url,
    domain: DOMAIN,
    secret: SECRET,
    reconnect: { base: 20, cap: 100 },
  })
  afterTest(() => xmpp.stop())
  const errors: Error[] = []
  xmpp.on('error', (err) => void errors.push(err))
  const gw = bridge(xmpp, { adapter: net.adapter(), store, retry: { base: 30, cap: 100 }, ...options })
  afterTest(() => gw.close())
  const written: Element[] = []
  srv.on('stanza', (stanza, from) => {
    if (from.domain === DOMAIN) written.push(stanza)
  })
  await xmpp.start()
  const conn = await srv.waitForComponent(DOMAIN)
  return { srv, xmpp, gw, store, net, errors, conn, written }
}

/** Registers `jid` with the fake network's alice account (or `username`/`password`). */
export function register(c: SimulatedClient, username = 'alice', password = 'pw'): Promise<Element> {
  return c.request(registerIq(DOMAIN, username, password))
}

/** A round trip to the gateway: what the component wrote before it has reached the server. */
export async function barrier(c: SimulatedClient): Promise<void> {
  await c.request(
    xml('iq', { type: 'get', to: DOMAIN }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
  )
}

/** Uncaught exceptions and unhandled rejections during the test (listeners removed after it). */
export function noUncaught(): () => string[] {
  const seen: string[] = []
  const onError = (err: unknown) => void seen.push(`uncaught: ${String(err)}`)
  const onRejection = (err: unknown) => void seen.push(`unhandled rejection: ${String(err)}`)
  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onRejection)
  afterTest(() => {
    process.off('uncaughtException', onError)
    process.off('unhandledRejection', onRejection)
  })
  return () => [...seen]
}

/** The stanza error condition and text of an error stanza. */
export function errorOf(stanza: Element): { condition: string | undefined; text: string | undefined } {
  const error = stanza.getChild('error')
  const condition = error?.children.find(
    (c): c is Element =>
      typeof c !== 'string' && c.attrs.xmlns === 'urn:ietf:params:xml:ns:xmpp-stanzas' && c.name !== 'text',
  )?.name
  return { condition, text: error?.getChildText('text', 'urn:ietf:params:xml:ns:xmpp-stanzas') ?? undefined }
}

/** A resource a server takes as it is: no controls, format, surrogate, private-use or unassigned characters, NFKC-stable, 1..1023 bytes. */
export function validResource(r: string): boolean {
  return (
    r.trim() !== '' &&
    Buffer.byteLength(r, 'utf8') <= 1023 &&
    !/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\uFFFD]/u.test(r) &&
    r.normalize('NFKC') === r
  )
}

/** A local part as XEP-0106 writes it: no space, none of `"&'/:<>@`, no control, NFKC-stable, 1..1023 bytes. */
export function validLocal(l: string): boolean {
  return (
    l !== '' &&
    Buffer.byteLength(l, 'utf8') <= 1023 &&
    !/[\s"&'/:<>@\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\uFFFD]/u.test(l) &&
    l.normalize('NFKC') === l
  )
}

/** Whether `address` is the gateway, or a valid address at it (`local@gateway[/resource]`). */
export function validGatewayAddress(address: string): boolean {
  if (address === DOMAIN) return true
  const at = address.indexOf('@')
  const slash = address.indexOf('/', at)
  const domain = address.slice(at + 1, slash < 0 ? undefined : slash)
  if (at <= 0 || domain !== DOMAIN || !validLocal(address.slice(0, at))) return false
  return slash < 0 || validResource(address.slice(slash + 1))
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
const CHAT_STATES = new Set(['active', 'composing', 'paused', 'inactive', 'gone'])

/**
 * What is wrong with a stanza the gateway wrote to `user` (empty: nothing): element and
 * attribute names, the sender (the gateway or a valid address at it), the recipient (`user`
 * or one of its resources), the conditions of errors.
 */
export function problems(stanza: Element, user: string): string[] {
  const out: string[] = []
  const walk = (el: Element) => {
    if (!NAME.test(el.name)) out.push(`element name ${JSON.stringify(el.name)}`)
    if (el.attrs.xmlns === NS_CHATSTATES && !CHAT_STATES.has(el.name)) out.push(`chat state ${el.name}`)
    for (const a of Object.keys(el.attrs)) if (!NAME.test(a)) out.push(`attribute name ${JSON.stringify(a)}`)
    for (const c of el.getChildElements()) walk(c)
  }
  walk(stanza)
  if (stanza.name === 'iq') return out
  const from = String(stanza.attrs.from)
  const to = String(stanza.attrs.to)
  if (!validGatewayAddress(from)) out.push(`from ${JSON.stringify(from)}`)
  if (to !== user && !to.startsWith(`${user}/`)) out.push(`to ${JSON.stringify(to)}`)
  const condition = stanza.attrs.type === 'error' ? errorOf(stanza).condition : undefined
  if (stanza.attrs.type === 'error' && (condition === undefined || !RFC6120_CONDITIONS.has(condition))) {
    out.push(`condition ${condition}`)
  }
  return out
}

/**
 * The message of the option error `fn` throws, after checking that it is one: a fatal
 * SatelliteError SAT_ERR_CONFIG (core's optionError).
 */
export function optionErrorOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(isSatelliteError(err, 'SAT_ERR_CONFIG')).toBe(true)
    expect((err as { fatal?: boolean }).fatal).toBe(true)
    return (err as Error).message
  }
  throw new Error('expected an option error; nothing was thrown')
}
