import {
  type Component,
  type Element,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  type PluginHandle,
  type Stanza,
  type Unroute,
  xml,
} from '@satellite/core'
import { NS_DATA } from '@satellite/forms'
import type { CommandDefinition } from './definition.js'
import { CommandDefinitionError } from './errors.js'
import { CommandFlow, isAllowed } from './flow.js'
import { NS_COMMANDS } from './ns.js'
import { type CommandsOptions, resolveOptions } from './options.js'
import { type CommandStats, SessionTable } from './sessions.js'

/**
 * The commands of a component (see {@link commands}): its routes (the `<command/>` iq sets,
 * the command list and each command's disco#info) and its sessions, until {@link close}.
 *
 * @example
 * ```ts
 * const registry = commands(xmpp)
 * registry.register({ node: 'uptime', name: 'Uptime', complete: () => ({ notes: [`${process.uptime()} s`] }) })
 * ```
 */
export class CommandRegistry implements PluginHandle {
  readonly #defs = new Map<string, CommandDefinition<unknown>>()
  readonly #table: SessionTable
  readonly #offs: Unroute[]

  /** Prefer {@link commands}. Throws a fatal `SAT_ERR_CONFIG` `SatelliteError` for a bad option. */
  constructor(xmpp: Component, options: CommandsOptions = {}) {
    const o = resolveOptions(options)
    this.#table = new SessionTable(o)
    const flow = new CommandFlow(this.#defs, this.#table, o.privileged)
    const to = o.to
    this.#offs = [
      xmpp.iqSet({ xmlns: NS_COMMANDS, name: 'command', to }, (iq, payload) => flow.handle(iq, payload)),
      xmpp.iqGet(
        {
          xmlns: NS_DISCO_ITEMS,
          name: 'query',
          to,
          where: (iq) => iq.getChild('query', NS_DISCO_ITEMS)?.attrs.node === NS_COMMANDS,
        },
        (iq) => this.#items(iq),
      ),
      xmpp.iqGet(
        {
          xmlns: NS_DISCO_INFO,
          name: 'query',
          to,
          where: (iq) => {
            const node = iq.getChild('query', NS_DISCO_INFO)?.attrs.node
            return node === NS_COMMANDS || (node !== undefined && this.#defs.has(node))
          },
        },
        (iq, query) => this.#info(iq, query.attrs.node as string),
      ),
    ]
  }

  /**
   * Number of live sessions.
   *
   * @example
   * ```ts
   * metrics.gauge('adhoc_sessions', registry.sessions)
   * ```
   */
  get sessions(): number {
    return this.#table.size
  }

  /**
   * Sizes of the registry's tables: each is bounded (sessions by `maxSessions`, requesters by
   * the sessions, expired ids by `rememberExpired`).
   *
   * @example
   * ```ts
   * metrics.gauge('adhoc_requesters', registry.stats.requesters)
   * ```
   */
  get stats(): CommandStats {
    return this.#table.stats
  }

  /**
   * Adds a command. Throws a {@link CommandDefinitionError} (`SAT_ERR_ADHOC_DEFINITION`) if
   * the node is already registered.
   *
   * @example
   * ```ts
   * registry.register<{ nick?: string }>({
   *   node: 'rename',
   *   name: 'Change nickname',
   *   allowed: (from) => from.startsWith('admin@'),
   *   stages: [stage(defineForm({ fields: [{ type: 'text-single', var: 'nick', required: true }] }),
   *     (values, session: Session<{ nick?: string }>) => { session.state.nick = values.nick })],
   *   complete: (session) => ({ notes: [`Renamed to ${session.state.nick}`] }),
   * })
   * ```
   */
  register<S = Record<string, unknown>>(definition: CommandDefinition<S>): this {
    if (this.#defs.has(definition.node))
      throw new CommandDefinitionError(`command node '${definition.node}' is already registered`)
    this.#defs.set(definition.node, definition as CommandDefinition<unknown>)
    return this
  }

  /**
   * Removes a command; its live sessions end (their ids then answer `session-expired`).
   *
   * @example
   * ```ts
   * registry.unregister('rename')
   * ```
   */
  unregister(node: string): boolean {
    this.#table.endAll(node, true)
    return this.#defs.delete(node)
  }

  /**
   * Removes the routes (commands and their disco entries are then answered as without the
   * plugin) and ends every session, timers included. Idempotent.
   *
   * @example
   * ```ts
   * xmpp.on('stopped', () => registry.close())
   * ```
   */
  close(): void {
    for (const off of this.#offs.splice(0)) off()
    this.#table.endAll(undefined, false)
  }

  async #items(iq: Stanza): Promise<Element> {
    const from = iq.attrs.from ?? ''
    const jid = iq.attrs.to ?? ''
    const q = xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })
    for (const def of this.#defs.values()) {
      if (await isAllowed(def, from)) q.c('item', { jid, node: def.node, name: def.name })
    }
    return q
  }

  #info(_iq: Stanza, node: string): Element {
    const q = xml('query', { xmlns: NS_DISCO_INFO, node })
    if (node === NS_COMMANDS) {
      q.c('identity', { category: 'automation', type: 'command-list' })
      return q
    }
    const def = this.#defs.get(node) as CommandDefinition<unknown>
    q.c('identity', { category: 'automation', type: 'command-node', name: def.name })
    q.c('feature', { var: NS_COMMANDS })
    q.c('feature', { var: NS_DATA })
    return q
  }
}
