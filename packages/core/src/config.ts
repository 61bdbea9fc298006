import { readFileSync } from './builtins.js'
import { ErrorCodes, SatelliteError } from './errors.js'

/** TLS options for `xmpps://` services. */
export interface TlsOptions {
  /** Verify the server certificate (default `true`). Turn off only for tests. */
  rejectUnauthorized?: boolean
  /** Extra trusted CA certificates (PEM). */
  ca?: string | Buffer | Array<string | Buffer>
  /** Name to verify the certificate against (default: the service host). */
  servername?: string
  /** Client certificate and key, if the server asks for one. */
  cert?: string | Buffer
  key?: string | Buffer
}

/** Reconnect policy: exponential backoff with full jitter. */
export interface ReconnectOptions {
  /** First backoff ceiling in ms (default 1000). */
  base?: number
  /** Largest delay in ms (default 60000). */
  cap?: number
  /** After this long online (ms), the backoff starts again from `base` (default 30000). */
  stableAfter?: number
  /** Give up after this many failed attempts in a row (default `Infinity`). */
  maxAttempts?: number
  /** Smallest delay after a `conflict` stream error (default 30000). */
  conflictFloor?: number
}

/** Outbound queue used while offline or while the socket pushes back. */
export interface QueueOptions {
  /** Most stanzas held (default 10000). Beyond it, `send()` rejects with `SAT_ERR_QUEUE_FULL`. */
  max?: number
  /** Most bytes held, counted in UTF-8 bytes of the serialized stanzas (default 16 MiB). */
  maxBytes?: number
  /** How long a stanza may wait, in ms (default 60000); then `send()` rejects with `SAT_ERR_STANZA_EXPIRED`. */
  ttl?: number
}

/** Limits on what the server may send and on the component's own work. */
export interface LimitOptions {
  /** Largest incoming stanza in bytes (default 524288, Prosody's default). */
  maxStanzaBytes?: number
  /** Deepest element nesting inside a stanza (default 64). */
  maxDepth?: number
  /** Handlers running at once (default 256); beyond it the socket stops being read. */
  concurrency?: number
  /** iq requests waiting for answers at once (default 10000). */
  maxPendingRequests?: number
  /**
   * Largest stanza `send()` accepts, in bytes (default 524288: Prosody's
   * component_stanza_size_limit; over it Prosody closes the stream).
   */
  maxOutboundStanzaBytes?: number
}

/** Liveness checks. */
export interface PingOptions {
  /** Send a XEP-0199 ping when nothing was received for this long, in ms (default 60000). */
  interval?: number
  /** Reconnect when the ping is not answered in this time, in ms (default 20000). */
  timeout?: number
  /** Whom to ping (default: the component's own domain, a round trip through the server). */
  to?: string
}

/** Which built-in responders run. Each is on by default. */
export interface ResponderOptions {
  /** XEP-0030 service discovery. */
  disco?: boolean
  /** XEP-0199 ping. */
  ping?: boolean
  /** XEP-0092 software version: `false`, or the name/version to report. */
  version?: boolean | { name?: string; version?: string; os?: string }
  /** XEP-0202 entity time. */
  time?: boolean
  /**
   * XEP-0115 caps on the presence the component sends: `false`, or the caps node URI and the
   * number of local parts whose verification string is cached (`cacheSize`, default 1000; the
   * least recently used is forgotten: presences can come from any local part a peer chooses).
   */
  caps?: boolean | { node?: string; cacheSize?: number }
}

/**
 * Options of {@link component}. Only `service`, `domain` and `secret` are required.
 *
 * @example
 * ```ts
 * const xmpp = component({ service: 'xmpp://127.0.0.1:5347', domain: 'bot.example.org', secret: process.env.SECRET! })
 * ```
 */
export interface ComponentOptions {
  /** `xmpp://host[:port]` (plain TCP, default port 5347) or `xmpps://host[:port]` (direct TLS). */
  service: string
  /** The component's domain, as configured on the server (`Component "bot.example.org"`). */
  domain: string
  /** The shared secret (`component_secret`). Never logged. */
  secret: string
  /** Human-readable name for the disco identity (default: the domain). */
  name?: string
  tls?: TlsOptions
  /** `false` to never reconnect; otherwise the backoff policy. */
  reconnect?: false | ReconnectOptions
  /** Covers the server's stream header and its handshake answer, in ms (default 10000). */
  handshakeTimeout?: number
  /** How long `stop()` waits for the server to close the stream, in ms (default 2000). */
  stopTimeout?: number
  /** Whitespace keepalive interval in ms when nothing was written (default 30000); `false` disables. */
  keepalive?: number | false
  /** XEP-0199 ping to detect dead links; off unless given. */
  ping?: false | PingOptions
  /** Default timeout of `request()` in ms (default 30000). */
  requestTimeout?: number
  queue?: QueueOptions
  limits?: LimitOptions
  responders?: ResponderOptions
  /** Stops the component when aborted. */
  signal?: AbortSignal
}

/** Options with every default filled in. */
export interface ResolvedOptions {
  service: { tls: boolean; host: string; port: number; url: string }
  domain: string
  secret: string
  name: string
  tls: TlsOptions
  reconnect: false | Required<ReconnectOptions>
  handshakeTimeout: number
  stopTimeout: number
  keepalive: number | false
  ping: false | { interval: number; timeout: number; to: string }
  requestTimeout: number
  queue: Required<QueueOptions>
  limits: Required<LimitOptions>
  responders: ResponderOptions
  signal: AbortSignal | undefined
}

function configError(setting: string, message: string): SatelliteError {
  return new SatelliteError(ErrorCodes.CONFIG, `${setting}: ${message}`, { fatal: true })
}

/** Parses `xmpp://host:port` / `xmpps://host:port`. */
export function parseService(service: string): ResolvedOptions['service'] {
  let url: URL
  try {
    url = new URL(service)
  } catch {
    throw configError('service', `'${service}' is not a URL; expected xmpp://host:5347 or xmpps://host:port`)
  }
  if (url.protocol !== 'xmpp:' && url.protocol !== 'xmpps:') {
    throw configError('service', `unsupported scheme '${url.protocol}'; expected xmpp:// or xmpps://`)
  }
  if (!url.hostname) throw configError('service', `'${service}' has no host`)
  const port = url.port ? Number(url.port) : 5347
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname
  return { tls: url.protocol === 'xmpps:', host, port, url: `${url.protocol}//${url.host}` }
}

function positive(
  setting: string,
  value: number | undefined,
  fallback: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback
  if (
    typeof value !== 'number' ||
    Number.isNaN(value) ||
    value <= 0 ||
    (!allowInfinity && !Number.isFinite(value))
  ) {
    throw configError(setting, `must be a positive number, got ${String(value)}`)
  }
  return value
}

const DOMAIN_RE = /^[^\s@/]+$/

/** Validates options and fills in defaults. Throws `SAT_ERR_CONFIG` naming the setting. */
export function resolveOptions(options: ComponentOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw configError('options', 'must be an object')
  if (typeof options.service !== 'string') throw configError('service', 'is required (xmpp://host:port)')
  if (typeof options.domain !== 'string' || !DOMAIN_RE.test(options.domain)) {
    throw configError('domain', 'is required: the component domain, e.g. bot.example.org (no @ or /)')
  }
  if (typeof options.secret !== 'string' || options.secret.length === 0) {
    throw configError('secret', 'is required: the component_secret configured on the server')
  }
  const service = parseService(options.service)
  const r = options.reconnect
  const ping = options.ping
  const keepalive = options.keepalive === false ? false : positive('keepalive', options.keepalive, 30_000)
  const domain = options.domain.toLowerCase()
  return {
    service,
    domain,
    secret: options.secret,
    name: options.name ?? domain,
    tls: options.tls ?? {},
    reconnect:
      r === false
        ? false
        : {
            base: positive('reconnect.base', r?.base, 1000),
            cap: positive('reconnect.cap', r?.cap, 60_000),
            stableAfter: positive('reconnect.stableAfter', r?.stableAfter, 30_000),
            maxAttempts: positive('reconnect.maxAttempts', r?.maxAttempts, Number.POSITIVE_INFINITY, true),
            conflictFloor: positive('reconnect.conflictFloor', r?.conflictFloor, 30_000),
          },
    handshakeTimeout: positive('handshakeTimeout', options.handshakeTimeout, 10_000),
    stopTimeout: positive('stopTimeout', options.stopTimeout, 2000),
    keepalive,
    ping:
      ping === undefined || ping === false
        ? false
        : {
            interval: positive('ping.interval', ping.interval, 60_000),
            timeout: positive('ping.timeout', ping.timeout, 20_000),
            to: ping.to ?? domain,
          },
    requestTimeout: positive('requestTimeout', options.requestTimeout, 30_000),
    queue: {
      max: positive('queue.max', options.queue?.max, 10_000),
      maxBytes: positive('queue.maxBytes', options.queue?.maxBytes, 16 * 1024 * 1024),
      ttl: positive('queue.ttl', options.queue?.ttl, 60_000, true),
    },
    limits: {
      maxStanzaBytes: positive('limits.maxStanzaBytes', options.limits?.maxStanzaBytes, 512 * 1024),
      maxDepth: positive('limits.maxDepth', options.limits?.maxDepth, 64),
      concurrency: positive('limits.concurrency', options.limits?.concurrency, 256),
      maxPendingRequests: positive('limits.maxPendingRequests', options.limits?.maxPendingRequests, 10_000),
      maxOutboundStanzaBytes: positive(
        'limits.maxOutboundStanzaBytes',
        options.limits?.maxOutboundStanzaBytes,
        512 * 1024,
      ),
    },
    responders: resolveResponders(options.responders),
    signal: options.signal,
  }
}

function resolveResponders(r: ResponderOptions | undefined): ResponderOptions {
  if (r === undefined) return {}
  if (typeof r.caps !== 'object' || r.caps === null) return r
  const cacheSize = positive('responders.caps.cacheSize', r.caps.cacheSize, 1000)
  if (!Number.isInteger(cacheSize)) {
    throw new SatelliteError(
      ErrorCodes.CONFIG,
      `responders.caps.cacheSize must be an integer, got ${cacheSize}`,
    )
  }
  return { ...r, caps: { ...r.caps, cacheSize } }
}

/** A variable of the environment, `undefined` when unset, empty or blank. */
function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name]
  return v === undefined || v.trim() === '' ? undefined : v
}

/**
 * Reads the connection settings every Satellite program takes from the environment. It is the
 * one reader of these variables: `satellite run`, `satellite config` and `satellite check` build
 * on it (and add their own `SATELLITE_*` settings).
 *
 * - `XMPP_SERVICE`: `xmpp://host[:port]` (plain TCP, port 5347 by default) or
 *   `xmpps://host[:port]` (direct TLS); default `xmpp://127.0.0.1:5347`.
 * - `XMPP_DOMAIN` (required): the component's domain, without `@`, `/` or spaces.
 * - Exactly one of `XMPP_SECRET` (the secret) and `XMPP_SECRET_FILE` (a file holding it;
 *   surrounding whitespace is trimmed, an empty file is an error). Both set is refused: the
 *   operator meant one of them, and silently preferring either could connect with a stale
 *   secret.
 *
 * A variable set to an empty or blank value counts as not set. The secret is never read from the
 * command line and never appears in a message.
 *
 * @throws `SatelliteError` `SAT_ERR_CONFIG` (`fatal`) whose message names every bad or missing
 * variable, one per line, each line `NAME: problem` (e.g. `XMPP_DOMAIN: is not set: …`).
 *
 * @example
 * ```ts
 * const xmpp = component({ ...configFromEnv(), name: 'Echo bot' })
 * ```
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): Pick<ComponentOptions, 'service' | 'domain' | 'secret'> {
  const problems: string[] = []
  let service = 'xmpp://127.0.0.1:5347'
  const rawService = envValue(env, 'XMPP_SERVICE')
  if (rawService !== undefined) {
    try {
      service = parseService(rawService.trim()).url
    } catch {
      problems.push(
        `XMPP_SERVICE: expected xmpp://host[:port] or xmpps://host[:port], got ${JSON.stringify(rawService)}`,
      )
    }
  }
  const rawDomain = envValue(env, 'XMPP_DOMAIN')
  const domain = rawDomain?.trim()
  if (domain === undefined) {
    problems.push('XMPP_DOMAIN: is not set: the component domain, e.g. echo.localhost')
  } else if (!DOMAIN_RE.test(domain)) {
    problems.push(
      `XMPP_DOMAIN: expected a domain such as echo.localhost (no @, / or spaces), got ${JSON.stringify(rawDomain)}`,
    )
  }
  const fromEnv = envValue(env, 'XMPP_SECRET')
  const file = envValue(env, 'XMPP_SECRET_FILE')
  let secret: string | undefined
  if (fromEnv !== undefined && file !== undefined) {
    problems.push('XMPP_SECRET: set either XMPP_SECRET or XMPP_SECRET_FILE, not both')
  } else if (file !== undefined) {
    try {
      secret = readFileSync(file, 'utf8').trim()
      if (secret === '') problems.push(`XMPP_SECRET_FILE: ${file} is empty`)
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message
      problems.push(`XMPP_SECRET_FILE: cannot read ${file}: ${reason}`)
    }
  } else if (fromEnv !== undefined) {
    secret = fromEnv
  } else {
    problems.push('XMPP_SECRET: is not set (set XMPP_SECRET or XMPP_SECRET_FILE)')
  }
  if (problems.length > 0 || domain === undefined || !secret) {
    throw new SatelliteError(ErrorCodes.CONFIG, problems.join('\n'), { fatal: true })
  }
  return { service, domain, secret }
}
