import type { Element } from '@satellite/core'
import createDebug from 'debug'
import { PrivilegeErrorCodes, PrivilegeInputError } from './errors.js'
import { NS_PRIVILEGE_1, NS_PRIVILEGE_2 } from './ns.js'

const log = createDebug('satellite:privilege')

/**
 * Roster access granted by the server.
 *
 * @example
 * ```ts
 * const canWrite = (a: RosterAccess) => a === 'set' || a === 'both'
 * ```
 */
export type RosterAccess = 'none' | 'get' | 'set' | 'both'
/**
 * Message access granted by the server: `outgoing` allows {@link Privileges.sendAs}.
 *
 * @example
 * ```ts
 * const ok = (a: MessageAccess) => a === 'outgoing'
 * ```
 */
export type MessageAccess = 'none' | 'outgoing'
/**
 * Presence access: with `managed_entity` the server forwards the presences of its users to
 * the component; with `roster`, of their contacts too.
 *
 * @example
 * ```ts
 * const seesUsers = (a: PresenceAccess) => a !== 'none'
 * ```
 */
export type PresenceAccess = 'none' | 'managed_entity' | 'roster'
/**
 * Access to privileged iqs of one namespace (XEP-0356 0.4, `urn:xmpp:privilege:2` only).
 *
 * @example
 * ```ts
 * const canSet = (a: IqAccess) => a !== 'get'
 * ```
 */
export type IqAccess = 'get' | 'set' | 'both'

/**
 * What one server granted to the component, from its last announcement.
 *
 * @example
 * ```ts
 * const g = priv.granted('example.org')
 * if (g?.roster === 'both') console.log(`roster access since ${g.at.toISOString()}`)
 * ```
 */
export interface Grant {
  /** The server domain that sent the announcement (users `*@server` are concerned). */
  server: string
  /** The namespace the server speaks: {@link NS_PRIVILEGE_1} or {@link NS_PRIVILEGE_2}. */
  namespace: typeof NS_PRIVILEGE_1 | typeof NS_PRIVILEGE_2
  roster: RosterAccess
  /** Whether the server forwards its users' roster pushes (0.4: the `push` attribute). */
  rosterPush: boolean
  message: MessageAccess
  presence: PresenceAccess
  /** Namespace → access of privileged iqs (0.4 only; empty otherwise). */
  iq: Record<string, IqAccess>
  /** When the announcement arrived. */
  at: Date
}

const ROSTER_TYPES: ReadonlySet<string> = new Set(['none', 'get', 'set', 'both'])
const MESSAGE_TYPES: ReadonlySet<string> = new Set(['none', 'outgoing'])
const PRESENCE_TYPES: ReadonlySet<string> = new Set(['none', 'managed_entity', 'roster'])
const IQ_TYPES: ReadonlySet<string> = new Set(['get', 'set', 'both'])

/** The roster accesses that allow a roster get, and a roster set. */
export const NEEDED_ROSTER: Record<'get' | 'set', ReadonlySet<RosterAccess>> = {
  get: new Set(['get', 'both']),
  set: new Set(['set', 'both']),
}

/** A malformed announcement: parseGrant's error. */
function malformed(message: string): PrivilegeInputError {
  return new PrivilegeInputError(message, PrivilegeErrorCodes.ANNOUNCEMENT)
}

/**
 * Reads a `<privilege/>` announcement (either namespace) into a {@link Grant}. Unknown
 * `access` values are skipped (later versions may add some); a known access with an unknown
 * or missing type counts as `none` (an iq namespace with one grants nothing, an unknown `push`
 * counts as `false`), and `onIgnored` is told why. A repeated access, a `<perm/>` without
 * `access`, an `iq` permission in `urn:xmpp:privilege:1` or too many elements make it
 * malformed: a {@link PrivilegeInputError} is thrown, with `code` `SAT_ERR_PRIVILEGE_ANNOUNCEMENT`.
 *
 * @example
 * ```ts
 * const grant = parseGrant(message.getChild('privilege', NS_PRIVILEGE_2)!, 'example.org', 64, console.warn)
 * ```
 */
export function parseGrant(
  el: Element,
  server: string,
  maxPerms = 64,
  onIgnored: (reason: string) => void = () => {},
): Grant {
  const ns = el.attrs.xmlns
  if (el.name !== 'privilege' || (ns !== NS_PRIVILEGE_1 && ns !== NS_PRIVILEGE_2)) {
    throw malformed(`expected <privilege xmlns='${NS_PRIVILEGE_2}'/>, got <${el.name}/>`)
  }
  const grant: Grant = {
    server,
    namespace: ns,
    roster: 'none',
    rosterPush: false,
    message: 'none',
    presence: 'none',
    iq: {},
    at: new Date(),
  }
  const perms = el.getChildren('perm')
  if (perms.length > maxPerms) throw malformed(`more than ${maxPerms} <perm/> elements`)
  const seen = new Set<string>()
  let push: string | undefined
  for (const perm of perms) {
    const access = perm.attrs.access
    const type = perm.attrs.type
    if (typeof access !== 'string') throw malformed("a <perm/> without 'access'")
    if (access !== 'roster' && access !== 'message' && access !== 'presence' && access !== 'iq') {
      log('skipping unknown permission %s', access)
      continue
    }
    if (seen.has(access)) throw malformed(`permission '${access}' announced twice`)
    seen.add(access)
    if (access === 'iq') {
      if (ns === NS_PRIVILEGE_1) throw malformed(`the iq permission does not exist in ${ns}`)
      const spaces = perm.getChildren('namespace')
      if (spaces.length > maxPerms) throw malformed(`more than ${maxPerms} <namespace/> elements`)
      for (const space of spaces) {
        const name = space.attrs.ns
        const t = space.attrs.type
        if (typeof name !== 'string' || name === '') throw malformed("a <namespace/> without 'ns'")
        if (t === undefined) continue // Prosody writes no type for a namespace allowing nothing
        if (!IQ_TYPES.has(t)) {
          onIgnored(`unknown iq type '${t}' for ${name}: nothing granted for it`)
          continue
        }
        grant.iq[name] = t as IqAccess
      }
      continue
    }
    const allowed = access === 'roster' ? ROSTER_TYPES : access === 'message' ? MESSAGE_TYPES : PRESENCE_TYPES
    if (typeof type !== 'string' || !allowed.has(type)) {
      onIgnored(`unknown type '${type ?? ''}' for permission '${access}': read as 'none'`)
      continue
    }
    if (access === 'roster') {
      grant.roster = type as RosterAccess
      push = perm.attrs.push
    } else if (access === 'message') grant.message = type as MessageAccess
    else grant.presence = type as PresenceAccess
  }
  let pushOk = push !== 'false' && push !== '0'
  if (push !== undefined && push !== 'true' && push !== 'false' && push !== '1' && push !== '0') {
    onIgnored(`unknown push '${push}' for permission 'roster': read as 'false'`)
    pushOk = false
  }
  // 0.4: push defaults to true for get/both; 0.3 had no roster pushes at all.
  const reads = grant.roster === 'get' || grant.roster === 'both'
  grant.rosterPush = ns === NS_PRIVILEGE_2 && reads && pushOk
  return grant
}
