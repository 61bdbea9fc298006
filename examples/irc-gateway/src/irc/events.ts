// What the IRC client (client.ts) emits, one event per kind of line the gateway acts on. Values
// come from the IRC server as they are: connection.ts and channel-events.ts check each one
// (validate.ts) before it goes towards XMPP.

/** A PRIVMSG, NOTICE or CTCP ACTION. */
export interface MessageEvent {
  /** The sender's nick, or the server's name. */
  nick: string
  ident: string
  hostname: string
  target: string
  message: string
  /** From a server (a source without `!` or `@`, or none), not a user. */
  from_server: boolean
}

export interface NickRefusedEvent {
  nick: string
  reason: string
}

export interface NickEvent {
  nick: string
  ident: string
  hostname: string
  new_nick: string
}

/** Error numerics by name (see `ERRORS` in handlers.ts), and ERROR (`irc`). */
export interface IrcErrorEvent {
  error: string
  channel?: string
  nick?: string
  /** The refused command (ERR_UNKNOWNCOMMAND). */
  command?: string
  reason: string
}

/** A line no event carries (numerics other than those handled). */
export interface UnknownCommandEvent {
  command: string
  params: string[]
}

export interface UserlistEvent {
  channel: string
  users: { nick: string; modes: string[] }[]
}

export interface ModeEvent {
  target: string
  nick: string
  modes: { mode: string; param?: string }[]
}

export interface SaslFailedEvent {
  reason: 'capability_missing' | 'unsupported_mechanism' | 'nick_locked' | 'fail' | 'too_long'
  message?: string
}

/**
 * What the client tells its owner, one method per kind of line (the connection implements it: one
 * object with methods on its prototype, not a listener closure per event and connection).
 */
export interface ClientHandler {
  onRegistered(e: { nick: string }): void
  onLoggedIn(e: { nick: string; account: string }): void
  onSaslFailed(e: SaslFailedEvent): void
  onJoin(e: { nick: string; channel: string }): void
  onPart(e: { nick: string; channel: string; message: string }): void
  onKick(e: { kicked: string; nick: string; channel: string; message: string }): void
  onQuit(e: { nick: string; message: string }): void
  onUserlist(e: UserlistEvent): void
  onTopic(e: { channel: string; topic: string; nick?: string }): void
  onTopicSetBy(e: { channel: string; nick: string }): void
  onMode(e: ModeEvent): void
  /** A PRIVMSG, NOTICE or CTCP ACTION. */
  onMessage(kind: 'privmsg' | 'notice' | 'action', e: MessageEvent): void
  /** 433/436 (`in-use`) or 432 (`erroneous`). */
  onNickRefused(reason: 'in-use' | 'erroneous', e: NickRefusedEvent): void
  onNick(e: NickEvent): void
  onIrcError(e: IrcErrorEvent): void
  onUnknownCommand(e: UnknownCommandEvent): void
  /** The socket closed (each connect() ends with one); `dropped`: lines still queued. */
  onClose(e: { dropped: number }): void
}
