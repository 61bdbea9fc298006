// The reference NetworkAdapter: the simulated legacy network of server.ts, over TCP.
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
import { StanzaError } from '@satellite/core'
import { dec, enc, line, lineReader, MAX_AVATAR_BYTES } from './protocol.js'

/** One logged-in connection to the simulated network (also usable on its own, e.g. as a legacy user in tests). */
export class LegacyClient {
  readonly user: string
  readonly #socket: Socket
  readonly #pending = new Map<string, { resolve(fields: string[]): void; reject(err: Error): void }>()
  #tag = 0
  #closed = false
  #events: Partial<SessionEvents>

  private constructor(socket: Socket, user: string, events: Partial<SessionEvents>) {
    this.#socket = socket
    this.user = user
    this.#events = events
    socket.setEncoding('utf8')
    socket.on(
      'data',
      lineReader((l) => this.#line(l)),
    )
    socket.on('close', () => this.#gone('connection closed'))
    socket.on('error', (err) => this.#gone(err.message))
  }

  /** Connects and logs in; rejects with `not-authorized` for wrong credentials. */
  static async login(
    host: string,
    port: number,
    user: string,
    password: string,
    events: Partial<SessionEvents> = {},
  ): Promise<LegacyClient> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host, port }, () => resolve(s))
      s.once('error', (err) =>
        reject(
          new StanzaError('service-unavailable', { text: `legacy network unreachable: ${err.message}` }),
        ),
      )
    })
    const client = new LegacyClient(socket, user, events)
    try {
      await client.#command('LOGIN', enc(user), enc(password))
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

  async contacts(): Promise<LegacyContact[]> {
    return parseContacts(await this.#command('CONTACTS'))
  }

  async send(to: string, text: string): Promise<string> {
    const [id] = await this.#command('SEND', enc(to), enc(text))
    return id ?? ''
  }

  async typing(to: string, state: ChatState): Promise<void> {
    await this.#command('TYPING', enc(to), state)
  }

  async receipt(to: string, id: string): Promise<void> {
    await this.#command('RECEIPT', enc(to), enc(id))
  }

  /** Reacts to message `id` exchanged with `to`: the full set of emojis (empty: none). */
  async react(to: string, id: string, emojis: string[]): Promise<void> {
    await this.#command('REACT', enc(to), enc(id), ...emojis.map(enc))
  }

  /** The picture of user `id`, or null. */
  async avatar(id: string): Promise<Avatar | null> {
    return parseAvatar(await this.#command('GETAVATAR', enc(id)))
  }

  /** Sets our picture (null removes it); at most {@link MAX_AVATAR_BYTES}. */
  async setAvatar(avatar: Avatar | null): Promise<void> {
    if (avatar === null) return void (await this.#command('AVATAR'))
    if (avatar.data.length > MAX_AVATAR_BYTES) {
      throw new StanzaError('not-acceptable', { text: `pictures are at most ${MAX_AVATAR_BYTES} bytes` })
    }
    await this.#command('AVATAR', enc(avatar.type), avatar.data.toString('base64'))
  }

  /** The groups we are a member of; our nick in each is our user name. */
  async groups(): Promise<LegacyGroup[]> {
    return (await this.#command('GROUPS')).map((item) => {
      const [id, name, subject] = item.split('=').map((f) => dec(f))
      return { id: id ?? '', name: name ?? '', subject: subject ?? '', nick: this.user }
    })
  }

  /** The other members of a group (the network lists us too; we are left out). */
  async members(group: string): Promise<LegacyMember[]> {
    return this.#others(await this.#command('MEMBERS', enc(group)))
  }

  /** Says `text` in `group`; resolves with the message id. */
  async say(group: string, text: string): Promise<string> {
    const [id] = await this.#command('GSEND', enc(group), enc(text))
    return id ?? ''
  }

  async logout(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#command('LOGOUT', true).catch(() => {})
    this.#socket.end()
  }

  #command(cmd: string, ...args: Array<string | true>): Promise<string[]> {
    const force = args[0] === true
    const fields = args.filter((a): a is string => a !== true)
    if (this.#closed && !force) {
      return Promise.reject(new StanzaError('service-unavailable', { text: 'not connected' }))
    }
    const tag = `t${++this.#tag}`
    return new Promise((resolve, reject) => {
      this.#pending.set(tag, { resolve, reject })
      this.#socket.write(line(tag, cmd, ...fields))
    })
  }

  #line(l: string): void {
    const [tag = '', kind = '', ...rest] = l.split(' ')
    if (tag !== '*') {
      const p = this.#pending.get(tag)
      if (p === undefined) return
      this.#pending.delete(tag)
      if (kind === 'OK') p.resolve(rest)
      else p.reject(new StanzaError(rest[0] ?? 'undefined-condition', { text: dec(rest[1]) }))
      return
    }
    const e = this.#events
    switch (kind) {
      case 'MSG':
        e.message?.({ from: dec(rest[0]), id: dec(rest[1]), text: dec(rest[2]) })
        return
      case 'PRESENCE':
        e.presence?.(dec(rest[0]), rest[1] === 'online')
        return
      case 'CONTACTS':
        e.contacts?.(parseContacts(rest))
        return
      case 'TYPING':
        e.typing?.(dec(rest[0]), rest[1] as ChatState)
        return
      case 'RECEIPT':
        e.receipt?.(dec(rest[0]), dec(rest[1]))
        return
      case 'REACT':
        e.reaction?.(
          dec(rest[0]),
          dec(rest[1]),
          rest.slice(2).map((x) => dec(x)),
        )
        return
      case 'AVATAR':
        e.avatar?.(dec(rest[0]), parseAvatar(rest.slice(1)))
        return
      case 'GMSG':
        e.groupMessage?.({ group: dec(rest[0]), from: dec(rest[1]), id: dec(rest[2]), text: dec(rest[3]) })
        return
      case 'MEMBERS':
        e.groupMembers?.(dec(rest[0]), this.#others(rest.slice(1)))
        return
      case 'TOPIC':
        e.groupSubject?.(dec(rest[0]), dec(rest[1]))
        return
      case 'BYE':
        this.#gone(dec(rest[0]))
        return
    }
  }

  /** Members (encoded user names) other than us; a member's nick is the user name. */
  #others(fields: string[]): LegacyMember[] {
    return fields
      .map((f) => dec(f))
      .filter((u) => u !== this.user)
      .map((u) => ({ id: u, nick: u }))
  }

  #gone(reason: string): void {
    for (const p of this.#pending.values()) p.reject(new StanzaError('service-unavailable', { text: reason }))
    this.#pending.clear()
    if (this.#closed) return
    this.#closed = true
    this.#socket.destroy()
    this.#events.disconnected?.(reason)
  }
}

function parseContacts(items: string[]): LegacyContact[] {
  return items.map((item) => {
    const [id = '', state] = item.split('=')
    const name = dec(id)
    return { id: name, name, online: state === 'online' }
  })
}

function parseAvatar(fields: string[]): Avatar | null {
  const [type, data] = fields
  if (type === undefined || data === undefined) return null
  return { type: dec(type), data: Buffer.from(data, 'base64') }
}

/** Options of {@link simulatedNetworkAdapter}. */
export interface SimulatedNetworkOptions {
  host?: string
  port: number
}

/**
 * The adapter of the simulated network: the required part plus typing, receipts, reactions,
 * avatars and groups (rooms `#general@gateway`...); no corrections: the bridge answers those
 * with `feature-not-implemented`.
 */
export function simulatedNetworkAdapter(options: SimulatedNetworkOptions): NetworkAdapter<LegacyClient> {
  const host = options.host ?? '127.0.0.1'
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
      ),
    logout: (session) => session.logout(),
    sendText: (session, to, text) => session.send(to, text),
    listContacts: (session) => session.contacts(),
    normalizeId: (input) => input.trim(),
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
