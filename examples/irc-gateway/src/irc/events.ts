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

export interface ClientEvents {
  registered: [{ nick: string }]
  loggedin: [{ nick: string; account: string }]
  'sasl failed': [SaslFailedEvent]
  join: [{ nick: string; channel: string }]
  part: [{ nick: string; channel: string; message: string }]
  kick: [{ kicked: string; nick: string; channel: string; message: string }]
  quit: [{ nick: string; message: string }]
  userlist: [UserlistEvent]
  topic: [{ channel: string; topic: string; nick?: string }]
  topicsetby: [{ channel: string; nick: string }]
  mode: [ModeEvent]
  privmsg: [MessageEvent]
  notice: [MessageEvent]
  action: [MessageEvent]
  'nick in use': [NickRefusedEvent]
  'nick invalid': [NickRefusedEvent]
  nick: [NickEvent]
  'irc error': [IrcErrorEvent]
  'unknown command': [UnknownCommandEvent]
  /** The socket closed (each connect() ends with one); `dropped`: lines still queued. */
  close: [{ dropped: number }]
}
