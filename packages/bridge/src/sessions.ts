// The users' legacy sessions: one entry per user (bounded by limits.sessions), whose legacy
// session is one LegacySession value (session-state.ts) moved only through `transition`;
// logins (within loginLimits), logouts, and re-logins with core's full-jitter Backoff.
import { Backoff, StanzaError } from '@satellite/core'
import type { BridgeContext } from './context.js'
import { loginEvents } from './events.js'
import { refusedLogin, userText } from './guard.js'
import {
  backoffOf,
  type ConnectReason,
  currentLogin,
  GAVE_UP,
  type LegacySession,
  OFFLINE,
  transition,
} from './session-state.js'

/** What the bridge keeps per user (bare JID) besides the legacy session. */
export interface UserSession<S> {
  readonly user: string
  /** The legacy session: read-only outside sessions.ts, which moves it through `transition` only. */
  readonly state: LegacySession<S>
  /** The user's resources seen available (at most `limits.resources`). */
  resources: Set<string>
  /** Known legacy presence of contacts (legacy id → online/status), at most `limits.contacts`. */
  presence: Map<string, { online: boolean; status?: string }>
  /** The stored credentials cannot be read, and the user was told to register again. */
  broken: boolean
  /** Registrations holding this entry (it is not released meanwhile). */
  busy: number
  /** Requests waiting for this user's login under way. */
  waiting: number
  /** The status of the user's newest presence, set once the login under way is done. */
  statusAfterLogin: { status: string | undefined } | null
}

export interface Sessions<S> {
  get(user: string): UserSession<S> | undefined
  /** The user's entry, made if needed; `resource-constraint` beyond `limits.sessions`. */
  session(user: string): UserSession<S>
  /** Forgets an entry that holds nothing (logged out, no resource, nothing pending or to remember). */
  release(us: UserSession<S>): void
  /** Forgets the user's entry whatever it holds (unregistered; log it out first). */
  remove(user: string): void
  values(): IterableIterator<UserSession<S>>
  readonly size: number
  /**
   * Logs the user in (if registered and allowed); resolves when done, with the first contact
   * sync (or failed: the user is told). A login that `loginLimits` defers is made later.
   */
  connect(us: UserSession<S>, reason: ConnectReason): Promise<void>
  /** Logs out (contacts and gateway unavailable if it was online); cancels a login under way or planned. */
  disconnect(us: UserSession<S>): Promise<void>
  /** The legacy network reports the session lost: re-logins with backoff. */
  lost(us: UserSession<S>, reason: string): void
  /** A new login id, for a login made apart (a registration's): current once {@link adopt}ed. */
  nextLogin(): number
  /** Whether login `gen` is the user's current one (its events count). */
  isCurrent(us: UserSession<S>, gen: number): boolean
  /**
   * A login made apart (`gen`, from {@link nextLogin}) becomes the session, which must be
   * offline; resolves after the first contact sync.
   */
  adopt(us: UserSession<S>, gen: number, handle: S): Promise<void>
  /** The component came online again: every session not offline logs in again. */
  reconnectAll(): Promise<void>
  /** Logs every session out and forgets them. */
  stop(): Promise<void>
}

export function sessions<S>(ctx: BridgeContext<S>): Sessions<S> {
  const { limits, throttle, networkName, domain } = ctx
  const entries = new Map<string, UserSession<S>>()
  /** Login ids, unique across users: events and results of a superseded login are ignored. */
  let logins = 0

  /** The only writer of `us.state`; leaving `retrying` cancels its timer. */
  function move(us: UserSession<S>, next: LegacySession<S>): void {
    const prev = us.state
    ;(us as { state: LegacySession<S> }).state = transition(prev, next)
    if (prev.kind === 'retrying') clearTimeout(prev.timer)
  }

  const isCurrent = (us: UserSession<S>, gen: number) => currentLogin(us.state) === gen

  function session(user: string): UserSession<S> {
    let us = entries.get(user)
    if (us !== undefined) return us
    if (entries.size >= limits.sessions) {
      ctx.limit(`${entries.size} sessions (limits.sessions): none for ${user}`)
      throw new StanzaError('resource-constraint', {
        type: 'wait',
        text: 'the gateway is full; try again later',
      })
    }
    us = {
      user,
      state: OFFLINE,
      resources: new Set(),
      presence: new Map(),
      broken: false,
      busy: 0,
      waiting: 0,
      statusAfterLogin: null,
    }
    entries.set(user, us)
    return us
  }

  function release(us: UserSession<S>): void {
    const idle = us.state.kind === 'offline' && us.resources.size === 0 && us.busy === 0 && !us.broken
    if (idle && entries.get(us.user) === us) {
      entries.delete(us.user)
      ctx.avatars.clear(us.user)
    }
  }

  /** A login of `us` in `delay` ms (`retrying` meanwhile). */
  function later(us: UserSession<S>, delay: number, reason: ConnectReason, backoff: Backoff | null): void {
    // Beyond 2^31-1 ms setTimeout would fire at once.
    const timer = setTimeout(
      () => {
        if (us.state.kind !== 'retrying' || us.state.timer !== timer) return
        try {
          void connect(us, reason, backoff)
        } catch (err) {
          ctx.report(err as Error)
        }
      },
      Math.min(delay, 2 ** 31 - 1),
    )
    timer.unref?.()
    move(us, { kind: 'retrying', reason, backoff, timer })
  }

  function connect(
    us: UserSession<S>,
    reason: ConnectReason,
    backoff: Backoff | null = backoffOf(us.state),
  ): Promise<void> {
    const st = us.state
    if (st.kind === 'online') return Promise.resolve()
    if (st.kind === 'connecting') return st.login
    // Logins take from loginLimits (those on the user's presence from the user's own limits too).
    const deferral = throttle.acquire(us.user, { byUser: reason === 'presence' })
    if (deferral !== null) {
      ctx.limit(`login of ${us.user} in ${deferral.wait} ms (loginLimits: ${deferral.reason})`)
      later(us, deferral.wait, reason, backoff)
      return Promise.resolve()
    }
    const gen = ++logins
    // The login runs once the session says `connecting` (a microtask later).
    const login: Promise<void> = Promise.resolve()
      .then(() => attempt(us, gen, reason))
      .catch((err: Error) => {
        ctx.report(err)
        if (us.state.kind === 'connecting' && us.state.gen === gen) move(us, OFFLINE)
      })
      .finally(() => {
        const now = us.state
        if (now.kind === 'online' && now.gen === gen && now.login !== null) move(us, { ...now, login: null })
        release(us)
      })
    move(us, { kind: 'connecting', gen, reason, backoff, login })
    return login
  }

  /** The body of login `gen` (state `connecting`). */
  async function attempt(us: UserSession<S>, gen: number, reason: ConnectReason): Promise<void> {
    const stored = ctx.users.allowed(us.user) ? await ctx.users.read(us.user) : { kind: 'none' as const }
    if (!isCurrent(us, gen)) return
    if (stored.kind !== 'ok') {
      move(us, OFFLINE)
      if (stored.kind === 'unreadable' && !us.broken) {
        us.broken = true
        ctx.notify(
          us.user,
          `Your stored ${networkName} login cannot be used any more; register again with ${domain}.`,
        )
      }
      return
    }
    // Refusals count against the legacy account too (a re-login is never held back by it).
    const account = throttle.account(us.user, stored.credentials)
    let handle: S
    try {
      handle = await ctx.guarded.login(us.user, stored.credentials, loginEvents(ctx, us, gen))
    } catch (err) {
      if (!isCurrent(us, gen)) return
      const condition = err instanceof StanzaError ? err.condition : 'service-unavailable'
      if (refusedLogin(err)) {
        throttle.refused(us.user, account)
        move(us, OFFLINE)
        ctx.notify(us.user, `${networkName} refused the login (${condition}); update your registration.`)
        return
      }
      retryLater(us, userText(condition, networkName))
      return
    }
    throttle.succeeded(us.user, account)
    const st = us.state
    if (st.kind !== 'connecting' || st.gen !== gen) {
      await ctx.guarded.logout(us.user, handle)
      return
    }
    await established(us, gen, handle, st.login)
    if (reason === 'retry') ctx.notify(us.user, `Reconnected to ${networkName}.`)
  }

  /** After a successful login: online, the gateway's presence, then the contacts and their presence. */
  async function established(us: UserSession<S>, gen: number, handle: S, login: Promise<void> | null) {
    move(us, { kind: 'online', gen, handle, login })
    us.broken = false
    ctx.avatars.clear(us.user) // asked again: they may have changed while logged out
    ctx.presence.gateway(us.user, true)
    // A failing contact list (reported by the guard) leaves the stored contacts as they are.
    const list = await ctx.guarded.listContacts(us.user, handle).catch(() => null)
    if (!isCurrent(us, gen)) return
    if (list !== null) await ctx.contacts.sync(us, gen, list)
    await ctx.groups?.refresh(us.user, handle).catch(() => {})
  }

  /** A login failed or the session was lost: the next re-login of the series, or giving up. */
  function retryLater(us: UserSession<S>, reason: string): void {
    const why = reason.length > 200 ? `${reason.slice(0, 200)}…` : reason
    const backoff = backoffOf(us.state) ?? new Backoff({ ...ctx.retry, conflictFloor: 0 }, ctx.retry.random) // a new series
    if (backoff.exhausted) {
      const tries = backoff.attempts
      move(us, GAVE_UP)
      ctx.presence.allUnavailable(us)
      ctx.presence.gateway(us.user, false)
      ctx.notify(
        us.user,
        `Disconnected from ${networkName}: ${why}. Gave up after ${tries} ${tries === 1 ? 'attempt' : 'attempts'} to reconnect; go online again (available presence) to log in.`,
      )
      return
    }
    const delay = backoff.next('retry')
    later(us, delay, 'retry', backoff)
    ctx.presence.allUnavailable(us)
    ctx.notify(
      us.user,
      `Disconnected from ${networkName}: ${why}. Reconnecting in ${Math.max(1, Math.ceil(delay / 1000))} s.`,
    )
  }

  async function disconnect(us: UserSession<S>): Promise<void> {
    const prev = us.state
    if (prev.kind === 'offline') return
    move(us, OFFLINE)
    if (prev.kind !== 'online') return
    ctx.presence.allUnavailable(us)
    ctx.presence.gateway(us.user, false)
    await ctx.guarded.logout(us.user, prev.handle)
  }

  return {
    get: (user) => entries.get(user),
    session,
    release,
    remove: (user) => void entries.delete(user),
    values: () => entries.values(),
    get size() {
      return entries.size
    },
    connect: (us, reason) => connect(us, reason),
    disconnect,
    lost(us, reason) {
      if (us.state.kind === 'online') retryLater(us, reason)
    },
    nextLogin: () => ++logins,
    isCurrent,
    adopt: (us, gen, handle) => established(us, gen, handle, null),
    async reconnectAll() {
      for (const us of entries.values()) {
        const st = us.state
        if (st.kind === 'offline' || st.kind === 'gaveUp') continue
        await disconnect(us)
        void connect(us, 'reconnect', backoffOf(st)) // a series of re-logins goes on
      }
    },
    async stop() {
      for (const us of entries.values()) await disconnect(us)
      entries.clear()
    },
  }
}
