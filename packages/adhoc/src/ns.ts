/**
 * The ad-hoc commands namespace (XEP-0050); also the disco node listing the commands.
 *
 * @example
 * ```ts
 * xml('command', { xmlns: NS_COMMANDS, node: 'uptime', action: 'execute' })
 * ```
 */
export const NS_COMMANDS = 'http://jabber.org/protocol/commands'

/**
 * The actions of XEP-0050 (`execute` is the default one).
 *
 * @example
 * ```ts
 * const action: CommandAction = 'next'
 * ```
 */
export type CommandAction = 'execute' | 'next' | 'prev' | 'complete' | 'cancel'

/** The actions a request may name. */
export const ACTIONS: ReadonlySet<string> = new Set(['execute', 'next', 'prev', 'complete', 'cancel'])
