// The options of muc(): every limit a typed option with a default, checked before anything is
// installed (SAT_ERR_CONFIG `muc.<option>: problem`).
import { numberOption, optionError } from '@satellite/core'
import type { ArchiveOptions } from './archive.js'
import { isBackend, type MucBackend } from './backend.js'
import type { HistoryStore } from './history.js'
import type { MucHooks } from './hooks.js'
import type { MucStore } from './store.js'

/**
 * How a new room is set up (every room, until the configuration form comes: see the README).
 *
 * @example
 * ```ts
 * const defaults: RoomDefaults = { persistent: true, whois: 'anyone', privateMessages: false }
 * ```
 */
export interface RoomDefaults {
  /** Listed in the service's disco#items (`muc_public`; default true). */
  public?: boolean
  /** Kept when the last occupant leaves (`muc_persistent`; default false: the room goes). */
  persistent?: boolean
  /**
   * Who sees occupants' real JIDs: `'moderators'` (semi-anonymous, the default) or `'anyone'`
   * (non-anonymous: status 100 on join, and the `jid` of every item).
   */
  whois?: 'moderators' | 'anyone'
  /** Occupants may send each other private messages (default true; otherwise `forbidden`). */
  privateMessages?: boolean
  /** Any occupant may change the subject (default false: moderators only). */
  changeSubject?: boolean
  /** Only members (and admins, owners) may enter (`muc_membersonly`; default false). Others: `registration-required`. */
  membersOnly?: boolean
  /** Only occupants with voice may send groupchat; newcomers without affiliation are visitors (`muc_moderated`; default false). */
  moderated?: boolean
  /** The room's discussions are logged publicly: status 170 on join (default false). */
  logged?: boolean
  /** Messages of discussion history kept and sent on join (default 20, at most `limits.historyLength`). */
  historyLength?: number
  /** Description shown in disco#info (`muc#roominfo_description`; default none). */
  description?: string
}

/**
 * Bounds of the service: nothing a client sends grows memory past them.
 *
 * @example
 * ```ts
 * const limits: MucLimits = { rooms: 100, occupantsPerRoom: 50, messageRate: { burst: 5, perSecond: 1 } }
 * ```
 */
export interface MucLimits {
  /** Rooms on the service (default 1000); a join that would create one more: `resource-constraint`. */
  rooms?: number
  /** Occupants (nicks) in one room (default 200); one more: `service-unavailable` (XEP-0045 §7.2.10). */
  occupantsPerRoom?: number
  /** Rooms one user (bare JID) is in at once (default 100); one more: `resource-constraint`. */
  roomsPerUser?: number
  /** Resources of one user sharing its nick in one room (default 10); one more: `resource-constraint`. */
  sessionsPerOccupant?: number
  /** Longest nick, in code points after enforcement (default 64); longer: `jid-malformed`. */
  nickLength?: number
  /** Characters of a message's text and attribute values (default 10000); more: `policy-violation`. */
  messageChars?: number
  /** Messages per occupant: a burst, then a rate (default 10, then 2 per second); faster: `resource-constraint`. */
  messageRate?: { burst?: number; perSecond?: number }
  /** Largest `historyLength` a room may have (default 200). */
  historyLength?: number
  /** Live stanzas kept for a session while its history is read from the store (default 100; more are dropped). */
  joinQueue?: number
  /** Entries on a room's affiliation lists together (default 10000); one more: `resource-constraint`. */
  affiliations?: number
  /** Rooms in one page of the service's disco#items (default 100; a larger `<max/>` is cut to it). */
  discoPage?: number
  /** How long a backend's `join`, `nick` or message call may take, in ms (default 60000); then `remote-server-timeout`. */
  backendTimeout?: number
}

/**
 * Options of {@link muc}.
 *
 * @example
 * ```ts
 * muc(xmpp, { name: 'Chatrooms', defaults: { whois: 'anyone' }, limits: { rooms: 50 } })
 * ```
 */
export interface MucOptions {
  /** The service's name in disco#info (default 'Chatrooms'). */
  name?: string
  /** Which local parts of the domain are rooms (default: every one). Others are left to other routes. */
  isRoom?: (local: string) => boolean
  /**
   * The `conference` identity types of the service and of every room in disco#info (default
   * `['text']`, XEP-0045's). A gateway adds its own registered type, e.g. `['text', 'irc']` for IRC
   * channels (biboumi's), so clients that know the network can say so. 1 to 4 types of lower-case
   * letters, digits and '-'.
   */
  identityTypes?: readonly string[]
  /** Whether `bare` may create a room by joining it (default: anyone). Refused: `not-allowed`. */
  mayCreate?: (room: string, bare: string) => boolean
  /** How a new room is set up. */
  defaults?: RoomDefaults
  /** The service's bounds. */
  limits?: MucLimits
  /**
   * Where persistent rooms, affiliations and the archive are kept (default: in memory,
   * {@link MemoryStore}; {@link SqliteMucStore} keeps them in a file).
   */
  store?: MucStore
  /** The archive's retention and query pages. */
  archive?: ArchiveOptions
  /**
   * Where discussion history is kept instead of the archive.
   * @deprecated history on join now reads the archive of `store`; this option will go.
   */
  history?: HistoryStore
  /**
   * The secret of XEP-0421 occupant ids (at least 16 characters). Without it, a random one:
   * ids change when the process restarts.
   */
  occupantIdSecret?: string
  /**
   * Keep a new room locked until its owner submits the configuration form or accepts the
   * instant room (XEP-0045 §10.1; default false: instant rooms). Others get `item-not-found`.
   */
  lockNewRooms?: boolean
  /**
   * A remote network behind the rooms (a gateway's channels, a bridge's groups): every room is
   * then one user's view of a remote room, joined and relayed through the backend (see
   * {@link MucBackend}). Views are never persistent; the muc#admin and muc#owner protocols
   * are answered `feature-not-implemented` in them.
   */
  backend?: MucBackend
  /** Hooks to refuse joins and filter or rewrite messages (see {@link MucHooks}). */
  hooks?: MucHooks
  /** The clock (ms since the epoch), for tests. */
  now?: () => number
}

/** Room settings after defaults. @internal */
export interface RoomConfig {
  public: boolean
  persistent: boolean
  whois: 'moderators' | 'anyone'
  privateMessages: boolean
  changeSubject: boolean
  membersOnly: boolean
  moderated: boolean
  /** The room's name (`muc#roomconfig_roomname`), shown in disco. */
  name: string | undefined
  /** The password a join must give (`muc#roomconfig_roomsecret`), when password-protected. */
  password: string | undefined
  /** Most occupants (`muc#roomconfig_maxusers`); owners and admins may still enter. */
  maxUsers: number | undefined
  /** Occupants may invite others (`muc#roomconfig_allowinvites`). */
  allowInvites: boolean
  logged: boolean
  historyLength: number
  description: string | undefined
}

/** Options after defaults and checks. @internal */
export interface Resolved {
  name: string
  identityTypes: readonly string[]
  isRoom: (local: string) => boolean
  mayCreate: (room: string, bare: string) => boolean
  defaults: RoomConfig
  rooms: number
  occupantsPerRoom: number
  roomsPerUser: number
  sessionsPerOccupant: number
  nickLength: number
  messageChars: number
  burst: number
  perSecond: number
  joinQueue: number
  affiliations: number
  historyLimit: number
  occupantIdSecret: string | undefined
  lockNewRooms: boolean
  backend: MucBackend | undefined
  backendTimeout: number
  discoPage: number
  hooks: MucHooks
  now: () => number
}

const P = 'muc'

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw optionError(P, option, `must be true or false, got ${typeof value}`)
  return value
}

function fn<T>(option: string, value: unknown, fallback: T): T {
  if (value === undefined) return fallback
  if (typeof value !== 'function') throw optionError(P, option, `must be a function, got ${typeof value}`)
  return value as T
}

/** Checks every option; throws SAT_ERR_CONFIG for the first bad one. @internal */
export function resolveOptions(options: MucOptions): Resolved {
  const o = options ?? {}
  const d = o.defaults ?? {}
  const l = o.limits ?? {}
  const name = o.name ?? 'Chatrooms'
  if (typeof name !== 'string' || name === '') throw optionError(P, 'name', 'must be a non-empty string')
  const historyLimit = numberOption(P, 'limits.historyLength', l.historyLength, 200, { min: 0, max: 10_000 })
  const whois = d.whois ?? 'moderators'
  if (whois !== 'moderators' && whois !== 'anyone') {
    throw optionError(
      P,
      'defaults.whois',
      `must be 'moderators' or 'anyone', got ${String(whois).slice(0, 40)}`,
    )
  }
  if (d.description !== undefined && typeof d.description !== 'string') {
    throw optionError(P, 'defaults.description', 'must be a string')
  }
  const types = o.identityTypes ?? ['text']
  if (
    !Array.isArray(types) ||
    types.length < 1 ||
    types.length > 4 ||
    !types.every((t) => typeof t === 'string' && /^[a-z][a-z0-9-]{0,31}$/.test(t))
  ) {
    throw optionError(P, 'identityTypes', "must be 1 to 4 identity types such as 'text' or 'irc'")
  }
  const secret = o.occupantIdSecret
  if (secret !== undefined && (typeof secret !== 'string' || secret.length < 16)) {
    throw optionError(P, 'occupantIdSecret', 'must be a string of at least 16 characters')
  }
  const history = o.history
  if (
    history !== undefined &&
    (typeof history !== 'object' ||
      history === null ||
      typeof history.append !== 'function' ||
      typeof history.recent !== 'function' ||
      typeof history.forget !== 'function')
  ) {
    throw optionError(P, 'history', 'must be a HistoryStore (append, recent, forget)')
  }
  if (o.backend !== undefined && !isBackend(o.backend)) {
    throw optionError(P, 'backend', 'must be a MucBackend (join, leave, message)')
  }
  const hooks = o.hooks ?? {}
  if (typeof hooks !== 'object' || hooks === null)
    throw optionError(P, 'hooks', 'must be an object of functions')
  for (const name of ['onJoin', 'beforeMessage', 'affiliation'] as const) {
    if (hooks[name] !== undefined && typeof hooks[name] !== 'function') {
      throw optionError(P, `hooks.${name}`, `must be a function, got ${typeof hooks[name]}`)
    }
  }
  const rate = l.messageRate ?? {}
  return {
    name,
    identityTypes: [...new Set(types)],
    isRoom: fn('isRoom', o.isRoom, () => true),
    mayCreate: fn('mayCreate', o.mayCreate, () => true),
    defaults: {
      public: bool('defaults.public', d.public, true),
      persistent: bool('defaults.persistent', d.persistent, false),
      whois,
      privateMessages: bool('defaults.privateMessages', d.privateMessages, true),
      changeSubject: bool('defaults.changeSubject', d.changeSubject, false),
      membersOnly: bool('defaults.membersOnly', d.membersOnly, false),
      moderated: bool('defaults.moderated', d.moderated, false),
      name: undefined,
      password: undefined,
      maxUsers: undefined,
      allowInvites: false,
      logged: bool('defaults.logged', d.logged, false),
      historyLength: numberOption(P, 'defaults.historyLength', d.historyLength, Math.min(20, historyLimit), {
        min: 0,
        max: historyLimit,
      }),
      description: d.description,
    },
    rooms: numberOption(P, 'limits.rooms', l.rooms, 1000, { min: 1 }),
    occupantsPerRoom: numberOption(P, 'limits.occupantsPerRoom', l.occupantsPerRoom, 200, { min: 1 }),
    roomsPerUser: numberOption(P, 'limits.roomsPerUser', l.roomsPerUser, 100, { min: 1 }),
    sessionsPerOccupant: numberOption(P, 'limits.sessionsPerOccupant', l.sessionsPerOccupant, 10, { min: 1 }),
    nickLength: numberOption(P, 'limits.nickLength', l.nickLength, 64, { min: 1, max: 1023 }),
    messageChars: numberOption(P, 'limits.messageChars', l.messageChars, 10_000, { min: 1 }),
    burst: numberOption(P, 'limits.messageRate.burst', rate.burst, 10, { min: 1 }),
    perSecond: numberOption(P, 'limits.messageRate.perSecond', rate.perSecond, 2, {
      min: 0.001,
      integer: false,
    }),
    joinQueue: numberOption(P, 'limits.joinQueue', l.joinQueue, 100, { min: 0 }),
    affiliations: numberOption(P, 'limits.affiliations', l.affiliations, 10_000, { min: 1 }),
    historyLimit,
    occupantIdSecret: secret,
    lockNewRooms: bool('lockNewRooms', o.lockNewRooms, false),
    backend: o.backend,
    hooks,
    discoPage: numberOption(P, 'limits.discoPage', l.discoPage, 100, { min: 1, max: 10_000 }),
    backendTimeout: numberOption(P, 'limits.backendTimeout', l.backendTimeout, 60_000, {
      min: 1,
      max: 2_147_483_647,
    }),
    now: fn('now', o.now, Date.now),
  }
}
