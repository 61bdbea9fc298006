// Text between XMPP and IRC. Towards XMPP: IRC formatting codes stripped, then every character
// XML 1.0 cannot carry (and C1 controls, U+FFFE/U+FFFF, lone surrogates) removed. Towards IRC:
// a message split at line breaks, each line split into chunks that fit one IRC line without
// cutting a UTF-8 character, and the characters IRC gives a meaning to (NUL, CR, LF, the CTCP
// delimiter U+0001) removed.

/**
 * IRC formatting: bold ^B, colour ^C[fg[,bg]] (1-2 digits each), hex colour ^D[RRGGBB[,RRGGBB]],
 * reset ^O, monospace ^Q, reverse ^V, italic ^], strikethrough ^^, underline ^_.
 */
const FORMATTING =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /\x03(?:\d{1,2}(?:,\d{1,2})?)?|\x04(?:[0-9a-fA-F]{6}(?:,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g

/** Characters that must not reach XML: C0 but tab and LF, DEL, C1, U+FFFE/U+FFFF, lone surrogates. */
const NOT_FOR_XML =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
  /[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

/** Quick test: anything at all that stripFormatting or the XML filter would touch. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const SUSPECT = /[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]/

/**
 * IRC text made ready for an XMPP body: formatting codes stripped (the choice of this gateway:
 * XEP-0393 styling would need balanced spans IRC does not guarantee), then every character XML
 * 1.0 cannot carry or that is a control removed (tab and LF stay; CR is removed).
 */
export function ircToXmppText(text: string): string {
  if (!SUSPECT.test(text)) return text
  return text.replace(FORMATTING, '').replace(NOT_FOR_XML, '')
}

/** Characters that must not reach an IRC line's text: NUL and the CTCP delimiter (CR/LF split lines). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const NOT_FOR_IRC = /[\x00\x01]/g

/** The UTF-8 length of `s` in bytes (no allocation). */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

/**
 * Splits one line (no CR/LF in it) into chunks of at most `maxBytes` UTF-8 bytes each, never
 * inside a code point; the chunks concatenated are the line. A chunk breaks after the last space
 * that leaves it at least half full, else at the byte limit. An empty line gives no chunk.
 */
export function splitLine(line: string, maxBytes: number): string[] {
  if (!Number.isInteger(maxBytes) || maxBytes < 4)
    throw new RangeError(`maxBytes must be an integer >= 4, got ${maxBytes}`)
  const chunks: string[] = []
  let start = 0
  while (start < line.length) {
    let bytes = 0
    let i = start
    let lastSpace = -1
    while (i < line.length) {
      const c = line.charCodeAt(i)
      let width: number
      let units = 1
      if (c < 0x80) width = 1
      else if (c < 0x800) width = 2
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < line.length) {
        const d = line.charCodeAt(i + 1)
        if (d >= 0xdc00 && d <= 0xdfff) {
          width = 4
          units = 2
        } else width = 3
      } else width = 3
      if (bytes + width > maxBytes) break
      bytes += width
      i += units
      if (c === 0x20) lastSpace = i
    }
    let end = i
    if (i < line.length && lastSpace > start && lastSpace - start >= (end - start) / 2) end = lastSpace
    chunks.push(line.slice(start, end))
    start = end
  }
  return chunks
}

/**
 * An XMPP message body as IRC line texts: split at line breaks (CRLF, CR, LF), empty lines
 * dropped (IRC cannot send them), NUL and U+0001 removed, each line split by {@link splitLine}.
 */
export function splitMessage(text: string, maxBytes: number): string[] {
  const out: string[] = []
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line = raw.replace(NOT_FOR_IRC, '')
    if (line.trim() === '') continue
    for (const chunk of splitLine(line, maxBytes)) out.push(chunk)
  }
  return out
}

/** The longest host name the IRC server may put in our prefix (RFC 1123 label rules: 63 per label; servers cap at 63). */
export const MAX_HOST = 63
/** The longest user name ("~" + ident) servers put in a prefix. */
export const MAX_USER = 11

/**
 * How many bytes of text fit in one `PRIVMSG target :text` (or NOTICE) line as the server relays
 * it to others: 512 minus CRLF, minus the prefix the server adds (`:nick!user@host `, counted with
 * the longest user and host unless known), minus `COMMAND target :`, minus the CTCP ACTION
 * wrapping when `action`.
 */
export function textBudget(opts: {
  command: 'PRIVMSG' | 'NOTICE'
  target: string
  nick: string
  user?: string
  host?: string
  action?: boolean
}): number {
  const prefix =
    1 +
    utf8Length(opts.nick) +
    1 +
    (opts.user === undefined ? MAX_USER : utf8Length(opts.user)) +
    1 +
    (opts.host === undefined ? MAX_HOST : utf8Length(opts.host)) +
    1
  const command = opts.command.length + 1 + utf8Length(opts.target) + 2
  const action = opts.action ? '\x01ACTION \x01'.length : 0
  return 512 - 2 - prefix - command - action
}
