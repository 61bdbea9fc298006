// What each line from the server becomes: an event of events.ts, or an answer (PONG, CTCP
// VERSION). Registration and SASL lines are client.ts's; everything else is here.
import type { ClientHandler } from './events.js'
import { type IrcLine, parseCtcp } from './line.js'

/** Error numerics that become `irc error`: the name, and which parameter holds what. */
const ERRORS: Record<string, { error: string; channel?: number; nick?: number; command?: number }> = {
  '401': { error: 'no_such_nick', nick: 1 },
  '402': { error: 'no_such_server' },
  '403': { error: 'no_such_channel', channel: 1 },
  '404': { error: 'cannot_send_to_channel', channel: 1 },
  '405': { error: 'too_many_channels', channel: 1 },
  '421': { error: 'unknown_command', command: 1 },
  '441': { error: 'user_not_in_channel', nick: 1, channel: 2 },
  '442': { error: 'not_on_channel', channel: 1 },
  '443': { error: 'user_on_channel', nick: 1, channel: 2 },
  '464': { error: 'password_mismatch' },
  '465': { error: 'banned_from_network' },
  '471': { error: 'channel_is_full', channel: 1 },
  '473': { error: 'invite_only_channel', channel: 1 },
  '474': { error: 'banned_from_channel', channel: 1 },
  '475': { error: 'bad_channel_key', channel: 1 },
  '482': { error: 'chanop_privs_needed', channel: 1 },
  '531': { error: 'cannot_send_to_user', nick: 1 },
}

/** Numerics of registration and server statistics: nothing to tell anyone. */
const QUIET = new Set(['002', '003', '004', '250', '251', '252', '253', '254', '255', '265', '266', '396'])

/** The channels with a NAMES reply in progress at once; more are dropped (a server flooding us). */
const MAX_PENDING_NAMES = 64
/** Members kept per NAMES reply (channel-events.ts cuts again). */
const MAX_NAMES = 10_000

/** Member prefixes and the channel modes with parameters (RPL_ISUPPORT PREFIX and CHANMODES). */
export interface ChannelModes {
  /** Member mode letters, in the order of `symbols` (`ov`). */
  letters: string
  /** Their NAMES prefixes (`@+`). */
  symbols: string
  /** Modes with a parameter always (CHANMODES A and B). */
  always: string
  /** Modes with a parameter when set (CHANMODES C). */
  whenSet: string
}

export const DEFAULT_MODES: ChannelModes = { letters: 'ov', symbols: '@+', always: 'beIk', whenSet: 'l' }

/** What the handlers need of the client. */
export interface LineHost {
  nick: string
  modes: ChannelModes
  /** NAMES replies in progress, by channel. */
  names: Map<string, { nick: string; modes: string[] }[]> | undefined
  version: string
  readonly handler: ClientHandler
  /** Sends a line (the answers: PONG, CTCP VERSION). */
  raw(line: string): void
}

const last = (l: IrcLine): string => l.params[l.params.length - 1] ?? ''

/** Handles one line that is not registration or SASL (client.ts has those). */
export function handleLine(host: LineHost, l: IrcLine): void {
  const p = l.params
  switch (l.command) {
    case 'PING':
      host.raw(`PONG :${p[0] ?? ''}`)
      return
    case 'PRIVMSG':
    case 'NOTICE':
      message(host, l)
      return
    case 'JOIN':
      host.handler.onJoin({ nick: l.nick, channel: p[0] ?? '' })
      return
    case 'PART':
      host.handler.onPart({ nick: l.nick, channel: p[0] ?? '', message: p[1] ?? '' })
      return
    case 'KICK':
      host.handler.onKick({ kicked: p[1] ?? '', nick: l.nick, channel: p[0] ?? '', message: p[2] ?? '' })
      return
    case 'QUIT':
      host.handler.onQuit({ nick: l.nick, message: p[0] ?? '' })
      return
    case 'NICK':
      if (l.nick.toLowerCase() === host.nick.toLowerCase()) host.nick = p[0] ?? host.nick
      host.handler.onNick({ nick: l.nick, ident: l.user, hostname: l.host, new_nick: p[0] ?? '' })
      return
    case 'TOPIC':
      host.handler.onTopic({ channel: p[0] ?? '', topic: p[1] ?? '', nick: l.nick })
      return
    case 'MODE':
      host.handler.onMode({ target: p[0] ?? '', nick: l.nick, modes: parseModes(host.modes, p.slice(1)) })
      return
    case 'ERROR':
      host.handler.onIrcError({ error: 'irc', reason: last(l) })
      return
    case '331':
      host.handler.onTopic({ channel: p[1] ?? '', topic: '' })
      return
    case '332':
      host.handler.onTopic({ channel: p[1] ?? '', topic: p[2] ?? '' })
      return
    case '333':
      host.handler.onTopicSetBy({ channel: p[1] ?? '', nick: (p[2] ?? '').split('!')[0] as string })
      return
    case '353':
      names(host, p[2] ?? '', p[3] ?? '')
      return
    case '366': {
      const channel = p[1] ?? ''
      const key = channel.toLowerCase()
      const users = host.names?.get(key) ?? []
      host.names?.delete(key)
      if (host.names?.size === 0) host.names = undefined
      host.handler.onUserlist({ channel, users })
      return
    }
    case '433':
    case '436':
      host.handler.onNickRefused('in-use', { nick: p[1] ?? '', reason: last(l) })
      return
    case '432':
      host.handler.onNickRefused('erroneous', { nick: p[1] ?? '', reason: last(l) })
      return
  }
  const known = ERRORS[l.command]
  if (known !== undefined) {
    host.handler.onIrcError({
      error: known.error,
      ...(known.channel === undefined ? {} : { channel: p[known.channel] ?? '' }),
      ...(known.nick === undefined ? {} : { nick: p[known.nick] ?? '' }),
      ...(known.command === undefined ? {} : { command: p[known.command] ?? '' }),
      reason: last(l),
    })
    return
  }
  if (!QUIET.has(l.command)) host.handler.onUnknownCommand({ command: l.command, params: p })
}

function message(host: LineHost, l: IrcLine): void {
  const target = l.params[0] ?? ''
  const text = l.params[1] ?? ''
  const ctcp = parseCtcp(text)
  const notice = l.command === 'NOTICE'
  if (ctcp !== null) {
    // A CTCP reply (in a NOTICE) or a request other than ACTION and VERSION: not for the user.
    if (notice) return
    if (ctcp.type === 'ACTION') {
      host.handler.onMessage('action', event(l, target, ctcp.text))
    } else if (ctcp.type === 'VERSION' && !l.fromServer && /^[^\s,*?!@:]+$/.test(l.nick)) {
      host.raw(`NOTICE ${l.nick} :\x01VERSION ${host.version}\x01`)
    }
    return
  }
  host.handler.onMessage(notice ? 'notice' : 'privmsg', event(l, target, text))
}

function event(l: IrcLine, target: string, message: string) {
  return { nick: l.nick, ident: l.user, hostname: l.host, target, message, from_server: l.fromServer }
}

function names(host: LineHost, channel: string, list: string): void {
  const key = channel.toLowerCase()
  host.names ??= new Map()
  let users = host.names.get(key)
  if (users === undefined) {
    if (host.names.size >= MAX_PENDING_NAMES) return
    users = []
    host.names.set(key, users)
  }
  const { letters, symbols } = host.modes
  for (const entry of list.split(' ')) {
    if (entry === '' || users.length >= MAX_NAMES) continue
    let i = 0
    const modes: string[] = []
    for (; i < entry.length; i++) {
      const at = symbols.indexOf(entry[i] as string)
      if (at === -1) break
      modes.push(letters[at] as string)
    }
    // userhost-in-names is not asked for, but a server may send nick!user@host anyway
    const nick = entry.slice(i).split('!')[0] as string
    if (nick !== '') users.push({ nick, modes })
  }
}

/** `+ov-b alice bob *!*@x` into `[{mode:'+o',param:'alice'}, …]`, with the server's mode kinds. */
export function parseModes(kinds: ChannelModes, args: string[]): { mode: string; param?: string }[] {
  const out: { mode: string; param?: string }[] = []
  const spec = args[0] ?? ''
  let next = 1
  let sign = '+'
  for (const c of spec) {
    if (c === '+' || c === '-') {
      sign = c
      continue
    }
    const takes =
      kinds.letters.includes(c) || kinds.always.includes(c) || (sign === '+' && kinds.whenSet.includes(c))
    if (takes) {
      const param = args[next++]
      out.push(param === undefined ? { mode: sign + c } : { mode: sign + c, param })
    } else {
      out.push({ mode: sign + c })
    }
    if (out.length >= 100) break
  }
  return out
}

/** Reads PREFIX and CHANMODES of an RPL_ISUPPORT line into `modes` (a new object when changed). */
export function isupport(tokens: string[], modes: ChannelModes): { modes: ChannelModes; nickLen?: number } {
  let result = modes
  let nickLen: number | undefined
  for (const t of tokens) {
    const eq = t.indexOf('=')
    const name = eq === -1 ? t : t.slice(0, eq)
    const value = eq === -1 ? '' : t.slice(eq + 1)
    if (name === 'NICKLEN') {
      const n = Number(value)
      if (Number.isInteger(n) && n > 0 && n <= 512) nickLen = n
    } else if (name === 'PREFIX') {
      const m = /^\(([A-Za-z]{1,16})\)(\S{1,16})$/.exec(value)
      if (m && m[1]?.length === m[2]?.length)
        result = { ...result, letters: m[1] as string, symbols: m[2] as string }
    } else if (name === 'CHANMODES') {
      const [a = '', b = '', c = ''] = value.split(',')
      if (/^[A-Za-z]{0,32}$/.test(a + b + c)) result = { ...result, always: a + b, whenSet: c }
    }
  }
  return nickLen === undefined ? { modes: result } : { modes: result, nickLen }
}
