import * as net from 'node:net'
import * as tls from 'node:tls'
import { parseService, type Stanza, xml } from '@satellite/core'
import {
  explainStreamError,
  handshakeDigest,
  NS_COMPONENT,
  StreamParser,
  streamHeader,
} from '@satellite/core/internal'

/** One step of a connection check. */
export interface CheckStep {
  name: string
  ok: boolean
  ms: number
  detail: string
  /** What to change, when the step failed: the server config line or the setting. */
  fix?: string
}

/** Options of {@link checkConnection}. */
export interface CheckOptions {
  service: string
  domain: string
  secret: string
  /** Per-step timeout in ms (default 5000). */
  timeout?: number
  /** Trusted CA (PEM) for xmpps:// services. */
  ca?: string | Buffer
  /** Skip certificate verification (tests only). */
  insecure?: boolean
}

/** The outcome: the steps, in order, and whether all passed. */
export interface CheckReport {
  ok: boolean
  steps: CheckStep[]
}

const NS_STREAMS = 'http://etherx.jabber.org/streams'

/**
 * Connects to a server as a component and reports step by step — TCP or TLS, stream
 * header, handshake, a round trip through the server — with a diagnosis and the server
 * configuration line to fix for each failure. Never throws; never logs the secret.
 *
 * @example
 * ```ts
 * const report = await checkConnection({ service: 'xmpp://127.0.0.1:5347', domain: 'bot.example.org', secret })
 * for (const s of report.steps) console.log(s.ok ? '✔' : '✘', s.name, s.detail, s.fix ?? '')
 * ```
 */
export async function checkConnection(options: CheckOptions): Promise<CheckReport> {
  const steps: CheckStep[] = []
  const timeout = options.timeout ?? 5000
  const report = (): CheckReport => ({ ok: steps.every((s) => s.ok), steps })
  let svc: ReturnType<typeof parseService>
  try {
    svc = parseService(options.service)
  } catch (err) {
    steps.push({
      name: 'service URL',
      ok: false,
      ms: 0,
      detail: (err as Error).message,
      fix: 'XMPP_SERVICE=xmpp://host:5347 (or xmpps://host:port for direct TLS)',
    })
    return report()
  }
  const { domain } = options
  const session = new Session()
  try {
    // 1. TCP / TLS
    let t = performance.now()
    const transport = svc.tls ? 'TLS' : 'TCP'
    try {
      await session.connect(svc, options, timeout)
      steps.push({ name: `${transport} connect`, ok: true, ms: since(t), detail: `${svc.host}:${svc.port}` })
    } catch (err) {
      steps.push({
        name: `${transport} connect`,
        ok: false,
        ms: since(t),
        ...diagnoseConnect(err as NodeJS.ErrnoException, svc),
      })
      return report()
    }
    // 2. Stream header
    t = performance.now()
    session.write(streamHeader(domain))
    const header = await session.nextEvent(timeout)
    if (header.kind !== 'header') {
      steps.push({ name: 'stream header', ok: false, ms: since(t), ...diagnoseNoHeader(header, svc) })
      return report()
    }
    const ns = header.attrs.xmlns
    if (ns !== NS_COMPONENT) {
      steps.push({
        name: 'stream header',
        ok: false,
        ms: since(t),
        detail: `the server opened a ${ns ?? '(no namespace)'} stream: ${ns === 'jabber:client' ? 'this is a client (c2s) port' : ns === 'jabber:server' ? 'this is a server-to-server port' : 'not a component port'}`,
        fix: `point XMPP_SERVICE at the component port (Prosody: component_ports, default 5347; ejabberd: the listener with module: ejabberd_service)`,
      })
      return report()
    }
    let id = header.attrs.id
    if (!id) {
      // Prosody answers an unknown domain with id='' and then <host-unknown/>.
      const next = await session.nextEvent(timeout)
      if (next.kind === 'stanza' && isStreamError(next.stanza)) {
        steps.push({
          name: 'stream header',
          ok: false,
          ms: since(t),
          ...diagnoseStreamError(next.stanza, domain),
        })
        return report()
      }
      id = ''
    }
    steps.push({
      name: 'stream header',
      ok: true,
      ms: since(t),
      detail: `jabber:component:accept, stream id received`,
    })
    // 3. Handshake
    t = performance.now()
    session.write(`<handshake>${handshakeDigest(id, options.secret)}</handshake>`)
    const answer = await session.nextEvent(timeout)
    if (answer.kind === 'stanza' && answer.stanza.name === 'handshake') {
      steps.push({
        name: 'handshake',
        ok: true,
        ms: since(t),
        detail: `the server accepted the secret for ${domain}`,
      })
    } else if (answer.kind === 'stanza' && isStreamError(answer.stanza)) {
      steps.push({
        name: 'handshake',
        ok: false,
        ms: since(t),
        ...diagnoseStreamError(answer.stanza, domain),
      })
      return report()
    } else if (answer.kind === 'stanza' && answer.stanza.name === 'stream:features') {
      steps.push({
        name: 'handshake',
        ok: false,
        ms: since(t),
        detail: 'the server offered stream features: this is a client port',
        fix: 'use the component port (Prosody component_ports, ejabberd ejabberd_service)',
      })
      return report()
    } else {
      steps.push({
        name: 'handshake',
        ok: false,
        ms: since(t),
        detail: describe(answer, 'no answer to the handshake'),
        fix: 'check that this port serves XEP-0114 components',
      })
      return report()
    }
    // 4. Round trip through the server: a ping to ourselves comes back through the router.
    t = performance.now()
    session.write(
      xml(
        'iq',
        { type: 'get', id: 'satellite-check-1', from: domain, to: domain },
        xml('ping', { xmlns: 'urn:xmpp:ping' }),
      ).toString(),
    )
    const rt = await session.waitFor(
      (s) => s.name === 'iq' && s.attrs.id === 'satellite-check-1' && s.attrs.type !== 'get',
      timeout,
      (s) => {
        // Answer our own ping when the server routes it back to us.
        if (s.name === 'iq' && s.attrs.type === 'get' && s.getChild('ping', 'urn:xmpp:ping')) {
          session.write(
            xml('iq', {
              type: 'result',
              id: s.attrs.id ?? '',
              from: domain,
              to: s.attrs.from ?? domain,
            }).toString(),
          )
        }
      },
    )
    if (rt.kind === 'stanza') {
      const ok = rt.stanza.attrs.type === 'result'
      steps.push({
        name: 'round trip',
        ok,
        ms: since(t),
        detail: ok
          ? `a ping to ${domain} went through the server and back`
          : `the server answered the ping with an error: ${rt.stanza.getChild('error')?.toString() ?? ''}`,
        ...(ok ? {} : { fix: 'the server does not route stanzas back to the component; check its logs' }),
      })
    } else {
      steps.push({
        name: 'round trip',
        ok: false,
        ms: since(t),
        detail: describe(rt, 'no answer to a ping routed through the server'),
        fix: 'check the server log for routing errors',
      })
    }
    session.write('</stream:stream>')
    return report()
  } finally {
    session.close()
  }
}

type Event =
  | { kind: 'header'; attrs: Record<string, string> }
  | { kind: 'stanza'; stanza: Stanza }
  | { kind: 'closed' }
  | { kind: 'timeout' }
  | { kind: 'xml-error'; message: string }

class Session {
  socket: net.Socket | null = null
  #events: Event[] = []
  #waiter: ((e: Event) => void) | null = null
  #parser = new StreamParser(
    {
      onStreamStart: (attrs) => this.#push({ kind: 'header', attrs }),
      onStanza: (stanza) => this.#push({ kind: 'stanza', stanza }),
      onStreamEnd: () => this.#push({ kind: 'closed' }),
      onError: (err) => this.#push({ kind: 'xml-error', message: err.message }),
    },
    { maxStanzaBytes: 1 << 20, maxDepth: 64 },
  )

  #push(e: Event): void {
    if (this.#waiter) {
      const w = this.#waiter
      this.#waiter = null
      w(e)
    } else this.#events.push(e)
  }

  connect(svc: ReturnType<typeof parseService>, o: CheckOptions, timeout: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const opts = { host: svc.host, port: svc.port }
      const socket = svc.tls
        ? tls.connect({
            ...opts,
            rejectUnauthorized: o.insecure !== true,
            ...(o.ca ? { ca: o.ca } : {}),
            ...(net.isIP(svc.host) ? {} : { servername: svc.host }),
          })
        : net.connect(opts)
      this.socket = socket
      const timer = setTimeout(() => {
        socket.destroy()
        reject(Object.assign(new Error(`no connection within ${timeout} ms`), { code: 'ETIMEDOUT' }))
      }, timeout)
      socket.once(svc.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer)
        resolve()
      })
      socket.once('error', (err) => {
        clearTimeout(timer)
        reject(err)
        this.#push({ kind: 'closed' })
      })
      socket.on('data', (chunk: Buffer) => this.#parser.write(chunk))
      socket.on('close', () => this.#push({ kind: 'closed' }))
    })
  }

  write(data: string): void {
    if (this.socket && !this.socket.destroyed) this.socket.write(data)
  }

  nextEvent(timeout: number): Promise<Event> {
    const queued = this.#events.shift()
    if (queued) return Promise.resolve(queued)
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null
        resolve({ kind: 'timeout' })
      }, timeout)
      this.#waiter = (e) => {
        clearTimeout(timer)
        resolve(e)
      }
    })
  }

  async waitFor(pred: (s: Stanza) => boolean, timeout: number, onOther: (s: Stanza) => void): Promise<Event> {
    const end = Date.now() + timeout
    for (;;) {
      const e = await this.nextEvent(Math.max(0, end - Date.now()))
      if (e.kind !== 'stanza') return e
      if (pred(e.stanza)) return e
      onOther(e.stanza)
    }
  }

  close(): void {
    this.#parser.close()
    this.socket?.destroy()
  }
}

function since(t: number): number {
  return Math.round((performance.now() - t) * 10) / 10
}

function isStreamError(s: Stanza): boolean {
  return s.name === 'stream:error' || (s.name === 'error' && s.getNS() === NS_STREAMS)
}

function describe(e: Event, fallback: string): string {
  if (e.kind === 'timeout') return `${fallback} (timed out)`
  if (e.kind === 'closed') return 'the server closed the connection'
  if (e.kind === 'xml-error') return `the server sent bytes that are not XMPP: ${e.message}`
  if (e.kind === 'stanza') return `unexpected <${e.stanza.name}>`
  return fallback
}

function diagnoseStreamError(s: Stanza, domain: string): { detail: string; fix?: string } {
  let condition = 'undefined-condition'
  let text: string | undefined
  for (const c of s.children) {
    if (typeof c === 'string') continue
    if (c.name === 'text') text = c.getText()
    else condition = c.name
  }
  const fixes: Record<string, string> = {
    'not-authorized': `Prosody: Component "${domain}" with component_secret = "<the same secret>"; ejabberd: ejabberd_service hosts: ${domain}: password: "<the same secret>" (ejabberd also says not-authorized for a domain it does not know)`,
    'host-unknown': `Prosody: add Component "${domain}" with component_secret = "..."; or fix XMPP_DOMAIN`,
    conflict:
      text && /local domain/i.test(text)
        ? `${domain} is a virtual host of the server: use a subdomain for the component`
        : 'stop the other instance, or on Prosody set component_conflict_resolve = "kick_old"',
    'invalid-namespace': 'use the component port, not the client or server port',
    'improper-addressing': 'set XMPP_DOMAIN (the stream header needs a to)',
  }
  const fix = fixes[condition]
  return {
    detail: `<${condition}/>: ${explainStreamError(condition, domain, text)}`,
    ...(fix ? { fix } : {}),
  }
}

function diagnoseConnect(
  err: NodeJS.ErrnoException,
  svc: ReturnType<typeof parseService>,
): { detail: string; fix?: string } {
  const code = err.code ?? ''
  const where = `${svc.host}:${svc.port}`
  if (code === 'ECONNREFUSED') {
    return {
      detail: `nothing listens on ${where}`,
      fix: `start the server, or open the component port: Prosody component_ports = { ${svc.port} } (and component_interfaces); ejabberd listen: - port: ${svc.port}, module: ejabberd_service`,
    }
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return { detail: `cannot resolve ${svc.host}`, fix: 'fix the host in XMPP_SERVICE' }
  if (code === 'ETIMEDOUT')
    return {
      detail: `no TCP connection to ${where}: ${err.message}`,
      fix: 'a firewall drops the packets, or the host is wrong',
    }
  if (/wrong version number|WRONG_VERSION|packet length too long|unexpected eof/i.test(err.message + code)) {
    return {
      detail: `TLS mismatch: ${where} does not speak TLS (${err.message})`,
      fix: `use xmpp://${where} (plain TCP), or the server's direct-TLS component port`,
    }
  }
  if (/certificate|CERT|self.signed|UNABLE_TO_VERIFY/i.test(err.message + code)) {
    return {
      detail: `TLS certificate not trusted: ${err.message}`,
      fix: 'pass --ca <file> (the server certificate or its CA), or fix the certificate on the server',
    }
  }
  return { detail: `${code || 'error'}: ${err.message}` }
}

function diagnoseNoHeader(e: Event, svc: ReturnType<typeof parseService>): { detail: string; fix?: string } {
  if (!svc.tls && (e.kind === 'xml-error' || e.kind === 'closed')) {
    return {
      detail: `${describe(e, '')}: the port may expect TLS`,
      fix: `if this is a direct-TLS port, use xmpps://${svc.host}:${svc.port}`,
    }
  }
  return {
    detail: describe(e, 'no stream header from the server'),
    fix: 'check that XMPP_SERVICE points at the XEP-0114 component port',
  }
}
