// The engine's side of the MucStore: the archive behind discussion history, persistent rooms
// loaded on their first stanza after a restart and saved when they change, and retention.
import { numberOption, optionError, resourceOf, type Stanza, StanzaError } from '@satellite/core'
import { type Context, log, roomKey } from './context.js'
import { MucError, MucErrorCodes } from './errors.js'
import type { HistoryEntry, HistoryQuery, HistoryStore } from './history.js'
import { affiliationSource } from './hooks.js'
import { NS_OCCUPANT_ID } from './ns.js'
import { refuse } from './occupancy.js'
import type { RoomConfig } from './options.js'
import { Room } from './room.js'
import { MemoryStore, type MucStore, type StoredRoom } from './store.js'

/**
 * How long the archive keeps messages (XEP-0313) and how much a query returns.
 *
 * @example
 * ```ts
 * const archive: ArchiveOptions = { days: 30, maxPerRoom: 5000, maxPage: 100 }
 * ```
 */
export interface ArchiveOptions {
  /** Messages older than this many days are deleted (default: kept whatever their age). */
  days?: number
  /** Newest messages kept per room (default 10,000); older ones are deleted. */
  maxPerRoom?: number
  /** How often old messages are deleted, in ms (default one hour; also once at start). */
  pruneInterval?: number
  /** Largest page of a MAM query (default 100; a larger `<max/>` is cut to it). */
  maxPage?: number
  /** Page of a MAM query without `<max/>` (default 20). */
  defaultPage?: number
}

/** The store and archive settings after defaults. @internal */
export interface ArchiveSettings {
  store: MucStore
  days: number | undefined
  maxPerRoom: number
  pruneInterval: number
  maxPage: number
  defaultPage: number
}

const P = 'muc'
const METHODS = [
  'loadRoom',
  'saveRoom',
  'deleteRoom',
  'rooms',
  'affiliations',
  'setAffiliation',
  'append',
  'query',
  'prune',
] as const

/** Checks the `store` and `archive` options (SAT_ERR_CONFIG). @internal */
export function resolveArchive(store: unknown, archive: ArchiveOptions | undefined): ArchiveSettings {
  if (store !== undefined) {
    const s = store as Record<string, unknown> | null
    if (typeof s !== 'object' || s === null || METHODS.some((m) => typeof s[m] !== 'function')) {
      throw optionError(P, 'store', `must be a MucStore (${METHODS.join(', ')})`)
    }
  }
  const a = archive ?? {}
  const maxPage = numberOption(P, 'archive.maxPage', a.maxPage, 100, { min: 1, max: 10_000 })
  return {
    store: (store as MucStore | undefined) ?? new MemoryStore(),
    days:
      a.days === undefined
        ? undefined
        : numberOption(P, 'archive.days', a.days, 0, { min: 0, integer: false }),
    maxPerRoom: numberOption(P, 'archive.maxPerRoom', a.maxPerRoom, 10_000, { min: 0 }),
    pruneInterval: numberOption(P, 'archive.pruneInterval', a.pruneInterval, 3_600_000, {
      min: 1000,
      max: 2_147_483_647,
    }),
    maxPage,
    defaultPage: numberOption(P, 'archive.defaultPage', a.defaultPage, Math.min(20, maxPage), {
      min: 1,
      max: maxPage,
    }),
  }
}

/**
 * Discussion history read from and written to the archive: what a join gets is the newest page
 * of the same messages a MAM query sees. @internal
 */
export function archiveHistory(a: ArchiveSettings): HistoryStore {
  const store = a.store
  return {
    append(room: string, e: HistoryEntry) {
      const occupantId = e.message.getChild('occupant-id', NS_OCCUPANT_ID)?.attrs.id ?? ''
      const nick = resourceOf(e.message.attrs.from ?? '')
      return store.append(room, { ...e, nick, occupantId }, a.maxPerRoom)
    },
    recent(room: string, q: HistoryQuery) {
      const query = {
        before: '',
        max: q.maxStanzas,
        ...(q.since === undefined ? {} : { start: q.since + 1 }),
      }
      const page = store.query(room, query)
      if (page instanceof Promise) return page.then((p) => p?.messages ?? [])
      return page?.messages ?? []
    },
    forget(room: string) {
      return store.deleteRoom(room)
    },
  }
}

function failed(ctx: Context, what: string, err: unknown): void {
  ctx.report(new MucError(MucErrorCodes.STORE, what, { cause: err }))
}

/** Runs a store call that may be asynchronous, reporting a failure as SAT_ERR_MUC_STORE. */
function attempt(ctx: Context, what: string, call: () => unknown): void {
  try {
    const r = call()
    if (r instanceof Promise) r.catch((err: unknown) => failed(ctx, what, err))
  } catch (err) {
    failed(ctx, what, err)
  }
}

/**
 * Saves a persistent room (settings, subject, every affiliation); does nothing for a temporary
 * one. The affiliation code calls it after a configuration change makes a room persistent; each
 * later affiliation change is saved by the room's `affiliations.onChange`.
 */
export function persistRoom(ctx: Context, room: Room): void {
  if (!room.config.persistent || room.state.kind === 'destroyed') return
  const store = ctx.archive.store
  const stored: StoredRoom = {
    jid: room.jid,
    config: { ...room.config },
    subject: room.subject.text,
    subjectNick: room.subject.nick,
    created: room.created,
  }
  attempt(ctx, `room ${room.jid} was not saved`, () => store.saveRoom(stored))
  if (ctx.listed.has(room.local) || ctx.listed.size < ctx.o.rooms) {
    ctx.listed.set(room.local, { public: room.config.public, name: room.config.name })
  }
  for (const e of room.affiliations.entries()) {
    attempt(ctx, `an affiliation of ${room.jid} was not saved`, () =>
      store.setAffiliation(room.jid, e.jid, e.affiliation, e.reason),
    )
  }
}

/**
 * Reads the store's persistent rooms for disco#items (their `public` flag and name), once at
 * start, at most `limits.rooms` of them; a failure is reported (SAT_ERR_MUC_STORE) and the list
 * then holds the rooms saved from now on.
 */
export function loadListed(ctx: Context): void {
  const store = ctx.archive.store
  const add = (jid: string, stored: StoredRoom | undefined) => {
    const local = jid.split('@')[0] ?? ''
    if (stored === undefined || local === '' || ctx.listed.has(local) || ctx.listed.size >= ctx.o.rooms)
      return
    const config = { ...ctx.o.defaults, ...(stored.config as Partial<RoomConfig>) }
    ctx.listed.set(local, {
      public: config.public === true,
      name: typeof config.name === 'string' ? config.name : undefined,
    })
  }
  const run = async () => {
    const jids = (await store.rooms()).slice(0, ctx.o.rooms)
    for (const jid of jids) {
      if (!ctx.open) return
      add(jid, await store.loadRoom(jid))
    }
  }
  run().catch((err: unknown) => failed(ctx, 'the rooms of the store could not be listed', err))
}

/** Wires a room to the store: affiliation changes of a persistent room are saved. */
function watch(ctx: Context, room: Room): void {
  room.affiliations.onChange = (jid, affiliation, reason) => {
    if (!room.config.persistent || room.state.kind === 'destroyed') return
    attempt(ctx, `an affiliation of ${room.jid} was not saved`, () =>
      ctx.archive.store.setAffiliation(room.jid, jid, affiliation, reason),
    )
  }
}

/** A room was created by a join: watched, and saved when persistent. Called by enter(). */
export function roomCreated(ctx: Context, room: Room): void {
  watch(ctx, room)
  persistRoom(ctx, room)
}

/** The Room for a stored persistent room: its settings over the defaults, subject, affiliations. */
function revive(ctx: Context, local: string, stored: StoredRoom, affs: readonly AffiliationRow[]): Room {
  const config = { ...ctx.o.defaults, ...(stored.config as Partial<RoomConfig>) }
  const room = new Room(local, stored.jid, config, stored.created)
  affiliationSource(ctx, room)
  room.subject = { text: stored.subject, nick: stored.subjectNick }
  for (const a of affs) room.affiliations.set(a.jid, a.affiliation, a.reason)
  watch(ctx, room)
  log('room %s loaded from the store', room.jid)
  return room
}

interface AffiliationRow {
  jid: string
  affiliation: 'owner' | 'admin' | 'member' | 'outcast'
  reason?: string | undefined
}

/** Stanzas waiting for a room being loaded from an asynchronous store, per room local part. */
export type Loading = Map<string, (() => void)[]>

/**
 * Runs `handle` once the room the stanza is addressed to is in memory: at once when it is (or
 * when the store has no such room, or the service is at its rooms limit); after loading it from
 * the store otherwise. An asynchronous store holds the room's stanzas meanwhile (at most
 * `limits.joinQueue`; more are refused with `resource-constraint`).
 */
export function withRoom(
  ctx: Context,
  stanza: Stanza,
  handle: () => void,
  busy: (err: StanzaError) => void = (err) => {
    if (stanza.attrs.type !== 'error') refuse(ctx, stanza, err)
  },
): void {
  const local = stanza.toLocal.toLowerCase()
  if (ctx.backend !== undefined) {
    // A view is never loaded from the store; its stanzas wait while its join is being answered.
    const pending = ctx.loading.get(roomKey(ctx, stanza.attrs.to, stanza.attrs.from))
    if (pending === undefined) handle()
    else if (pending.length < ctx.o.joinQueue) pending.push(handle)
    else busy(new StanzaError('resource-constraint', { type: 'wait', text: 'the room is being joined' }))
    return
  }
  if (local === '' || ctx.rooms.has(local) || ctx.rooms.size >= ctx.o.rooms) {
    handle()
    return
  }
  const waiting = ctx.loading.get(local)
  if (waiting !== undefined) {
    if (waiting.length < ctx.o.joinQueue) waiting.push(handle)
    else busy(new StanzaError('resource-constraint', { type: 'wait', text: 'the room is loading' }))
    return
  }
  const jid = `${local}@${ctx.xmpp.domain}`
  const store = ctx.archive.store
  const done = (stored: StoredRoom | undefined, affs: readonly AffiliationRow[]) => {
    if (stored !== undefined && !ctx.rooms.has(local) && ctx.open)
      ctx.rooms.set(local, revive(ctx, local, stored, affs))
  }
  let found: ReturnType<MucStore['loadRoom']>
  try {
    found = store.loadRoom(jid)
    if (!(found instanceof Promise)) {
      const affs = found === undefined ? [] : store.affiliations(jid)
      if (!(affs instanceof Promise)) {
        done(found, affs)
        handle()
        return
      }
      found = Promise.resolve(found)
    }
  } catch (err) {
    failed(ctx, `room ${jid} could not be loaded`, err)
    handle()
    return
  }
  const queue = [handle]
  ctx.loading.set(local, queue)
  const load = async () => {
    const stored = await found
    done(stored, stored === undefined ? [] : await store.affiliations(jid))
  }
  load()
    .catch((err: unknown) => failed(ctx, `room ${jid} could not be loaded`, err))
    .finally(() => {
      ctx.loading.delete(local)
      if (!ctx.open) return
      for (const h of queue) h()
    })
}

/** {@link withRoom} for an iq handler: its answer, once the room is loaded. */
export function withRoomIq<T>(ctx: Context, iq: Stanza, handle: () => T | Promise<T>): T | Promise<T> {
  const local = iq.toLocal.toLowerCase()
  const pending = ctx.backend !== undefined && ctx.loading.has(roomKey(ctx, iq.attrs.to, iq.attrs.from))
  if (ctx.backend !== undefined && !pending) return handle()
  if (!pending && (local === '' || ctx.rooms.has(local) || ctx.rooms.size >= ctx.o.rooms)) return handle()
  return new Promise<T>((resolve, reject) => {
    withRoom(
      ctx,
      iq,
      () => {
        try {
          resolve(handle())
        } catch (err) {
          reject(err)
        }
      },
      reject,
    )
  })
}

/** Applies the retention now and every `pruneInterval`; returns the function that stops it. */
export function startRetention(ctx: Context): () => void {
  const a = ctx.archive
  const run = () => prune(ctx)
  run()
  const timer = setInterval(run, a.pruneInterval)
  timer.unref()
  return () => clearInterval(timer)
}

/** Deletes what the retention says is too old or too much; resolves to how many messages. */
export async function prune(ctx: Context): Promise<number> {
  const a = ctx.archive
  const retention = {
    keep: a.maxPerRoom,
    ...(a.days === undefined ? {} : { before: ctx.o.now() - a.days * 86_400_000 }),
  }
  try {
    const n = await a.store.prune(retention)
    if (n > 0) log('archive: %d old messages deleted', n)
    return n
  } catch (err) {
    failed(ctx, 'the archive could not be pruned', err)
    return 0
  }
}
