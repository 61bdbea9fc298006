import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type Component, type ComponentOptions, component, xml } from '@satellite/core'
import { afterTest } from '@satellite/test-support/cleanup'
import { sleep } from '@satellite/test-support/wait'
import { xml as clientXml, client as xmppClient } from '@xmpp/client'
import { inject } from 'vitest'
import type { ServerInfo } from '../setup/servers.js'

export type Kind = 'prosody' | 'ejabberd'
export const KINDS: Kind[] = ['prosody', 'ejabberd']

export function info(kind: Kind): ServerInfo {
  return inject('servers')[kind]
}

/** A Satellite component on the server's component port (or its direct-TLS port). */
export function satellite(
  kind: Kind,
  options: Partial<ComponentOptions> & { tls?: boolean | object } = {},
): Component {
  const s = info(kind)
  const { tls, ...rest } = options
  const useTls = tls !== undefined && tls !== false
  const xmpp = component({
    service: useTls
      ? `xmpps://localhost:${s.XMPP_COMPONENT_TLS_PORT}`
      : `xmpp://${s.XMPP_HOST}:${s.XMPP_COMPONENT_PORT}`,
    domain: s.XMPP_ECHO_DOMAIN as string,
    secret: s.XMPP_ECHO_SECRET as string,
    reconnect: { base: 50, cap: 500, conflictFloor: 1000 },
    ...(useTls ? { tls: { ca: readFileSync(s.XMPP_CA_FILE as string, 'utf8') } } : {}),
    ...rest,
  })
  afterTest(() => xmpp.stop())
  return xmpp
}

/** Registers the echo behaviour used across the tests. */
export function echo(xmpp: Component): Component {
  // Virtual users answer disco as bots (and so their presence carries XEP-0115 caps).
  xmpp.disco.identity({ category: 'client', type: 'bot' }, { to: '*' })
  xmpp.message({ type: ['chat', 'normal'] }, (m) => {
    const body = m.getChildText('body')
    if (body === null) return
    const { from, to, id, type } = m.attrs
    return xmpp.send(xml('message', { from: to, to: from, id, type }, xml('body', {}, `echo: ${body}`)))
  })
  xmpp.presence({ type: 'subscribe' }, (p) =>
    xmpp.send(xml('presence', { from: p.attrs.to, to: p.attrs.from, type: 'subscribed' })),
  )
  return xmpp
}

export interface RealClient {
  jid: string
  received: Array<ReturnType<typeof clientXml>>
  send(el: ReturnType<typeof clientXml>): Promise<void>
  expect(
    pred: (el: ReturnType<typeof clientXml>) => boolean,
    timeout?: number,
  ): Promise<ReturnType<typeof clientXml>>
  request(el: ReturnType<typeof clientXml>, timeout?: number): Promise<ReturnType<typeof clientXml>>
  stop(): Promise<void>
}

/** A real @xmpp/client session over c2s (PLAIN, which the test servers allow on loopback). */
export async function realClient(kind: Kind, username = 'alice', resource = 'e2e'): Promise<RealClient> {
  const s = info(kind)
  const c = xmppClient({
    service: `xmpp://${s.XMPP_HOST}:${s.XMPP_C2S_PORT}`,
    domain: s.XMPP_DOMAIN as string,
    resource,
    credentials: (auth: (c: { username: string; password: string }, m: string) => Promise<void>) =>
      auth({ username, password: s.XMPP_PASSWORD as string }, 'PLAIN'),
  })
  c.reconnect?.stop?.()
  c.on('error', () => {})
  const received: Array<ReturnType<typeof clientXml>> = []
  const waiters: Array<{
    pred: (el: ReturnType<typeof clientXml>) => boolean
    resolve: (el: ReturnType<typeof clientXml>) => void
  }> = []
  c.on('stanza', (el: ReturnType<typeof clientXml>) => {
    received.push(el)
    const i = waiters.findIndex((w) => w.pred(el))
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(el)
  })
  const address = await c.start()
  // Like a real client: fetch the roster (servers push roster changes only to resources
  // that did), then become available.
  await c.iqCaller.request(
    clientXml('iq', { type: 'get' }, clientXml('query', { xmlns: 'jabber:iq:roster' })),
    5000,
  )
  await c.send(clientXml('presence'))
  const rc: RealClient = {
    jid: address.toString(),
    received,
    send: (el) => c.send(el),
    expect: (pred, timeout = 5000) => {
      const hit = received.find(pred)
      if (hit) {
        received.splice(received.indexOf(hit), 1)
        return Promise.resolve(hit)
      }
      return new Promise((resolve, reject) => {
        const w = { pred, resolve }
        waiters.push(w)
        setTimeout(() => {
          const i = waiters.indexOf(w)
          if (i >= 0) {
            waiters.splice(i, 1)
            reject(
              new Error(`no matching stanza within ${timeout} ms; got: ${received.map(String).join('\n')}`),
            )
          }
        }, timeout)
      })
    },
    request: (el, timeout = 5000) => c.iqCaller.request(el, timeout),
    stop: async () => {
      c.reconnect?.stop?.()
      await c.stop().catch(() => {})
    },
  }
  afterTest(rc.stop)
  return rc
}

const slixScript = fileURLToPath(new URL('../clients/slix_client.py', import.meta.url))

/** Runs Debian's slixmpp as an independent client; resolves with its JSON report. */
export function slixmpp(kind: Kind, args: string[]): Promise<Record<string, unknown>> {
  const s = info(kind)
  const [mode, ...rest] = args
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/python3', [
      slixScript,
      mode as string,
      `bob@${s.XMPP_DOMAIN}/slix`,
      s.XMPP_PASSWORD as string,
      s.XMPP_HOST as string,
      s.XMPP_C2S_PORT as string,
      ...rest,
    ])
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', () => {
      const line = out.trim().split('\n').pop() ?? ''
      try {
        resolve(JSON.parse(line))
      } catch {
        reject(new Error(`slixmpp printed no report: ${out}\n${err}`))
      }
    })
  })
}

export { sleep }
