import type { Component } from '@satellite/core'
import type { LogFormat } from './config.js'

/** Level of a lifecycle log line. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Writes one lifecycle log line: `[satellite] msg` as text, or one JSON object per line. */
export type LifecycleLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void

/** Fields whose values are never written, whatever they hold: they are replaced by `[redacted]`. */
const SECRET_FIELDS = /^(secret|password|passphrase|token|key|credentials?)$/i

/** JSON.stringify replacer: the value of a secret field, at any depth, is written `[redacted]`. */
function hideSecrets(key: string, value: unknown): unknown {
  return key !== '' && SECRET_FIELDS.test(key) && value !== undefined ? '[redacted]' : value
}

/**
 * Creates the lifecycle logger of `satellite run`. In `json` format each line is
 * `{"time":"<ISO 8601>","level":"info","msg":"…",…fields}`; the text format writes
 * `[satellite] msg` (no fields). The secret never reaches a log call: messages are built from
 * statuses, codes and error messages, which never hold it. Fields known to be secret (`secret`,
 * `password`, `token`, `key`, `credentials`, at any depth) are written `[redacted]` should one
 * be passed; nothing else is rewritten (a substring search for the secret would garble the
 * lines that happen to contain it, `c[redacted]nnecting`, and so reveal it).
 */
export function lifecycleLog(format: LogFormat, write: (line: string) => void): LifecycleLog {
  return (level, msg, fields = {}) => {
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, hideSecrets))
    } else {
      write(`[satellite] ${msg}`)
    }
  }
}

/** Logs a component's lifecycle events: status, reconnecting, error, dropped, online, stopped. */
export function logLifecycle(xmpp: Component, log: LifecycleLog, format: LogFormat): void {
  xmpp.on('status', (status, info) => {
    if (format === 'json') log('info', 'status', { status })
    // The text format has always put the reconnect delay on the status line.
    else log('info', `${status}${info ? ` in ${info.delay} ms (${info.reason})` : ''}`)
  })
  if (format === 'json') {
    xmpp.on('reconnecting', (info) =>
      log('warn', 'reconnecting', { delay: info.delay, attempt: info.attempt, reason: info.reason }),
    )
    xmpp.on('online', (address) => log('info', 'online', { jid: address.toString() }))
    xmpp.on('stopped', ({ error }) =>
      log(error ? 'error' : 'info', 'stopped', error ? { error: error.message, code: codeOf(error) } : {}),
    )
  }
  xmpp.on('error', (err) =>
    format === 'json'
      ? log('error', err.message, { code: codeOf(err), fatal: (err as { fatal?: boolean }).fatal === true })
      : log('error', err.message),
  )
  xmpp.on('dropped', ({ data, error }) =>
    format === 'json'
      ? log('warn', 'dropped', { code: error.code, reason: error.message, bytes: Buffer.byteLength(data) })
      : log('warn', `dropped a stanza (${error.code}): ${error.message}`),
  )
}

function codeOf(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}
