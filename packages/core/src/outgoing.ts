// What the component checks before a stanza goes out, and its serialization: once per stanza
// for send(), once per fan-out for sendEach() (a room's message to its occupants differs only in
// `to`: serialized once without it, then written with each recipient's).
import { ErrorCodes, SatelliteError } from './errors.js'
import { logger } from './log.js'
import { Element } from './xml/element.js'
import { escapeAttributeValue, serialize } from './xml/serialize.js'

const logOut = logger('out')

/** What the checks need of the component. @internal */
export interface OutgoingHost {
  readonly domain: string
  /** Adds XEP-0115 caps to an available presence without them (when caps are on). */
  addCaps(presence: Element): void
  readonly caps: boolean
  readonly maxBytes: number
}

/** True if `from` is the domain or a JID at it (user@domain, domain/res, user@domain/res). */
export function fromInDomain(from: string, domain: string): boolean {
  const slash = from.indexOf('/')
  const end = slash < 0 ? from.length : slash
  const start = end - domain.length
  if (start < 0) return false
  if (start > 0) {
    if (from.charCodeAt(start - 1) !== 64 /* @ */) return false
    if (from.lastIndexOf('@', start - 2) >= 0) return false
  }
  if (from.startsWith(domain, start)) return true
  return from.slice(start, end).toLowerCase() === domain
}

/**
 * Checks `stanza` (an Element; a message, presence or iq with a `to` unless `anyTo`, and a `from`
 * in the domain, set to the domain when missing), adds caps to an available presence, and
 * serializes it. Returns the data, or the error to reject with (nothing is written then).
 * @internal
 */
export function prepare(host: OutgoingHost, stanza: Element, anyTo = false): string | Error {
  if (!(stanza instanceof Element)) {
    return new SatelliteError(
      ErrorCodes.INVALID_STANZA,
      `send() expects an Element built with xml(), got ${typeof stanza}`,
    )
  }
  const name = stanza.name
  if (name === 'message' || name === 'presence' || name === 'iq') {
    const attrs = stanza.attrs
    if (!anyTo && !attrs.to) {
      return new SatelliteError(ErrorCodes.ADDRESS, `<${name}> without 'to': the server would reject it`)
    }
    const from = attrs.from as string | undefined
    if (from === undefined || from === '') attrs.from = host.domain
    else if (from !== host.domain && !fromInDomain(from, host.domain)) {
      return new SatelliteError(
        ErrorCodes.ADDRESS,
        `<${name}> from '${from}' is outside ${host.domain}: the server would close the stream with invalid-from`,
      )
    }
    if (name === 'presence' && host.caps && attrs.type === undefined) host.addCaps(stanza)
  }
  let data: string
  try {
    data = serialize(stanza)
  } catch (err) {
    // A name that is not an XML name (SAT_ERR_XML_NAME): refused before anything is written.
    logOut.error('refused a stanza: %s', (err as Error).message)
    return err as Error
  }
  return tooBig(host, name, data) ?? data
}

function tooBig(host: OutgoingHost, name: string, data: string): Error | undefined {
  const max = host.maxBytes
  if (data.length * 3 > max && Buffer.byteLength(data) > max) {
    return new SatelliteError(
      ErrorCodes.STANZA_TOO_BIG,
      `<${name}> of ${Buffer.byteLength(data)} bytes is over limits.maxOutboundStanzaBytes (${max}); the server would close the stream`,
    )
  }
  return undefined
}

/**
 * `stanza` for each of `recipients`: checked and serialized once without its `to`, then one copy
 * per recipient with `to` (escaped) right after the element's name. Returns the copies, or the
 * error for the whole (nothing is written then). `stanza.attrs.to` is left as it was.
 * @internal
 */
export function prepareEach(
  host: OutgoingHost,
  stanza: Element,
  recipients: Iterable<string>,
): string[] | Error {
  const list: string[] = []
  for (const to of recipients) {
    if (typeof to !== 'string' || to === '') {
      return new SatelliteError(ErrorCodes.ADDRESS, "sendEach(): every recipient must be a non-empty 'to'")
    }
    list.push(to)
  }
  if (!(stanza instanceof Element)) return prepare(host, stanza) as Error
  const had = stanza.attrs.to
  delete stanza.attrs.to
  let data: string | Error
  try {
    data = prepare(host, stanza, true)
  } finally {
    if (had !== undefined) stanza.attrs.to = had
  }
  if (typeof data !== 'string') return data
  const cut = 1 + stanza.name.length
  const head = data.slice(0, cut)
  const tail = data.slice(cut)
  const out: string[] = new Array(list.length)
  for (let i = 0; i < list.length; i++) {
    const copy = `${head} to="${escapeAttributeValue(list[i] as string)}"${tail}`
    const big = tooBig(host, stanza.name, copy)
    if (big !== undefined) return big
    out[i] = copy
  }
  return out
}
