import { ErrorCodes, isSatelliteError, parseService, type Stanza, StreamError, xml } from '@satellite/core'
import { NS_COMPONENT, Session, type SessionEnd, tlsProblem } from '@satellite/core/internal'

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

type Service = ReturnType<typeof parseService>
type Diagnosis = { detail: string; fix?: string }

/**
 * Connects to a server as a component and reports step by step — TCP or TLS, stream
 * header, handshake, a round trip through the server — with a diagnosis and the server
 * configuration line to fix for each failure. It drives the component's own connection
 * (`Session` of `@satellite/core/internal`: the same TLS options, handshake, stream-error and
 * TLS-error handling) one step at a time. Never throws; never logs the secret.
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
  let svc: Service
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
  // As the component does (resolveOptions): the domain is lowercased.
  const domain = options.domain.toLowerCase()
  const transport = svc.tls ? 'TLS' : 'TCP'
  const events = new Events()
  let t = performance.now()
  let session: Session
  try {
    session = new Session(
      {
        service: svc,
        tls: { rejectUnauthorized: options.insecure !== true, ...(options.ca ? { ca: options.ca } : {}) },
        domain,
        secret: options.secret,
        // Each step has its own timeout (below); this one only bounds the three together.
        handshakeTimeout: 3 * timeout + 1000,
        limits: { maxStanzaBytes: 1 << 20, maxDepth: 64 },
      },
      {
        connected: () => events.push({ kind: 'connected' }),
        header: (attrs) => events.push({ kind: 'header', attrs }),
        online: () => events.push({ kind: 'online' }),
        stanza: (stanza) => events.push({ kind: 'stanza', stanza }),
        closed: (end) => events.push({ kind: 'closed', end }),
      },
    )
  } catch (err) {
    // Options the TLS layer refuses at once (an unreadable CA, for example).
    steps.push({ name: `${transport} connect`, ok: false, ms: since(t), detail: (err as Error).message })
    return report()
  }
  try {
    // 1. TCP / TLS
    const connected = await events.next(timeout)
    if (connected.kind !== 'connected') {
      steps.push({
        name: `${transport} connect`,
        ok: false,
        ms: since(t),
        ...diagnoseConnect(connected, svc),
      })
      return report()
    }
    steps.push({ name: `${transport} connect`, ok: true, ms: since(t), detail: `${svc.host}:${svc.port}` })
    // 2. Stream header (the session sent ours when it connected)
    t = performance.now()
    const header = await events.next(timeout)
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
    if (!header.attrs.id) {
      // Prosody answers an unknown domain with id='' and then <host-unknown/>; like the
      // component, the session sends no handshake without a stream id.
      const next = await events.next(timeout)
      const why = next.kind === 'closed' ? streamError(next.end) : undefined
      steps.push({
        name: 'stream header',
        ok: false,
        ms: since(t),
        ...(why
          ? diagnoseStreamError(why, domain)
          : {
              detail: `the server sent no stream id, and ${describe(next, 'nothing else')}`,
              fix: `check that the server serves the component ${domain} on this port`,
            }),
      })
      return report()
    }
    steps.push({
      name: 'stream header',
      ok: true,
      ms: since(t),
      detail: `jabber:component:accept, stream id received`,
    })
    // 3. Handshake (the session answered the header with it)
    t = performance.now()
    const answer = await events.next(timeout)
    if (answer.kind === 'online') {
      steps.push({
        name: 'handshake',
        ok: true,
        ms: since(t),
        detail: `the server accepted the secret for ${domain}`,
      })
    } else {
      steps.push({ name: 'handshake', ok: false, ms: since(t), ...diagnoseHandshake(answer, domain) })
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
    const rt = await roundTrip(session, events, domain, timeout)
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
    return report()
  } finally {
    // Online: </stream:stream>, then the server's close (at most a second); otherwise at once.
    await session.close(Math.min(timeout, 1000))
  }
}

/** What the session reported, in order, or a step's timeout. */
type Event =
  | { kind: 'connected' }
  | { kind: 'header'; attrs: Readonly<Record<string, string>> }
  | { kind: 'online' }
  | { kind: 'stanza'; stanza: Stanza }
  | { kind: 'closed'; end: SessionEnd }
  | { kind: 'timeout' }

/** The session's reports as a queue the check reads one step at a time. */
class Events {
  #queue: Event[] = []
  #waiter: ((e: Event) => void) | null = null

  push(e: Event): void {
    const w = this.#waiter
    if (w) {
      this.#waiter = null
      w(e)
    } else this.#queue.push(e)
  }

  /** The next report, or `timeout` after `ms`. A `closed` report stays: it is the last. */
  next(ms: number): Promise<Event> {
    const queued = this.#queue[0]
    if (queued) {
      if (queued.kind !== 'closed') this.#queue.shift()
      return Promise.resolve(queued)
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiter = null
        resolve({ kind: 'timeout' })
      }, ms)
      this.#waiter = (e) => {
        clearTimeout(timer)
        if (e.kind === 'closed') this.#queue.push(e)
        resolve(e)
      }
    })
  }
}

/** Waits for the answer to our ping, answering our own ping when the server routes it back to us. */
async function roundTrip(session: Session, events: Events, domain: string, timeout: number): Promise<Event> {
  const end = Date.now() + timeout
  for (;;) {
    const e = await events.next(Math.max(0, end - Date.now()))
    if (e.kind !== 'stanza') return e
    const s = e.stanza
    if (s.name !== 'iq') continue
    if (s.attrs.id === 'satellite-check-1' && s.attrs.type !== 'get') return e
    if (s.attrs.type === 'get' && s.getChild('ping', 'urn:xmpp:ping')) {
      session.write(
        xml('iq', {
          type: 'result',
          id: s.attrs.id ?? '',
          from: domain,
          to: s.attrs.from ?? domain,
        }).toString(),
      )
    }
  }
}

function since(t: number): number {
  return Math.round((performance.now() - t) * 10) / 10
}

function streamError(end: SessionEnd): StreamError | undefined {
  return end.error instanceof StreamError ? end.error : undefined
}

function describe(e: Event, fallback: string): string {
  if (e.kind === 'timeout') return `${fallback} (timed out)`
  if (e.kind === 'stanza') return `unexpected <${e.stanza.name}>`
  if (e.kind !== 'closed') return fallback
  const err = e.end.error
  if (err === undefined) return 'the server closed the connection'
  if (isSatelliteError(err, ErrorCodes.XML)) return `the server sent bytes that are not XMPP: ${err.message}`
  return err.message
}

function diagnoseStreamError(err: StreamError, domain: string): Diagnosis {
  const { condition, text } = err
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
  return { detail: `<${condition}/>: ${err.message}`, ...(fix ? { fix } : {}) }
}

function diagnoseHandshake(e: Event, domain: string): Diagnosis {
  if (e.kind === 'closed') {
    const why = streamError(e.end)
    if (why) return diagnoseStreamError(why, domain)
    if (e.end.reason === 'stream-features') {
      return {
        detail: 'the server offered stream features: this is a client port',
        fix: 'use the component port (Prosody component_ports, ejabberd ejabberd_service)',
      }
    }
  }
  return {
    detail: describe(e, 'no answer to the handshake'),
    fix: 'check that this port serves XEP-0114 components',
  }
}

function diagnoseConnect(e: Event, svc: Service): Diagnosis {
  const where = `${svc.host}:${svc.port}`
  if (e.kind === 'timeout') {
    return {
      detail: `no ${svc.tls ? 'TLS' : 'TCP'} connection to ${where} (timed out)`,
      fix: 'a firewall drops the packets, or the host is wrong',
    }
  }
  const err = e.kind === 'closed' ? e.end.error : undefined
  const cause = (err?.cause ?? err) as NodeJS.ErrnoException | undefined
  const code = cause?.code ?? ''
  const message = cause?.message ?? 'the server closed the connection'
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
      detail: `no TCP connection to ${where}: ${message}`,
      fix: 'a firewall drops the packets, or the host is wrong',
    }
  const problem = tlsProblem(code)
  if (problem === 'not-tls') {
    return {
      detail: `TLS mismatch: ${where} does not speak TLS (${message})`,
      fix: `use xmpp://${where} (plain TCP), or the server's direct-TLS component port`,
    }
  }
  if (problem === 'certificate') {
    return {
      detail: `TLS certificate not trusted: ${message}`,
      fix: 'pass --ca <file> (the server certificate or its CA), or fix the certificate on the server',
    }
  }
  if (svc.tls) {
    // A reset or an early close during the TLS handshake: the component retries these (they can
    // be transient), but here the likeliest cause is a port that does not speak TLS.
    return {
      detail: `the TLS handshake with ${where} failed: ${code ? `${code}: ` : ''}${message}`,
      fix: `if ${where} is a plaintext port, use xmpp://${where}; otherwise check the server's TLS settings`,
    }
  }
  return { detail: `${code || 'error'}: ${message}` }
}

function diagnoseNoHeader(e: Event, svc: Service): Diagnosis {
  // The connection closed, or what came was not XML: the port may speak TLS.
  if (!svc.tls && e.kind === 'closed') {
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
