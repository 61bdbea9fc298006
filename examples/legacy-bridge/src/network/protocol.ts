// The simulated legacy network's line protocol (UTF-8, one command per line, fields separated
// by single spaces, every free-text or id field percent-encoded with encodeURIComponent; a line
// is at most 64 KiB, so pictures are small: MAX_AVATAR_BYTES). Group ids are `#name` by
// convention (so they do not clash with user names); groups are made by the network's operator.
// Both sides treat the other as hostile: a line that is too long, badly encoded or has a field
// that is not what it must be is dropped (or answered `ERR bad-request`) and logged; the
// connection goes on.
//
//   client → server   <tag> LOGIN <user> <password>        → <tag> OK | <tag> ERR <condition> <text>
//                     <tag> CONTACTS                       → <tag> OK <id>=online|offline ...
//                     <tag> SEND <to> <text>               → <tag> OK <message id> | ERR item-not-found | ERR recipient-unavailable
//                     <tag> TYPING <to> <state>            → <tag> OK
//                     <tag> RECEIPT <to> <message id>      → <tag> OK
//                     <tag> REACT <to> <message id> <emoji>... → <tag> OK | ERR item-not-found (not a message between us)
//                                                          (the full set of emojis; none removes them)
//                     <tag> AVATAR [<type> <base64>]       → <tag> OK   (sets our picture; no fields: removes it)
//                     <tag> GETAVATAR <id>                 → <tag> OK [<type> <base64>] | ERR item-not-found
//                     <tag> GROUPS                         → <tag> OK <id>=<name>=<topic> ...   (the groups we are a member of)
//                     <tag> MEMBERS <group>                → <tag> OK <user>... (every member, us too) | ERR item-not-found (no such group, or not a member)
//                     <tag> GSEND <group> <text>           → <tag> OK <message id> | ERR item-not-found (no such group, or not a member)
//                     <tag> LOGOUT                         → <tag> OK, then the server closes
//   server → client   * MSG <from> <message id> <text>
//                     * PRESENCE <id> online|offline
//                     * CONTACTS <id>=online|offline ...   (the contact list changed)
//                     * TYPING <from> <state>
//                     * RECEIPT <from> <message id>
//                     * REACT <from> <message id> <emoji>...
//                     * AVATAR <from> [<type> <base64>]     (a contact's picture changed; no fields: removed)
//                     * GMSG <group> <from> <message id> <text>   (to the other members online; never to the sender)
//                     * MEMBERS <group> <user>...           (a group's members changed: all of them, us too)
//                     * TOPIC <group> <text>                (a group's topic changed)
//                     * BYE <reason>                        (then the server closes)

/** The largest picture the network carries (its base64 must fit in one 64 KiB line). */
export const MAX_AVATAR_BYTES = 32 * 1024

/**
 * The longest line either side reads or writes, in characters (a well-formed line is ASCII, as
 * every free field is percent-encoded, so characters are bytes): 64 KiB. The knob is
 * `maxLineLength` of the network's and the adapter's limits.
 */
export const MAX_LINE_LENGTH = 64 * 1024

/**
 * A line or a field that breaks the protocol: a bad percent-encoding, a field that is not what
 * it must be. The side reading it drops the line (or answers `ERR bad-request`) and goes on.
 */
export class ProtocolError extends Error {
  override name = 'ProtocolError'
}

export const enc = (s: string): string => encodeURIComponent(s)

/**
 * Decodes a percent-encoded field. A malformed one (`%zz`, `%`, a broken UTF-8 sequence) throws
 * a {@link ProtocolError}, never a `URIError`.
 */
export function dec(s: string | undefined): string {
  try {
    return decodeURIComponent(s ?? '')
  } catch {
    throw new ProtocolError(`malformed percent-encoding in ${preview(s ?? '')}`)
  }
}

/** The start of `s` for a log line: at most 80 characters, control characters escaped. */
export function preview(s: string, max = 80): string {
  const cut = s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s
  return JSON.stringify(cut)
}

export function line(...fields: string[]): string {
  return `${fields.join(' ')}\n`
}

/** A line splitter; `buffered` is how many characters of an unfinished line it holds. */
export interface LineReader {
  (chunk: Buffer | string): void
  readonly buffered: number
}

/**
 * Splits a socket's data into lines. A line longer than `maxLength` (default
 * {@link MAX_LINE_LENGTH}) is never held: what was read of it is dropped, and so is the rest up
 * to its end; `onTooLong` is told once per such line, as soon as it is known. So the reader holds at most `maxLength`
 * characters, whatever the peer sends.
 */
export function lineReader(
  onLine: (line: string) => void,
  options: { maxLength?: number; onTooLong?: (length: number) => void } = {},
): LineReader {
  const max = options.maxLength ?? MAX_LINE_LENGTH
  let buffer = ''
  /** Inside a line already known to be too long: drop up to its end. */
  let skipping = false
  const read = (chunk: Buffer | string) => {
    const data = typeof chunk === 'string' ? chunk : chunk.toString()
    let start = 0
    let nl = data.indexOf('\n')
    while (nl >= 0) {
      const piece = data.slice(start, nl)
      start = nl + 1
      nl = data.indexOf('\n', start)
      if (skipping) {
        skipping = false
        continue
      }
      if (buffer.length + piece.length > max) {
        options.onTooLong?.(buffer.length + piece.length)
        buffer = ''
        continue
      }
      const l = (buffer + piece).replace(/\r$/, '')
      buffer = ''
      if (l !== '') onLine(l)
    }
    const rest = data.length - start
    if (skipping) return
    if (buffer.length + rest > max) {
      options.onTooLong?.(buffer.length + rest)
      skipping = true
      buffer = ''
    } else buffer += data.slice(start)
  }
  return Object.defineProperty(read, 'buffered', { get: () => buffer.length }) as LineReader
}
