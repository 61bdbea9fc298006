// Hooks for prototypes: a bot-moderated room or a filtered one in a few lines. They run
// synchronously inside the engine's handling of a stanza: a hook that throws a StanzaError
// refuses with it; any other error is answered `internal-server-error` and reported as
// SAT_ERR_MUC_HOOK.
import { type Element, StanzaError, xml } from '@satellite/core'
import type { Context } from './context.js'
import { MucError, MucErrorCodes } from './errors.js'
import type { Affiliation, Occupant, Room } from './room.js'

/**
 * What a join hook is told.
 *
 * @example
 * ```ts
 * const onJoin = (j: JoinInfo) => { if (j.nick.startsWith('bot')) throw new StanzaError('not-allowed', 'no bots') }
 * ```
 */
export interface JoinInfo {
  /** The room's local part (lower case). */
  room: string
  /** The room's bare JID. */
  roomJid: string
  /** The joining session's real full JID. */
  jid: string
  /** Its bare JID. */
  bare: string
  /** The nick it will have. */
  nick: string
  /** True when this join creates the room. */
  creates: boolean
}

/**
 * What a message hook is told: a groupchat message with a body, from an occupant.
 *
 * @example
 * ```ts
 * const beforeMessage = (m: MessageInfo) => m.body.replace(/darn/g, '****')
 * ```
 */
export interface MessageInfo {
  room: string
  roomJid: string
  /** The sender's nick and real full JID. */
  nick: string
  jid: string
  /** The message's body. */
  body: string
  /** The message as the client sent it (read only). */
  stanza: Element
}

/**
 * Hooks of {@link muc} (option `hooks`).
 *
 * @example
 * ```ts
 * muc(xmpp, {
 *   hooks: {
 *     onJoin: (j) => { if (!j.bare.endsWith('@example.org')) throw new StanzaError('forbidden', 'members of example.org only') },
 *     beforeMessage: (m) => (m.body.includes('spam') ? false : m.body.trim()),
 *   },
 * })
 * ```
 */
export interface MucHooks {
  /**
   * Before a user enters a room (its first resource; a room it would create included): throw a
   * `StanzaError` to refuse the join with it.
   */
  onJoin?(join: JoinInfo): void
  /**
   * Before a groupchat message with a body is reflected (or, in a view of a remote room, sent to
   * the backend): return a string to replace the body, `false` to drop the message without an
   * answer, nothing to let it through; throw a `StanzaError` to refuse it with that error.
   */
  beforeMessage?(message: MessageInfo): string | false | undefined
  /**
   * An affiliation source (a directory, an LDAP group, a bot's rules): asked for a bare JID that
   * is on none of the room's lists (those set through muc#admin/muc#owner and the creator win);
   * return `owner`, `admin`, `member`, `outcast` or nothing (`none`). It is asked on each check
   * (joins, roles, privileges): keep it fast and synchronous; cache on your side if needed.
   */
  affiliation?(room: string, bare: string): Affiliation | undefined
}

const SOURCED: ReadonlySet<string> = new Set(['owner', 'admin', 'member', 'outcast'])

/** Wires the affiliation hook, if any, to a room's lists. @internal */
export function affiliationSource(ctx: Context, room: Room): void {
  const hook = ctx.o.hooks.affiliation
  if (hook === undefined) return
  room.affiliations.source = (bare) => {
    const a = run(ctx, 'affiliation', () => hook(room.local, bare))
    return typeof a === 'string' && SOURCED.has(a) ? a : undefined
  }
}

/** Runs a hook; an error that is not a StanzaError becomes SAT_ERR_MUC_HOOK (reported) and internal-server-error. */
function run<T>(ctx: Context, name: string, call: () => T): T {
  try {
    return call()
  } catch (err) {
    if (err instanceof StanzaError) throw err
    ctx.report(new MucError(MucErrorCodes.HOOK, `the ${name} hook failed`, { cause: err }))
    throw new StanzaError('internal-server-error', 'the service failed')
  }
}

/** The onJoin hook, if any. @internal */
export function joinHook(ctx: Context, info: JoinInfo): void {
  const hook = ctx.o.hooks.onJoin
  if (hook !== undefined) run(ctx, 'onJoin', () => hook(info))
}

/**
 * The beforeMessage hook on a groupchat message: the message to go on with (the same, or a
 * copy with the new body), or undefined to drop it. @internal
 */
export function messageHook(
  ctx: Context,
  room: Room,
  occ: Occupant,
  m: Element,
  from: string,
): Element | undefined {
  const hook = ctx.o.hooks.beforeMessage
  const body = m.getChild('body')
  if (hook === undefined || body === undefined) return m
  const info: MessageInfo = {
    room: room.local,
    roomJid: room.jid,
    nick: occ.nick,
    jid: from,
    body: body.getText(),
    stanza: m,
  }
  const out = run(ctx, 'beforeMessage', () => hook(info))
  if (out === false) return undefined
  if (typeof out !== 'string' || out === info.body) return m
  const copy = xml(m.name, { ...m.attrs })
  for (const child of m.children) {
    copy.children.push(
      child === body ? xml('body', { ...body.attrs }, out.slice(0, ctx.o.messageChars)) : child,
    )
  }
  return copy
}
