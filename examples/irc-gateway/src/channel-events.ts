// What happens in IRC channels, as the connection emits it: the IRC client's join/part/kick/quit/
// NAMES/topic/mode/channel-error events, each value checked (validate.ts) before it goes on. A
// value that fails a check drops the event (emitted as `refused`), never a half-checked one.

import { IrcGatewayError } from './errors.js'
import type { IrcErrorEvent, ModeEvent, UserlistEvent } from './irc/events.js'
import { checkChannel, checkNick, checkText } from './validate.js'

/** A member of a channel from NAMES: its nick and its channel modes (o, v, h, q, a). */
export interface Member {
  nick: string
  modes: string[]
}

/** Channel errors of joining or sending, as the IRC client names them (irc/handlers.ts). */
export type ChannelErrorKind =
  | 'banned_from_channel'
  | 'invite_only_channel'
  | 'bad_channel_key'
  | 'channel_is_full'
  | 'too_many_channels'
  | 'cannot_send_to_channel'
  | 'no_such_channel'
  | 'chanop_privs_needed'

const CHANNEL_ERRORS: ReadonlySet<string> = new Set([
  'banned_from_channel',
  'invite_only_channel',
  'bad_channel_key',
  'channel_is_full',
  'too_many_channels',
  'cannot_send_to_channel',
  'no_such_channel',
  'chanop_privs_needed',
])

/** The most members kept from one NAMES reply (a bigger channel is cut; the room's limit applies after). */
export const MAX_NAMES = 10_000

export interface ChannelEvents {
  joined: [{ channel: string; nick: string; self: boolean }]
  parted: [{ channel: string; nick: string; self: boolean; reason: string }]
  kicked: [{ channel: string; nick: string; by: string | null; self: boolean; reason: string }]
  quit: [{ nick: string; reason: string }]
  names: [{ channel: string; members: Member[] }]
  topic: [{ channel: string; text: string; by: string | null }]
  /** Who set the topic (RPL_TOPICWHOTIME, after RPL_TOPIC on a join). */
  'topic-by': [{ channel: string; nick: string }]
  /** Member mode changes (+o/-o, +v/-v…) on a channel. */
  modes: [{ channel: string; by: string | null; changes: { add: boolean; mode: string; nick: string }[] }]
  'channel-error': [{ channel: string; kind: ChannelErrorKind; reason: string }]
}

/** What the listeners need of the connection. */
export interface ChannelSink {
  readonly ownNick: string | undefined
  emitChannel<E extends keyof ChannelEvents>(event: E, ...args: ChannelEvents[E]): void
  refused(err: IrcGatewayError): void
}

/** Member modes the gateway maps (owner, admin, op, halfop, voice). */
const MEMBER_MODES = /^[qaohv]$/

/** Runs `handle` when registered; a value refused by validate.ts drops the event (reported). */
function guard(sink: ChannelSink, handle: () => void): void {
  if (sink.ownNick === undefined) return
  try {
    handle()
  } catch (err) {
    if (!(err instanceof IrcGatewayError)) throw err
    sink.refused(err)
  }
}

const isSelf = (sink: ChannelSink, nick: string) => nick.toLowerCase() === sink.ownNick?.toLowerCase()
const reason = (v: unknown) => (typeof v === 'string' ? checkText(v) : '')
const by = (v: unknown) => (typeof v === 'string' && v !== '' && !v.includes('.') ? checkNick(v) : null)

/**
 * The client's channel lines, checked and passed on as ChannelEvents: the connection calls these
 * from its ClientHandler methods (irc/events.ts).
 */
export const channelLines = {
  join(sink: ChannelSink, e: { nick: string; channel: string }): void {
    guard(sink, () => {
      const nick = checkNick(e.nick)
      sink.emitChannel('joined', { channel: checkChannel(e.channel), nick, self: isSelf(sink, nick) })
    })
  },
  part(sink: ChannelSink, e: { nick: string; channel: string; message: string }): void {
    guard(sink, () => {
      const nick = checkNick(e.nick)
      sink.emitChannel('parted', {
        channel: checkChannel(e.channel),
        nick,
        self: isSelf(sink, nick),
        reason: reason(e.message),
      })
    })
  },
  kick(sink: ChannelSink, e: { kicked: string; nick: string; channel: string; message: string }): void {
    guard(sink, () => {
      const nick = checkNick(e.kicked)
      sink.emitChannel('kicked', {
        channel: checkChannel(e.channel),
        nick,
        by: by(e.nick),
        self: isSelf(sink, nick),
        reason: reason(e.message),
      })
    })
  },
  quit(sink: ChannelSink, e: { nick: string; message: string }): void {
    guard(sink, () => sink.emitChannel('quit', { nick: checkNick(e.nick), reason: reason(e.message) }))
  },
  userlist(sink: ChannelSink, e: UserlistEvent): void {
    guard(sink, () => {
      const members: Member[] = []
      for (const u of Array.isArray(e.users) ? e.users.slice(0, MAX_NAMES) : []) {
        const modes = Array.isArray(u.modes)
          ? u.modes.filter((m) => typeof m === 'string' && MEMBER_MODES.test(m))
          : []
        // One bad nick is dropped alone: the rest of NAMES (and the join waiting for it) goes on.
        try {
          members.push({ nick: checkNick(u.nick), modes })
        } catch (err) {
          if (!(err instanceof IrcGatewayError)) throw err
          sink.refused(err)
        }
      }
      sink.emitChannel('names', { channel: checkChannel(e.channel), members })
    })
  },
  topic(sink: ChannelSink, e: { channel: string; topic: string; nick?: string }): void {
    guard(sink, () => {
      sink.emitChannel('topic', { channel: checkChannel(e.channel), text: reason(e.topic), by: by(e.nick) })
    })
  },
  topicSetBy(sink: ChannelSink, e: { channel: string; nick: string }): void {
    guard(sink, () =>
      sink.emitChannel('topic-by', { channel: checkChannel(e.channel), nick: checkNick(e.nick) }),
    )
  },
  mode(sink: ChannelSink, e: ModeEvent): void {
    guard(sink, () => {
      if (typeof e.target !== 'string' || !/^[#&+!]/.test(e.target)) return
      const changes: { add: boolean; mode: string; nick: string }[] = []
      for (const m of Array.isArray(e.modes) ? e.modes.slice(0, 100) : []) {
        const mode = typeof m.mode === 'string' ? m.mode : ''
        if (mode.length !== 2 || !MEMBER_MODES.test(mode[1] as string) || typeof m.param !== 'string')
          continue
        changes.push({ add: mode[0] === '+', mode: mode[1] as string, nick: checkNick(m.param) })
      }
      if (changes.length > 0)
        sink.emitChannel('modes', { channel: checkChannel(e.target), by: by(e.nick), changes })
    })
  },
  /** A channel error (join refused, cannot send…); other errors are the connection's. */
  error(sink: ChannelSink, e: IrcErrorEvent): void {
    guard(sink, () => {
      if (!CHANNEL_ERRORS.has(e.error) || typeof e.channel !== 'string') return
      sink.emitChannel('channel-error', {
        channel: checkChannel(e.channel),
        kind: e.error as ChannelErrorKind,
        reason: reason(e.reason),
      })
    })
  },
}
