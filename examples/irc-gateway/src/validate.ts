// Every value from IRC is checked here before it can reach XMPP: an IRC server (or a user on it)
// controls nicks, channel names and text, and a gateway that passed them on unchecked would put
// controls into XML, forge addresses (a nick with '@' or '/') or grow maps without bound.
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import { ircToXmppText } from './text.js'

/** The longest nick accepted from IRC (servers allow far fewer; ngircd's MaxNickLength is ≤ 30 here). */
export const MAX_NICK = 64
/** The longest channel name accepted from IRC (RFC 2812: 50; some servers allow more). */
export const MAX_CHANNEL = 200
/** The longest text accepted from one IRC line (a line is at most 512 bytes, 8191 with tags). */
export const MAX_TEXT = 8192

// RFC 2812 nick characters (a letter or []\`_^{|} first, then also digits and '-') plus what servers accept in practice
// outside ASCII (ngircd and others allow UTF-8 letters); never a space, ',', '*', '?', '!', '@',
// '#', '&', ':', '%' (the gateway's separator), '/', a control or anything XML cannot carry.
const NICK = /^[\p{L}[\]\\`_^{|}][\p{L}\p{N}\p{M}[\]\\`_^{|}-]*$/u
// A channel: a type prefix (#, &, +, !) then anything but space, comma, BEL, NUL, CR, LF, ':'
// (RFC 2812) and, here, '%', '/', '@' (they would make the address ambiguous) and controls.
const CHANNEL = /^[#&+!][^\s,:%/@\p{Cc}\p{Cs}\ufffe\uffff]*$/u

function refuse(what: string, value: string, problem: string): IrcGatewayError {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
  return new IrcGatewayError(IrcGatewayErrorCodes.INPUT, `${what} ${shown} from IRC ${problem}`)
}

/** `value` when it is a nick the gateway can show (see NICK above); else throws SAT_ERR_IRC_INPUT. */
export function checkNick(value: unknown): string {
  if (typeof value !== 'string' || value === '') throw refuse('nick', String(value), 'is empty')
  if (value.length > MAX_NICK) throw refuse('nick', value, `is longer than ${MAX_NICK}`)
  if (!NICK.test(value)) throw refuse('nick', value, 'has characters a nick cannot have')
  return value
}

/** `value` when it is a channel name the gateway can show; else throws SAT_ERR_IRC_INPUT. */
export function checkChannel(value: unknown): string {
  if (typeof value !== 'string' || value.length < 2) throw refuse('channel', String(value), 'is too short')
  if (value.length > MAX_CHANNEL) throw refuse('channel', value, `is longer than ${MAX_CHANNEL}`)
  if (!CHANNEL.test(value)) throw refuse('channel', value, 'is not a channel name')
  return value
}

/**
 * `value` made ready for an XMPP body (formatting stripped, controls removed: text.ts); throws
 * SAT_ERR_IRC_INPUT when it is not a string or too long, and returns '' when nothing is left.
 */
export function checkText(value: unknown): string {
  if (typeof value !== 'string') throw refuse('text', String(value), 'is not text')
  if (value.length > MAX_TEXT) throw refuse('text', value, `is longer than ${MAX_TEXT}`)
  return ircToXmppText(value)
}

/** True when `value` passes {@link checkNick}. */
export function isNick(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= MAX_NICK && NICK.test(value)
}

/** True when `value` passes {@link checkChannel}. */
export function isChannel(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 2 && value.length <= MAX_CHANNEL && CHANNEL.test(value)
}
