// Room nicks (the resource of an occupant JID), after RFC 8266 (PRECIS Nickname profile):
//
// - enforcement (the nick the room uses and shows): every Unicode space separator becomes
//   U+0020, leading and trailing spaces go, runs of spaces become one, then NFKC. A nick that
//   enforcement changes is taken in its enforced form and the joiner is told so (status 210).
// - refused (jid-malformed): empty after enforcement, a control character (Cc), a character
//   that cannot be in XML or a lone surrogate, or longer than the limit (in code points).
// - comparison key: the enforced nick, lower-cased (String#toLowerCase, Unicode default case
//   mapping) and NFKC again. Two nicks with one key are the same nick: `Alice`, `alice`,
//   `ａｌｉｃｅ` (fullwidth) and ` alice ` conflict.

/** A nick as the room uses it, or why it is refused. */
export type NickResult = { ok: true; nick: string; changed: boolean } | { ok: false; problem: string }

/** Cc (C0, DEL, C1), U+FFFE/U+FFFF and lone surrogates: not in a nick. */
function forbidden(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0xfffe || c === 0xffff) return true
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) return true
  }
  return false
}
const SPACES = /\p{Zs}+/gu

/** Enforces RFC 8266's rules on a requested nick (see the module comment). */
export function enforceNick(raw: string, maxLength: number): NickResult {
  if (raw.length > maxLength * 4) return { ok: false, problem: `a nick is at most ${maxLength} characters` }
  if (forbidden(raw)) return { ok: false, problem: 'a nick cannot contain control characters' }
  const nick = raw.replace(SPACES, ' ').trim().normalize('NFKC')
  if (nick === '') return { ok: false, problem: 'a nick cannot be empty' }
  let length = 0
  for (const _ of nick) length++
  if (length > maxLength) return { ok: false, problem: `a nick is at most ${maxLength} characters` }
  return { ok: true, nick, changed: nick !== raw }
}

/** The comparison key of an enforced nick: two nicks with the same key conflict. */
export function nickKey(nick: string): string {
  return nick.toLowerCase().normalize('NFKC')
}
