import type { Component } from '@satellite/core'
import type { CommandsOptions } from './options.js'
import { CommandRegistry } from './registry.js'

/**
 * Serves XEP-0050 ad-hoc commands from a component: `<command/>` iq sets, the command list
 * (disco#items on node `http://jabber.org/protocol/commands`, filtered by `allowed`), and
 * each command's disco#info (identity `automation/command-node`, features commands and
 * `jabber:x:data`). Malformed requests get the XEP-0050 errors (`bad-request` with
 * `<malformed-action/>`, `<bad-action/>`, `<bad-sessionid/>`, `<bad-payload/>`;
 * `not-allowed` with `<session-expired/>`), an unknown node `item-not-found`, a refused
 * requester `forbidden`, too many sessions `resource-constraint`.
 *
 * A plugin (`Plugin<CommandsOptions, CommandRegistry>`): a bad option throws a fatal
 * `SAT_ERR_CONFIG` `SatelliteError` (`commands.option: problem`) before anything is installed;
 * `registry.close()` removes the routes and ends the sessions.
 *
 * @example
 * ```ts
 * const registry = commands(xmpp, { sessionTimeout: 5 * 60_000 })
 * registry.register({
 *   node: 'announce',
 *   name: 'Send an announcement',
 *   allowed: (_from, requester) => admins.has(requester.bare),
 *   stages: [stage(defineForm({ fields: [{ type: 'text-multi', var: 'body', required: true }] }),
 *     async (values) => { await announce(values.body.join('\n')) })],
 *   complete: () => ({ notes: ['Sent'] }),
 * })
 * ```
 */
export function commands(xmpp: Component, options: CommandsOptions = {}): CommandRegistry {
  return new CommandRegistry(xmpp, options)
}
