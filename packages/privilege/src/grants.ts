import type { Element, Stanza } from '@satellite/core'
import createDebug from 'debug'
import type { PrivilegeEvents } from './events.js'
import { type Grant, parseGrant } from './grant.js'
import { serverDomain } from './jid.js'
import { NS_PRIVILEGE_1, NS_PRIVILEGE_2 } from './ns.js'
import type { ResolvedPrivilegeOptions } from './options.js'

const log = createDebug('satellite:privilege')

/** How the book tells its handle about a change or an ignored announcement. */
export type GrantEmit = <E extends 'change' | 'invalid'>(event: E, ...args: PrivilegeEvents[E]) => unknown

/** True if `s` carries a `<privilege/>` announcement (either namespace) and is not an error. */
export function isAnnouncement(s: Stanza): boolean {
  return (
    s.attrs.type !== 'error' &&
    (s.getChild('privilege', NS_PRIVILEGE_2) !== undefined ||
      s.getChild('privilege', NS_PRIVILEGE_1) !== undefined)
  )
}

/**
 * The grants the component holds, one per server: which servers are believed (`servers`,
 * `maxServers`), and each announcement read into the server's grant (or dropping it).
 */
export class GrantBook {
  readonly #grants = new Map<string, Grant>()
  readonly #servers: ReadonlySet<string> | 'any'
  readonly #parent: string
  readonly #maxServers: number
  readonly #maxPerms: number

  constructor(options: Pick<ResolvedPrivilegeOptions, 'servers' | 'parent' | 'maxServers' | 'maxPerms'>) {
    this.#servers = options.servers
    this.#parent = options.parent
    this.#maxServers = options.maxServers
    this.#maxPerms = options.maxPerms
  }

  /** The grant of `server` (lower-cased). */
  get(server: string): Grant | undefined {
    return this.#grants.get(server)
  }

  /** The grant of the only server with one, or of the first of `servers` with one. */
  preferred(): Grant | undefined {
    if (this.#grants.size === 1) return this.#grants.values().next().value
    if (this.#servers !== 'any') {
      for (const s of this.#servers) {
        const g = this.#grants.get(s)
        if (g !== undefined) return g
      }
    }
    return undefined
  }

  all(): Grant[] {
    return [...this.#grants.values()]
  }

  /** The name to give a server when none was asked for: the first of `servers`. */
  defaultServerName(): string {
    if (this.#servers !== 'any') {
      const first = this.#servers.values().next().value
      if (first !== undefined) return first
    }
    return '(the server)'
  }

  /** The server domain of `from` if announcements from it are believed, else undefined. */
  trustedSender(from: unknown): string | undefined {
    const server = serverDomain(from)
    if (server === undefined) return undefined
    if (this.#servers !== 'any' && !this.#servers.has(server)) return undefined
    return server
  }

  /** Forgets every grant, telling `emit` (`change` to `undefined` for each). */
  forget(emit: GrantEmit | undefined): void {
    const servers = [...this.#grants.keys()]
    this.#grants.clear()
    if (emit !== undefined) for (const s of servers) emit('change', s, undefined)
  }

  /** Reads the announcement `stanza`: records its grant, or reports why it was ignored. */
  announce(stanza: Stanza, emit: GrantEmit): void {
    const invalid = (reason: string, partial = false) => {
      log(
        'ignoring %s from %s: %s',
        partial ? 'part of an announcement' : 'announcement',
        stanza.attrs.from,
        reason,
      )
      emit('invalid', { stanza, reason, partial })
    }
    const from = stanza.attrs.from
    const server = this.trustedSender(from)
    if (server === undefined) {
      const domain = serverDomain(from)
      invalid(
        domain === undefined
          ? `'from' must be a server domain, got '${String(from)}'`
          : `${domain} is not among the trusted servers (option servers)`,
      )
      return
    }
    if (!this.#grants.has(server) && this.#counted(server)) {
      let n = 0
      for (const s of this.#grants.keys()) if (this.#counted(s)) n++
      if (n >= this.#maxServers) {
        invalid(`already ${n} servers (option maxServers)`)
        return
      }
    }
    const el =
      stanza.getChild('privilege', NS_PRIVILEGE_2) ??
      (stanza.getChild('privilege', NS_PRIVILEGE_1) as Element)
    let grant: Grant
    const ignored: string[] = []
    try {
      grant = parseGrant(el, server, this.#maxPerms, (reason) => ignored.push(reason))
    } catch (err) {
      invalid((err as Error).message)
      // The server's current word is unreadable: its older (possibly wider) grant is not kept.
      if (this.#grants.delete(server)) emit('change', server, undefined)
      return
    }
    log(
      '%s grants %s: roster=%s message=%s presence=%s iq=%o',
      server,
      grant.namespace,
      grant.roster,
      grant.message,
      grant.presence,
      grant.iq,
    )
    this.#grants.set(server, grant)
    emit('change', server, grant)
    for (const reason of ignored) invalid(reason, true)
  }

  /** Whether `server` takes one of the `maxServers` slots (admitted only by `servers: 'any'`). */
  #counted(server: string): boolean {
    return this.#servers === 'any' && server !== this.#parent
  }
}
