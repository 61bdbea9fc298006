// What the parts of the engine share: the component, the resolved options, the rooms and the
// per-user counts, and the one function that hands a stanza to a session.
import { bareOf, type Component, type Element, localOf, xml } from '@satellite/core'
import createDebug from 'debug'
import type { ArchiveSettings, Loading } from './archive.js'
import type { MucBackend } from './backend.js'
import type { HistoryStore } from './history.js'
import type { OccupantIds } from './occupant-id.js'
import type { Resolved } from './options.js'
import type { Room, Session } from './room.js'

/**
 * The engine's `debug` log (`satellite:muc`). Typed here, not as `debug`'s Debugger, so that the
 * published declarations need no `@types/debug`.
 */
export const log: (formatter: string, ...args: unknown[]) => void = createDebug('satellite:muc')

/** The engine's shared state. @internal */
export interface Context {
  readonly xmpp: Component
  readonly o: Resolved
  readonly store: HistoryStore
  /** The MucStore and the archive's settings. */
  readonly archive: ArchiveSettings
  /** Rooms being loaded from an asynchronous store, with the stanzas waiting for them. */
  readonly loading: Loading
  /** False once the service is closed (late store answers are dropped). */
  open: boolean
  readonly ids: OccupantIds
  /** Room key (its local part, lower case; for a view, + ' ' + the user's bare JID) → room. */
  readonly rooms: Map<string, Room>
  /** The remote network behind the rooms, if any: every room is then one user's view. */
  readonly backend: MucBackend | undefined
  /**
   * The service's persistent rooms as the store has them, loaded or not (local part → what
   * disco#items shows): read from the store at start, kept up to date as rooms are saved and
   * destroyed; at most `limits.rooms` entries.
   */
  readonly listed: Map<string, { public: boolean; name: string | undefined }>
  /** Real bare JID → rooms it is an occupant of. */
  readonly userRooms: Map<string, number>
  /** Stanzas dropped from full join queues (for tests and metrics). */
  dropped: number
  /** Reports a MucError on the component's `error` event. */
  report(err: Error): void
}

/**
 * The key of the room `to` names, as `from` sees it: its local part (lower case), or, with a
 * backend, the key of `from`'s view of it ('' when there is no sender).
 */
export function roomKey(ctx: Context, to: string | undefined, from: string | undefined): string {
  const local = localOf(to ?? '').toLowerCase()
  if (ctx.backend === undefined || local === '') return local
  if (from === undefined || from === '') return ''
  return `${local} ${bareOf(from)}`
}

/** The room (or view) a stanza is addressed to, as its sender sees it. */
export function findRoom(
  ctx: Context,
  stanza: { attrs: Record<string, string | undefined> },
): Room | undefined {
  const key = roomKey(ctx, stanza.attrs.to, stanza.attrs.from)
  return key === '' ? undefined : ctx.rooms.get(key)
}

/**
 * Sends `el` to `session` (setting its `to`; the element may be reused for the next recipient:
 * the component serializes it at once). A session still joining gets a copy queued instead, at
 * most `limits.joinQueue` of them.
 */
export function deliver(ctx: Context, session: Session, el: Element): void {
  el.attrs.to = session.jid
  const state = session.state
  if (state.kind === 'joining') {
    if (state.queue.length < ctx.o.joinQueue) state.queue.push(copy(el))
    else ctx.dropped++
    return
  }
  void ctx.xmpp.send(el).catch(() => {})
}

/**
 * Sends `el` to every session in `sessions` (a room's fan-out): serialized once for all the joined
 * ones (core's sendEach), a copy queued for each session still joining.
 */
export function deliverAll(ctx: Context, sessions: Iterable<Session>, el: Element): void {
  const to: string[] = []
  for (const s of sessions) {
    if (s.state.kind === 'joining') deliver(ctx, s, el)
    else to.push(s.jid)
  }
  if (to.length === 1) {
    el.attrs.to = to[0] as string
    void ctx.xmpp.send(el).catch(() => {})
  } else if (to.length > 1) void ctx.xmpp.sendEach(el, to).catch(() => {})
}

/** A shallow copy of a stanza (its children are shared: nothing changes them once sent). */
export function copy(el: Element): Element {
  const out = xml(el.name, { ...el.attrs })
  for (const child of el.children) out.children.push(child)
  return out
}
