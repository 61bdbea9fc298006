// The SessionEvents handed to the adapter: each event's arguments are checked (wrong types,
// unusable ids, chat states that are not one of the five, oversized strings and lists) before
// the bridge sees them; what does not pass is dropped and reported. Nothing thrown here reaches
// the adapter's code (which may be a socket's data handler). `loginEvents` hands the clean
// events of one login to the parts of the bridge, as long as that login is the current one.
import type {
  Avatar,
  ChatState,
  IncomingGroupMessage,
  IncomingMessage,
  LegacyContact,
  LegacyMember,
  SessionEvents,
} from './adapter.js'
import {
  avatarOf,
  type CleanContext,
  contactsOf,
  emojisOf,
  fieldOf,
  groupMessageOf,
  incomingMessageOf,
  membersOf,
  messageIdOf,
} from './clean.js'
import type { BridgeContext } from './context.js'
import type { UserSession } from './sessions.js'
import { isChatState, isLegacyId } from './validate.js'

/** What the bridge does with clean events (each may be async; errors are the sink's to handle). */
export interface EventSink {
  message(msg: IncomingMessage): void
  presence(contact: string, online: boolean, status: string | undefined): void
  contacts(list: LegacyContact[]): void
  disconnected(reason: string | undefined): void
  typing(contact: string, state: ChatState): void
  receipt(contact: string, messageId: string): void
  reaction(contact: string, messageId: string, emojis: string[]): void
  avatar(contact: string, avatar: Avatar | null): void
  groupMessage(msg: IncomingGroupMessage): void
  groupMembers(group: string, members: LegacyMember[]): void
  groupSubject(group: string, subject: string): void
}

/** SessionEvents that check what the adapter reports and pass it on to `sink`. */
export function sessionEvents(ctx: CleanContext, sink: EventSink): SessionEvents {
  const contactOk = (event: string, contact: unknown): contact is string => {
    if (isLegacyId(contact)) return true
    ctx.dropped(`${event}: no usable contact id`)
    return false
  }
  const safe =
    <A extends unknown[]>(event: string, fn: (...args: A) => void) =>
    (...args: A): void => {
      try {
        fn(...args)
      } catch (err) {
        ctx.dropped(`${event}: ${(err as Error)?.message ?? 'failed'}`)
      }
    }
  return {
    message: safe('message', (m: unknown) => {
      const msg = incomingMessageOf(ctx, m)
      if (msg !== null) sink.message(msg)
    }),
    presence: safe('presence', (contact: unknown, online: unknown, status?: unknown) => {
      if (!contactOk('presence', contact)) return
      if (typeof online !== 'boolean') return ctx.dropped('presence: online is not a boolean')
      sink.presence(contact, online, fieldOf(ctx, status))
    }),
    contacts: safe('contacts', (list: unknown) => sink.contacts(contactsOf(ctx, list))),
    disconnected: safe('disconnected', (reason: unknown) => sink.disconnected(fieldOf(ctx, reason))),
    typing: safe('typing', (contact: unknown, state: unknown) => {
      if (!contactOk('typing', contact)) return
      if (!isChatState(state)) return ctx.dropped('typing: not one of the five chat states of XEP-0085')
      sink.typing(contact, state)
    }),
    receipt: safe('receipt', (contact: unknown, messageId: unknown) => {
      if (!contactOk('receipt', contact)) return
      const id = messageIdOf(ctx, messageId)
      if (id !== '') sink.receipt(contact, id)
    }),
    reaction: safe('reaction', (contact: unknown, messageId: unknown, emojis: unknown) => {
      if (!contactOk('reaction', contact)) return
      const id = messageIdOf(ctx, messageId)
      const list = emojisOf(ctx, emojis)
      if (id !== '' && list !== null) sink.reaction(contact, id, list)
    }),
    avatar: safe('avatar', (contact: unknown, avatar: unknown) => {
      if (!contactOk('avatar', contact)) return
      sink.avatar(contact, avatarOf(ctx, avatar))
    }),
    groupMessage: safe('groupMessage', (m: unknown) => {
      const msg = groupMessageOf(ctx, m)
      if (msg !== null) sink.groupMessage(msg)
    }),
    groupMembers: safe('groupMembers', (group: unknown, members: unknown) => {
      if (!isLegacyId(group)) return ctx.dropped('groupMembers: no usable group id')
      sink.groupMembers(group, membersOf(ctx, members))
    }),
    groupSubject: safe('groupSubject', (group: unknown, subject: unknown) => {
      if (!isLegacyId(group)) return ctx.dropped('groupSubject: no usable group id')
      const s = fieldOf(ctx, subject)
      if (s === undefined) return ctx.dropped('groupSubject: not a string')
      sink.groupSubject(group, s)
    }),
  }
}

/**
 * The events of login `gen` of `us`: checked by {@link sessionEvents}, then ignored unless that
 * login is the user's current one; each runs on its own (its failure is reported).
 */
export function loginEvents<S>(ctx: BridgeContext<S>, us: UserSession<S>, gen: number): SessionEvents {
  const run =
    <A extends unknown[]>(fn: (...args: A) => unknown) =>
    (...args: A) => {
      if (!ctx.sessions.isCurrent(us, gen)) return
      Promise.resolve()
        .then(() => fn(...args))
        .catch((err: Error) => ctx.report(err))
    }
  const sink: EventSink = {
    message: run((m: IncomingMessage) => ctx.messages.incoming(us, gen, m)),
    presence: run((contact: string, online: boolean, status: string | undefined) =>
      ctx.presence.changed(us, contact, online, status),
    ),
    contacts: run((list: LegacyContact[]) => ctx.contacts.sync(us, gen, list)),
    disconnected: run((reason: string | undefined) =>
      ctx.sessions.lost(us, reason || 'the connection was lost'),
    ),
    typing: run((contact: string, state: ChatState) => ctx.messages.typing(us, contact, state)),
    receipt: run((contact: string, id: string) => ctx.messages.receipt(us, contact, id)),
    reaction: run((contact: string, id: string, emojis: string[]) =>
      ctx.messages.reaction(us, contact, id, emojis),
    ),
    groupMessage: run((m: IncomingGroupMessage) => ctx.groups?.message(us.user, m)),
    groupMembers: run((group: string, members: LegacyMember[]) =>
      ctx.groups?.members(us.user, group, members),
    ),
    groupSubject: run((group: string, subject: string) => ctx.groups?.subject(us.user, group, subject)),
    avatar: run((contact: string, av: Avatar | null) => ctx.vcards.changed(us, contact, av)),
  }
  return sessionEvents({ limits: ctx.limits, dropped: ctx.dropped(us.user) }, sink)
}
