// The reference NetworkAdapter: the simulated legacy network of server.ts, over TCP. The network
// is hostile: every line is checked field by field (fields.ts) before anything reaches the
// bridge; a line that fails is dropped and logged (DEBUG=legacy-bridge:adapter), the session
// goes on. Users see short fixed texts; the details (addresses, socket errors) go to the log.
import { connect, type Socket } from 'node:net'
import type {
  Avatar,
  ChatState,
  Credentials,
  LegacyContact,
  LegacyGroup,
  LegacyMember,
  NetworkAdapter,
  SessionEvents,
} from '@satellite/bridge'
import { numberOption, StanzaError } from '@satellite/core'
import createDebug from 'debug'
import * as field from './fields.js'
import {
  enc,
  line,
  lineReader,
  MAX_AVATAR_BYTES,
  MAX_LINE_LENGTH,
  ProtocolError,
  preview,
} from './protocol.js'

const log = createDebug('legacy-bridge:adapter')
const logError = createDebug('legacy-bridge:adapter:error')

/** What users are told (short and stable; the details are logged). */
export const TEXTS = {
  unreachable: 'the legacy network is unreachable',
  lost: 'connection to the legacy network lost',
  closed: 'connection to the legacy network closed',
  notConnected: 'not connected to the legacy network',
  malformed: 'the legacy network sent a malformed answer',
  refused: 'the legacy network refused the request',
  timeout: 'the legacy network did not answer in time',
  busy: 'too many requests to the legacy network at once',
  tooLong: 'too long for the legacy network',
  bye: 'disconnected by the legacy network',
} as const

/** What the network can make a {@link LegacyClient} hold, and how long it waits. */
export interface LegacyClientLimits {
  /**
   * The longest line read or written, in characters (default {@link MAX_LINE_LENGTH}, 64 KiB).
   * A longer line from the network is dropped; a longer command is refused (`not-acceptable`).
   */
  maxLineLength?: number
  /** Commands waiting for their answer (default 256); more are refused (`resource-constraint`). */
  maxPending?: number
  /** Milliseconds a command waits for its answer before failing with `remote-server-timeout` (default 30,000). */
  timeout?: number
}

/** The defaults of {@link LegacyClientLimits}. */
export const DEFAULT_CLIENT_LIMITS: Required<LegacyClientLimits> = {
  maxLineLength: MAX_LINE_LENGTH,
  maxPending: 256,
  timeout: 30_000,
}

/** The limits with their defaults; a bad one is a fatal SAT_ERR_CONFIG (`<who>.limits.<name>: …`). */
function checkLimits(limits: LegacyClientLimits, who: string): Required<LegacyClientLimits> {
  const out = { ...DEFAULT_CLIENT_LIMITS, ...limits }
  for (const [k, v] of Object.entries(out) as [keyof LegacyClientLimits, number][]) {
    out[k] = numberOption(who, `limits.${k}`, v, v, { min: 1 })
  }
  return out
}

interface Pending {
  resolve(fields: string[]): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

/** One logged-in connection to the simulated network (also usable on its own, e.g. as a legacy user in tests). */
export class LegacyClient {
  readonly user: string
  readonly #socket: Socket
  readonly #pending = new Map<string, Pending>()
  readonly #limits: Required<LegacyClientLimits>
  #tag = 0
  #closed = false
  #events: Partial<SessionEvents>

  private constructor(
    socket: Socket,
    user: string,
    events: Partial<SessionEvents>,
    limits: Required<LegacyClientLimits>,
  ) {
    this.#socket = socket
    this.user = user
    this.#events = events
    this.#limits = limits
    socket.setNoDelay(true) // small request/answer lines: no Nagle delay
    socket.setEncoding('utf8')
    socket.on(
      'data',
      lineReader((l) => this.#line(l), {
        maxLength: limits.maxLineLength,
        onTooLong: (n) => log('%s: dropped a line of %d+ characters from the network', user, n),
      }),
    )
    socket.on('close', () => this.#gone(TEXTS.closed, 'closed'))
    socket.on('error', (err) => this.#gone(TEXTS.lost, err.message))
  }

  /**
   * Connects and logs in; rejects with `not-authorized` for wrong credentials,
   * `service-unavailable` when the network cannot be reached.
   */
  static async login(
    host: string,
    port: number,
    user: string,
    password: string,
    events: Partial<SessionEvents> = {},
    limits: LegacyClientLimits = {},
  ): Promise<LegacyClient> {
    const checked = checkLimits(limits, 'LegacyClient.login')
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(s))
      s.once('error', (err) => {
        log('%s: cannot reach the network at %s:%d: %s', user, host, port, err.message)
        reject(new StanzaError('service-unavailable', { text: TEXTS.unreachable }))
      })
    })
    const client = new LegacyClient(socket, user, events, checked)
    try {
      await client.#command(none, 'LOGIN', enc(user), enc(password))
    } catch (err) {
      client.#closed = true
      socket.destroy()
      throw err
    }
    return client
  }

  get closed(): boolean {
    return this.#closed
  }

  /** Commands waiting for their answer now. */
  get pending(): number {
    return this.#pending.size
  }

  async contacts(): Promise<LegacyContact[]> {
    return this.#command((f) => this.#list(f, parseContact, 'contact'), 'CONTACTS')
  }

  async send(to: string, text: string): Promise<string> {
    return this.#command(messageId, 'SEND', enc(to), enc(text))
  }

  async typing(to: string, state: ChatState): Promise<void> {
    if (!field.CHAT_STATES.has(state)) throw new StanzaError('bad-request', { text: 'not a chat state' })
    await this.#command(none, 'TYPING', enc(to), state)
  }

  async receipt(to: string, id: string): Promise<void> {
    await this.#command(none, 'RECEIPT', enc(to), enc(id))
  }

  /** Reacts to message `id` exchanged with `to`: the full set of emojis (empty: none). */
  async react(to: string, id: string, emojis: string[]): Promise<void> {
    await this.#command(none, 'REACT', enc(to), enc(id), ...emojis.map(enc))
  }

  /** The picture of user `id`, or null. */
  async avatar(id: string): Promise<Avatar | null> {
    return this.#command(parseAvatar, 'GETAVATAR', enc(id))
  }

  /** Sets our picture (null removes it); at most {@link MAX_AVATAR_BYTES}. */
  async setAvatar(avatar: Avatar | null): Promise<void> {
    if (avatar === null) return void (await this.#command(none, 'AVATAR'))
    if (avatar.data.length > MAX_AVATAR_BYTES) {
      throw new StanzaError('not-acceptable', { text: `pictures are at most ${MAX_AVATAR_BYTES} bytes` })
    }
    await this.#command(none, 'AVATAR', enc(avatar.type), avatar.data.toString('base64'))
  }

  /** The groups we are a member of; our nick in each is our user name. */
  async groups(): Promise<LegacyGroup[]> {
    return this.#command(
      (f) =>
        this.#list(
          f,
          (item) => {
            const [id, name, subject, ...extra] = item.split('=')
            if (extra.length > 0) throw new ProtocolError(`a group of ${extra.length + 3} fields`)
            return {
              id: field.legacyId(id),
              name: field.text(name),
              subject: field.text(subject),
              nick: this.user,
            }
          },
          'group',
        ),
      'GROUPS',
    )
  }

  /** The other members of a group (the network lists us too; we are left out). */
  async members(group: string): Promise<LegacyMember[]> {
    return this.#command((f) => this.#others(f), 'MEMBERS', enc(group))
  }

  /** Says `text` in `group`; resolves with the message id. */
  async say(group: string, text: string): Promise<string> {
    return this.#command(messageId, 'GSEND', enc(group), enc(text))
  }

  async logout(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#command(none, 'LOGOUT', true).catch(() => {})
    this.#socket.end()
  }

  /** Sends a command; its answer's fields are checked by `parse` (a bad one: `undefined-condition`). */
  #command<T>(parse: (fields: string[]) => T, cmd: string, ...args: Array<string | true>): Promise<T> {
    const force = args[0] === true
    const fields = args.filter((a): a is string => a !== true)
    if (this.#closed && !force) {
      return Promise.reject(new StanzaError('service-unavailable', { text: TEXTS.notConnected }))
    }
    if (this.#pending.size >= this.#limits.maxPending) {
      log('%s: %s refused, %d commands already wait for an answer', this.user, cmd, this.#pending.size)
      return Promise.reject(new StanzaError('resource-constraint', { text: TEXTS.busy }))
    }
    const tag = `t${++this.#tag}`
    const text = line(tag, cmd, ...fields)
    if (text.length - 1 > this.#limits.maxLineLength) {
      return Promise.reject(new StanzaError('not-acceptable', { text: TEXTS.tooLong }))
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(tag)
        log('%s: no answer to %s %s in %d ms', this.user, tag, cmd, this.#limits.timeout)
        reject(new StanzaError('remote-server-timeout', { text: TEXTS.timeout }))
      }, this.#limits.timeout)
      timer.unref()
      this.#pending.set(tag, {
        resolve: (answer) => {
          try {
            resolve(parse(answer))
          } catch (err) {
            log('%s: malformed answer to %s: %s', this.user, cmd, (err as Error).message)
            reject(new StanzaError('undefined-condition', { text: TEXTS.malformed }))
          }
        },
        reject,
        timer,
      })
      this.#socket.write(text)
    })
  }

  /** A line from the network: never throws (a bad line is dropped and logged). */
  #line(l: string): void {
    try {
      this.#handle(l)
    } catch (err) {
      if (err instanceof ProtocolError) log('%s: dropped %s: %s', this.user, preview(l), err.message)
      else logError('%s: handling %s failed: %O', this.user, preview(l), err)
    }
  }

  #handle(l: string) {
    const [tag = '', kind = '', ...rest] = l.split(' ')
    if (tag !== '*') {
      const p = this.#pending.get(tag)
      if (p === undefined) throw new ProtocolError('an answer to no command waiting')
      this.#pending.delete(tag)
      clearTimeout(p.timer)
      if (kind === 'OK') p.resolve(rest)
      else if (kind === 'ERR') p.reject(networkError(rest))
      else {
        p.reject(new StanzaError('undefined-condition', { text: TEXTS.malformed }))
        throw new ProtocolError(`an answer of kind ${preview(kind)}`)
      }
      return
    }
    const e = this.#events
    switch (kind) {
      case 'MSG':
        return e.message?.({
          from: field.legacyId(rest[0]),
          id: field.token(rest[1]),
          text: field.text(rest[2]),
        })
      case 'PRESENCE':
        return e.presence?.(field.legacyId(rest[0]), field.onlineState(rest[1]))
      case 'CONTACTS':
        return e.contacts?.(this.#list(rest, parseContact, 'contact'))
      case 'TYPING':
        return e.typing?.(field.legacyId(rest[0]), field.chatState(rest[1]))
      case 'RECEIPT':
        return e.receipt?.(field.legacyId(rest[0]), field.token(rest[1]))
      case 'REACT':
        return e.reaction?.(field.legacyId(rest[0]), field.token(rest[1]), rest.slice(2).map(field.emoji))
      case 'AVATAR':
        return e.avatar?.(field.legacyId(rest[0]), parseAvatar(rest.slice(1)))
      case 'GMSG':
        return e.groupMessage?.({
          group: field.legacyId(rest[0]),
          from: field.legacyId(rest[1]),
          id: field.token(rest[2]),
          text: field.text(rest[3]),
        })
      case 'MEMBERS':
        return e.groupMembers?.(field.legacyId(rest[0]), this.#others(rest.slice(1)))
      case 'TOPIC':
        return e.groupSubject?.(field.legacyId(rest[0]), field.text(rest[1]))
      case 'BYE':
        return this.#gone(field.shortText(rest[0], TEXTS.bye), 'BYE')
      default:
        throw new ProtocolError(`unknown push ${preview(kind)}`)
    }
  }

  /** The items of a list that pass `parse`; a bad one is left out (logged), not the whole list. */
  #list<T>(items: string[], parse: (item: string) => T, what: string): T[] {
    const out: T[] = []
    for (const item of items) {
      try {
        out.push(parse(item))
      } catch (err) {
        if (!(err instanceof ProtocolError)) throw err
        log('%s: left out a %s: %s', this.user, what, err.message)
      }
    }
    return out
  }

  /** Members (encoded user names) other than us; a member's nick is the user name. */
  #others(fields: string[]): LegacyMember[] {
    return this.#list(fields, field.legacyId, 'member')
      .filter((u) => u !== this.user)
      .map((u) => ({ id: u, nick: u }))
  }

  /** The connection is over: `reason` is for the user, `detail` for the log. */
  #gone(reason: string, detail: string): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(new StanzaError('service-unavailable', { text: TEXTS.notConnected }))
    }
    this.#pending.clear()
    if (this.#closed) return
    log('%s: connection to the network over (%s)', this.user, detail)
    this.#closed = true
    this.#socket.destroy()
    try {
      this.#events.disconnected?.(reason)
    } catch (err) {
      logError('%s: the disconnected event failed: %O', this.user, err)
    }
  }
}

/** An answer with no fields to read. */
const none = (): void => {}

/** An answer carrying a message id. */
const messageId = (fields: string[]): string => field.token(fields[0])

/** An `ERR <condition> <text>` answer: a condition outside RFC 6120 becomes `undefined-condition`. */
function networkError(fields: string[]): StanzaError {
  const condition = field.errorCondition(fields[0])
  if (condition === undefined) {
    log('the network answered with an unknown condition %s', preview(fields[0] ?? ''))
    return new StanzaError('undefined-condition', { text: TEXTS.refused })
  }
  return new StanzaError(condition, { text: field.shortText(fields[1], TEXTS.refused) })
}

function parseContact(item: string): LegacyContact {
  const [id, state, ...extra] = item.split('=')
  if (extra.length > 0) throw new ProtocolError('a contact of more than two fields')
  const name = field.legacyId(id)
  return { id: name, name, online: field.onlineState(state) }
}

function parseAvatar(fields: string[]): Avatar | null {
  if (fields.length === 0) return null
  if (fields.length !== 2) throw new ProtocolError(`a picture of ${fields.length} fields`)
  return { type: field.mimeType(fields[0]), data: field.base64(fields[1], MAX_AVATAR_BYTES) }
}

/** Options of {@link simulatedNetworkAdapter}. */
export interface SimulatedNetworkOptions {
  host?: string
  port: number
  /** What the network can make each session hold (defaults: {@link DEFAULT_CLIENT_LIMITS}). */
  limits?: LegacyClientLimits
}

/**
 * The adapter of the simulated network: the required part plus typing, receipts, reactions,
 * avatars and groups (rooms `#general@gateway`...); no corrections: the bridge answers those
 * with `feature-not-implemented`.
 */
export function simulatedNetworkAdapter(options: SimulatedNetworkOptions): NetworkAdapter<LegacyClient> {
  const host = options.host ?? '127.0.0.1'
  const limits = checkLimits(options.limits ?? {}, 'simulatedNetworkAdapter')
  return {
    network: { type: 'legacy', name: 'Legacy IM' },
    registration: {
      fields: ['username', 'password'],
      instructions: 'Enter your Legacy IM user name and password',
    },
    login: (credentials: Credentials, events: SessionEvents) =>
      LegacyClient.login(
        host,
        options.port,
        String(credentials.username),
        String(credentials.password),
        events,
        limits,
      ),
    logout: (session) => session.logout(),
    sendText: (session, to, text) => session.send(to, text),
    listContacts: (session) => session.contacts(),
    normalizeId: (input) => {
      try {
        return field.legacyId(enc(input.trim()))
      } catch {
        throw new StanzaError('not-acceptable', { text: 'not a Legacy IM user name' })
      }
    },
    capabilities: {
      typing: { sendTyping: (session, to, state) => session.typing(to, state) },
      receipts: { sendReceipt: (session, to, id) => session.receipt(to, id) },
      reactions: { react: (session, to, id, emojis) => session.react(to, id, emojis) },
      avatars: { avatar: (session, contact) => session.avatar(contact) },
      groups: {
        listGroups: (session) => session.groups(),
        members: (session, group) => session.members(group),
        sendGroupText: (session, group, text) => session.say(group, text),
      },
    },
  }
}
