import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Element } from '@satellite/core'
import { createServer, type TestServer } from '@satellite/testing'
import { xml as xmlClient, client as xmppClient } from '@xmpp/client'
import { printStanza } from './report.js'

/** The example components the demo runs. */
export type ComponentName = 'echo' | 'directory' | 'bridge' | 'chat'

/** A client as the demo script uses it: simulated (embedded server) or real (@xmpp/client). */
/** What a demo client waits for: the stanza name and any of its id, from, type, or a child's name. */
export interface DemoMatch {
  name: string
  id?: string
  from?: string
  type?: string
  child?: string
}

function matches(s: Element, m: DemoMatch): boolean {
  return (
    s.name === m.name &&
    (m.id === undefined || s.attrs.id === m.id) &&
    (m.from === undefined || s.attrs.from === m.from) &&
    (m.type === undefined || s.attrs.type === m.type) &&
    (m.child === undefined || s.getChildElements().some((c) => c.name === m.child))
  )
}

const describe = (m: DemoMatch) =>
  `${m.name}${Object.entries(m)
    .filter(([k]) => k !== 'name')
    .map(([k, v]) => ` ${k}=${v}`)
    .join('')}`

export interface DemoClient {
  readonly jid: string
  send(stanza: Element): void
  expectStanza(match: DemoMatch, timeout: number): Promise<Element>
  request(iq: Element): Promise<Element>
}

/** Where the demo plays: the embedded server, or a real Prosody started by scripts/xmpp-server. */
export interface Stage {
  readonly description: string
  /** XMPP_SERVICE, XMPP_DOMAIN and the secret for a component domain. */
  component(name: ComponentName): { service: string; domain: string; secret: string }
  client(user: string, resource: string): Promise<DemoClient>
  /** Resolves once `domain` answers a ping through the server. */
  waitForComponent(domain: string, timeout: number): Promise<void>
  /** Stops the server (TCP close, like a SIGTERM) and starts it again on the same port. */
  restart(downMs: number): Promise<void>
  close(): Promise<void>
}

const randomSecret = () => `demo-${Math.random().toString(36).slice(2)}`

export async function embeddedStage(quiet: boolean): Promise<Stage> {
  const domains: Record<ComponentName, { domain: string; secret: string }> = {
    echo: { domain: 'echo.localhost', secret: randomSecret() },
    directory: { domain: 'directory.localhost', secret: randomSecret() },
    bridge: { domain: 'bridge.localhost', secret: randomSecret() },
    chat: { domain: 'chat.localhost', secret: randomSecret() },
  }
  const server: TestServer = await createServer({
    domain: 'localhost',
    components: Object.fromEntries(Object.values(domains).map((d) => [d.domain, d.secret])),
  })
  if (!quiet) server.on('routed', (e) => printStanza(e.source, e.stanza, e.outcome))
  return {
    description: `embedded XEP-0114 server on ${server.url} (Prosody-like rules)`,
    component: (name) => ({ service: server.url, ...domains[name] }),
    client: async (user, resource) => {
      const c = server.client(`${user}@localhost/${resource}`)
      return {
        jid: c.jid,
        send: (s) => void c.send(s),
        expectStanza: (m, t) => c.expectStanza(m, t),
        request: (iq) => c.request(iq),
      }
    },
    waitForComponent: async (domain, timeout) => {
      await server.waitForComponent(domain, { timeout, fresh: false })
    },
    restart: (downMs) => server.restart({ downMs }),
    close: () => server.close(),
  }
}

const script = fileURLToPath(new URL('../../../scripts/xmpp-server', import.meta.url))

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(script, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`scripts/xmpp-server ${args.join(' ')}: ${err}`)),
    )
  })
}

export async function prosodyStage(quiet: boolean): Promise<Stage> {
  const out = await run(['start', 'prosody'], { ...process.env, XMPP_SERVER_INSTALL: '1' })
  const env = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  )
  const clients: Array<{ stop(): Promise<unknown> }> = []
  const real = async (user: string, resource: string): Promise<DemoClient> => {
    const c = xmppClient({
      service: `xmpp://${env.XMPP_HOST}:${env.XMPP_C2S_PORT}`,
      domain: env.XMPP_DOMAIN,
      resource,
      credentials: (auth: (c: object, m: string) => Promise<void>) =>
        auth({ username: user, password: env.XMPP_PASSWORD }, 'PLAIN'),
    })
    c.on('error', () => {})
    const received: Element[] = []
    const waiters: Array<{ m: DemoMatch; resolve: (e: Element) => void }> = []
    c.on('stanza', (s: Element) => {
      if (!quiet && (s.name === 'message' || s.name === 'presence'))
        printStanza(s.attrs.from ?? '', s, 'delivered')
      const i = waiters.findIndex((w) => matches(s, w.m))
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(s)
      else received.push(s)
    })
    await c.start()
    c.reconnect.stop()
    // Available, like a real client: the server then delivers messages sent to the bare JID.
    await c.send(xmlClient('presence'))
    clients.push(c)
    return {
      jid: `${user}@${env.XMPP_DOMAIN}/${resource}`,
      send: (s) => {
        if (!quiet) printStanza(`${user}@${env.XMPP_DOMAIN}/${resource}`, s, 'sent')
        void c.send(s)
      },
      expectStanza: (m, t) => {
        const at = received.findIndex((s) => matches(s, m))
        if (at >= 0) return Promise.resolve(received.splice(at, 1)[0] as Element)
        return new Promise((resolve, reject) => {
          const w = { m, resolve }
          waiters.push(w)
          setTimeout(() => {
            if (waiters.includes(w)) reject(new Error(`no ${describe(m)} within ${t} ms`))
          }, t)
        })
      },
      request: (iq) => c.iqCaller.request(iq, 5000),
    }
  }
  let prober: DemoClient | undefined
  return {
    description: `Prosody ${env.XMPP_SERVER_VERSION} on 127.0.0.1 (c2s ${env.XMPP_C2S_PORT}, components ${env.XMPP_COMPONENT_PORT}), real clients (@xmpp/client)`,
    component: (name) => {
      const key = name.toUpperCase()
      return {
        service: `xmpp://${env.XMPP_HOST}:${env.XMPP_COMPONENT_PORT}`,
        domain: env[`XMPP_${key}_DOMAIN`] as string,
        secret: env[`XMPP_${key}_SECRET`] as string,
      }
    },
    client: real,
    waitForComponent: async (domain, timeout) => {
      const end = Date.now() + timeout
      for (;;) {
        try {
          prober ??= await real('carol', 'probe')
          const { xml } = await import('@satellite/core')
          await prober.request(
            xml('iq', { type: 'get', to: domain }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
          )
          return
        } catch (err) {
          if (Date.now() > end) throw err
          if (String(err).includes('ECONN') || String(err).includes('closed')) prober = undefined
          await new Promise((r) => setTimeout(r, 100))
        }
      }
    },
    restart: async (downMs) => {
      for (const c of clients.splice(0)) await c.stop().catch(() => {})
      prober = undefined
      await run(['stop', env.XMPP_DIR as string])
      await new Promise((r) => setTimeout(r, downMs))
      await run(['start', 'prosody', env.XMPP_DIR as string])
    },
    close: async () => {
      for (const c of clients.splice(0)) await c.stop().catch(() => {})
      await run(['stop', env.XMPP_DIR as string])
    },
  }
}
