// Declarations of the part of irc-framework 4.14 the gateway uses (the package ships no types).
// Only what src/ calls is declared; the event payloads list the fields read, as irc-framework
// emits them (src/commands/handlers/*.js). Values in them come from the IRC server: validate.ts
// checks them before they reach XMPP.

declare module 'irc-framework' {
  import type { EventEmitter } from 'node:events'

  /** The socket transport irc-framework constructs with `new transport(options)`. */
  export interface TransportLike extends EventEmitter {
    connect(): void
    writeLine(line: string, cb?: () => void): void
    isConnected(): boolean
    close(force?: boolean): void
    disposeSocket(): void
    setEncoding(encoding: string): boolean
  }
  export type TransportClass = new (options: ClientOptions) => TransportLike

  export interface ClientOptions {
    host: string
    port: number
    tls?: boolean
    rejectUnauthorized?: boolean
    nick: string
    username?: string
    gecos?: string
    password?: string
    /** Answer to CTCP VERSION (irc-framework answers it itself when set). */
    version?: string
    encoding?: string
    auto_reconnect?: boolean
    ping_interval?: number
    ping_timeout?: number
    transport?: TransportClass
    /** SASL PLAIN credentials: irc-framework asks for the `sasl` cap when they are set. */
    account?: { account: string; password: string } | Record<string, never>
    /** End the connection when SASL fails during CAP negotiation (the gateway: false). */
    sasl_disconnect_on_fail?: boolean
  }

  export interface MessageEvent {
    nick: string
    ident: string
    hostname: string
    target: string
    message: string
    from_server?: boolean
    time?: number
  }
  export interface CtcpEvent extends MessageEvent {
    type: string | null
  }
  export interface NickRefusedEvent {
    nick: string
    reason: string
  }
  export interface RegisteredEvent {
    nick: string
  }
  export interface NickEvent {
    nick: string
    ident: string
    hostname: string
    new_nick: string
  }
  export interface IrcErrorEvent {
    error: string
    channel?: string
    nick?: string
    /** The refused command (ERR_UNKNOWNCOMMAND). */
    command?: string
    reason: string
  }
  /** A line irc-framework has no handler for (a numeric it does not know, among others). */
  export interface UnknownCommandEvent {
    command: string
    params: string[]
  }

  export interface JoinEvent {
    nick: string
    channel: string
  }
  export interface PartEvent {
    nick: string
    channel: string
    message: string
  }
  export interface KickEvent {
    kicked: string
    nick: string
    channel: string
    message: string
  }
  export interface QuitEvent {
    nick: string
    message: string
  }
  export interface UserlistEvent {
    channel: string
    users: { nick: string; modes: string[] }[]
  }
  export interface TopicEvent {
    channel: string
    topic: string
    nick?: string
  }
  export interface TopicSetByEvent {
    channel: string
    nick: string
  }
  export interface ModeEvent {
    target: string
    nick: string
    modes: { mode: string; param?: string }[]
  }

  export interface LoggedInEvent {
    nick: string
    account: string
  }
  export interface SaslFailedEvent {
    reason: 'capability_missing' | 'unsupported_mechanism' | 'nick_locked' | 'fail' | 'too_long'
    message?: string
  }

  export interface ClientEvents {
    loggedin: [LoggedInEvent]
    'sasl failed': [SaslFailedEvent]
    join: [JoinEvent]
    part: [PartEvent]
    kick: [KickEvent]
    quit: [QuitEvent]
    userlist: [UserlistEvent]
    topic: [TopicEvent]
    mode: [ModeEvent]
    topicsetby: [TopicSetByEvent]
    registered: [RegisteredEvent]
    close: [boolean]
    'socket close': [Error | false | undefined]
    'socket connected': []
    privmsg: [MessageEvent]
    notice: [MessageEvent]
    action: [MessageEvent]
    'ctcp request': [CtcpEvent]
    'nick in use': [NickRefusedEvent]
    'nick invalid': [NickRefusedEvent]
    nick: [NickEvent]
    'irc error': [IrcErrorEvent]
    'unknown command': [UnknownCommandEvent]
  }

  export class Client {
    constructor(options?: Partial<ClientOptions>)
    options: ClientOptions
    user: { nick: string; username: string; host: string }
    network: { supports(name: string): string | boolean | undefined }
    connection: { connected: boolean; transport: TransportLike | null }
    connect(options?: ClientOptions): void
    /** Sends one line as given (one string argument). */
    raw(line: string): void
    changeNick(nick: string): void
    join(channel: string, key?: string): void
    quit(message?: string): void
    on<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this
    off<E extends keyof ClientEvents>(event: E, listener: (...args: ClientEvents[E]) => void): this
    removeAllListeners(event?: string): this
  }

  const _default: { Client: typeof Client }
  export default _default
}

declare module 'irc-framework/src/transports/net.js' {
  import type { EventEmitter } from 'node:events'
  import type { ClientOptions } from 'irc-framework'

  /** irc-framework's TCP/TLS transport; the gateway's transport subclasses it (transport.ts). */
  class NetTransport extends EventEmitter {
    constructor(options: ClientOptions)
    options: ClientOptions
    encoding: string
    incoming_buffer: Buffer
    connect(): void
    writeLine(line: string, cb?: () => void): void
    isConnected(): boolean
    close(force?: boolean): void
    disposeSocket(): void
    setEncoding(encoding: string): boolean
    onSocketData(data: Buffer): void
    onSocketClose(): void
  }
  export default NetTransport
}
