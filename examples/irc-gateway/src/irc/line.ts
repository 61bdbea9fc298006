// One IRC line (RFC 1459 / modern IRC client protocol, with IRCv3 message tags): parsed into its
// source, command and parameters. The line is already decoded (decode.ts) and has no CR/LF. Tags
// are skipped: the gateway uses none of them. Nothing here trusts the server: every value that
// goes towards XMPP is checked again by validate.ts.

/** The most parameters kept (the protocol allows 15). */
const MAX_PARAMS = 15

export interface IrcLine {
  /** The nick (or server name) of the source; '' without a source. */
  nick: string
  /** The user (ident) part of a `nick!user@host` source, else ''. */
  user: string
  /** The host part of a `nick!user@host` source, else ''. */
  host: string
  /** True when the source is a server (no `!` in it, a dot in it) or missing. */
  fromServer: boolean
  /** The command, upper case (`PRIVMSG`, `001`). */
  command: string
  params: string[]
}

/** Parses a line; null for a line with no command. */
export function parseLine(line: string): IrcLine | null {
  let i = 0
  const n = line.length
  if (line.charCodeAt(0) === 0x40 /* @ */) {
    const end = line.indexOf(' ')
    if (end === -1) return null
    i = skipSpaces(line, end)
  }
  let nick = ''
  let user = ''
  let host = ''
  let fromServer = true
  if (line.charCodeAt(i) === 0x3a /* : */) {
    let end = line.indexOf(' ', i)
    if (end === -1) end = n
    const source = line.slice(i + 1, end)
    const bang = source.indexOf('!')
    const at = source.indexOf('@', bang === -1 ? 0 : bang)
    if (bang !== -1) {
      nick = source.slice(0, bang)
      user = at === -1 ? source.slice(bang + 1) : source.slice(bang + 1, at)
      host = at === -1 ? '' : source.slice(at + 1)
      fromServer = false
    } else if (at !== -1) {
      nick = source.slice(0, at)
      host = source.slice(at + 1)
      fromServer = false
    } else {
      nick = source
      fromServer = source.includes('.') || source === ''
    }
    i = skipSpaces(line, end)
  }
  let end = line.indexOf(' ', i)
  if (end === -1) end = n
  const command = line.slice(i, end).toUpperCase()
  if (command === '') return null
  const params: string[] = []
  i = skipSpaces(line, end)
  while (i < n && params.length < MAX_PARAMS) {
    if (line.charCodeAt(i) === 0x3a /* : */ || params.length === MAX_PARAMS - 1) {
      params.push(line.slice(line.charCodeAt(i) === 0x3a ? i + 1 : i))
      break
    }
    end = line.indexOf(' ', i)
    if (end === -1) end = n
    params.push(line.slice(i, end))
    i = skipSpaces(line, end)
  }
  return { nick, user, host, fromServer, command, params }
}

function skipSpaces(line: string, i: number): number {
  while (line.charCodeAt(i) === 0x20) i++
  return i
}

/** A CTCP message (`\x01TYPE text\x01`): its type, upper case, and text; null when it is not one. */
export function parseCtcp(text: string): { type: string; text: string } | null {
  if (text.charCodeAt(0) !== 1) return null
  const body = text.charCodeAt(text.length - 1) === 1 ? text.slice(1, -1) : text.slice(1)
  const space = body.indexOf(' ')
  return space === -1
    ? { type: body.toUpperCase(), text: '' }
    : { type: body.slice(0, space).toUpperCase(), text: body.slice(space + 1) }
}
