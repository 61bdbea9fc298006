// The lifecycle of a user's legacy session (src/session-state.ts): every move between two
// kinds, allowed or refused, and the conditions on the moves that need more than the kinds.
import { Backoff } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { BridgeError, BridgeErrorCodes } from '../src/errors.js'
import {
  backoffOf,
  currentLogin,
  GAVE_UP,
  type LegacySession,
  OFFLINE,
  publicState,
  type SessionKind,
  transition,
} from '../src/session-state.js'

type Session = LegacySession<string>

const timer = setTimeout(() => {}, 0)
clearTimeout(timer)
const login = Promise.resolve()
const series = new Backoff({ base: 1, cap: 2, maxAttempts: 3, conflictFloor: 0 })

/** One session of each kind (login 1, handle 'h'). */
const sample: Record<SessionKind, Session> = {
  offline: OFFLINE,
  connecting: { kind: 'connecting', gen: 1, reason: 'presence', backoff: null, login },
  online: { kind: 'online', gen: 1, handle: 'h', login: null },
  retrying: { kind: 'retrying', reason: 'retry', backoff: series, timer },
  gaveUp: GAVE_UP,
}

/** The lifecycle as docs/bridge.md draws it: from → the kinds it may go to. */
const allowed: Record<SessionKind, SessionKind[]> = {
  // a login starts, is deferred by loginLimits, or a registration's login replaces the session
  offline: ['connecting', 'retrying', 'online'],
  // it succeeds, fails with attempts left or none, is refused or cancelled
  connecting: ['online', 'retrying', 'gaveUp', 'offline'],
  // the first contact sync is done (same login), lost (attempts left or none), logged out
  online: ['online', 'retrying', 'gaveUp', 'offline'],
  // the timer fires (or a login is asked), loginLimits defer it again, logged out
  retrying: ['connecting', 'retrying', 'offline'],
  // available presence or login(), deferred by loginLimits, logged out
  gaveUp: ['connecting', 'retrying', 'offline'],
}

const kinds = Object.keys(sample) as SessionKind[]

/** A target of kind `to` that passes the extra conditions when leaving `from`. */
function target(from: Session, to: SessionKind): Session {
  if (to === 'online' && from.kind === 'online') return { ...from, login: null }
  if (to === 'online') return { kind: 'online', gen: 1, handle: 'h', login: null }
  return sample[to]
}

function refusal(fn: () => unknown): BridgeError {
  try {
    fn()
  } catch (err) {
    return err as BridgeError
  }
  throw new Error('the move was not refused')
}

describe('legacy session lifecycle', () => {
  for (const from of kinds) {
    for (const to of kinds) {
      const ok = allowed[from].includes(to)
      it(`${from} → ${to}: ${ok ? 'allowed' : 'refused'}`, () => {
        const source = from === 'online' ? { ...(sample.online as object), login } : sample[from]
        const next = target(source as Session, to)
        if (ok) {
          expect(transition(source as Session, next)).toBe(next)
        } else {
          const err = refusal(() => transition(source as Session, next))
          expect(err).toBeInstanceOf(BridgeError)
          expect(err.code).toBe(BridgeErrorCodes.STATE)
          expect(err.message).toContain(`from ${from}`)
        }
      })
    }
  }

  it('connecting → online only for the login under way', () => {
    const connecting = sample.connecting
    expect(transition(connecting, { kind: 'online', gen: 1, handle: 'h', login })).toMatchObject({ gen: 1 })
    const err = refusal(() => transition(connecting, { kind: 'online', gen: 2, handle: 'h', login: null }))
    expect(err.code).toBe(BridgeErrorCodes.STATE)
    expect(err.message).toBe(
      'bridge: a legacy session cannot go from connecting (login 1) to online (login 2)',
    )
  })

  it('online → online only marks the first contact sync of the same login as done', () => {
    const syncing: Session = { kind: 'online', gen: 1, handle: 'h', login }
    expect(transition(syncing, { ...syncing, login: null })).toMatchObject({ login: null })
    for (const next of [
      { kind: 'online', gen: 2, handle: 'h', login: null }, // another login
      { kind: 'online', gen: 1, handle: 'other', login: null }, // another session handle
      { kind: 'online', gen: 1, handle: 'h', login }, // not done
    ] as Session[]) {
      expect(refusal(() => transition(syncing, next)).code).toBe(BridgeErrorCodes.STATE)
    }
    // Once done, there is nothing left to mark.
    const done: Session = { kind: 'online', gen: 1, handle: 'h', login: null }
    expect(refusal(() => transition(done, { ...done })).code).toBe(BridgeErrorCodes.STATE)
  })

  it('Bridge.state strings: gaveUp reads as offline, the others as their kind', () => {
    expect(kinds.map((k) => publicState(sample[k]))).toEqual([
      'offline',
      'connecting',
      'online',
      'retrying',
      'offline',
    ])
  })

  it('the current login and the series of re-logins a session is in', () => {
    expect(kinds.map((k) => currentLogin(sample[k]))).toEqual([null, 1, 1, null, null])
    expect(kinds.map((k) => backoffOf(sample[k]))).toEqual([null, null, null, series, null])
  })
})
