// The plugin: muc(xmpp, options) installs the room engine on the component's domain.
import {
  bareOf,
  type Component,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  type PluginHandle,
  type Stanza,
} from '@satellite/core'
import { adminGet, adminSet } from './admin.js'
import {
  archiveHistory,
  loadListed,
  prune,
  resolveArchive,
  startRetention,
  withRoom,
  withRoomIq,
} from './archive.js'
import type { RoomView } from './backend.js'
import type { Context } from './context.js'
import { discoInfo, discoItems, ping, serviceItems } from './disco.js'
import { MucError, MucErrorCodes } from './errors.js'
import { mamForm, mamQuery, NS_MAM } from './mam.js'
import { onMessage } from './messages.js'
import { NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_PING } from './ns.js'
import { onPresence } from './occupancy.js'
import { occupantIds } from './occupant-id.js'
import { type MucOptions, resolveOptions } from './options.js'
import { ownerGet, ownerSet } from './owner.js'
import { announce, Status } from './presence.js'
import type { Affiliation, Role } from './room.js'

/**
 * An occupant as {@link MucService.room} shows it.
 *
 * @example
 * ```ts
 * const nicks = service.room('lobby')?.occupants.map((o: OccupantSnapshot) => o.nick)
 * ```
 */
export interface OccupantSnapshot {
  nick: string
  /** Real bare JID. */
  bare: string
  /** Real full JIDs of its sessions (resources sharing the nick). */
  jids: string[]
  occupantId: string
  affiliation: Affiliation
  role: Role
}

/**
 * A room as {@link MucService.room} shows it (a copy: later changes do not show in it).
 *
 * @example
 * ```ts
 * const lobby: RoomSnapshot | undefined = service.room('lobby')
 * ```
 */
export interface RoomSnapshot {
  /** The room's bare JID. */
  jid: string
  subject: string
  public: boolean
  persistent: boolean
  occupants: OccupantSnapshot[]
}

/**
 * What {@link muc} returns.
 *
 * @example
 * ```ts
 * const service = muc(xmpp, {})
 * console.log(service.size, service.room('lobby')?.occupants.length)
 * await service.close()
 * ```
 */
export interface MucService extends PluginHandle {
  /** Rooms that exist now. */
  readonly size: number
  /** The room `name` (its local part, any case), or undefined. Throws `SAT_ERR_MUC_ROOM` for a name with `@` or `/`. */
  room(name: string): RoomSnapshot | undefined
  /** Bare JIDs of every room, sorted (with a backend: of every view, once per room). */
  rooms(): string[]
  /**
   * With a backend: `user`'s view of the room `name` (its local part, any case), if the user is
   * in it. Throws `SAT_ERR_MUC_ROOM` for a name with `@` or `/`.
   */
  view(name: string, user: string): RoomView | undefined
  /** With a backend: every view the user (a bare JID) is in. */
  views(user: string): RoomView[]
  /**
   * Applies the archive's retention now (`archive.days`, `archive.maxPerRoom`; it also runs
   * every `archive.pruneInterval`); resolves to how many messages were deleted.
   */
  prune(): Promise<number>
  /**
   * Sends every occupant its unavailable presence with 110 and 332 (the service is shutting
   * down) when the component is online, forgets the rooms, and removes the routes and the disco
   * entries. Idempotent.
   */
  close(): void
}

/**
 * Installs a XEP-0045 chatroom service on the component's domain: rooms at `room@domain`,
 * occupants at `room@domain/nick`. Throws `SAT_ERR_CONFIG` for a bad option, before installing
 * anything. See the package README for what is implemented and each choice made.
 *
 * @example
 * ```ts
 * const xmpp = component(configFromEnv())
 * const rooms = muc(xmpp, { defaults: { persistent: false }, limits: { rooms: 100 } })
 * await xmpp.start()
 * ```
 */
export function muc(xmpp: Component, options: MucOptions = {}): MucService {
  const o = resolveOptions(options)
  const archive = resolveArchive(options.store, options.archive)
  const ctx: Context = {
    xmpp,
    o,
    // The deprecated `history` option still replaces the archive for history on join.
    store: options.history ?? archiveHistory(archive),
    archive,
    loading: new Map(),
    listed: new Map(),
    open: true,
    ids: occupantIds(o.occupantIdSecret),
    rooms: new Map(),
    backend: o.backend,
    userRooms: new Map(),
    dropped: 0,
    report(err) {
      if (xmpp.listenerCount('error') > 0) xmpp.emit('error', err)
    },
  }
  const custom = options.isRoom !== undefined
  const where = custom ? (s: Stanza) => o.isRoom(s.toLocal.toLowerCase()) : undefined
  const room = where === undefined ? { to: '*' } : { to: '*', where }
  const offs = [
    xmpp.presence(room, (p) => withRoom(ctx, p, () => onPresence(ctx, p))),
    xmpp.message(room, (m) => withRoom(ctx, m, () => onMessage(ctx, m))),
    xmpp.iqGet({ ...room, xmlns: NS_DISCO_INFO, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => discoInfo(ctx, iq, q)),
    ),
    xmpp.iqSet({ ...room, xmlns: NS_MAM, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => mamQuery(ctx, iq, q)),
    ),
    xmpp.iqGet({ ...room, xmlns: NS_MAM, name: 'query' }, (iq) =>
      withRoomIq(ctx, iq, () => mamForm(ctx, iq)),
    ),
    xmpp.iqGet({ ...room, xmlns: NS_DISCO_ITEMS, name: 'query' }, (iq) => discoItems(ctx, iq)),
    xmpp.iqGet({ ...room, xmlns: NS_PING, name: 'ping' }, (iq) => ping(ctx, iq)),
    xmpp.iqGet({ ...room, xmlns: NS_MUC_ADMIN, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => adminGet(ctx, iq, q)),
    ),
    xmpp.iqSet({ ...room, xmlns: NS_MUC_ADMIN, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => adminSet(ctx, iq, q)),
    ),
    xmpp.iqGet({ ...room, xmlns: NS_MUC_OWNER, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => ownerGet(ctx, iq, q)),
    ),
    xmpp.iqSet({ ...room, xmlns: NS_MUC_OWNER, name: 'query' }, (iq, q) =>
      withRoomIq(ctx, iq, () => ownerSet(ctx, iq, q)),
    ),
    xmpp.iqGet({ to: '', xmlns: NS_DISCO_ITEMS, name: 'query' }, (_iq, q) => serviceItems(ctx, q)),
  ]
  const identities = o.identityTypes.map((type) => ({ category: 'conference', type, name: o.name }))
  for (const identity of identities) xmpp.disco.identity(identity)
  xmpp.disco.feature(NS_MUC)
  const stopRetention = startRetention(ctx)
  loadListed(ctx)
  let open = true
  return {
    get size() {
      return ctx.rooms.size
    },
    room(name) {
      if (name.includes('@') || name.includes('/')) {
        throw new MucError(MucErrorCodes.ROOM, `a room name is a local part, got '${name.slice(0, 64)}'`)
      }
      const r = ctx.rooms.get(name.toLowerCase())
      if (r === undefined || r.user !== undefined) return undefined
      return {
        jid: r.jid,
        subject: r.subject.text,
        public: r.config.public,
        persistent: r.config.persistent,
        occupants: [...r.occupants.values()].map((occ) => ({
          nick: occ.nick,
          bare: occ.bare,
          jids: [...occ.sessions.keys()],
          occupantId: occ.occupantId,
          affiliation: occ.affiliation,
          role: occ.role,
        })),
      }
    },
    rooms() {
      return [...new Set([...ctx.rooms.values()].map((r) => r.jid))].sort()
    },
    view(name, user) {
      if (name.includes('@') || name.includes('/')) {
        throw new MucError(MucErrorCodes.ROOM, `a room name is a local part, got '${name.slice(0, 64)}'`)
      }
      return ctx.rooms.get(`${name.toLowerCase()} ${bareOf(user)}`)?.view
    },
    views(user) {
      const bare = bareOf(user)
      const out: RoomView[] = []
      for (const r of ctx.rooms.values()) if (r.user === bare && r.view !== undefined) out.push(r.view)
      return out
    },
    prune() {
      return prune(ctx)
    },
    close() {
      if (!open) return
      open = false
      ctx.open = false
      stopRetention()
      for (const off of offs) off()
      for (const identity of identities) xmpp.disco.removeIdentity(identity)
      xmpp.disco.removeFeature(NS_MUC)
      if (xmpp.online) {
        for (const r of ctx.rooms.values()) {
          for (const occ of r.occupants.values()) {
            announce(ctx, r, occ, {
              base: undefined,
              type: 'unavailable',
              others: false,
              codes: [Status.SHUTDOWN],
            })
          }
        }
      }
      for (const r of ctx.rooms.values()) r.state = { kind: 'destroyed' }
      ctx.rooms.clear()
      ctx.userRooms.clear()
    },
  }
}
