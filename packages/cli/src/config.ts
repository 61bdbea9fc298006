import {
  type ComponentOptions,
  configFromEnv,
  ErrorCodes,
  isSatelliteError,
  SatelliteError,
} from '@satellite/core'
import { z } from 'zod'

/** How `satellite run` writes its own log lines: `text` (default) or one JSON object per line. */
export type LogFormat = 'text' | 'json'

/** The configuration `satellite run` builds from the environment. */
export interface SatelliteConfig {
  /** Options for `component()`, secret included. */
  options: ComponentOptions
  /** Where the secret came from: `XMPP_SECRET`, or `XMPP_SECRET_FILE` and its path. */
  secretSource: string
  /** Format of the lifecycle log (`SATELLITE_LOG`). */
  logFormat: LogFormat
  /** Serve prom-client's default process metrics on `/metrics` too (`SATELLITE_PROCESS_METRICS`). */
  processMetrics: boolean
}

/** What the settings table shows for one environment variable. */
interface SettingMeta {
  /** The default, as shown in the docs. */
  shown: string
  description: string
}

/**
 * The shortest secret `satellite run`, `satellite config` and `satellite check` accept, in
 * characters, unless `SATELLITE_SECRET_MIN_LENGTH` says otherwise. A short secret is found from
 * one captured handshake (the digest is a SHA-1 of the public stream id and the secret), and
 * `secret = "o"` in a config is a mistake, not a choice.
 * @example
 * if ([...secret].length < MIN_SECRET_LENGTH) throw new Error('use a longer secret')
 */
export const MIN_SECRET_LENGTH = 8

type Ctx = z.core.$RefinementCtx<string | undefined>

function fail(ctx: Ctx, raw: string, expected: string): typeof z.NEVER {
  ctx.addIssue({ code: 'custom', message: `expected ${expected}, got ${JSON.stringify(raw)}` })
  return z.NEVER
}

/** Parses a positive integer (or `infinity`, or `off` -> `false`, when allowed). */
function parseInteger(
  raw: string | undefined,
  fallback: number | false,
  ctx: Ctx,
  accept: { off?: boolean; infinity?: boolean },
): number | false {
  const v = raw?.trim() ?? ''
  if (raw === undefined || v === '') return fallback
  if (accept.off && /^(off|false)$/i.test(v)) return false
  if (accept.infinity && /^(infinity|unlimited)$/i.test(v)) return Number.POSITIVE_INFINITY
  const n = Number(v)
  if (!/^\d+$/.test(v) || n <= 0 || !Number.isSafeInteger(n)) {
    const expected = [
      'a positive integer',
      ...(accept.off ? ['"off"'] : []),
      ...(accept.infinity ? ['"infinity"'] : []),
    ].join(' or ')
    return fail(ctx, raw, expected)
  }
  return n
}

/** A positive integer setting (`infinity` too, when allowed). */
function integer(fallback: number, meta: SettingMeta, accept: { infinity?: boolean } = {}) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => parseInteger(raw, fallback, ctx, accept) as number)
    .meta({ ...meta })
}

/** A positive integer setting that `off` turns off (`false`). */
function integerOrOff(fallback: number | false, meta: SettingMeta, accept: { infinity?: boolean } = {}) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => parseInteger(raw, fallback, ctx, { ...accept, off: true }))
    .meta({ ...meta })
}

/** An `on`/`off` setting (`true`/`false`, `yes`/`no`, `1`/`0` too). */
function onOff(fallback: boolean, meta: SettingMeta) {
  return z
    .string()
    .optional()
    .transform((raw, ctx) => {
      const v = raw?.trim().toLowerCase() ?? ''
      if (v === '') return fallback
      if (/^(on|true|yes|1)$/.test(v)) return true
      if (/^(off|false|no|0)$/.test(v)) return false
      return fail(ctx, raw as string, '"on" or "off"')
    })
    .meta({ ...meta })
}

function text(meta: SettingMeta) {
  return z
    .string()
    .optional()
    .transform((raw) => (raw === undefined || raw.trim() === '' ? undefined : raw))
    .meta({ ...meta })
}

/**
 * Every environment setting `satellite run` and `satellite config` read, with its default
 * and description (the table in docs/configuration.md is generated from it). Parse with
 * {@link loadConfig}, which reports errors by setting name. The schema validates the
 * `SATELLITE_*` settings; the `XMPP_*` ones are only listed here: `loadConfig` reads them with
 * core's `configFromEnv()`, the one reader of them (which reads the secret file too).
 */
export const settingsSchema = z.object({
  XMPP_SERVICE: text({
    shown: 'xmpp://127.0.0.1:5347',
    description:
      "The server's component port: `xmpp://host[:port]` (plain TCP, port 5347 by default) or `xmpps://host:port` (direct TLS).",
  }),
  XMPP_DOMAIN: text({
    shown: '(required)',
    description:
      'The component\'s domain, as configured on the server (Prosody: `Component "echo.localhost"`).',
  }),
  XMPP_SECRET: text({
    shown: '(one of the two)',
    description:
      'The shared secret (`component_secret`). Never printed; never taken from the command line. Set this or `XMPP_SECRET_FILE`, not both.',
  }),
  XMPP_SECRET_FILE: text({
    shown: '(one of the two)',
    description:
      'A file holding the secret (surrounding whitespace trimmed), e.g. a Docker or Kubernetes secret mount.',
  }),
  SATELLITE_SECRET_MIN_LENGTH: integer(MIN_SECRET_LENGTH, {
    shown: String(MIN_SECRET_LENGTH),
    description:
      'Shortest secret accepted, in characters; a shorter one is refused before connecting (by `satellite check` too).',
  }),
  SATELLITE_RECONNECT_BASE_MS: integer(1000, {
    shown: '1000',
    description: 'First backoff ceiling before reconnecting, in ms (exponential backoff with full jitter).',
  }),
  SATELLITE_RECONNECT_CAP_MS: integer(60_000, {
    shown: '60000',
    description: 'Largest delay between reconnect attempts, in ms.',
  }),
  SATELLITE_RECONNECT_MAX_ATTEMPTS: integerOrOff(
    Number.POSITIVE_INFINITY,
    {
      shown: 'infinity',
      description:
        'Give up after this many failed attempts in a row (`infinity`: never); `off` disables reconnecting.',
    },
    { infinity: true },
  ),
  SATELLITE_QUEUE_MAX: integer(10_000, {
    shown: '10000',
    description:
      'Most stanzas held in the outbound queue while offline; beyond it `send()` rejects (`SAT_ERR_QUEUE_FULL`).',
  }),
  SATELLITE_QUEUE_TTL_MS: integer(
    60_000,
    {
      shown: '60000',
      description:
        'How long a queued stanza may wait, in ms (`infinity`: forever); then `send()` rejects (`SAT_ERR_STANZA_EXPIRED`).',
    },
    { infinity: true },
  ),
  SATELLITE_MAX_STANZA_BYTES: integer(512 * 1024, {
    shown: '524288',
    description: "Largest incoming stanza in bytes (Prosody's default `component_stanza_size_limit`).",
  }),
  SATELLITE_CONCURRENCY: integer(256, {
    shown: '256',
    description: 'Handlers running at once; beyond it the socket stops being read (backpressure).',
  }),
  SATELLITE_KEEPALIVE_MS: integerOrOff(30_000, {
    shown: '30000',
    description: 'Whitespace keepalive after this long without writing, in ms; `off` disables it.',
  }),
  SATELLITE_PING_INTERVAL_MS: integerOrOff(false, {
    shown: 'off',
    description:
      'Send a XEP-0199 ping after this long without receiving anything, in ms; `off` disables pings.',
  }),
  SATELLITE_PING_TIMEOUT_MS: integer(20_000, {
    shown: '20000',
    description:
      'Reconnect when a ping is not answered within this time, in ms (with `SATELLITE_PING_INTERVAL_MS`).',
  }),
  SATELLITE_REQUEST_TIMEOUT_MS: integer(30_000, {
    shown: '30000',
    description: 'Default timeout of `xmpp.request()`, in ms.',
  }),
  SATELLITE_LOG: z
    .string()
    .optional()
    .transform((raw, ctx): LogFormat => {
      const v = raw?.trim().toLowerCase() || 'text'
      if (v === 'text' || v === 'json') return v
      return fail(ctx, raw as string, '"text" or "json"')
    })
    .meta({
      shown: 'text',
      description:
        "Format of `satellite run`'s lifecycle log: `text`, or `json` for one object per line (`--log-format` overrides it).",
    }),
  SATELLITE_PROCESS_METRICS: onOff(false, {
    shown: 'off',
    description:
      "`on` adds prom-client's process metrics (`process_*`, `nodejs_*`) to `/metrics`: about 4 MiB more RSS.",
  }),
})

/** The names of all settings, in documentation order. */
export const SETTINGS = Object.keys(settingsSchema.shape) as Array<keyof typeof settingsSchema.shape>

function configError(message: string): SatelliteError {
  return new SatelliteError(ErrorCodes.CONFIG, message, { fatal: true })
}

/**
 * Validates the environment against {@link settingsSchema} and builds the component options.
 * Throws `SAT_ERR_CONFIG` listing every bad setting by name, one per line, e.g.
 * `SATELLITE_QUEUE_MAX: expected a positive integer, got "abc"`.
 *
 * @example
 * ```ts
 * const { options } = loadConfig(process.env)
 * const xmpp = component(options)
 * ```
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): SatelliteConfig {
  const input: Record<string, string | undefined> = {}
  for (const name of SETTINGS) input[name] = env[name]
  const parsed = settingsSchema.safeParse(input)
  const problems: string[] = []
  let connection: ReturnType<typeof configFromEnv> | undefined
  try {
    connection = configFromEnv(env)
  } catch (err) {
    // configFromEnv names every bad XMPP_* variable, one line each
    if (!isSatelliteError(err, ErrorCodes.CONFIG)) throw err
    problems.push(...err.message.split('\n'))
  }
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((i) => `${i.path.join('.') || '(environment)'}: ${i.message}`))
  }
  const s = parsed.success ? parsed.data : undefined
  const secretSource =
    s?.XMPP_SECRET_FILE === undefined ? 'XMPP_SECRET' : `XMPP_SECRET_FILE (${s.XMPP_SECRET_FILE})`
  if (s && connection) {
    const from = s.XMPP_SECRET_FILE === undefined ? 'XMPP_SECRET' : 'XMPP_SECRET_FILE'
    const short = secretTooShort(connection.secret, s.SATELLITE_SECRET_MIN_LENGTH, from)
    if (short) problems.push(short)
  }
  if (problems.length > 0 || !s || !connection) {
    throw configError(`invalid configuration:\n  ${problems.join('\n  ')}`)
  }
  const attempts = s.SATELLITE_RECONNECT_MAX_ATTEMPTS
  const options: ComponentOptions = {
    ...connection,
    reconnect:
      attempts === false
        ? false
        : { base: s.SATELLITE_RECONNECT_BASE_MS, cap: s.SATELLITE_RECONNECT_CAP_MS, maxAttempts: attempts },
    queue: { max: s.SATELLITE_QUEUE_MAX, ttl: s.SATELLITE_QUEUE_TTL_MS },
    limits: { maxStanzaBytes: s.SATELLITE_MAX_STANZA_BYTES, concurrency: s.SATELLITE_CONCURRENCY },
    keepalive: s.SATELLITE_KEEPALIVE_MS,
    ping:
      s.SATELLITE_PING_INTERVAL_MS === false
        ? false
        : { interval: s.SATELLITE_PING_INTERVAL_MS, timeout: s.SATELLITE_PING_TIMEOUT_MS },
    requestTimeout: s.SATELLITE_REQUEST_TIMEOUT_MS,
  }
  return { options, secretSource, logFormat: s.SATELLITE_LOG, processMetrics: s.SATELLITE_PROCESS_METRICS }
}

/**
 * The problem with a secret shorter than `min` characters (never the secret or its length), as
 * a line of the configuration error; `undefined` when it is long enough.
 * @example
 * secretTooShort('o', 8) // 'XMPP_SECRET: shorter than 8 characters: …'
 */
export function secretTooShort(secret: string, min: number, name = 'XMPP_SECRET'): string | undefined {
  if ([...secret].length >= min) return undefined
  return `${name}: shorter than ${min} characters: use a longer secret on the server and here (e.g. \`openssl rand -hex 16\`), or lower SATELLITE_SECRET_MIN_LENGTH`
}

/**
 * `SATELLITE_SECRET_MIN_LENGTH` from `env` (default {@link MIN_SECRET_LENGTH}); throws
 * `SAT_ERR_CONFIG` when it is not a positive integer.
 * @example
 * const min = secretMinLength(process.env)
 */
export function secretMinLength(env: NodeJS.ProcessEnv): number {
  const parsed = settingsSchema.shape.SATELLITE_SECRET_MIN_LENGTH.safeParse(env.SATELLITE_SECRET_MIN_LENGTH)
  if (!parsed.success) {
    throw configError(
      `invalid configuration:\n  SATELLITE_SECRET_MIN_LENGTH: ${parsed.error.issues[0]?.message}`,
    )
  }
  return parsed.data
}

/** The effective configuration with the secret replaced by `[redacted]`, for printing. */
export function redactedConfig(config: SatelliteConfig): Record<string, unknown> {
  return {
    ...config.options,
    secret: `[redacted] from ${config.secretSource}`,
    logFormat: config.logFormat,
    processMetrics: config.processMetrics,
  }
}

/** Human-readable lines of {@link redactedConfig}: `name = value`, nested options flattened. */
export function formatConfig(config: SatelliteConfig): string {
  const lines: string[] = []
  const walk = (prefix: string, value: unknown) => {
    if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v)
    } else
      lines.push(
        `${prefix} = ${typeof value === 'number' && !Number.isFinite(value) ? 'infinity' : String(value)}`,
      )
  }
  walk('', redactedConfig(config))
  return `${lines.join('\n')}\n`
}

/**
 * The Markdown table of every setting (name, default, description), generated from the
 * schema, columns padded as the formatter (biome) leaves them.
 */
export function settingsTable(): string {
  const rows = SETTINGS.map((name) => {
    const meta = settingsSchema.shape[name].meta() as unknown as SettingMeta
    return [`\`${name}\``, meta.shown.startsWith('(') ? meta.shown : `\`${meta.shown}\``, meta.description]
  })
  const table = [['Setting', 'Default', 'Description'], ...rows]
  const widths = [0, 1, 2].map((c) => Math.max(...table.map((r) => (r[c] as string).length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`
  const [head, ...body] = table
  return [line(head as string[]), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}
