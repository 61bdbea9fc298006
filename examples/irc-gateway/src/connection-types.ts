// The types of IrcConnection (connection.ts): its state, options and events.
import type { BackoffOptions } from '@satellite/core'
import type { ChannelEvents } from './channel-events.js'
import type { FallbackEncoding } from './decode.js'
import type { IrcGatewayError } from './errors.js'
import type { ConnectGate } from './gate.js'
import type { ResolvedSchedulerOptions, Timers } from './scheduler.js'
import type { IrcServer } from './servers.js'

/** The connection's state: one union (`kind`), read by tests and the pool. */
export type ConnectionState =
  | { kind: 'idle' }
  | { kind: 'waiting-slot'; attempt: number }
  | { kind: 'connecting'; attempt: number }
  | { kind: 'registered'; nick: string }
  | { kind: 'backoff'; attempt: number; delay: number }
  | { kind: 'closed' }

/** A message from IRC, checked: `from` a valid nick (null: the server itself), `text` XML-safe. */
export interface IncomingMessage {
  kind: 'privmsg' | 'notice' | 'action'
  from: string | null
  /** A channel, or null when the message was sent to the user's nick. */
  channel: string | null
  text: string
}

export interface NickRefused {
  requested: string
  reason: 'in-use' | 'erroneous'
  /** The nick in use instead (the fallback, or the current nick after registration). */
  using: string
  error: IrcGatewayError
}

/** How a connection identifies the user to the server's services (settings.ts keeps it). */
export interface ConnectionAuth {
  password: string
  /** Try SASL PLAIN when the connection is TLS and the server offers it (else NickServ IDENTIFY). */
  sasl: boolean
  /** The SASL account name (default: the nick asked for). */
  account?: string
}

/** The outcome of identifying: SASL (900 logged in, or a failure), or NickServ IDENTIFY sent. */
export interface AuthOutcome {
  method: 'sasl' | 'nickserv'
  /** true: logged in (SASL); false: refused (SASL); null: sent, no answer awaited (NickServ). */
  ok: boolean | null
  /** The server's reason for a refusal (never the password). */
  reason?: string
}

export interface ConnectionEvents extends ChannelEvents {
  registered: [{ nick: string; attempt: number }]
  auth: [AuthOutcome]
  'nick-refused': [NickRefused]
  nick: [{ from: string; to: string; self: boolean }]
  message: [IncomingMessage]
  /**
   * What the server says that no other event carries: an error not about a channel (no such
   * nick, unknown command, …), and, for `replyWindow` ms after a raw line, numerics no other
   * event carries (TIME, VERSION, WHOIS, LIST, MOTD, …). XML-safe text.
   */
  reply: [{ text: string }]
  /** A value from IRC that was refused by validate.ts (dropped, not relayed). */
  refused: [IrcGatewayError]
  disconnected: [{ retryIn: number | null; dropped: number }]
  closed: []
}

export interface ConnectionOptions {
  server: IrcServer
  nick: string
  /** The IRC user name (ident); default 'xmpp'. */
  username?: string
  gecos?: string
  fallbackEncoding: FallbackEncoding
  flood: ResolvedSchedulerOptions
  gate: ConnectGate
  backoff?: BackoffOptions
  /** After this long registered, a later drop starts the backoff from its first step (default 60 s). */
  stableAfter?: number
  /** Answer to CTCP VERSION. */
  version?: string
  /** Identify to the server with a password (SASL PLAIN over TLS when offered, else NickServ). */
  auth?: ConnectionAuth
  /** How long after a raw line unhandled numerics are emitted as `reply`, in ms (default 10000). */
  replyWindow?: number
  /** The most numerics relayed as `reply` for one raw line (default 200). */
  replyLines?: number
  timers?: Timers
  random?: () => number
}
