// Rooms of a remote network (a gateway's channels, a bridge's legacy groups): with a backend, every
// room is one XMPP user's view of a remote room, as biboumi shows IRC channels. The engine does
// the XMPP side (joins, self-presence, history, the archive, MAM, occupant ids, self-ping,
// several resources, limits); the backend joins, relays and tells the engine what happens there
// through the view's methods.
import type { Element } from '@satellite/core'
import type { Affiliation, Role } from './room.js'

/**
 * Someone in a remote room, as a backend describes them.
 *
 * @example
 * ```ts
 * const op: RemoteOccupant = { nick: 'carol', id: 'carol', role: 'moderator', jid: 'carol%irc.example@irc.gateway' }
 * ```
 */
export interface RemoteOccupant {
  /** The nick shown (checked and enforced as a joining nick is; refused: the occupant is skipped). */
  nick: string
  /**
   * A stable identity on the remote network (an account, or the nick where there is none):
   * the occupant's XEP-0421 occupant id is made from it, so it stays across nick changes.
   */
  id: string
  /** Default `participant`. */
  role?: Role
  /** Default `none`. */
  affiliation?: Affiliation
  /** A JID shown for it to those who may see real JIDs (e.g. the gateway's JID of that remote user). */
  jid?: string
  /** Presence `<show/>`: away, chat, dnd, xa (default: available). */
  show?: 'away' | 'chat' | 'dnd' | 'xa'
  /** Presence `<status/>`. */
  status?: string
}

/**
 * What a backend answers to a join: who is in the remote room, its subject, and the user's own
 * nick and role there.
 *
 * @example
 * ```ts
 * const answer: JoinAnswer = { occupants: [{ nick: 'carol', id: 'carol' }], subject: { text: 'Welcome' } }
 * ```
 */
export interface JoinAnswer {
  /** Who is in the room besides the user (at most `limits.occupantsPerRoom`; more are left out). */
  occupants: RemoteOccupant[]
  /** The nick the remote network gave the user, when not the one asked for (status 210). */
  nick?: string
  /** The room's subject, and who set it. */
  subject?: { text: string; nick?: string }
  /** The user's own role and affiliation there (default `participant` / `none`). */
  role?: Role
  affiliation?: Affiliation
}

/**
 * How a remote occupant went: left (with a reason), kicked (307) or banned (301) by `actor`.
 *
 * @example
 * ```ts
 * view.remove('mallory', { kicked: true, actor: 'carol', reason: 'spam' })
 * ```
 */
export interface Departure {
  reason?: string
  kicked?: boolean
  banned?: boolean
  /** The nick of who kicked or banned. */
  actor?: string
}

/**
 * A message from the remote room: its stable id there if it has one, when it was said (for
 * history replayed by the network), and whether it is a `/me` action.
 *
 * @example
 * ```ts
 * view.say('carol', 'waves', { action: true })
 * view.say('carol', 'hello', { id: 'remote-42' })
 * ```
 */
export interface Said {
  /**
   * Its id on the remote network: the `id` attribute of the message the user gets (then and in
   * history), so a client can match it with what the network says of it later. Default: a new
   * id; ignored unless a non-empty string of at most 256 characters. The room's XEP-0359
   * `stanza-id` is the engine's in any case.
   */
  id?: string
  /** When it was said (ms since the epoch; default now). */
  at?: number
  /** A `/me` action: the body is sent as `/me text` (XEP-0245). */
  action?: boolean
}

/**
 * One XMPP user's view of a remote room, given to the backend: what the backend calls to tell
 * the engine what happens in the remote room. Every call after the view is closed does nothing
 * and returns false; a nick the engine refuses (empty, control characters, too long) is skipped
 * (false).
 *
 * @example
 * ```ts
 * view.add({ nick: 'dave', id: 'dave' })
 * view.say('dave', 'hello')
 * view.rename('dave', 'david')
 * view.remove('david', { reason: 'Quit: bye' })
 * ```
 */
export interface RoomView {
  /** The room's local part (lower case). */
  readonly room: string
  /** The room's bare JID. */
  readonly jid: string
  /** The user's bare JID. */
  readonly user: string
  /** The user's nick in the room now. */
  readonly nick: string
  /** True once the user left or the view was closed. */
  readonly closed: boolean
  /** How many of the user's resources are in the room now (0 before the join is answered). */
  readonly resources: number
  /** Someone entered, or their presence, role or affiliation changed. */
  add(occupant: RemoteOccupant): boolean
  /** Someone left, was kicked or banned. */
  remove(nick: string, how?: Departure): boolean
  /** Someone changed nick (303), keeping their occupant id. */
  rename(nick: string, newNick: string): boolean
  /** A groupchat message from `nick` (or from the room itself when undefined): archived and sent. */
  say(nick: string | undefined, text: string, how?: Said): boolean
  /** A private message from `nick` to the user, from the occupant JID (XEP-0045 §7.5). */
  whisper(nick: string, text: string, how?: Said): boolean
  /** The subject changed (sent as a subject message, kept for the next join). */
  setSubject(text: string, nick?: string): boolean
  /** The remote network changed the user's own nick (303 then 110/210 to every resource). */
  renameSelf(nick: string): boolean
  /** The user's own role or affiliation changed. */
  setSelf(change: { role?: Role; affiliation?: Affiliation }): boolean
  /**
   * Takes the user out of the room: kicked (307) or banned (301) by `actor`, or, by default, the
   * service's link to the room ended (332). The backend's `leave` is not called.
   */
  close(how?: Departure): boolean
}

/**
 * The remote network behind a {@link muc} service (option `backend`). Every method may throw (or
 * reject with) a `StanzaError`, which is what the user is answered; any other error is answered
 * `internal-server-error` and reported on the component's `error` event as `SAT_ERR_MUC_BACKEND`.
 *
 * @example
 * ```ts
 * const backend: MucBackend = {
 *   async join(view, { nick }) { return { occupants: [{ nick: 'echo', id: 'echo' }] } },
 *   leave() {},
 *   async message(view, text) { view.say('echo', text) },
 * }
 * muc(xmpp, { backend })
 * ```
 */
export interface MucBackend {
  /**
   * The user enters the room as `nick` (its first resource). Resolves once the user is in the
   * remote room, with who is there; the user's resources get the room when it resolves. Bounded
   * by `limits.backendTimeout` (then `remote-server-timeout`).
   */
  join(view: RoomView, request: { nick: string; password?: string }): Promise<JoinAnswer>
  /** The user left (its last resource), with its status text if any. Not called after `view.close()`. */
  leave(view: RoomView, status: string | undefined): void | Promise<void>
  /**
   * A groupchat message from the user (`text` is its body): sent to the remote room. The
   * engine reflects it to the user's resources (with the room's stanza-id) once this resolves.
   */
  message(view: RoomView, text: string, stanza: Element): Promise<void> | void
  /** A private message from the user to `nick` of the room (default: `feature-not-implemented`). */
  privateMessage?(view: RoomView, nick: string, text: string, stanza: Element): Promise<void> | void
  /** The user asks for another nick: resolves to the nick given (default: `not-allowed`). */
  nick?(view: RoomView, nick: string): Promise<string>
  /** The user sets the subject (default: `forbidden`). */
  subject?(view: RoomView, text: string): Promise<void> | void
}

/** Checks the `backend` option. @internal */
export function isBackend(value: unknown): value is MucBackend {
  const b = value as Record<string, unknown> | null
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.join === 'function' &&
    typeof b.leave === 'function' &&
    typeof b.message === 'function'
  )
}
