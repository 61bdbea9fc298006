// The simulated legacy network's line protocol (UTF-8, one command per line, fields separated
// by single spaces, every free-text or id field percent-encoded with encodeURIComponent; a line
// is at most 64 KiB, so pictures are small: MAX_AVATAR_BYTES). Group ids are `#name` by
// convention (so they do not clash with user names); groups are made by the network's operator.
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

export const enc = (s: string): string => encodeURIComponent(s)
export const dec = (s: string | undefined): string => decodeURIComponent(s ?? '')

export function line(...fields: string[]): string {
  return `${fields.join(' ')}\n`
}

/** Splits a socket's data into lines. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let buffer = ''
  return (chunk) => {
    buffer += chunk.toString()
    let nl = buffer.indexOf('\n')
    while (nl >= 0) {
      const l = buffer.slice(0, nl).replace(/\r$/, '')
      buffer = buffer.slice(nl + 1)
      if (l !== '') onLine(l)
      nl = buffer.indexOf('\n')
    }
    if (buffer.length > 64 * 1024) buffer = '' // a line that long is garbage
  }
}
