// Every call into the adapter goes through here: whatever it throws (synchronously or as a
// rejection), however long it hangs, whatever it returns, the bridge gets either a clean value
// or a StanzaError with a valid condition and a short, stable text for the user. The details
// (exception messages, the adapter's own texts) go to the operator's log only.
import { isStanzaErrorCondition, StanzaError, type StanzaErrorType } from '@satellite/core'
import type {
  Avatar,
  ChatState,
  Credentials,
  LegacyContact,
  LegacyGroup,
  LegacyMember,
  NetworkAdapter,
  SessionEvents,
} from './adapter.js'
import { avatarOf, type CleanContext, contactsOf, groupsOf, membersOf, messageIdOf } from './clean.js'
import { BridgeError, BridgeErrorCodes } from './errors.js'
import { detail } from './log.js'
import { cleanText, ERROR_TYPES, isLegacyId } from './validate.js'

/** What the guard needs from the bridge. */
export interface GuardContext extends CleanContext {
  networkName: string
  report(err: Error): void
}

/** The text a user sees for a condition the adapter chose (its own text goes to the log). */
export function userText(condition: string, network: string): string {
  switch (condition) {
    case 'not-authorized':
      return `${network} refused these credentials`
    case 'forbidden':
    case 'not-allowed':
      return `${network} does not allow this`
    case 'item-not-found':
      return `${network} does not know this contact or message`
    case 'recipient-unavailable':
      return `the contact is offline on ${network}`
    case 'service-unavailable':
      return `${network} cannot be reached right now`
    case 'remote-server-timeout':
      return `${network} did not answer in time`
    case 'not-acceptable':
    case 'bad-request':
      return `${network} does not accept this`
    case 'resource-constraint':
    case 'policy-violation':
      return `${network} refused this for now; try again later`
    default:
      return `${network} could not do this`
  }
}

/** Whether a failed login is the network refusing the credentials (not retried; counted by loginLimits). */
export const refusedLogin = (err: unknown): boolean =>
  err instanceof StanzaError && (err.condition === 'not-authorized' || err.condition === 'forbidden')

/** How one adapter call is labelled and answered. */
export interface CallSpec {
  /** The adapter method, for the log. */
  op: string
  user?: string | undefined
  /** The condition for anything but a StanzaError with a known condition. */
  fallback: string
  /** Whether a StanzaError of this condition from the adapter is worth a log line (default: no). */
  logCondition?: (condition: string) => boolean
  /** Whether the adapter's own text may reach the user for an answer condition (default true; not for logins). */
  passText?: boolean
}

/**
 * Conditions that are the network's answer to the user's request: the adapter's text (cleaned,
 * cut) is shown. The others (service-unavailable, remote-server-timeout, internal-server-error,
 * undefined-condition...) are failures of the network or the adapter, where internal details
 * (addresses, exception messages) hide: a stable text is shown, the adapter's goes to the log.
 */
const ANSWERS: ReadonlySet<string> = new Set([
  'bad-request',
  'conflict',
  'feature-not-implemented',
  'forbidden',
  'gone',
  'item-not-found',
  'jid-malformed',
  'not-acceptable',
  'not-allowed',
  'not-authorized',
  'payment-required',
  'policy-violation',
  'recipient-unavailable',
  'registration-required',
  'resource-constraint',
  'subscription-required',
])
const MAX_USER_TEXT = 200

/** Thrown by a guarded call: the condition to answer with (valid), and a stable text. */
export class AdapterError extends StanzaError {
  constructor(condition: string, type: StanzaErrorType, text: string) {
    super(condition, { type, text })
  }
}

function adapterError(ctx: GuardContext, spec: CallSpec, err: unknown): AdapterError {
  const known = err instanceof StanzaError && isStanzaErrorCondition(err.condition)
  const condition = known ? (err as StanzaError).condition : spec.fallback
  const type =
    known && ERROR_TYPES.has((err as StanzaError).type)
      ? (err as StanzaError).type
      : new StanzaError(condition).type
  const logIt = spec.logCondition ?? ((c: string) => !ANSWERS.has(c))
  if (!known || logIt(condition)) {
    ctx.report(
      new BridgeError(
        BridgeErrorCodes.ADAPTER,
        `bridge: ${ctx.networkName} adapter ${spec.op}${spec.user === undefined ? '' : ` for ${spec.user}`} failed (${condition}): ${detail(err)}`,
        { cause: err },
      ),
    )
  }
  const own =
    known && spec.passText !== false && ANSWERS.has(condition)
      ? cleanText((err as StanzaError).text, MAX_USER_TEXT)
      : undefined
  return new AdapterError(condition, type, own || userText(condition, ctx.networkName))
}

/**
 * Runs `fn` (an adapter call) with a timeout of `limits.adapterTimeout`: resolves with its value
 * or rejects with an {@link AdapterError}. A value that comes after the timeout goes to `late`.
 */
export function call<T>(
  ctx: GuardContext,
  spec: CallSpec,
  fn: () => T | PromiseLike<T>,
  late?: (value: T) => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false
    const ms = ctx.limits.adapterTimeout
    // Beyond 2^31-1 ms setTimeout fires at once: no timeout then (Infinity lifts the bound).
    const timer =
      ms <= 2 ** 31 - 1
        ? setTimeout(() => {
            done = true
            reject(
              adapterError(
                ctx,
                spec,
                new StanzaError('remote-server-timeout', { text: `no answer in ${ms} ms` }),
              ),
            )
          }, ms)
        : undefined
    timer?.unref?.()
    const settle = (ok: boolean, v: unknown) => {
      if (done) {
        if (ok) late?.(v as T)
        return
      }
      done = true
      clearTimeout(timer)
      if (ok) resolve(v as T)
      else reject(adapterError(ctx, spec, v))
    }
    try {
      Promise.resolve(fn()).then(
        (v) => settle(true, v),
        (err: unknown) => settle(false, err),
      )
    } catch (err) {
      settle(false, err)
    }
  })
}

/** The adapter seen through the guard: clean results, AdapterErrors, nothing else. */
export interface GuardedAdapter<S> {
  login(user: string, credentials: Credentials, events: SessionEvents): Promise<S>
  /** Never rejects: a failure is reported. */
  logout(user: string, session: S): Promise<void>
  sendText(user: string, session: S, to: string, text: string): Promise<string>
  listContacts(user: string, session: S): Promise<LegacyContact[]>
  /** The id the user typed, normalised: a usable legacy id, or a `not-acceptable` error. */
  normalizeId(input: string): Promise<string>
  sendTyping(user: string, session: S, to: string, state: ChatState): Promise<void>
  sendReceipt(user: string, session: S, to: string, messageId: string): Promise<void>
  correct(user: string, session: S, to: string, messageId: string, text: string): Promise<string>
  react(user: string, session: S, to: string, messageId: string, emojis: string[]): Promise<void>
  avatar(user: string, session: S, contact: string): Promise<Avatar | null>
  setStatus(user: string, session: S, online: boolean, status?: string): Promise<void>
  listGroups(user: string, session: S): Promise<LegacyGroup[]>
  members(user: string, session: S, group: string): Promise<LegacyMember[]>
  sendGroupText(user: string, session: S, group: string, text: string): Promise<string>
}

/** Wraps `adapter` (see {@link GuardedAdapter}). A capability the adapter lacks answers `feature-not-implemented`. */
export function guardAdapter<S>(adapter: NetworkAdapter<S>, ctx: GuardContext): GuardedAdapter<S> {
  const caps = adapter.capabilities ?? {}
  const sending = (op: string, user: string) => ({ op, user, fallback: 'undefined-condition' })
  const none = (what: string) => () => {
    throw new StanzaError('feature-not-implemented', { text: `${ctx.networkName} does not support ${what}` })
  }
  const void_ = async (p: Promise<unknown>) => void (await p)
  return {
    login: (user, credentials, events) =>
      call(
        ctx,
        {
          op: 'login',
          user,
          fallback: 'service-unavailable',
          logCondition: (c) => c !== 'not-authorized' && c !== 'forbidden',
          passText: false,
        },
        () => adapter.login(credentials, events),
        (late) =>
          void call(
            ctx,
            { op: 'logout (of a login that came too late)', user, fallback: 'undefined-condition' },
            () => adapter.logout(late),
          ).catch(() => {}),
      ).then((session) => {
        if (session === null || session === undefined) {
          throw adapterError(
            ctx,
            { op: 'login', user, fallback: 'service-unavailable' },
            new TypeError('login resolved without a session'),
          )
        }
        return session
      }),
    logout: (user, session) =>
      call(ctx, { op: 'logout', user, fallback: 'undefined-condition', logCondition: () => true }, () =>
        adapter.logout(session),
      ).then(
        () => {},
        () => {},
      ),
    sendText: (user, session, to, text) =>
      call(ctx, sending('sendText', user), () => adapter.sendText(session, to, text)).then((id) =>
        messageIdOf(ctx, id),
      ),
    listContacts: (user, session) =>
      call(ctx, { op: 'listContacts', user, fallback: 'service-unavailable', logCondition: () => true }, () =>
        adapter.listContacts(session),
      ).then((list) => contactsOf(ctx, list)),
    normalizeId: async (input) => {
      const normalize = adapter.normalizeId
      if (normalize === undefined) {
        if (!isLegacyId(input))
          throw new StanzaError('not-acceptable', { text: `not a valid ${ctx.networkName} ID` })
        return input
      }
      const id = await call(ctx, { op: 'normalizeId', fallback: 'not-acceptable' }, () =>
        normalize.call(adapter, input),
      )
      if (!isLegacyId(id)) {
        if (typeof id !== 'string') ctx.dropped('normalizeId: not a string')
        throw new StanzaError('not-acceptable', { text: `not a valid ${ctx.networkName} ID` })
      }
      return id
    },
    sendTyping: (user, session, to, state) =>
      void_(
        call(
          ctx,
          sending('sendTyping', user),
          caps.typing ? () => caps.typing?.sendTyping(session, to, state) : none('typing notifications'),
        ),
      ),
    sendReceipt: (user, session, to, id) =>
      void_(
        call(
          ctx,
          sending('sendReceipt', user),
          caps.receipts ? () => caps.receipts?.sendReceipt(session, to, id) : none('delivery receipts'),
        ),
      ),
    correct: (user, session, to, id, text) =>
      call(
        ctx,
        sending('correct', user),
        caps.corrections
          ? () => caps.corrections?.correct(session, to, id, text)
          : none('message corrections'),
      ).then((newId) => messageIdOf(ctx, newId)),
    react: (user, session, to, id, emojis) =>
      void_(
        call(
          ctx,
          sending('react', user),
          caps.reactions ? () => caps.reactions?.react(session, to, id, emojis) : none('reactions'),
        ),
      ),
    avatar: (user, session, contact) =>
      call(
        ctx,
        { op: 'avatar', user, fallback: 'undefined-condition', logCondition: () => true },
        caps.avatars ? () => caps.avatars?.avatar(session, contact) : () => null,
      ).then((av) => avatarOf(ctx, av)),
    setStatus: (user, session, online, status) =>
      void_(
        call(
          ctx,
          { op: 'setStatus', user, fallback: 'undefined-condition', logCondition: () => true },
          caps.status ? () => caps.status?.setStatus(session, online, status) : () => undefined,
        ),
      ),
    listGroups: (user, session) =>
      call(
        ctx,
        { op: 'listGroups', user, fallback: 'service-unavailable', logCondition: () => true },
        caps.groups ? () => caps.groups?.listGroups(session) : () => [],
      ).then((list) => groupsOf(ctx, list)),
    members: (user, session, group) =>
      call(
        ctx,
        { op: 'members', user, fallback: 'service-unavailable', logCondition: () => true },
        caps.groups ? () => caps.groups?.members(session, group) : () => [],
      ).then((list) => membersOf(ctx, list)),
    sendGroupText: (user, session, group, text) =>
      call(
        ctx,
        sending('sendGroupText', user),
        caps.groups ? () => caps.groups?.sendGroupText(session, group, text) : none('group chats'),
      ).then((id) => messageIdOf(ctx, id)),
  }
}
