// The simulated legacy network: a tiny chat server speaking the line protocol of protocol.ts.
// Every user of the network is a contact of every other one; groups (channels such as
// `#general`) carry messages to their members. Run standalone:
//   node dist/network/server.js --port 5299 --users alice:pw,zed:pw2
// Like a real network it relays what it does not read (message texts, typing states, receipts,
// reactions, pictures) as its users sent them: its clients must check every field. What it reads
// itself is decoded defensively: a malformed line is answered `ERR bad-request` and logged
// (DEBUG=legacy-bridge:network); the connection goes on. NetworkLimits bound what a client can
// make it hold.
import { createServer, type Server, type Socket } from 'node:net'
import { pathToFileURL } from 'node:url'
import { numberOption } from '@satellite/core'
import createDebug from 'debug'
import { dec, enc, line, lineReader, MAX_LINE_LENGTH, ProtocolError, preview } from './protocol.js'

const log = createDebug('legacy-bridge:network')
const logError = createDebug('legacy-bridge:network:error')

/** What clients can make the network hold (see {@link DEFAULT_NETWORK_LIMITS}). */
export interface NetworkLimits {
  /** The longest line read, in characters (default 64 KiB); a longer one is dropped. */
  maxLineLength?: number
  /** Open connections, logged in or not (default 1000); more are closed at once. */
  maxConnections?: number
  /** Milliseconds a connection may stay without logging in (default 30,000); then it is closed. */
  loginTimeout?: number
  /** Message ids remembered for reactions (default 10,000); the oldest are forgotten first. */
  maxMessages?: number
  /** Characters waiting to be written to one connection (default 1 MiB); beyond, it is closed. */
  maxBacklog?: number
}

/** The defaults of {@link NetworkLimits}. */
export const DEFAULT_NETWORK_LIMITS: Required<NetworkLimits> = {
  maxLineLength: MAX_LINE_LENGTH,
  maxConnections: 1000,
  loginTimeout: 30_000,
  maxMessages: 10_000,
  maxBacklog: 1024 * 1024,
}

/** Options of {@link startNetwork}. */
export interface NetworkOptions {
  /** TCP port (0: any free port). */
  port?: number
  host?: string
  /** user → password. */
  users: Record<string, string>
  /** The groups; default {@link DEFAULT_GROUPS} (`#general`, every user a member); `[]` for none. */
  groups?: NetworkGroup[]
  /** Bounds on what clients can make the network hold; defaults {@link DEFAULT_NETWORK_LIMITS}. */
  limits?: NetworkLimits
}

/** A group (channel) of the network. */
export interface NetworkGroup {
  /** Its id; by convention `#name`, which no user name has. */
  id: string
  name?: string
  topic?: string
  /** The members; omitted: every user, including users added later. */
  members?: string[]
}

/** The network's groups unless told otherwise: `#general`, every user a member. */
export const DEFAULT_GROUPS: readonly NetworkGroup[] = [
  { id: '#general', name: 'General', topic: 'Welcome to #general' },
]

/** A running simulated network. */
export interface Network {
  readonly port: number
  /** Users logged in now. */
  online(): string[]
  /** Sizes of what the network holds for its clients (each bounded by {@link NetworkLimits}). */
  stats(): { connections: number; messages: number }
  /** Adds a user; everyone logged in gets the new contact list. */
  addUser(user: string, password: string): void
  /** Sets (or removes, with null) `user`'s picture; everyone logged in is told (`* AVATAR`). */
  setAvatar(user: string, avatar: { type: string; data: Buffer } | null): void
  /**
   * Adds a group (members omitted: every user); its online members are told (`* MEMBERS`).
   * An existing group gets the new name and members.
   */
  addGroup(id: string, name: string, members?: string[]): void
  /** Sets a group's members; its online members (old and new) are told (`* MEMBERS`). */
  setMembers(group: string, members: string[]): void
  /** Sets a group's topic; its online members are told (`* TOPIC`). */
  setTopic(group: string, text: string): void
  /**
   * Member `from` says `text` in `group` (whether online or not); the other online members get
   * it (`* GMSG`). Resolves with the message id; throws for an unknown group or a non-member.
   */
  say(group: string, from: string, text: string): string
  /** Disconnects `user` with a reason (`* BYE`). */
  kick(user: string, reason?: string): void
  close(): Promise<void>
}

/** Starts the simulated legacy network. */
export async function startNetwork(options: NetworkOptions): Promise<Network> {
  const limits = { ...DEFAULT_NETWORK_LIMITS, ...options.limits }
  for (const [k, v] of Object.entries(limits)) numberOption('startNetwork', `limits.${k}`, v, v, { min: 1 })
  const users = new Map(Object.entries(options.users))
  const sessions = new Map<string, Socket>()
  let seq = 0
  /** Message id → sender and recipient (reactions are allowed between them only); the last maxMessages. */
  const messages = new Map<string, { from: string; to: string }>()
  const remember = (id: string, m: { from: string; to: string }) => {
    messages.set(id, m)
    if (messages.size > limits.maxMessages) messages.delete(messages.keys().next().value as string)
  }
  /** user → picture fields (encoded type, base64). */
  const avatars = new Map<string, [string, string]>()
  const avatarChanged = (user: string, fields: [string, string] | null) => {
    if (fields === null) avatars.delete(user)
    else avatars.set(user, fields)
    for (const other of sessions.keys())
      if (other !== user) push(other, 'AVATAR', enc(user), ...(fields ?? []))
  }
  const sockets = new Set<Socket>()
  /** group id → the group; `everyone`: the members are every user. */
  const groups = new Map<
    string,
    { id: string; name: string; topic: string; members: Set<string>; everyone: boolean }
  >()
  const putGroup = (g: NetworkGroup) => {
    const previous = groups.get(g.id)
    groups.set(g.id, {
      id: g.id,
      name: g.name ?? g.id,
      topic: g.topic ?? previous?.topic ?? '',
      members: new Set(g.members ?? users.keys()),
      everyone: g.members === undefined,
    })
    const told = new Set([...(previous?.members ?? []), ...(groups.get(g.id)?.members ?? [])])
    for (const u of told) membersChanged(g.id, u)
  }
  /** Tells `user` (if online) the members of `group`. */
  const membersChanged = (group: string, user: string) => {
    const g = groups.get(group)
    if (g === undefined || !sessions.has(user)) return
    push(user, 'MEMBERS', enc(group), ...[...g.members].map(enc))
  }
  const groupOf = (group: string, user: string): string | { id: string; members: Set<string> } => {
    const g = groups.get(group)
    if (g === undefined) return `no group ${group}`
    if (!g.members.has(user)) return `${user} is not a member of ${group}`
    return g
  }
  const groupSay = (group: { id: string; members: Set<string> }, from: string, text: string): string => {
    const id = `g${++seq}`
    for (const u of group.members) if (u !== from) push(u, 'GMSG', enc(group.id), enc(from), id, enc(text))
    return id
  }

  /** Writes to a connection; one that lets more than maxBacklog wait (it does not read) is closed. */
  const write = (socket: Socket, data: string) => {
    if (!socket.writable) return
    socket.write(data)
    if (socket.writableLength > limits.maxBacklog) {
      log('closing a connection that does not read (%d characters waiting)', socket.writableLength)
      socket.destroy()
    }
  }
  const push = (user: string, ...fields: string[]) => {
    const socket = sessions.get(user)
    if (socket !== undefined) write(socket, line('*', ...fields))
  }
  const contactList = (user: string) =>
    [...users.keys()]
      .filter((u) => u !== user)
      .map((u) => `${enc(u)}=${sessions.has(u) ? 'online' : 'offline'}`)
  const broadcastPresence = (user: string, state: 'online' | 'offline') => {
    for (const other of sessions.keys()) if (other !== user) push(other, 'PRESENCE', enc(user), state)
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.setNoDelay(true) // small request/answer lines: no Nagle delay
    socket.setEncoding('utf8')
    let me: string | null = null
    let loginTimer: NodeJS.Timeout | null = setTimeout(() => {
      log('closing a connection that did not log in within %d ms', limits.loginTimeout)
      socket.destroy()
    }, limits.loginTimeout)
    const reply = (tag: string, ...fields: string[]) => write(socket, line(tag, ...fields))
    const leave = () => {
      if (me !== null && sessions.get(me) === socket) {
        sessions.delete(me)
        broadcastPresence(me, 'offline')
      }
      me = null
    }
    const command = (tag: string, cmd: string, args: string[]) => {
      if (cmd === 'LOGIN') {
        const user = dec(args[0])
        const password = dec(args[1])
        if (users.get(user) === undefined || users.get(user) !== password) {
          return reply(tag, 'ERR', 'not-authorized', enc('wrong user name or password'))
        }
        if (me !== user) leave() // this connection was another user: that one is logged out
        const previous = sessions.get(user)
        if (previous !== undefined && previous !== socket) {
          write(previous, line('*', 'BYE', enc('logged in from another place')))
          previous.end()
        }
        me = user
        if (loginTimer !== null) clearTimeout(loginTimer)
        loginTimer = null
        sessions.set(user, socket)
        reply(tag, 'OK')
        return broadcastPresence(user, 'online')
      }
      if (me === null) return reply(tag, 'ERR', 'not-authorized', enc('log in first'))
      switch (cmd) {
        case 'CONTACTS':
          return reply(tag, 'OK', ...contactList(me))
        case 'SEND': {
          const to = dec(args[0])
          if (!users.has(to)) return reply(tag, 'ERR', 'item-not-found', enc(`no user ${to}`))
          if (!sessions.has(to)) return reply(tag, 'ERR', 'recipient-unavailable', enc(`${to} is offline`))
          const id = `m${++seq}`
          remember(id, { from: me, to })
          push(to, 'MSG', enc(me), id, args[1] ?? '')
          return reply(tag, 'OK', id)
        }
        case 'TYPING':
        case 'RECEIPT': {
          const to = dec(args[0])
          if (!users.has(to)) return reply(tag, 'ERR', 'item-not-found', enc(`no user ${to}`))
          push(to, cmd, enc(me), args[1] ?? '')
          return reply(tag, 'OK')
        }
        case 'REACT': {
          const to = dec(args[0])
          const id = dec(args[1])
          const m = messages.get(id)
          const between =
            m !== undefined && ((m.from === me && m.to === to) || (m.from === to && m.to === me))
          if (!between) return reply(tag, 'ERR', 'item-not-found', enc(`no message ${id} with ${to}`))
          push(to, 'REACT', enc(me), enc(id), ...args.slice(2))
          return reply(tag, 'OK')
        }
        case 'AVATAR':
          if (args.length === 0) avatarChanged(me, null)
          else if (args.length === 2 && args[0] !== '' && args[1] !== '')
            avatarChanged(me, [args[0] as string, args[1] as string])
          else return reply(tag, 'ERR', 'bad-request', enc('AVATAR <type> <base64>, or nothing'))
          return reply(tag, 'OK')
        case 'GETAVATAR': {
          const id = dec(args[0])
          if (!users.has(id)) return reply(tag, 'ERR', 'item-not-found', enc(`no user ${id}`))
          return reply(tag, 'OK', ...(avatars.get(id) ?? []))
        }
        case 'GROUPS':
          return reply(
            tag,
            'OK',
            ...[...groups.values()]
              .filter((g) => me !== null && g.members.has(me))
              .map((g) => [g.id, g.name, g.topic].map(enc).join('=')),
          )
        case 'MEMBERS':
        case 'GSEND': {
          const g = groupOf(dec(args[0]), me)
          if (typeof g === 'string') return reply(tag, 'ERR', 'item-not-found', enc(g))
          if (cmd === 'MEMBERS') return reply(tag, 'OK', ...[...g.members].map(enc))
          return reply(tag, 'OK', groupSay(g, me, dec(args[1])))
        }
        case 'LOGOUT':
          leave()
          reply(tag, 'OK')
          return void socket.end()
        default:
          return reply(tag, 'ERR', 'bad-request', enc('unknown command'))
      }
    }
    socket.on(
      'data',
      lineReader(
        (l) => {
          const [tag = '?', cmd = '', ...args] = l.split(' ')
          try {
            command(tag, cmd, args)
          } catch (err) {
            if (err instanceof ProtocolError) {
              log('%s: bad line %s: %s', me ?? 'a client', preview(l), err.message)
              reply(tag, 'ERR', 'bad-request', enc('malformed line'))
            } else {
              logError('%s: %s failed: %O', me ?? 'a client', preview(l), err)
              reply(tag, 'ERR', 'internal-server-error', enc('internal error'))
            }
          }
        },
        {
          maxLength: limits.maxLineLength,
          onTooLong: (n) => log('%s: dropped a line of %d+ characters', me ?? 'a client', n),
        },
      ),
    )
    socket.on('close', () => {
      if (loginTimer !== null) clearTimeout(loginTimer)
      sockets.delete(socket)
      leave()
    })
    socket.on('error', (err) => log('%s: connection error: %s', me ?? 'a client', err.message))
  })
  server.maxConnections = limits.maxConnections
  server.on('drop', () => log('refused a connection: %d open (maxConnections)', sockets.size))
  for (const g of options.groups ?? DEFAULT_GROUPS) putGroup(g)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  return {
    port,
    online: () => [...sessions.keys()],
    stats: () => ({ connections: sockets.size, messages: messages.size }),
    addUser(user, password) {
      users.set(user, password)
      for (const u of sessions.keys()) push(u, 'CONTACTS', ...contactList(u))
      for (const g of groups.values()) {
        if (!g.everyone || g.members.has(user)) continue
        g.members.add(user)
        for (const u of g.members) membersChanged(g.id, u)
      }
    },
    addGroup(id, name, members) {
      putGroup(members === undefined ? { id, name } : { id, name, members })
    },
    setMembers(group, members) {
      const g = groups.get(group)
      if (g === undefined) throw new Error(`no group ${group}`)
      putGroup({ id: g.id, name: g.name, members })
    },
    setTopic(group, text) {
      const g = groups.get(group)
      if (g === undefined) throw new Error(`no group ${group}`)
      g.topic = text
      for (const u of g.members) push(u, 'TOPIC', enc(group), enc(text))
    },
    say(group, from, text) {
      const g = groupOf(group, from)
      if (typeof g === 'string') throw new Error(g)
      return groupSay(g, from, text)
    },
    setAvatar(user, avatar) {
      avatarChanged(user, avatar === null ? null : [enc(avatar.type), avatar.data.toString('base64')])
    },
    kick(user, reason = 'kicked') {
      const s = sessions.get(user)
      if (s === undefined) return
      write(s, line('*', 'BYE', enc(reason)))
      sessions.delete(user)
      broadcastPresence(user, 'offline')
      s.end()
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/** `--users alice:pw,zed:pw2` → { alice: 'pw', zed: 'pw2' }. */
export function parseUsers(spec: string): Record<string, string> {
  const users: Record<string, string> = {}
  for (const pair of spec.split(',')) {
    const i = pair.indexOf(':')
    if (i <= 0) throw new Error(`--users: '${pair}' is not user:password`)
    users[pair.slice(0, i)] = pair.slice(i + 1)
  }
  return users
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name)
    return i < 0 ? undefined : process.argv[i + 1]
  }
  const network = await startNetwork({
    port: Number(arg('--port') ?? 5299),
    host: arg('--host') ?? '127.0.0.1',
    users: parseUsers(arg('--users') ?? 'alice:pw,zed:pw2'),
  })
  console.log(`[legacy-network] listening on port ${network.port}`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void network.close())
}
