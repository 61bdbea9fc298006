// The operator's view of the bridge's reports: the `error` event is rate-limited (a legacy user
// sending garbage cannot flood it), the `satellite:bridge` debug log has every report.

import { format } from 'node:util'
import type { Component } from '@satellite/core'
import createDebug from 'debug'
import { afterEach, describe, expect, it } from 'vitest'
import { BridgeError, BridgeErrorCodes } from '../src/errors.js'
import { reporter } from '../src/log.js'

const saved = { log: createDebug.log, namespaces: createDebug.disable() }
afterEach(() => {
  createDebug.log = saved.log
  createDebug.enable(saved.namespaces)
})

describe('bridge reports', () => {
  it('at most perMinute on the error event (then one count of the rest), every one in the debug log', () => {
    const lines: string[] = []
    createDebug.log = (...args: unknown[]) => void lines.push(format(...args))
    createDebug.enable('satellite:bridge')
    const events: Error[] = []
    const xmpp = { listenerCount: () => 1, emit: (_e: string, err: Error) => events.push(err) }
    let t = 0
    const report = reporter(xmpp as unknown as Component, 3, () => t)
    for (let i = 0; i < 10; i++)
      report(new BridgeError(BridgeErrorCodes.ADAPTER, `garbage ${i}\nsecond line`))
    expect(events.map((e) => e.message)).toEqual([
      'garbage 0\nsecond line',
      'garbage 1\nsecond line',
      'garbage 2\nsecond line',
    ])
    t = 60_000
    report(new BridgeError(BridgeErrorCodes.LIMIT, 'later'))
    expect(events.map((e) => (e as BridgeError).code).slice(3)).toEqual([
      BridgeErrorCodes.SUPPRESSED,
      BridgeErrorCodes.LIMIT,
    ])
    expect(events[3]?.message).toMatch(/7 more reports/)
    expect(lines).toHaveLength(11)
    // one line each: the newline of the message is not written
    expect(lines[9]).toMatch(/SAT_ERR_BRIDGE_ADAPTER: BridgeError: garbage 9 second line/)
  })
})
