import type { LegacyField, Registration } from '@satellite/register'

/** The legacy credentials a user registered (the submitted registration fields). */
export type Credentials = Registration

/** A contact on the legacy network, as the adapter knows it. */
export interface LegacyContact {
  /** The contact's identifier on the legacy network (any string; mapped losslessly to a JID). */
  id: string
  /** Display name. */
  name?: string
  /** Whether the contact is online now. */
  online?: boolean
  /** Status text. */
  status?: string
}

/** A message received from the legacy network. */
export interface IncomingMessage {
  /** Legacy id of the sender. */
  from: string
  /** Legacy id of the message (kept to map receipts and corrections). */
  id: string
  text: string
  /** For a correction: legacy id of the message it replaces. */
  replaces?: string
}

/** A group chat (channel, room...) the user belongs to on the legacy network. */
export interface LegacyGroup {
  /** The group's identifier on the legacy network; the room is `escapeLocal(id)@gateway`. */
  id: string
  /** Display name (disco). */
  name?: string
  /** The topic. */
  subject?: string
  /** The user's own nick in this group; default: the nick the user asked for when joining. */
  nick?: string
}

/** A member of a legacy group. */
export interface LegacyMember {
  /** Legacy id of the member. */
  id: string
  /** The member's nick in the group (made unique by the bridge if two members share one). */
  nick: string
}

/** A message received in a legacy group (from another member: never the user's own). */
export interface IncomingGroupMessage {
  group: string
  /** Legacy id of the sending member. */
  from: string
  /** Legacy id of the message. */
  id: string
  text: string
}

/** A contact's picture: its MIME type (`image/png`...) and bytes. */
export interface Avatar {
  type: string
  data: Buffer
}

/** A chat state of XEP-0085. */
export type ChatState = 'active' | 'composing' | 'paused' | 'inactive' | 'gone'

/**
 * What a legacy session reports to the bridge. The adapter calls these for the life of the
 * session (from the moment `login` resolves). Every argument is checked before use (ids that
 * fit a JID, the five chat states, bounded strings and lists, `online` a boolean...): what does
 * not pass is dropped and reported on the component's `error` event; events of a session that
 * ended are ignored. They never throw.
 */
export interface SessionEvents {
  /** A message from a contact. */
  message(msg: IncomingMessage): void
  /** A contact came online, went offline or changed status. */
  presence(contact: string, online: boolean, status?: string): void
  /** The contact list changed: the whole new list. */
  contacts(contacts: LegacyContact[]): void
  /**
   * The session was lost (network error, kicked...). The bridge logs in again with backoff. The
   * reason is shown to the user (cut at 200 characters): a text meant for users, never a socket
   * error with an address.
   */
  disconnected(reason: string): void
  /** A contact's chat state (only for adapters declaring `typing`). */
  typing?(contact: string, state: ChatState): void
  /** A contact received one of our messages, by legacy id (only for adapters declaring `receipts`). */
  receipt?(contact: string, messageId: string): void
  /**
   * A contact's reactions (XEP-0444) to a message, by legacy id: the full set of emojis the
   * contact reacts with now (an empty list removes them). Relayed when the message id is known.
   */
  reaction?(contact: string, messageId: string, emojis: string[]): void
  /**
   * A contact's picture changed (`null`: removed). Only for adapters declaring `avatars`; the
   * new hash is announced in the contact's presence (XEP-0153) and the vCard serves the picture.
   */
  avatar?(contact: string, avatar: Avatar | null): void
  /** A message in a group (only for adapters declaring `groups`). */
  groupMessage?(msg: IncomingGroupMessage): void
  /** A group's members changed: the whole new list (only for adapters declaring `groups`). */
  groupMembers?(group: string, members: LegacyMember[]): void
  /** A group's topic changed (only for adapters declaring `groups`). */
  groupSubject?(group: string, subject: string): void
}

/** Typing notifications (XEP-0085 chat states). */
export interface TypingCapability<S> {
  sendTyping(session: S, to: string, state: ChatState): Promise<void>
}
/** Delivery receipts (XEP-0184). */
export interface ReceiptsCapability<S> {
  sendReceipt(session: S, to: string, messageId: string): Promise<void>
}
/** Message corrections (XEP-0308). Returns the legacy id of the corrected message. */
export interface CorrectionsCapability<S> {
  correct(session: S, to: string, messageId: string, text: string): Promise<string>
}
/** Reactions (XEP-0444): the full set of emojis the user reacts with. */
export interface ReactionsCapability<S> {
  react(session: S, to: string, messageId: string, emojis: string[]): Promise<void>
}
/**
 * Avatars: the contact's picture, if any (`null`: none). Asked once per contact and session
 * (at login, and on a vCard request for a contact not asked yet); the
 * {@link SessionEvents.avatar} event reports later changes.
 */
export interface AvatarsCapability<S> {
  avatar(session: S, contact: string): Promise<Avatar | null>
}
/** The user's own presence relayed to the legacy network. */
export interface StatusCapability<S> {
  setStatus(session: S, online: boolean, status?: string): Promise<void>
}

/**
 * Group chats, bridged as XEP-0045 rooms at `escapeLocal(groupId)@gateway`: a user joins a
 * room with an ordinary MUC join, sees the members as occupants, and talks with `groupchat`
 * messages. Group ids and contact ids share the gateway's address space: give groups ids a
 * contact cannot have (IRC's `#channel`).
 */
export interface GroupsCapability<S> {
  /** The groups the user belongs to (asked on each join and room disco request). */
  listGroups(session: S): Promise<LegacyGroup[]>
  /** The members of a group now (asked when the user joins the room). */
  members(session: S, group: string): Promise<LegacyMember[]>
  /** Sends a text to a group; resolves with the legacy id of the message. */
  sendGroupText(session: S, group: string, text: string): Promise<string>
}

/** Optional capabilities: declare those the network supports; the others are refused with `feature-not-implemented`. */
export interface Capabilities<S> {
  typing?: TypingCapability<S>
  receipts?: ReceiptsCapability<S>
  corrections?: CorrectionsCapability<S>
  reactions?: ReactionsCapability<S>
  avatars?: AvatarsCapability<S>
  status?: StatusCapability<S>
  groups?: GroupsCapability<S>
}

/**
 * The connector to a legacy network: a small required part (log in, log out, send text, list
 * contacts) plus optional {@link Capabilities}. `S` is the adapter's session handle.
 *
 * Errors: throw a `StanzaError` from `@satellite/core` to choose the condition the user sees:
 * `not-authorized` from `login` for wrong credentials, `item-not-found` from `sendText` for an
 * unknown contact, `recipient-unavailable` for an offline one. Any other error is reported as
 * `service-unavailable` (login) or `undefined-condition` (sending). The text is shown for
 * conditions that answer a request (`item-not-found`, `recipient-unavailable`, `not-acceptable`...),
 * cut at 200 characters; failures (`service-unavailable`, timeouts, exceptions) and login errors
 * get a fixed text and the details go to the log. Every call is guarded: a throw, a rejection or
 * no answer within `limits.adapterTimeout` fails that request only.
 *
 * @example
 * ```ts
 * const adapter: NetworkAdapter<MySession> = {
 *   network: { type: 'irc', name: 'IRC' },
 *   login: (credentials, events) => MySession.connect(credentials, events),
 *   logout: (s) => s.close(),
 *   sendText: (s, to, text) => s.send(to, text),
 *   listContacts: (s) => s.contacts(),
 * }
 * ```
 */
export interface NetworkAdapter<S = unknown> {
  /** The disco identity type (`gateway/<type>`, e.g. `irc`, `aim`) and a human name. */
  network: { type: string; name: string }
  /** Registration fields (default `username`, `password`) and their instructions. */
  registration?: { fields?: readonly LegacyField[]; instructions?: string }
  login(credentials: Credentials, events: SessionEvents): Promise<S>
  logout(session: S): Promise<void>
  /** Sends a text; resolves with the legacy id of the message. */
  sendText(session: S, to: string, text: string): Promise<string>
  listContacts(session: S): Promise<LegacyContact[]>
  /** The legacy id a user typed (jabber:iq:gateway), normalised; throw `StanzaError('not-acceptable')` if invalid. */
  normalizeId?(input: string): string
  capabilities?: Capabilities<S>
}
