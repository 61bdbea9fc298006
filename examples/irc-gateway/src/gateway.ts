// The gateway as a plugin of the component: one-to-one messages between an XMPP user and an IRC
// user (`nick%server@gateway` <-> PRIVMSG) and channels as rooms (`#chan%server@gateway`, through
// @satellite/muc with the channels.ts backend), over one IrcConnection per bare JID per server,
// opened on the first join or message and closed `linger` ms after the user's last channel.

import { randomBytes } from 'node:crypto'
import {
  bareOf,
  type Component,
  errorReply,
  localOf,
  numberOption,
  type PluginHandle,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'
import { type MucLimits, type MucService, type MucStore, muc } from '@satellite/muc'
import { openDatabase } from '@satellite/sqlite'
import createDebug from 'debug'
import { formatAddress, type IrcAddress, parseAddress, parseLocal } from './address.js'
import { ircChannels } from './channels.js'
import { rawCommand, serverCommands } from './commands.js'
import { type ConnectionAuth, type IncomingMessage, IrcConnection } from './connection.js'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import { ConnectGate, type GateOptions } from './gate.js'
import { sanitizeNick } from './nick.js'
import { type SchedulerOptions, schedulerOptions } from './scheduler.js'
import type { IrcServer, ServerList } from './servers.js'
import { SettingsStore, type UserSettings } from './settings.js'
import { isNick } from './validate.js'

const debug = createDebug('satellite:irc-gateway')

export interface IrcGatewayOptions {
  servers: ServerList
  /** The outbound scheduler of each IRC connection (burst 5, then 1 line per 2 s). */
  flood?: SchedulerOptions
  /** The cap on concurrent connection attempts across users. */
  reconnect?: GateOptions
  /** IRC connections in all (default 1000). */
  maxConnections?: number
  /** IRC servers one user may be connected to at once (default 5). */
  maxServersPerUser?: number
  /** Answer to CTCP VERSION. */
  version?: string
  /** How long a connection stays open after the user's last channel was left, in ms (default 60000). */
  linger?: number
  /** How long a JOIN may take before the join is refused, in ms (default 30000). */
  joinTimeout?: number
  /** How long a netsplit QUIT is held before rooms are told, in ms (default 10000). */
  splitDelay?: number
  /** Where the rooms' archives are kept (default: in memory). */
  store?: MucStore
  /** The room engine's limits (rooms per user, occupants per room, …). */
  rooms?: MucLimits
  /**
   * Each user's nick, password and SASL choice per server (IRC_GATEWAY_DB); default: in memory
   * with a key made at start (forgotten on restart).
   */
  settings?: SettingsStore
  /** The longest raw line (`/quote LINE` to server@gateway), in UTF-8 bytes (default 510). */
  rawMaxBytes?: number
  /** How long after a raw line the server's unhandled numerics are relayed, in ms (default 10000). */
  replyWindow?: number
  /**
   * The most numerics relayed for one raw line (default 200): a LIST of a big network is cut
   * there, with a last message saying so.
   */
  replyLines?: number
}

export interface IrcGateway extends PluginHandle {
  /** The connection of `user` (a bare JID) to `server`, if open. */
  connection(user: string, server: string): IrcConnection | undefined
  readonly gate: ConnectGate
  /** The room engine that shows channels as rooms. */
  readonly muc: MucService
  close(): void
}

/** Installs the gateway's message route on `xmpp`; `close()` removes it and QUITs every connection. */
export function ircGateway(xmpp: Component, options: IrcGatewayOptions): IrcGateway {
  const flood = schedulerOptions(options.flood)
  const maxConnections = numberOption('irc-gateway', 'maxConnections', options.maxConnections, 1000, {
    min: 1,
  })
  const maxPerUser = numberOption('irc-gateway', 'maxServersPerUser', options.maxServersPerUser, 5, {
    min: 1,
  })
  const linger = numberOption('irc-gateway', 'linger', options.linger, 60_000, { min: 0, max: 2_147_483_647 })
  const joinTimeout = numberOption('irc-gateway', 'joinTimeout', options.joinTimeout, 30_000, {
    min: 1,
    max: 600_000,
  })
  const splitDelay = numberOption('irc-gateway', 'splitDelay', options.splitDelay, 10_000, {
    min: 0,
    max: 600_000,
  })
  const rawMaxBytes = numberOption('irc-gateway', 'rawMaxBytes', options.rawMaxBytes, 510, {
    min: 1,
    max: 510,
  })
  const replyWindow = numberOption('irc-gateway', 'replyWindow', options.replyWindow, 10_000, {
    min: 0,
    max: 600_000,
  })
  const replyLines = numberOption('irc-gateway', 'replyLines', options.replyLines, 200, {
    min: 1,
    max: 10_000,
  })
  const ownDb = options.settings === undefined ? openDatabase() : undefined
  const settings =
    options.settings ?? new SettingsStore({ db: ownDb ?? openDatabase(), key: randomBytes(32) })
  const gate = new ConnectGate(options.reconnect)
  const lingering = new Map<string, NodeJS.Timeout>()
  const connections = new Map<string, IrcConnection>()
  const perUser = new Map<string, number>()
  const key = (user: string, server: string): string => `${user}\n${server}`

  const toXmpp = (user: string, conn: IrcConnection, m: IncomingMessage): void => {
    if (m.channel !== null) return // channel messages go to the rooms (channels.ts)
    const from: IrcAddress =
      m.from === null
        ? { kind: 'server', server: conn.server }
        : { kind: 'user', nick: m.from, server: conn.server }
    const body = m.kind === 'action' ? `/me ${m.text}` : m.text
    void xmpp
      .send(
        xml(
          'message',
          { from: formatAddress(from, xmpp.domain, options.servers), to: user, type: 'chat' },
          xml('body', {}, body),
        ),
      )
      .catch((err: unknown) => debug('send to %s failed: %s', user, (err as Error).message))
  }

  const tell = (user: string, server: IrcServer, text: string): void => {
    const from = formatAddress({ kind: 'server', server }, xmpp.domain, options.servers)
    void xmpp
      .send(xml('message', { from, to: user, type: 'chat' }, xml('body', {}, text)))
      .catch((err: unknown) => debug('send to %s failed: %s', user, (err as Error).message))
  }

  const open = (user: string, server: IrcServer, nick?: string): IrcConnection => {
    const existing = connections.get(key(user, server.name))
    if (existing !== undefined) return existing
    if (connections.size >= maxConnections)
      throw new StanzaError('resource-constraint', 'the gateway has too many IRC connections')
    if ((perUser.get(user) ?? 0) >= maxPerUser) {
      throw new StanzaError('policy-violation', `at most ${maxPerUser} IRC servers at once`)
    }
    const local = localOf(user)
    const stored = storedSettings(user, server)
    // The nick set with Configure wins (as biboumi's), then the room nick, then the local part.
    const wanted = stored?.nick ?? nick
    const auth: ConnectionAuth | undefined =
      stored?.password === undefined ? undefined : { password: stored.password, sasl: stored.sasl }
    const conn = new IrcConnection({
      server,
      nick: wanted !== undefined && isNick(wanted) ? wanted : isNick(local) ? local : sanitizeNick(local),
      fallbackEncoding: server.fallbackEncoding,
      flood,
      gate,
      ...(options.version === undefined ? {} : { version: options.version }),
      ...(auth === undefined ? {} : { auth }),
      replyWindow,
      replyLines,
    })
    connections.set(key(user, server.name), conn)
    perUser.set(user, (perUser.get(user) ?? 0) + 1)
    conn.on('message', (m) => toXmpp(user, conn, m))
    channels.attach(user, conn)
    conn.on('nick-refused', (r) => tell(user, server, r.error.message))
    conn.on('reply', (r) => tell(user, server, r.text))
    conn.on('auth', (a) => {
      if (a.method === 'sasl' && a.ok === true) tell(user, server, `${server.name}: logged in with SASL`)
      if (a.ok === false)
        tell(user, server, `${server.name}: SASL refused the password (${a.reason ?? 'no reason'})`)
    })
    conn.on('closed', () => {
      clearTimeout(lingering.get(key(user, server.name)))
      lingering.delete(key(user, server.name))
      connections.delete(key(user, server.name))
      const n = (perUser.get(user) ?? 1) - 1
      if (n === 0) perUser.delete(user)
      else perUser.set(user, n)
    })
    return conn
  }

  const storedSettings = (user: string, server: IrcServer): UserSettings | undefined => {
    try {
      return settings.get(user, server.name)
    } catch (err) {
      if (!(err instanceof IrcGatewayError)) throw err
      tell(user, server, err.message)
      return undefined
    }
  }

  const connected = async (user: string, server: IrcServer, nick?: string): Promise<IrcConnection> => {
    const conn = open(user, server, nick)
    const k = key(user, server.name)
    clearTimeout(lingering.get(k))
    lingering.delete(k)
    if (conn.state.kind !== 'registered') {
      try {
        await conn.connect()
      } catch (err) {
        // Never registered: give up on it (the next message tries again) rather than keep a
        // connection retrying for a user who may have left.
        if (!conn.everRegistered) conn.close()
        throw err
      }
    }
    return conn
  }

  const channels = ircChannels({
    domain: xmpp.domain,
    servers: options.servers,
    joinTimeout,
    splitDelay,
    connection: (user, server, nick) => connected(user, server, nick),
    used(user, server, n) {
      const k = key(user, server.name)
      clearTimeout(lingering.get(k))
      lingering.delete(k)
      if (n > 0) return
      const t = setTimeout(() => {
        lingering.delete(k)
        debug('%s: no channel on %s for %d ms, closing', user, server.name, linger)
        connections.get(k)?.close()
      }, linger)
      t.unref?.()
      lingering.set(k, t)
    },
  })

  const isRoom = (local: string): boolean => {
    try {
      return parseLocal(local, options.servers).kind === 'channel'
    } catch {
      return false
    }
  }
  const rooms = muc(xmpp, {
    name: 'IRC gateway',
    // conference/irc as biboumi has it, and XEP-0045's conference/text for clients that look for it
    identityTypes: ['text', 'irc'],
    backend: channels.backend,
    isRoom,
    defaults: { historyLength: 20 },
    // The IRC scheduler paces what goes out (and `flood.maxQueue` bounds it): the engine's own
    // per-occupant rate (10, then 2 a second) would refuse a fast typist's lines that biboumi queues.
    limits: {
      roomsPerUser: 50,
      occupantsPerRoom: 2000,
      backendTimeout: joinTimeout + 5000,
      messageRate: { burst: 50, perSecond: 10 },
      ...options.rooms,
    },
    ...(options.store === undefined ? {} : { store: options.store }),
  })

  const fromXmpp = async (msg: Stanza): Promise<void> => {
    const body = msg.getChildText('body')
    if (body === null || body === '') return
    const user = bareOf(msg.attrs.from).toLowerCase()
    let address: IrcAddress
    try {
      address = parseAddress(msg.attrs.to ?? '', xmpp.domain, options.servers)
    } catch (err) {
      if (!(err instanceof IrcGatewayError)) throw err
      const condition = err.code === IrcGatewayErrorCodes.SERVER ? 'remote-server-not-found' : 'jid-malformed'
      return xmpp.send(errorReply(msg, new StanzaError(condition, err.message)))
    }
    let raw: string | undefined
    if (address.kind === 'server') {
      try {
        raw = rawCommand(body, rawMaxBytes)
      } catch (err) {
        if (!(err instanceof IrcGatewayError)) throw err
        return xmpp.send(errorReply(msg, new StanzaError('bad-request', err.message)))
      }
      if (raw === undefined) {
        const hint = 'write /quote LINE to send LINE to the IRC server, or use the ad-hoc commands here'
        return xmpp.send(errorReply(msg, new StanzaError('bad-request', hint)))
      }
    } else if (address.kind !== 'user') {
      return xmpp.send(errorReply(msg, new StanzaError('item-not-found', 'join the channel to talk in it')))
    }
    try {
      const conn = await connected(user, address.server)
      if (raw !== undefined) conn.raw(raw)
      else if (address.kind === 'user') {
        const action = body.startsWith('/me ')
        conn.send(address.nick, action ? body.slice(4) : body, action ? 'action' : 'privmsg')
      }
    } catch (err) {
      const reply =
        err instanceof StanzaError ? err : new StanzaError('recipient-unavailable', (err as Error).message)
      return xmpp.send(errorReply(msg, reply))
    }
  }

  const adhoc = serverCommands(xmpp, {
    servers: options.servers,
    settings,
    tell,
    disconnect(user, server) {
      const conn = connections.get(key(user, server.name))
      conn?.close('Disconnected from XMPP')
      return conn !== undefined
    },
  })

  const unroute = xmpp.message(
    { type: ['chat', 'normal'], where: (s) => !isRoom(s.toLocal.toLowerCase()) },
    fromXmpp,
  )
  let closed = false
  return {
    gate,
    muc: rooms,
    connection: (user, server) => connections.get(key(user.toLowerCase(), server)),
    close() {
      if (closed) return
      closed = true
      unroute()
      adhoc.close()
      rooms.close()
      for (const t of lingering.values()) clearTimeout(t)
      lingering.clear()
      for (const conn of [...connections.values()]) conn.close()
      gate.close()
      ownDb?.close()
    },
  }
}
