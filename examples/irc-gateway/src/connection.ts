// One IRC connection of one XMPP user (bare JID) to one IRC server: the gateway's IRC client
// (irc/client.ts: decoding, outbound scheduler, CAP and SASL), nick fallback, reconnect with jittered
// backoff through the gateway-wide ConnectGate, and every value from IRC checked (validate.ts)
// before it is emitted towards XMPP.
import { EventEmitter } from 'node:events'
import { Backoff, type BackoffOptions } from '@satellite/core'
import createDebug from 'debug'
import { type ChannelEvents, type ChannelSink, channelLines } from './channel-events.js'
import type {
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  IncomingMessage,
  NickRefused,
} from './connection-types.js'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import type { Release } from './gate.js'
import { IrcClient } from './irc/client.js'
import type {
  ClientHandler,
  IrcErrorEvent,
  MessageEvent,
  ModeEvent,
  NickEvent,
  NickRefusedEvent,
  SaslFailedEvent,
  UnknownCommandEvent,
  UserlistEvent,
} from './irc/events.js'
import { fallbackNick } from './nick.js'
import type { Timers } from './scheduler.js'
import { realTimers } from './scheduler.js'
import type { IrcServer } from './servers.js'
import { ircToXmppText, splitMessage, textBudget } from './text.js'
import { checkChannel, checkNick, checkText } from './validate.js'

const debug = createDebug('satellite:irc-gateway:connection')

export type {
  AuthOutcome,
  ConnectionAuth,
  ConnectionEvents,
  ConnectionOptions,
  ConnectionState,
  IncomingMessage,
  NickRefused,
} from './connection-types.js'

const DEFAULT_BACKOFF: BackoffOptions = { base: 2000, cap: 120_000, maxAttempts: Infinity, conflictFloor: 0 }
const MAX_NICK_RETRIES = 6
const CHANNEL_PREFIX = /^[#&+!]/

export class IrcConnection extends EventEmitter<ConnectionEvents> implements ClientHandler, ChannelSink {
  state: ConnectionState = { kind: 'idle' }
  readonly server: IrcServer
  readonly #opts: ConnectionOptions
  readonly #client: IrcClient = new IrcClient(this)
  readonly #backoff: Backoff
  readonly #timers: Timers
  #release: Release | undefined
  #timer: unknown
  #attempt = 0
  #registeredAt = 0
  #everRegistered = false
  /** The nick the user asked for; the fallback tries derive from it. */
  #wanted: string
  #tries = 0
  #maxNick = 30
  #refusal: { reason: NickRefused['reason']; text: string } | undefined
  /** This attempt: SASL asked for, logged in (900), refused by the server (not: cap missing). */
  #sasl = { tried: false, loggedIn: false, refused: false }
  /** Until when unhandled numerics are replies to a raw line (timers' clock). */
  #rawUntil = -Infinity
  /** Numerics relayed since the last raw line. */
  #replies = 0

  constructor(options: ConnectionOptions) {
    super()
    this.#opts = options
    this.server = options.server
    this.#wanted = options.nick
    this.#timers = options.timers ?? realTimers
    this.#backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.random)
  }

  /** The nick in use (registered), else the one asked for. */
  get nick(): string {
    return this.state.kind === 'registered' ? this.state.nick : this.#client.nick || this.#wanted
  }

  /** Lines waiting in the outbound scheduler. */
  get pending(): number {
    return this.#client.pending
  }

  /**
   * Starts connecting (through the gate) when idle; resolves with the nick at the next
   * registration. Rejects with SAT_ERR_IRC_CONNECTION when the attempt in progress fails (the
   * connection goes on retrying with backoff) or the connection is closed.
   */
  connect(): Promise<string> {
    if (this.state.kind === 'closed') return Promise.reject(closedError())
    const registered = new Promise<string>((resolve, reject) => {
      const ok = ({ nick }: { nick: string }): void => {
        done()
        resolve(nick)
      }
      const ko = (): void => {
        done()
        reject(closedError())
      }
      const failed = (): void => {
        done()
        reject(
          new IrcGatewayError(IrcGatewayErrorCodes.CONNECTION, `could not connect to ${this.server.name}`),
        )
      }
      const done = (): void => {
        this.off('registered', ok)
        this.off('closed', ko)
        this.off('disconnected', failed)
      }
      this.on('registered', ok)
      this.on('closed', ko)
      this.on('disconnected', failed)
    })
    if (this.state.kind === 'idle') void this.#attemptNow()
    return registered
  }

  /** True once the connection has registered at least once. */
  get everRegistered(): boolean {
    return this.#everRegistered
  }

  /**
   * Sends an XMPP message body to `target` (a channel or a nick): split into lines that fit
   * (text.ts), each a PRIVMSG (or NOTICE, or CTCP ACTION for /me) through the scheduler.
   * Returns the number of lines queued; throws SAT_ERR_IRC_CONNECTION when not registered.
   */
  send(target: string, body: string, kind: IncomingMessage['kind'] = 'privmsg'): number {
    if (this.state.kind !== 'registered') {
      throw new IrcGatewayError(IrcGatewayErrorCodes.CONNECTION, `not connected to ${this.server.name}`)
    }
    const command = kind === 'notice' ? 'NOTICE' : 'PRIVMSG'
    const budget = textBudget({ command, target, nick: this.state.nick, action: kind === 'action' })
    let n = 0
    for (const chunk of splitMessage(body, budget)) {
      this.#client.raw(
        kind === 'action' ? `PRIVMSG ${target} :\x01ACTION ${chunk}\x01` : `${command} ${target} :${chunk}`,
      )
      n++
    }
    return n
  }

  /** JOINs a channel (with its key); the outcome comes as `joined`/`names` or `channel-error`. */
  join(channel: string, key?: string): void {
    this.#registeredOnly()
    this.#client.raw(key === undefined || key === '' ? `JOIN ${channel}` : `JOIN ${channel} ${key}`)
  }

  /** PARTs a channel with a reason. */
  part(channel: string, reason = ''): void {
    this.#registeredOnly()
    const text = reason.replace(/[\r\n\0]/g, ' ').slice(0, 300)
    this.#client.raw(text === '' ? `PART ${channel}` : `PART ${channel} :${text}`)
  }

  /** Sets a channel's topic. */
  setTopic(channel: string, text: string): void {
    this.#registeredOnly()
    this.#client.raw(`TOPIC ${channel} :${text.replace(/[\r\n\0]/g, ' ').slice(0, 390)}`)
  }

  #registeredOnly(): void {
    if (this.state.kind !== 'registered') {
      throw new IrcGatewayError(IrcGatewayErrorCodes.CONNECTION, `not connected to ${this.server.name}`)
    }
  }

  /** Asks for another nick (a refusal after registration emits nick-refused; the old nick stays). */
  changeNick(nick: string): void {
    this.#wanted = nick
    if (this.state.kind === 'registered') this.#client.changeNick(nick)
  }

  /** Sends one raw line through the scheduler (for the server's raw-command address). */
  raw(line: string): void {
    if (/[\r\n\0]/.test(line))
      throw new IrcGatewayError(IrcGatewayErrorCodes.INPUT, 'a raw line cannot hold CR, LF or NUL')
    this.#rawUntil = this.#timers.now() + (this.#opts.replyWindow ?? 10_000)
    this.#replies = 0
    this.#client.raw(line)
  }

  /** QUITs and stops for good; idempotent. */
  close(reason = 'XMPP gateway'): void {
    if (this.state.kind === 'closed') return
    const wasRegistered = this.state.kind === 'registered'
    this.#setState({ kind: 'closed' })
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer)
    this.#timer = undefined
    this.#release?.()
    this.#release = undefined
    if (wasRegistered || this.#client.connected) this.#client.quit(reason)
    this.emit('closed')
  }

  #setState(state: ConnectionState): void {
    debug('%s %s: %s -> %s', this.server.name, this.#wanted, this.state.kind, state.kind)
    this.state = state
  }

  async #attemptNow(): Promise<void> {
    this.#attempt++
    const attempt = this.#attempt
    this.#setState({ kind: 'waiting-slot', attempt })
    let release: Release
    try {
      release = await this.#opts.gate.acquire()
    } catch (err) {
      debug('no slot: %s', (err as Error).message)
      this.close()
      return
    }
    if (this.state.kind === 'closed') {
      release()
      return
    }
    this.#release = release
    this.#setState({ kind: 'connecting', attempt })
    this.#tries = 0
    this.#refusal = undefined
    const s = this.server
    const auth = this.#opts.auth
    // SASL PLAIN only over TLS: on a plain connection the password goes to NickServ instead.
    const sasl = auth?.sasl === true && s.tls ? auth : undefined
    this.#sasl = { tried: sasl !== undefined, loggedIn: false, refused: false }
    this.#client.connect({
      ...(sasl === undefined
        ? {}
        : { sasl: { account: sasl.account ?? this.#wanted, password: sasl.password } }),
      host: s.host,
      port: s.port,
      tls: s.tls,
      nick: this.#wanted,
      username: this.#opts.username ?? 'xmpp',
      gecos: this.#opts.gecos ?? 'XMPP user',
      version: this.#opts.version ?? 'Satellite IRC gateway',
      fallbackEncoding: this.#opts.fallbackEncoding,
      flood: this.#opts.flood,
      timers: this.#timers,
    })
  }

  // ClientHandler (irc/events.ts): the client calls these, one method per kind of line; and
  // ChannelSink (channel-events.ts). Internal: public only for the client and channelLines.

  onRegistered({ nick }: { nick: string }): void {
    this.#release?.()
    this.#release = undefined
    if (this.state.kind === 'closed') return
    if (this.#client.nickLen !== undefined) this.#maxNick = this.#client.nickLen
    this.#registeredAt = this.#timers.now()
    this.#everRegistered = true
    this.#setState({ kind: 'registered', nick })
    if (this.#refusal !== undefined)
      this.#nickRefused(this.#wanted, this.#refusal.reason, nick, this.#refusal.text)
    this.#identify()
    this.emit('registered', { nick, attempt: this.#attempt })
  }

  onLoggedIn(): void {
    if (!this.#sasl.tried || this.#sasl.loggedIn) return
    this.#sasl.loggedIn = true
    this.emit('auth', { method: 'sasl', ok: true })
  }

  onSaslFailed(e: SaslFailedEvent): void {
    if (!this.#sasl.tried || e.reason === 'capability_missing') return
    this.#sasl.refused = true
    const text = typeof e.message === 'string' ? ircToXmppText(e.message).slice(0, 200) : ''
    this.emit('auth', { method: 'sasl', ok: false, reason: text === '' ? e.reason : text })
  }

  onNickRefused(reason: NickRefused['reason'], e: NickRefusedEvent): void {
    this.#onNickRefused(reason, e.nick, e.reason)
  }

  onNick(e: NickEvent): void {
    if (this.state.kind !== 'registered') return
    try {
      const from = checkNick(e.nick)
      const to = checkNick(e.new_nick)
      const self = from === this.state.nick
      if (self) this.state = { kind: 'registered', nick: to }
      this.emit('nick', { from, to, self })
    } catch (err) {
      this.emit('refused', err as IrcGatewayError)
    }
  }

  onIrcError(e: IrcErrorEvent): void {
    if (e.channel !== undefined) {
      channelLines.error(this, e)
      return
    }
    const about = typeof e.nick === 'string' ? e.nick : typeof e.command === 'string' ? e.command : ''
    this.#reply(about === '' ? String(e.reason ?? e.error) : `${about}: ${String(e.reason ?? e.error)}`)
  }

  onUnknownCommand(e: UnknownCommandEvent): void {
    if (!/^[0-9]{3}$/.test(e.command) || this.#timers.now() > this.#rawUntil) return
    const max = this.#opts.replyLines ?? 200
    this.#replies++
    if (this.#replies === max + 1)
      this.#reply(`(more replies to that line are not shown: the limit is ${max})`)
    if (this.#replies > max) return
    this.#reply(`${e.command} ${e.params.slice(1).join(' ')}`)
  }

  onMessage(kind: IncomingMessage['kind'], e: MessageEvent): void {
    this.#incoming(kind, e)
  }

  onClose({ dropped }: { dropped: number }): void {
    this.#onClose(dropped)
  }

  onJoin(e: { nick: string; channel: string }): void {
    channelLines.join(this, e)
  }

  onPart(e: { nick: string; channel: string; message: string }): void {
    channelLines.part(this, e)
  }

  onKick(e: { kicked: string; nick: string; channel: string; message: string }): void {
    channelLines.kick(this, e)
  }

  onQuit(e: { nick: string; message: string }): void {
    channelLines.quit(this, e)
  }

  onUserlist(e: UserlistEvent): void {
    channelLines.userlist(this, e)
  }

  onTopic(e: { channel: string; topic: string; nick?: string }): void {
    channelLines.topic(this, e)
  }

  onTopicSetBy(e: { channel: string; nick: string }): void {
    channelLines.topicSetBy(this, e)
  }

  onMode(e: ModeEvent): void {
    channelLines.mode(this, e)
  }

  /** The nick in use while registered. */
  get ownNick(): string | undefined {
    return this.state.kind === 'registered' ? this.state.nick : undefined
  }

  emitChannel<E extends keyof ChannelEvents>(event: E, ...args: ChannelEvents[E]): void {
    ;(this.emit as (e: E, ...a: ChannelEvents[E]) => boolean)(event, ...args)
  }

  refused(err: IrcGatewayError): void {
    this.emit('refused', err)
  }

  /**
   * After registration: when SASL did not log the user in (not TLS, SASL off, or not offered by
   * the server) and did not refuse the password either, identify to NickServ.
   */
  #identify(): void {
    const auth = this.#opts.auth
    if (auth === undefined || auth.password === '' || this.#sasl.loggedIn || this.#sasl.refused) return
    this.#client.raw(`PRIVMSG NickServ :IDENTIFY ${auth.password}`)
    this.emit('auth', { method: 'nickserv', ok: null })
  }

  #reply(text: string): void {
    if (this.state.kind !== 'registered') return
    const shown = ircToXmppText(text).slice(0, 1000).trim()
    if (shown !== '') this.emit('reply', { text: shown })
  }

  #incoming(kind: IncomingMessage['kind'], e: MessageEvent): void {
    if (this.state.kind !== 'registered') return
    try {
      const from = e.from_server || !e.nick ? null : checkNick(e.nick)
      // A target with a channel prefix must be a channel the gateway accepts; anything else was sent to our nick.
      const channel = CHANNEL_PREFIX.test(e.target) ? checkChannel(e.target) : null
      const text = checkText(e.message)
      if (text === '') return
      this.emit('message', { kind, from, channel, text })
    } catch (err) {
      if (!(err instanceof IrcGatewayError)) throw err
      debug('refused from %s: %s', this.server.name, err.message)
      this.emit('refused', err)
    }
  }

  #onNickRefused(reason: NickRefused['reason'], refused: string, text: string): void {
    if (this.state.kind === 'registered') {
      this.#nickRefused(refused || this.#wanted, reason, this.state.nick, text)
      return
    }
    if (this.state.kind !== 'connecting') return
    this.#refusal ??= { reason, text }
    this.#tries++
    if (reason === 'erroneous' && refused.length > 9)
      this.#maxNick = Math.min(this.#maxNick, refused.length - 1)
    if (this.#tries > MAX_NICK_RETRIES) {
      debug('%s: no nick accepted after %d tries', this.server.name, this.#tries)
      this.close()
      return
    }
    const next = fallbackNick(this.#wanted, this.#tries, reason, this.#maxNick, this.#opts.random)
    this.#client.changeNick(next)
  }

  #nickRefused(requested: string, reason: NickRefused['reason'], using: string, text = ''): void {
    const why = reason === 'in-use' ? 'is in use' : 'is not allowed'
    const error = new IrcGatewayError(
      IrcGatewayErrorCodes.NICK,
      `${this.server.name}: the nick ${requested} ${why}${text ? ` (${text})` : ''}; using ${using}`,
    )
    this.emit('nick-refused', { requested, reason, using, error })
  }

  #onClose(dropped: number): void {
    this.#release?.()
    this.#release = undefined
    if (this.state.kind === 'closed') return
    if (
      this.state.kind === 'registered' &&
      this.#timers.now() - this.#registeredAt >= (this.#opts.stableAfter ?? 60_000)
    ) {
      this.#backoff.reset()
    }
    const delay = this.#backoff.next('retry')
    this.#setState({ kind: 'backoff', attempt: this.#attempt, delay })
    this.emit('disconnected', { retryIn: delay, dropped })
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined
      if (this.state.kind === 'backoff') void this.#attemptNow()
    }, delay)
  }
}

function closedError(): IrcGatewayError {
  return new IrcGatewayError(IrcGatewayErrorCodes.CONNECTION, 'the IRC connection was closed')
}
