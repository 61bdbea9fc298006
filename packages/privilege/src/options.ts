import { numberOption, optionError } from '@satellite/core'

/**
 * Options of {@link privileges}. Every limit has a default.
 *
 * @example
 * ```ts
 * const priv = privileges(xmpp, { servers: ['example.org'], timeout: 10_000 })
 * ```
 */
export interface PrivilegeOptions {
  /**
   * The server domains whose announcements are believed. Default: the parent domain of
   * the component (`example.org` for `gw.example.org`). `'any'` accepts any bare domain
   * (any server the component hears from, remote ones included: see `maxServers`).
   */
  servers?: readonly string[] | 'any'
  /** Timeout of each privileged iq, in ms. Default: the component's `requestTimeout`. */
  timeout?: number
  /**
   * How many grants of servers admitted only by `servers: 'any'` are kept at most (default 16);
   * their announcements beyond are ignored. The component's parent domain and the servers
   * listed in `servers` are always admitted and do not count, so remote servers cannot take
   * their place.
   */
  maxServers?: number
  /** The most roster items one {@link Privileges.rosterSet} call takes (default 500). */
  maxItems?: number
  /** The most `<perm/>` (and `<namespace/>`) elements an announcement may carry (default 64). */
  maxPerms?: number
}

/** The options of {@link PrivilegeOptions}, checked, with their defaults. */
export interface ResolvedPrivilegeOptions {
  /** The servers listed (lower-cased; the parent domain by default), or `'any'`. */
  servers: ReadonlySet<string> | 'any'
  /** The component's parent domain (`example.org` for `gw.example.org`), or '' for none. */
  parent: string
  timeout: number | undefined
  maxServers: number
  maxItems: number
  maxPerms: number
}

const PLUGIN = 'privileges'

/**
 * Checks the options of `privileges()` for the component `domain` (lower-cased): a bad one
 * throws a fatal `SAT_ERR_CONFIG` `SatelliteError` (`privileges.option: problem`).
 */
export function resolveOptions(domain: string, options: PrivilegeOptions): ResolvedPrivilegeOptions {
  if (typeof options !== 'object' || options === null) {
    throw optionError(
      PLUGIN,
      'options',
      `must be an object, got ${options === null ? 'null' : typeof options}`,
    )
  }
  const maxServers = numberOption(PLUGIN, 'maxServers', options.maxServers, 16, { min: 1 })
  const maxItems = numberOption(PLUGIN, 'maxItems', options.maxItems, 500, { min: 1 })
  const maxPerms = numberOption(PLUGIN, 'maxPerms', options.maxPerms, 64, { min: 1 })
  // setTimeout's range: beyond it Node fires at once
  const timeout =
    options.timeout === undefined
      ? undefined
      : numberOption(PLUGIN, 'timeout', options.timeout, 0, { min: 1, max: 2 ** 31 - 1, integer: false })
  const dot = domain.indexOf('.') // the domain's first label, not a JID's part
  const parent = dot > 0 ? domain.slice(dot + 1) : ''
  let servers: ReadonlySet<string> | 'any'
  if (options.servers === 'any') servers = 'any'
  else if (options.servers !== undefined) {
    if (!Array.isArray(options.servers) || options.servers.some((s) => typeof s !== 'string' || s === '')) {
      throw optionError(PLUGIN, 'servers', "must be 'any' or a list of domains")
    }
    servers = new Set(options.servers.map((s) => s.toLowerCase()))
  } else {
    servers = new Set(parent === '' ? [] : [parent])
  }
  return { servers, parent, timeout, maxServers, maxItems, maxPerms }
}
