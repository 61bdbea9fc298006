// The allow-list of IRC servers users may reach: IRC_SERVERS, a comma-separated list of
// `name=host:port` (append `/tls` for TLS), and IRC_FIXED_SERVER=1 (one entry; addresses may
// leave the server out). Every problem is a fatal SAT_ERR_CONFIG whose message is
// `IRC_SERVERS: problem` (or IRC_FIXED_SERVER), as core's configFromEnv writes its own.
import { ErrorCodes, SatelliteError } from '@satellite/core'
import { type FallbackEncoding, isFallbackEncoding } from './decode.js'

export interface IrcServer {
  /** The name in addresses (`#chan%name@gateway`): lower-case letters, digits, '.', '-'. */
  name: string
  host: string
  port: number
  tls: boolean
  /** Decoding of lines that are not UTF-8 (IRC_ENCODING_<NAME>, default latin1). */
  fallbackEncoding: FallbackEncoding
}

export interface ServerList {
  servers: ReadonlyMap<string, IrcServer>
  /** The only server, when IRC_FIXED_SERVER=1. */
  fixed: IrcServer | undefined
}

/** A server name: a host-name-like label sequence, at most 63 characters. */
const NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/
const HOST =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])$/
/** The most servers one gateway may list. */
export const MAX_SERVERS = 100

function configError(variable: string, problem: string): SatelliteError {
  return new SatelliteError(ErrorCodes.CONFIG, `${variable}: ${problem}`, { fatal: true })
}

/** Parses IRC_SERVERS and IRC_FIXED_SERVER (and IRC_ENCODING_<NAME>) from `env`. */
export function serversFromEnv(env: NodeJS.ProcessEnv = process.env): ServerList {
  const spec = env.IRC_SERVERS?.trim() ?? ''
  if (spec === '')
    throw configError('IRC_SERVERS', 'is not set: e.g. IRC_SERVERS=libera=irc.libera.chat:6697/tls')
  const servers = new Map<string, IrcServer>()
  const items = spec.split(',')
  if (items.length > MAX_SERVERS) throw configError('IRC_SERVERS', `lists more than ${MAX_SERVERS} servers`)
  for (const raw of items) {
    const item = raw.trim()
    const server = parseEntry(item, env)
    if (servers.has(server.name)) throw configError('IRC_SERVERS', `${server.name} is listed twice`)
    servers.set(server.name, server)
  }
  const fixedRaw = env.IRC_FIXED_SERVER?.trim() ?? ''
  if (fixedRaw !== '' && fixedRaw !== '0' && fixedRaw !== '1') {
    throw configError('IRC_FIXED_SERVER', `expected 1 or 0, got ${JSON.stringify(fixedRaw)}`)
  }
  let fixed: IrcServer | undefined
  if (fixedRaw === '1') {
    if (servers.size !== 1)
      throw configError('IRC_FIXED_SERVER', `needs exactly one server in IRC_SERVERS, got ${servers.size}`)
    fixed = [...servers.values()][0]
  }
  return { servers, fixed }
}

function parseEntry(item: string, env: NodeJS.ProcessEnv): IrcServer {
  const shown = JSON.stringify(item.length > 100 ? `${item.slice(0, 100)}…` : item)
  const eq = item.indexOf('=')
  if (item === '' || eq === -1)
    throw configError('IRC_SERVERS', `expected name=host:port[/tls], got ${shown}`)
  const name = item.slice(0, eq)
  let rest = item.slice(eq + 1)
  if (name.length > 63 || !NAME.test(name)) {
    throw configError(
      'IRC_SERVERS',
      `the name ${JSON.stringify(name)} must be lower-case letters, digits, '.' and '-' (at most 63)`,
    )
  }
  let tls = false
  if (rest.endsWith('/tls')) {
    tls = true
    rest = rest.slice(0, -4)
  }
  const colon = rest.lastIndexOf(':')
  if (colon === -1) throw configError('IRC_SERVERS', `${name}: expected host:port, got ${shown}`)
  const host = rest.slice(0, colon)
  const portText = rest.slice(colon + 1)
  if (host.length > 253 || !HOST.test(host))
    throw configError('IRC_SERVERS', `${name}: ${JSON.stringify(host)} is not a host name or address`)
  if (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw configError('IRC_SERVERS', `${name}: the port must be 1-65535, got ${JSON.stringify(portText)}`)
  }
  const variable = `IRC_ENCODING_${name.toUpperCase().replace(/[.-]/g, '_')}`
  const encoding = env[variable]?.trim() || 'latin1'
  if (!isFallbackEncoding(encoding))
    throw configError(variable, `unknown encoding ${JSON.stringify(encoding)}`)
  return {
    name,
    host: host.startsWith('[') ? host.slice(1, -1) : host,
    port: Number(portText),
    tls,
    fallbackEncoding: encoding,
  }
}
