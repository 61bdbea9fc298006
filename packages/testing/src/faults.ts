/**
 * Ready-made hostile or awkward payloads for `conn.write()`, each documented with what a
 * correct component must do when the server sends it.
 */
import { escapeXML, escapeXMLText } from './xml.js'

/**
 * Addressing of the generated stanzas. Defaults: from `alice@localhost/fault`, to `echo.localhost`.
 * @example
 * garbage.undeclaredEntity({ to: 'bridge.localhost' })
 */
export interface FaultAddress {
  from?: string
  to?: string
}

function addr(a: FaultAddress = {}): string {
  return `from='${escapeXML(a.from ?? 'alice@localhost/fault')}' to='${escapeXML(a.to ?? 'echo.localhost')}'`
}

/**
 * A chat message as an XML string (handy with `conn.write()`).
 * @example
 * await conn.write(messageXml({ to: 'echo.localhost', body: 'hi' }))
 */
export function messageXml(options: FaultAddress & { body?: string; id?: string } = {}): string {
  const id = options.id === undefined ? '' : ` id='${escapeXML(options.id)}'`
  return `<message ${addr(options)} type='chat'${id}><body>${escapeXMLText(options.body ?? '')}</body></message>`
}

/**
 * Payloads that XMPP's restricted XML (RFC 6120 §11.1) forbids or that are not well-formed.
 * A correct component never delivers anything from them to application code, does not expand
 * entities or grow memory, and treats the stream as broken: it closes it (ideally sending
 * `<restricted-xml/>`, `<not-well-formed/>` or `<bad-namespace-prefix/>`) and reconnects.
 * @example
 * const conn = await server.waitForComponent('echo.localhost')
 * await conn.write(garbage.entityBomb())
 * await conn.closed // the component must give up this stream
 */
export const garbage = {
  /**
   * A DOCTYPE with an internal subset, between stanzas. Must be rejected (`restricted-xml`).
   * @example
   * await conn.write(garbage.doctype())
   */
  doctype(): string {
    return `<!DOCTYPE message [<!ELEMENT message ANY>]>`
  },
  /**
   * "Billion laughs": nested entity declarations and a message using the outermost one.
   * Must be rejected without expanding anything (`restricted-xml`); memory must stay flat.
   * @example
   * await conn.write(garbage.entityBomb())
   */
  entityBomb(address?: FaultAddress): string {
    const levels = ['<!ENTITY lol0 "lol">']
    for (let i = 1; i <= 9; i++) {
      levels.push(`<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`)
    }
    return `<!DOCTYPE lolz [${levels.join('')}]><message ${addr(address)}><body>&lol9;</body></message>`
  },
  /**
   * A message whose body uses an entity that is never declared (`&nbsp;`). Must be rejected as
   * not well-formed; must not be delivered with the entity dropped or left as text.
   * @example
   * await conn.write(garbage.undeclaredEntity())
   */
  undeclaredEntity(address?: FaultAddress): string {
    return `<message ${addr(address)}><body>a&nbsp;b</body></message>`
  },
  /**
   * A processing instruction between stanzas. Must be rejected (`restricted-xml`).
   * @example
   * await conn.write(garbage.processingInstruction())
   */
  processingInstruction(): string {
    return `<?xml-stylesheet href='evil.xsl'?>`
  },
  /**
   * A comment between stanzas. Restricted XML: must be rejected (`restricted-xml`) or at least
   * never surface to the application.
   * @example
   * await conn.write(garbage.comment())
   */
  comment(): string {
    return '<!-- not allowed in XMPP -->'
  },
  /**
   * A message with a child using an undeclared namespace prefix. Must be rejected
   * (`bad-namespace-prefix` or `not-well-formed`).
   * @example
   * await conn.write(garbage.unboundPrefix())
   */
  unboundPrefix(address?: FaultAddress): string {
    return `<message ${addr(address)}><foo:bar>x</foo:bar></message>`
  },
  /**
   * A message with mismatched tags. Must be rejected as not well-formed.
   * @example
   * await conn.write(garbage.notWellFormed())
   */
  notWellFormed(address?: FaultAddress): string {
    return `<message ${addr(address)}><body>x</message></body>`
  },
  /**
   * Bytes that are not valid UTF-8 inside a body (a lone continuation byte and an overlong
   * sequence). Must be rejected (`not-well-formed`), never delivered with replacement characters.
   * Returns a Buffer (the bytes cannot be a JS string).
   * @example
   * await conn.write(garbage.invalidUtf8())
   */
  invalidUtf8(address?: FaultAddress): Buffer {
    return Buffer.concat([
      Buffer.from(`<message ${addr(address)}><body>`),
      Buffer.from([0x80, 0xc0, 0xaf]),
      Buffer.from('</body></message>'),
    ])
  },
}

/**
 * A message of exactly `bytes` bytes (UTF-8). A component with an inbound size limit must reject
 * it when over its limit (closing the stream, ideally with `<policy-violation/>`), and must not
 * buffer much more than its limit first; under the limit it must be delivered intact.
 * @example
 * await conn.write(hugeStanza(1024 * 1024, { to: 'echo.localhost' }))
 */
export function hugeStanza(bytes: number, address?: FaultAddress): string {
  const head = `<message ${addr(address)}><body>`
  const tail = '</body></message>'
  const pad = bytes - Buffer.byteLength(head) - Buffer.byteLength(tail)
  if (pad < 0) throw new RangeError(`hugeStanza: at least ${bytes - pad} bytes`)
  return `${head}${'a'.repeat(pad)}${tail}`
}

/**
 * `bytes` bytes of whitespace, as servers send for keepalives (Prosody sends one space on read
 * timeout). A correct component ignores it, keeps no trace of it in memory, and may count it as
 * liveness.
 * @example
 * await conn.write(whitespace(4096))
 */
export function whitespace(bytes: number, chars = ' '): string {
  if (chars.length === 0 || /[^ \t\r\n]/.test(chars))
    throw new RangeError('whitespace: only space, tab, CR, LF')
  return chars.repeat(Math.ceil(bytes / chars.length)).slice(0, bytes)
}

/**
 * Byte offsets that fall inside multi-byte UTF-8 sequences of `text` (after the first byte of
 * each such character).
 * @example
 * utf8SplitPoints('a😀') // [2, 3, 4]
 */
export function utf8SplitPoints(text: string): number[] {
  const points: number[] = []
  let offset = 0
  for (const ch of text) {
    const n = Buffer.byteLength(ch)
    for (let i = 1; i < n; i++) points.push(offset + i)
    offset += n
  }
  return points
}

/**
 * A message whose body is rich in multi-byte characters, with the byte offsets to split it at
 * so that every multi-byte character arrives across separate reads. A correct component decodes
 * across reads (e.g. `StringDecoder`) and delivers `body` intact; a naive
 * `chunk.toString('utf8')` yields U+FFFD.
 * @example
 * const { xml, splitAt, body } = splitUtf8Message({ to: 'echo.localhost' })
 * await conn.write(xml, { splitAt })
 * // the component must see exactly `body`
 */
export function splitUtf8Message(options: FaultAddress & { body?: string; id?: string } = {}): {
  xml: string
  splitAt: number[]
  body: string
} {
  const body = options.body ?? '😀 héllo wörld ✓ 漢字 🇫🇷'
  const xml = messageXml({ ...options, body })
  const bodyStart = Buffer.byteLength(xml.slice(0, xml.indexOf('<body>') + '<body>'.length))
  const splitAt = utf8SplitPoints(escapeXMLText(body)).map((p) => p + bodyStart)
  return { xml, splitAt, body }
}

/**
 * Every byte offset of `text` from 1 to its length-1 (in steps): with `conn.write()` this sends
 * one TCP write per byte, the harshest framing test.
 * @example
 * await conn.write(xml, { splitAt: everyByte(xml), delayMs: 1 })
 */
export function everyByte(text: string | Buffer, step = 1): number[] {
  const length = typeof text === 'string' ? Buffer.byteLength(text) : text.length
  const out: number[] = []
  for (let i = step; i < length; i += step) out.push(i)
  return out
}
