// The room model: a room, its occupants (one nick per bare JID) and their sessions (the user's
// resources sharing that nick), with the two lifecycles as discriminated unions.
import type { Element } from '@satellite/core'
import { Affiliations } from './affiliations.js'
import type { RoomView } from './backend.js'
import type { RoomConfig } from './options.js'

/** A user's affiliation with a room (XEP-0045 §5.2); an `outcast` cannot be an occupant. */
export type Affiliation = 'owner' | 'admin' | 'member' | 'outcast' | 'none'
/** An occupant's role (XEP-0045 §5.1). */
export type Role = 'moderator' | 'participant' | 'visitor'

/**
 * One resource of an occupant. `joining`: its join is answered up to its self-presence and
 * the history is being read from the store; live stanzas for it wait in `queue` (bounded) so
 * that history comes first (XEP-0045 §7.2.13). `joined`: live stanzas go out at once.
 */
export type SessionState = { kind: 'joining'; queue: Element[] } | { kind: 'joined' }

/** One resource of an occupant in the room. */
export interface Session {
  /** The real full JID. */
  readonly jid: string
  /** The last available presence it sent, MUC elements removed (what the room shows of it). */
  presence: Element
  /** When it last sent presence (for choosing the occupant's shown presence). */
  at: number
  state: SessionState
}

/**
 * An occupant: one user (bare JID) under one nick, with one or more sessions; or, in a room
 * view of a {@link MucBackend}, someone of the remote network (`remote`: no sessions, its
 * presence in `shown`, which the room never sends anything to).
 */
export interface Occupant {
  /** Someone of the remote network of a room view, not an XMPP user: nothing is delivered to it. */
  readonly remote: boolean
  nick: string
  /** nickKey(nick): what conflicts are decided on. */
  key: string
  /** The real bare JID (for a remote occupant: the JID shown for it, or ''). */
  readonly bare: string
  /** XEP-0421 occupant id. */
  readonly occupantId: string
  affiliation: Affiliation
  role: Role
  /** Full JID → session. */
  readonly sessions: Map<string, Session>
  /** The session whose presence the room shows (the one that sent presence last). */
  shown: Session
  /** Message rate bucket: tokens left and when they were counted. */
  tokens: number
  counted: number
}

/**
 * A room's lifecycle: `locked` from its creation until its owner configures it (with
 * `lockNewRooms`; only the owner may enter), `open` while it exists, `destroyed` once removed
 * (late async work stops).
 */
export type RoomState = { kind: 'locked' } | { kind: 'open' } | { kind: 'destroyed' }

/** A room of the service, or one user's view of a remote room (with a {@link MucBackend}). */
export class Room {
  /** Where `ctx.rooms` keeps it: the local part, or, for a view, local part + ' ' + user's bare JID. */
  readonly key: string
  /** The key of its messages in the archive: the room's JID, or, for a view, JID + ' ' + user. */
  readonly archive: string
  state: RoomState = { kind: 'open' }
  /** Nick key → occupant. */
  readonly occupants = new Map<string, Occupant>()
  /** Real full JID → occupant. */
  readonly byJid = new Map<string, Occupant>()
  /** Real bare JID → occupant. */
  readonly byBare = new Map<string, Occupant>()
  /** The owner, admin, member and outcast lists. */
  readonly affiliations = new Affiliations()
  subject: { text: string; nick: string | undefined } = { text: '', nick: undefined }
  /** The handle its backend drives, for a user's view of a remote room. */
  view: RoomView | undefined = undefined

  constructor(
    /** Local part (lower case). */
    readonly local: string,
    /** Bare JID. */
    readonly jid: string,
    readonly config: RoomConfig,
    readonly created: number,
    /** The user whose view of a remote room this is (with a backend), or undefined. */
    readonly user?: string,
  ) {
    this.key = user === undefined ? local : `${local} ${user}`
    this.archive = user === undefined ? jid : `${jid} ${user}`
  }

  get nonAnonymous(): boolean {
    return this.config.whois === 'anyone'
  }
}

/** The session an occupant shows: the one that sent presence last. @internal */
export function latestSession(o: Occupant): Session | undefined {
  let best: Session | undefined
  for (const s of o.sessions.values()) if (best === undefined || s.at >= best.at) best = s
  return best
}
