// What the reference adapter accepts from the network, field by field. Everything the network
// sends is hostile: a field that becomes an element name, a stanza error condition, a JID or an
// attribute is checked against the closed set it belongs to before it reaches the bridge; a line
// with a field that fails is dropped (logged) by the adapter.
import type { ChatState } from '@satellite/bridge'
import { escapeLocal, MAX_LOCAL_BYTES } from '@satellite/escaping'
import { dec, ProtocolError, preview } from './protocol.js'

/** The five chat states of XEP-0085: the only names a TYPING line may carry. */
export const CHAT_STATES: ReadonlySet<string> = new Set<ChatState>([
  'active',
  'composing',
  'paused',
  'inactive',
  'gone',
])

/** The stanza error conditions of RFC 6120 (section 8.3.3). */
export const STANZA_ERROR_CONDITIONS: ReadonlySet<string> = new Set([
  'bad-request',
  'conflict',
  'feature-not-implemented',
  'forbidden',
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'not-acceptable',
  'not-allowed',
  'not-authorized',
  'policy-violation',
  'recipient-unavailable',
  'redirect',
  'registration-required',
  'remote-server-not-found',
  'remote-server-timeout',
  'resource-constraint',
  'service-unavailable',
  'subscription-required',
  'undefined-condition',
  'unexpected-request',
])

/** The longest error text, BYE reason, nick or message id the adapter passes on (characters). */
export const MAX_SHORT_TEXT = 200

/** Control characters (C0, DEL, C1) and the noncharacters U+FFFE/U+FFFF: never in an id. */
const CONTROL = /[\p{Cc}\ufffe\uffff]/u

/** A chat state from a TYPING line. */
export function chatState(field: string | undefined): ChatState {
  if (field === undefined || !CHAT_STATES.has(field)) {
    throw new ProtocolError(`not a chat state: ${preview(field ?? '')}`)
  }
  return field as ChatState
}

/**
 * An ERR line's condition, if it is one of RFC 6120; anything else is `undefined-condition`
 * (and the caller uses a fixed text: the network's own text may not match any condition).
 */
export function errorCondition(field: string | undefined): string | undefined {
  return field !== undefined && STANZA_ERROR_CONDITIONS.has(field) ? field : undefined
}

/**
 * A user or group id: decoded, not empty, no control characters, and short enough that its
 * JID (`escapeLocal(id)@gateway`) has a valid local part (at most 1023 bytes escaped).
 */
export function legacyId(field: string | undefined): string {
  const id = dec(field)
  if (id === '' || CONTROL.test(id) || Buffer.byteLength(escapeLocal(id)) > MAX_LOCAL_BYTES) {
    throw new ProtocolError(`not a legacy id: ${preview(field ?? '')}`)
  }
  return id
}

/** A message id or a nick (a JID resource, an `id` attribute): decoded, 1 to {@link MAX_SHORT_TEXT} characters, no controls. */
export function token(field: string | undefined): string {
  const t = dec(field)
  if (t === '' || t.length > MAX_SHORT_TEXT || CONTROL.test(t)) {
    throw new ProtocolError(`not an id: ${preview(field ?? '')}`)
  }
  return t
}

/** Free text (a message, a topic, a group name): decoded; any characters (the XML writer copes). */
export function text(field: string | undefined): string {
  return dec(field)
}

/** A short text for a user (an error text, a BYE reason): decoded, no controls, cut to {@link MAX_SHORT_TEXT}. */
export function shortText(field: string | undefined, fallback: string): string {
  let t: string
  try {
    t = dec(field)
      .replace(/\p{Cc}+/gu, ' ')
      .trim()
  } catch {
    return fallback
  }
  if (t === '') return fallback
  return t.length > MAX_SHORT_TEXT ? `${t.slice(0, MAX_SHORT_TEXT - 1)}…` : t
}

/** `online` or `offline`. */
export function onlineState(field: string | undefined): boolean {
  if (field !== 'online' && field !== 'offline') {
    throw new ProtocolError(`not online|offline: ${preview(field ?? '')}`)
  }
  return field === 'online'
}

/** A MIME type `type/subtype` (RFC 6838 restricted names), at most 127 characters. */
const MIME = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/i
/** Canonical base64 with padding. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** A picture's type: a MIME type such as `image/png`. */
export function mimeType(field: string | undefined): string {
  const type = dec(field)
  if (!MIME.test(type)) throw new ProtocolError(`not a MIME type: ${preview(field ?? '')}`)
  return type
}

/** A picture's bytes: canonical base64 of at most `maxBytes` bytes. */
export function base64(field: string | undefined, maxBytes: number): Buffer {
  const data = field ?? ''
  if (data === '' || data.length > Math.ceil(maxBytes / 3) * 4 || !BASE64.test(data)) {
    throw new ProtocolError(`not base64 of at most ${maxBytes} bytes: ${preview(data)}`)
  }
  const bytes = Buffer.from(data, 'base64')
  if (bytes.length > maxBytes) throw new ProtocolError(`a picture of ${bytes.length} bytes`)
  return bytes
}

/** An emoji of a reaction: decoded, 1 to 64 characters, no controls. */
export function emoji(field: string | undefined): string {
  const e = dec(field)
  if (e === '' || e.length > 64 || CONTROL.test(e))
    throw new ProtocolError(`not an emoji: ${preview(field ?? '')}`)
  return e
}
