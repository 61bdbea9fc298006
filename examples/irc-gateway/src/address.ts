// Addresses as biboumi has them, so XMPP users and clients that know biboumi feel at home:
//   #chan%server@gateway   a channel (a MUC room)
//   nick%server@gateway    an IRC user (one-to-one chat)
//   server@gateway         the IRC server (notices, raw commands)
// With IRC_FIXED_SERVER=1 the `%server` part is left out: `#chan@gateway`, `nick@gateway`, and
// the bare `gateway` is the server.
//
// Escaping: the channel or nick part is written with @satellite/escaping's escapeLocal (XEP-0106
// plus its \u{…} extension), so characters a JID local part forbids (space " & ' / : < > @) and
// those nodeprep would change survive the round trip; the server name and the '%' separator are
// written as they are (server names are lower-case letters, digits, '.' and '-'; '%' never occurs
// in a nick or a channel the gateway accepts, so the last '%' is the separator). Local parts are
// case-folded by XMPP servers: that matches IRC, whose nicks and channels are case-insensitive.
import { domainOf, localOf } from '@satellite/core'
import { escapeLocal, unescapeLocal } from '@satellite/escaping'
import { IrcGatewayError, IrcGatewayErrorCodes } from './errors.js'
import type { IrcServer, ServerList } from './servers.js'
import { isChannel, isNick } from './validate.js'

export type IrcAddress =
  | { kind: 'channel'; channel: string; server: IrcServer }
  | { kind: 'user'; nick: string; server: IrcServer }
  | { kind: 'server'; server: IrcServer }

function addressError(local: string, problem: string): IrcGatewayError {
  const shown = JSON.stringify(local.length > 100 ? `${local.slice(0, 100)}…` : local)
  return new IrcGatewayError(IrcGatewayErrorCodes.ADDRESS, `${shown}: ${problem}`)
}

/**
 * Reads the local part of an address of the gateway (the part before '@'; '' for the gateway
 * itself). Throws SAT_ERR_IRC_ADDRESS for a malformed address and SAT_ERR_IRC_SERVER for a
 * server not in the allow-list.
 */
export function parseLocal(local: string, list: ServerList): IrcAddress {
  const percent = local.lastIndexOf('%')
  let name: string
  let server: IrcServer | undefined
  if (percent === -1) {
    if (list.fixed === undefined) {
      if (local === '')
        throw addressError(
          local,
          'names no IRC server (use server@gateway, #chan%server@gateway or nick%server@gateway)',
        )
      return { kind: 'server', server: knownServer(local, local, list) }
    }
    if (local === '') return { kind: 'server', server: list.fixed }
    name = local
    server = list.fixed
  } else {
    name = local.slice(0, percent)
    const serverName = local.slice(percent + 1)
    if (name === '') throw addressError(local, 'has no channel or nick before %')
    server = knownServer(serverName, local, list)
  }
  const decoded = unescapeLocal(name)
  if (isChannel(decoded)) return { kind: 'channel', channel: decoded, server }
  if (isNick(decoded)) return { kind: 'user', nick: decoded, server }
  throw addressError(local, `${JSON.stringify(decoded)} is neither a channel (#name) nor a nick`)
}

function knownServer(name: string, local: string, list: ServerList): IrcServer {
  const server = list.servers.get(name.toLowerCase())
  if (server === undefined) {
    if (name === '' || name.includes('%')) throw addressError(local, 'has no server after %')
    throw new IrcGatewayError(
      IrcGatewayErrorCodes.SERVER,
      `${JSON.stringify(name)} is not an IRC server of this gateway`,
    )
  }
  return server
}

/**
 * Reads a full address (`local@domain[/resource]`): the domain must be the gateway's. The
 * resource (an occupant's nick in a room address) is not part of the IRC address.
 */
export function parseAddress(address: string, gateway: string, list: ServerList): IrcAddress {
  if (domainOf(address) !== gateway) {
    throw new IrcGatewayError(
      IrcGatewayErrorCodes.ADDRESS,
      `${JSON.stringify(address)} is not an address of ${gateway}`,
    )
  }
  return parseLocal(localOf(address), list)
}

/** The local part of `address` ('' for the fixed server itself). */
export function formatLocal(address: IrcAddress, list: ServerList): string {
  const fixed = list.fixed !== undefined && list.fixed.name === address.server.name
  switch (address.kind) {
    case 'server':
      return fixed ? '' : address.server.name
    case 'channel':
    case 'user': {
      const name = escapeLocal(address.kind === 'channel' ? address.channel : address.nick)
      return fixed ? name : `${name}%${address.server.name}`
    }
  }
}

/** The bare JID of `address` on the gateway's domain. */
export function formatAddress(address: IrcAddress, gateway: string, list: ServerList): string {
  const local = formatLocal(address, list)
  return local === '' ? gateway : `${local}@${gateway}`
}
