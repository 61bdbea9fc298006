// What the parts of the engine share: the component, the resolved options, the rooms and the
// per-user counts, and the one function that hands a stanza to a session.
import { type Component, type Element, xml } from '@satellite/core'
import createDebug from 'debug'
import type { ArchiveSettings, Loading } from './archive.js'
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
  /** Room local part (lower case) → room. */
  readonly rooms: Map<string, Room>
  /** Real bare JID → rooms it is an occupant of. */
  readonly userRooms: Map<string, number>
  /** Stanzas dropped from full join queues (for tests and metrics). */
  dropped: number
  /** Reports a MucError on the component's `error` event. */
  report(err: Error): void
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

/** A shallow copy of a stanza (its children are shared: nothing changes them once sent). */
export function copy(el: Element): Element {
  const out = xml(el.name, { ...el.attrs })
  for (const child of el.children) out.children.push(child)
  return out
}
