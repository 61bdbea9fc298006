// Limits on legacy logins: each login is a real attempt on the legacy network, so the gateway
// must not become a password-guessing proxy. Per user (bare JID): a token bucket for the
// logins the user asks for, and a backoff after refused credentials; for everybody: a global
// token bucket every login takes from (re-logins too).
import { StanzaError } from '@satellite/core'
import { type ResolvedLoginLimits, setBounded, TokenBucket } from './limits.js'

interface UserRecord {
  bucket: TokenBucket
  /** Refused logins in a row. */
  refusals: number
  /** No login before this time (ms). */
  until: number
}

/** Why a login has to wait, and how long. */
export interface Deferral {
  wait: number
  reason: 'user' | 'backoff' | 'global'
}

export class LoginThrottle {
  readonly #users = new Map<string, UserRecord>()
  readonly #global: TokenBucket
  constructor(
    readonly limits: ResolvedLoginLimits,
    readonly now: () => number = Date.now,
  ) {
    this.#global = new TokenBucket(limits.globalBurst, limits.globalPerSecond / 1000, now)
  }

  #record(user: string): UserRecord {
    const rec = this.#users.get(user) ?? {
      bucket: new TokenBucket(this.limits.userBurst, this.limits.userPerMinute / 60_000, this.now),
      refusals: 0,
      until: 0,
    }
    setBounded(this.#users, user, rec, this.limits.tracked) // most recently seen last
    return rec
  }

  /**
   * Takes a login for `user` (`byUser`: one the user asked for, which the per-user limits
   * apply to), or says how long to wait (nothing is taken then).
   */
  acquire(user: string, byUser: boolean): Deferral | null {
    const rec = byUser ? this.#record(user) : this.#users.get(user)
    if (byUser && rec !== undefined) {
      const backoff = rec.until - this.now()
      if (backoff > 0) return { wait: backoff, reason: 'backoff' }
      const wait = rec.bucket.wait()
      if (wait > 0) return { wait, reason: 'user' }
    }
    const wait = this.#global.wait()
    if (wait > 0) return { wait, reason: 'global' }
    this.#global.take()
    if (byUser) rec?.bucket.take()
    return null
  }

  /** The legacy network refused `user`'s credentials: the next login waits longer. */
  refused(user: string): void {
    const rec = this.#record(user)
    rec.refusals++
    const n = rec.refusals - this.limits.backoffAfter
    if (n > 0)
      rec.until = this.now() + Math.min(this.limits.backoffCap, this.limits.backoffBase * 2 ** (n - 1))
  }

  /** A login of `user` succeeded: the backoff starts again. */
  succeeded(user: string): void {
    const rec = this.#users.get(user)
    if (rec === undefined) return
    rec.refusals = 0
    rec.until = 0
    if (rec.bucket.full) this.#users.delete(user)
  }

  /** Users remembered. */
  get size(): number {
    return this.#users.size
  }
}

/** The error a registration gets when it has to wait: the retry hint is in the text. */
export function deferralError(d: Deferral, networkName: string): StanzaError {
  const seconds = Math.max(1, Math.ceil(d.wait / 1000))
  if (d.reason === 'global') {
    return new StanzaError('resource-constraint', {
      type: 'wait',
      text: `the gateway is busy logging users in to ${networkName}; try again in ${seconds} s`,
    })
  }
  return new StanzaError('policy-violation', {
    type: 'wait',
    text:
      d.reason === 'backoff'
        ? `${networkName} refused your last login; try again in ${seconds} s`
        : `too many ${networkName} logins; try again in ${seconds} s`,
  })
}
