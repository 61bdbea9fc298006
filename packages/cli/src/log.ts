import type { Component } from '@satellite/core'
import type { LogFormat } from './config.js'

/** Level of a lifecycle log line. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Writes one lifecycle log line: `[satellite] msg` as text, or one JSON object per line. */
export type LifecycleLog = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void

/**
 * Creates the lifecycle logger of `satellite run`. In `json` format each line is
 * `{"time":"<ISO 8601>","level":"info","msg":"…",…fields}`. Every string in `redact` (the
 * secret) is replaced by `[redacted]` in the line before it is written, whatever the format.
 */
export function lifecycleLog(
  format: LogFormat,
  write: (line: string) => void,
  redact: string[] = [],
): LifecycleLog {
  const secrets = redact.filter((s) => s.length > 0)
  const clean = (line: string) => secrets.reduce((l, s) => l.split(s).join('[redacted]'), line)
  return (level, msg, fields = {}) => {
    if (format === 'json') {
      write(clean(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })))
    } else {
      write(clean(`[satellite] ${msg}`))
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
