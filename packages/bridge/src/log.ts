// What the bridge reports to the operator: on the component's `error` event (which
// `satellite run` logs, one line each), rate-limited so that a legacy user sending garbage
// cannot flood the log; every report also goes to the `satellite:bridge` debug log (off unless
// DEBUG asks for it). Users never see these details.
import type { Component } from '@satellite/core'
import createDebug from 'debug'
import { BridgeError, BridgeErrorCodes } from './errors.js'
import { TokenBucket } from './limits.js'

const log = createDebug('satellite:bridge')

const MAX_DETAIL = 300

/** A short, one-line rendering of whatever was thrown, for the log. */
export function detail(err: unknown): string {
  let s: string
  try {
    s = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  } catch {
    s = 'an unprintable value'
  }
  s = s.replace(/\s+/g, ' ')
  return s.length > MAX_DETAIL ? `${s.slice(0, MAX_DETAIL)}…` : s
}

/** The bridge's reporting function: emits `error` on the component, at most `perMinute` a minute. */
export function reporter(
  xmpp: Component,
  perMinute: number,
  now: () => number = Date.now,
): (err: Error) => void {
  const bucket = new TokenBucket(perMinute, perMinute / 60_000, now)
  let suppressed = 0
  const emit = (err: Error) => {
    if (xmpp.listenerCount('error') > 0) xmpp.emit('error', err)
  }
  return (err) => {
    log('%s: %s', (err as { code?: string }).code ?? err.name, detail(err))
    if (bucket.wait() > 0) {
      suppressed++
      return
    }
    bucket.take()
    if (suppressed > 0) {
      emit(
        new BridgeError(
          BridgeErrorCodes.SUPPRESSED,
          `bridge: ${suppressed} more reports were left out (limits.reportsPerMinute)`,
        ),
      )
      suppressed = 0
    }
    emit(err)
  }
}
