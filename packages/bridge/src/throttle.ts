// Limits on legacy logins: each login is a real attempt on the legacy network, so the gateway
// must not become a password-guessing proxy. Per user (bare JID): a token bucket for the
// logins the user asks for, and a backoff after refused credentials. Per legacy account (the
// username a registration names, kept as a salted hash): a backoff after refused credentials,
// whichever JIDs tried them. For everybody: a global token bucket every login takes from, part
// of which only re-logins with stored credentials (that worked once) may take, so that a flood
// of registrations cannot delay the users already registered.
import { createHmac, randomBytes } from 'node:crypto'
import { StanzaError } from '@satellite/core'
import type { Registration } from '@satellite/register'
import { type ResolvedLoginLimits, setBounded, TokenBucket } from './limits.js'

interface UserRecord {
  bucket: TokenBucket
  /** Refused logins in a row. */
  refusals: number
  /** No login before this time (ms). */
  until: number
}

interface AccountRecord {
  refusals: number
  until: number
}

/** Why a login has to wait, and how long. */
export interface Deferral {
  wait: number
  reason: 'user' | 'backoff' | 'account' | 'global'
}

/** Registration fields that name the legacy account (in this order); the others are secrets or details. */
const ACCOUNT_FIELDS = ['username', 'nick', 'email', 'phone', 'name'] as const

/** What a login is: a registration (credentials not known to work) or a re-login with stored ones. */
export interface LoginKind {
  /** One the user asked for (registration, login on presence or message): the per-user limits apply. */
  byUser: boolean
  /** The hashed legacy account of a registration ({@link LoginThrottle.account}); none for a re-login. */
  account?: string
}

export class LoginThrottle {
  readonly #users = new Map<string, UserRecord>()
  readonly #accounts = new Map<string, AccountRecord>()
  readonly #global: TokenBucket
  readonly #salt = randomBytes(16)
  constructor(
    readonly limits: ResolvedLoginLimits,
    readonly now: () => number = Date.now,
  ) {
    this.#global = new TokenBucket(limits.globalBurst, limits.globalPerSecond / 1000, now)
  }

  /**
   * The legacy account a registration names, as a salted hash (no username is kept in memory):
   * its first non-empty account field, case-folded and normalised, so that `Alice` and `alice`
   * are one account; the bare JID when it names none.
   */
  account(user: string, values: Registration): string {
    const named = ACCOUNT_FIELDS.map((f) => values[f]).find((v) => typeof v === 'string' && v.trim() !== '')
    const id = typeof named === 'string' ? `a:${named.normalize('NFKC').trim().toLowerCase()}` : `u:${user}`
    return createHmac('sha256', this.#salt).update(id).digest('base64')
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

  /** The backoffs that apply to a login of `kind` (nothing is taken). */
  backoff(user: string, kind: LoginKind): Deferral | null {
    const rec = kind.byUser ? this.#users.get(user) : undefined
    const wait = (rec?.until ?? 0) - this.now()
    if (wait > 0) return { wait, reason: 'backoff' }
    const acc = kind.account === undefined ? undefined : this.#accounts.get(kind.account)
    const accWait = (acc?.until ?? 0) - this.now()
    if (accWait > 0) return { wait: accWait, reason: 'account' }
    return null
  }

  /**
   * Takes a login of `kind` for `user`, or says how long to wait (nothing is taken then). A
   * registration (`kind.account` given) finds the global bucket smaller by `global.reserved`.
   */
  acquire(user: string, kind: LoginKind): Deferral | null {
    const backoff = this.backoff(user, kind)
    if (backoff !== null) return backoff
    const rec = kind.byUser ? this.#record(user) : undefined
    const wait = rec?.bucket.wait() ?? 0
    if (wait > 0) return { wait, reason: 'user' }
    const reserved = kind.account === undefined ? 0 : this.limits.globalReserved
    const globalWait = this.#global.wait(reserved)
    if (globalWait > 0) return { wait: globalWait, reason: 'global' }
    this.#global.take()
    rec?.bucket.take()
    return null
  }

  /** The legacy network refused `user`'s credentials (for `account`): the next attempts wait longer. */
  refused(user: string, account?: string): void {
    const rec = this.#record(user)
    rec.refusals++
    rec.until =
      this.#until(rec.refusals, this.limits.backoffAfter, this.limits.backoffBase, this.limits.backoffCap) ??
      rec.until
    if (account === undefined) return
    const acc = this.#accounts.get(account) ?? { refusals: 0, until: 0 }
    acc.refusals++
    acc.until =
      this.#until(acc.refusals, this.limits.accountAfter, this.limits.accountBase, this.limits.accountCap) ??
      acc.until
    setBounded(this.#accounts, account, acc, this.limits.tracked)
  }

  #until(refusals: number, after: number, base: number, cap: number): number | undefined {
    const n = refusals - after
    if (n <= 0) return undefined
    return this.now() + Math.min(cap, base * 2 ** Math.min(n - 1, 52))
  }

  /** A login of `user` (for `account`) succeeded: the backoffs start again. */
  succeeded(user: string, account?: string): void {
    if (account !== undefined) this.#accounts.delete(account)
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

  /** Legacy accounts with refused logins remembered. */
  get accounts(): number {
    return this.#accounts.size
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
        : d.reason === 'account'
          ? `too many refused logins to this ${networkName} account; try again in ${seconds} s`
          : `too many ${networkName} logins; try again in ${seconds} s`,
  })
}
