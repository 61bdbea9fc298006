// IRC channels as rooms: a MucBackend for @satellite/muc. Each XMPP user sees a channel through
// their own IRC connection (one view per user, as biboumi does): NAMES becomes the occupant list,
// the topic the subject, member modes roles and affiliations (q owner, a/o admin and moderator,
// h moderator, v member), PART/KICK/QUIT presences with reasons and 307, nick changes 303.
// Netsplit QUITs are held for `splitDelay` and forgotten when the nick comes back in time.
import { StanzaError } from '@satellite/core'
import type { JoinAnswer, MucBackend, RemoteOccupant, RoomView } from '@satellite/muc'
import createDebug from 'debug'
import { formatAddress, parseLocal } from './address.js'
import { type ChannelErrorKind, MAX_NAMES, type Member } from './channel-events.js'
import type { IrcConnection } from './connection.js'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import type { IrcServer, ServerList } from './servers.js'
import { isNick } from './validate.js'

const debug = createDebug('satellite:irc-gateway:channels')

/** IRC's default case mapping (rfc1459): []\~ are the upper case of {}|^. */
export function ircLower(s: string): string {
  return s
    .toLowerCase()
    .replace(/[[\]\\~]/g, (c) => ({ '[': '{', ']': '}', '\\': '|', '~': '^' })[c] as string)
}

/** What the channels need of the gateway. */
export interface ChannelsHost {
  domain: string
  servers: ServerList
  /** The user's registered connection to `server` (opened with `nick` when new). */
  connection(user: string, server: IrcServer, nick: string): Promise<IrcConnection>
  /** The number of channels the user is in on that connection changed (0: it may linger, then close). */
  used(user: string, server: IrcServer, channels: number): void
  /** How long a JOIN may take before the join is refused (ms). */
  joinTimeout: number
  /** How long a netsplit QUIT is held before rooms are told (ms). */
  splitDelay: number
}

interface Pending {
  resolve(answer: JoinAnswer): void
  reject(err: StanzaError): void
  topic: { text: string; nick?: string } | undefined
  timer: NodeJS.Timeout
}

interface Joined {
  channel: string
  view: RoomView
  members: Map<string, Member>
  /** The user's own member modes there. */
  self: Member
  pending: Pending | undefined
}

/** Per connection: channel (lower case) → the user's view of it. */
type Channels = Map<string, Joined>

const JOIN_ERRORS: Record<ChannelErrorKind, [StanzaError['condition'], string]> = {
  banned_from_channel: ['forbidden', 'you are banned from this channel'],
  invite_only_channel: ['registration-required', 'this channel is invite-only'],
  bad_channel_key: ['not-authorized', 'this channel needs the right key (the room password)'],
  channel_is_full: ['service-unavailable', 'this channel is full'],
  too_many_channels: ['resource-constraint', 'you are in too many channels on this server'],
  no_such_channel: ['item-not-found', 'no such channel'],
  cannot_send_to_channel: ['forbidden', 'you cannot send to this channel'],
  chanop_privs_needed: ['forbidden', 'only channel operators may do that'],
}

const NETSPLIT = /^[\w.-]+\.[\w.-]+ [\w.-]+\.[\w.-]+$/

function occupantOf(m: Member, server: IrcServer, host: ChannelsHost): RemoteOccupant {
  const modes = new Set(m.modes)
  const moderator = modes.has('q') || modes.has('a') || modes.has('o') || modes.has('h')
  const affiliation = modes.has('q')
    ? 'owner'
    : modes.has('a') || modes.has('o')
      ? 'admin'
      : modes.has('h') || modes.has('v')
        ? 'member'
        : 'none'
  return {
    nick: m.nick,
    id: ircLower(m.nick),
    role: moderator ? 'moderator' : 'participant',
    affiliation,
    jid: formatAddress({ kind: 'user', nick: m.nick, server }, host.domain, host.servers),
  }
}

/** The backend and the hook that wires each new connection's events to the views. */
export function ircChannels(host: ChannelsHost): {
  backend: MucBackend
  attach(user: string, conn: IrcConnection): void
} {
  const byConn = new WeakMap<IrcConnection, Channels>()
  const renaming = new WeakSet<RoomView>()
  const channelsOf = (conn: IrcConnection): Channels => {
    let c = byConn.get(conn)
    if (c === undefined) {
      c = new Map()
      byConn.set(conn, c)
    }
    return c
  }
  const address = (view: RoomView) => {
    try {
      const a = parseLocal(view.room, host.servers)
      if (a.kind === 'channel') return a
    } catch (err) {
      if (!(err instanceof IrcGatewayError)) throw err
      if (err.code === IrcGatewayErrorCodes.SERVER)
        throw new StanzaError('remote-server-not-found', err.message)
      throw new StanzaError('item-not-found', err.message)
    }
    throw new StanzaError('item-not-found', 'this address is not a channel')
  }
  const connOf = new WeakMap<RoomView, IrcConnection>()
  const joinedOf = (view: RoomView): { conn: IrcConnection; joined: Joined } => {
    const conn = connOf.get(view)
    const joined = conn === undefined ? undefined : byConn.get(conn)?.get(ircLower(address(view).channel))
    if (conn === undefined || joined === undefined || conn.state.kind !== 'registered') {
      throw new StanzaError('recipient-unavailable', {
        type: 'wait',
        text: 'not connected to this channel now',
      })
    }
    return { conn, joined }
  }

  const backend: MucBackend = {
    async join(view, request) {
      const a = address(view)
      if (request.password !== undefined && !/^[^\s,\0]{1,100}$/.test(request.password)) {
        throw new StanzaError('not-authorized', 'a channel key has no spaces or commas')
      }
      let conn: IrcConnection
      try {
        conn = await host.connection(
          view.user,
          a.server,
          isNick(request.nick) ? request.nick : (view.user.split('@')[0] ?? 'xmpp'),
        )
      } catch (err) {
        if (err instanceof StanzaError) throw err
        throw new StanzaError('remote-server-not-found', (err as Error).message)
      }
      const channels = channelsOf(conn)
      const key = ircLower(a.channel)
      const old = channels.get(key)
      if (old?.pending !== undefined)
        throw new StanzaError('conflict', 'this channel is being joined already')
      connOf.set(view, conn)
      const joined: Joined = {
        channel: a.channel,
        view,
        members: new Map(),
        self: { nick: conn.nick, modes: [] },
        pending: undefined,
      }
      channels.set(key, joined)
      host.used(view.user, a.server, channels.size)
      return new Promise<JoinAnswer>((resolve, reject) => {
        const timer = setTimeout(
          () => fail(new StanzaError('remote-server-timeout', 'the IRC server did not answer the JOIN')),
          host.joinTimeout,
        )
        const fail = (err: StanzaError) => {
          clearTimeout(timer)
          if (channels.get(key) === joined) channels.delete(key)
          host.used(view.user, a.server, channels.size)
          reject(err)
        }
        joined.pending = {
          resolve: (answer) => {
            clearTimeout(timer)
            resolve(answer)
          },
          reject: fail,
          topic: undefined,
          timer,
        }
        try {
          conn.join(a.channel, request.password)
        } catch (err) {
          fail(new StanzaError('recipient-unavailable', (err as Error).message))
        }
      })
    },
    leave(view, status) {
      const conn = connOf.get(view)
      if (conn === undefined) return
      const a = address(view)
      const channels = channelsOf(conn)
      const key = ircLower(a.channel)
      if (channels.get(key)?.view === view) channels.delete(key)
      if (conn.state.kind === 'registered') conn.part(a.channel, status ?? '')
      host.used(view.user, a.server, channels.size)
    },
    message(view, text) {
      const { conn, joined } = joinedOf(view)
      const action = text.startsWith('/me ')
      conn.send(joined.channel, action ? text.slice(4) : text, action ? 'action' : 'privmsg')
    },
    privateMessage(view, nick, text) {
      const { conn } = joinedOf(view)
      if (!isNick(nick)) throw new StanzaError('item-not-found', 'no such nick on IRC')
      const action = text.startsWith('/me ')
      conn.send(nick, action ? text.slice(4) : text, action ? 'action' : 'privmsg')
    },
    subject(view, text) {
      const { conn, joined } = joinedOf(view)
      conn.setTopic(joined.channel, text)
    },
    nick(view, nick) {
      const { conn } = joinedOf(view)
      if (!isNick(nick)) return Promise.reject(new StanzaError('jid-malformed', 'not a nick IRC accepts'))
      renaming.add(view)
      return new Promise<string>((resolve, reject) => {
        const done = () => {
          conn.off('nick', renamed)
          conn.off('nick-refused', refused)
          clearTimeout(timer)
          renaming.delete(view)
        }
        const renamed = (e: { to: string; self: boolean }) => {
          if (!e.self) return
          done()
          resolve(e.to)
        }
        const refused = (e: { error: Error }) => {
          done()
          reject(new StanzaError('conflict', e.error.message))
        }
        const timer = setTimeout(() => {
          done()
          reject(new StanzaError('remote-server-timeout', 'the IRC server did not answer the nick change'))
        }, host.joinTimeout)
        conn.on('nick', renamed)
        conn.on('nick-refused', refused)
        conn.changeNick(nick)
      })
    },
  }

  const attach = (user: string, conn: IrcConnection): void => {
    const channels = channelsOf(conn)
    const server = conn.server
    /** Nicks QUIT by a netsplit, held: the channels they were in that have not seen them back yet. */
    const splits = new Map<string, { timer: NodeJS.Timeout; channels: Set<Joined> }>()
    const each = (nick: string, f: (j: Joined, m: Member) => void) => {
      const k = ircLower(nick)
      for (const j of channels.values()) {
        const m = j.members.get(k)
        if (m !== undefined) f(j, m)
      }
    }
    conn.on('joined', (e) => {
      const j = channels.get(ircLower(e.channel))
      if (j === undefined || e.self) return
      const k = ircLower(e.nick)
      const held = splits.get(k)
      if (held?.channels.delete(j) === true) {
        // Back in this channel from a netsplit before it was told: nothing to show here.
        if (held.channels.size === 0) {
          clearTimeout(held.timer)
          splits.delete(k)
        }
        return
      }
      if (j.members.has(k)) return
      // Members kept per channel are bounded like one NAMES reply; the room shows at most its limit.
      if (j.members.size >= MAX_NAMES) return
      const m: Member = { nick: e.nick, modes: [] }
      j.members.set(k, m)
      if (j.pending === undefined) j.view.add(occupantOf(m, server, host))
    })
    conn.on('names', (e) => {
      const j = channels.get(ircLower(e.channel))
      if (j === undefined) return
      for (const m of e.members) j.members.set(ircLower(m.nick), m)
      const p = j.pending
      if (p === undefined) {
        for (const m of e.members)
          if (ircLower(m.nick) !== ircLower(conn.nick)) j.view.add(occupantOf(m, server, host))
        return
      }
      j.pending = undefined
      const self = j.members.get(ircLower(conn.nick))
      if (self !== undefined) j.self = self
      const me = self === undefined ? undefined : occupantOf(self, server, host)
      j.members.delete(ircLower(conn.nick))
      p.resolve({
        nick: conn.nick,
        occupants: [...j.members.values()].map((m) => occupantOf(m, server, host)),
        ...(p.topic === undefined ? {} : { subject: p.topic }),
        ...(me === undefined ? {} : { role: me.role as 'moderator', affiliation: me.affiliation as 'none' }),
      })
    })
    conn.on('topic', (e) => {
      const j = channels.get(ircLower(e.channel))
      if (j === undefined) return
      const subject = e.by === null ? { text: e.text } : { text: e.text, nick: e.by }
      if (j.pending !== undefined) j.pending.topic = subject
      else j.view.setSubject(e.text, e.by ?? undefined)
    })
    conn.on('topic-by', (e) => {
      const p = channels.get(ircLower(e.channel))?.pending
      if (p?.topic !== undefined) p.topic = { text: p.topic.text, nick: e.nick }
    })
    conn.on('channel-error', (e) => {
      const j = channels.get(ircLower(e.channel))
      const [condition, text] = JOIN_ERRORS[e.kind]
      if (j?.pending !== undefined)
        j.pending.reject(new StanzaError(condition, e.reason ? `${text} (${e.reason})` : text))
      else if (j !== undefined) j.view.say(undefined, `${text}${e.reason ? ` (${e.reason})` : ''}`)
    })
    conn.on('parted', (e) => {
      const key = ircLower(e.channel)
      const j = channels.get(key)
      if (j === undefined) return
      if (e.self) {
        channels.delete(key)
        j.view.close({ reason: e.reason || 'left the channel' })
        host.used(user, server, channels.size)
        return
      }
      j.members.delete(ircLower(e.nick))
      j.view.remove(e.nick, { reason: e.reason })
    })
    conn.on('kicked', (e) => {
      const key = ircLower(e.channel)
      const j = channels.get(key)
      if (j === undefined) return
      const how = { kicked: true, reason: e.reason, ...(e.by === null ? {} : { actor: e.by }) }
      if (e.self) {
        channels.delete(key)
        j.view.close(how)
        host.used(user, server, channels.size)
        return
      }
      j.members.delete(ircLower(e.nick))
      j.view.remove(e.nick, how)
    })
    conn.on('quit', (e) => {
      const k = ircLower(e.nick)
      const leave = (j: Joined) => {
        j.members.delete(k)
        j.view.remove(e.nick, { reason: e.reason ? `Quit: ${e.reason}` : 'Quit' })
      }
      if (!NETSPLIT.test(e.reason) || splits.size >= 10_000) {
        each(e.nick, (j) => leave(j))
        return
      }
      const previous = splits.get(k)
      if (previous !== undefined) clearTimeout(previous.timer)
      const held = { timer: undefined as unknown as NodeJS.Timeout, channels: new Set<Joined>() }
      each(e.nick, (j) => held.channels.add(j))
      // Told once splitDelay has passed, only in the channels the nick has not come back to.
      held.timer = setTimeout(() => {
        splits.delete(k)
        for (const j of held.channels) if (j.members.has(k)) leave(j)
      }, host.splitDelay)
      held.timer.unref?.()
      splits.set(k, held)
    })
    conn.on('nick', (e) => {
      if (e.self) {
        for (const j of channels.values())
          if (!renaming.has(j.view) && j.pending === undefined) j.view.renameSelf(e.to)
        return
      }
      const from = ircLower(e.from)
      each(e.from, (j, m) => {
        j.members.delete(from)
        m.nick = e.to
        j.members.set(ircLower(e.to), m)
        j.view.rename(e.from, e.to)
      })
    })
    conn.on('modes', (e) => {
      const j = channels.get(ircLower(e.channel))
      if (j === undefined) return
      for (const c of e.changes) {
        const self = ircLower(c.nick) === ircLower(conn.nick)
        const m = self ? j.self : j.members.get(ircLower(c.nick))
        if (m === undefined) continue
        const had = m.modes.includes(c.mode)
        // A mode the member already has (or lacks), e.g. +o again after a netsplit's rejoin: no new presence.
        if (had === c.add) continue
        m.modes = c.add ? [...m.modes, c.mode] : m.modes.filter((x) => x !== c.mode)
        const o = occupantOf(m, server, host)
        if (self) j.view.setSelf({ role: o.role as 'moderator', affiliation: o.affiliation as 'none' })
        else j.view.add(o)
      }
    })
    conn.on('message', (m) => {
      if (m.channel === null) return
      const j = channels.get(ircLower(m.channel))
      if (j === undefined || j.pending !== undefined) return
      if (m.from !== null && ircLower(m.from) === ircLower(conn.nick)) return
      j.view.say(m.from ?? undefined, m.text, { action: m.kind === 'action' })
    })
    const gone = () => {
      for (const held of splits.values()) clearTimeout(held.timer)
      splits.clear()
      for (const j of channels.values()) {
        if (j.pending !== undefined)
          j.pending.reject(
            new StanzaError('remote-server-not-found', `the connection to ${server.name} was lost`),
          )
        else j.view.close({ reason: `the connection to ${server.name} was lost` })
      }
      channels.clear()
      debug('%s on %s: every channel closed', user, server.name)
    }
    conn.on('disconnected', gone)
    conn.on('closed', gone)
  }

  return { backend, attach }
}
