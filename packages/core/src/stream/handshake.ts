import { createHash } from '../builtins.js'
import { escapeXML } from '../xml/element.js'
import { xmlChars } from '../xml/serialize.js'

export const NS_COMPONENT = 'jabber:component:accept'
export const NS_STREAMS = 'http://etherx.jabber.org/streams'
export const NS_STREAM_ERRORS = 'urn:ietf:params:xml:ns:xmpp-streams'

/** The stream header a component sends (XEP-0114 section 3). */
export function streamHeader(domain: string): string {
  return `<?xml version='1.0'?><stream:stream xmlns='${NS_COMPONENT}' xmlns:stream='${NS_STREAMS}' to='${escapeXML(xmlChars(domain))}'>`
}

/**
 * The handshake digest: lowercase hex SHA-1 over the UTF-8 bytes of (stream id + secret).
 * `streamId` is the attribute value after XML unescaping.
 */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash('sha1')
    .update(streamId + secret, 'utf8')
    .digest('hex')
}

/** A stream error to send (then the stream is closed). The text may quote the server's bytes, hence `xmlChars`. */
export function streamErrorXml(condition: string, text?: string): string {
  const t = text ? `<text xmlns='${NS_STREAM_ERRORS}'>${escapeXML(xmlChars(text))}</text>` : ''
  return `<stream:error><${condition} xmlns='${NS_STREAM_ERRORS}'/>${t}</stream:error></stream:stream>`
}
