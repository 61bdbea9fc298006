// Discussion history (XEP-0045 §7.2.13-14): the store interface the engine keeps messages in,
// the in-memory store, and what a join's <history/> asks for.
import type { Element } from '@satellite/core'

/**
 * A message kept for discussion history: the message as the room reflected it (from the
 * sender's occupant JID, with its stanza-id and occupant-id, without `to`).
 *
 * @example
 * ```ts
 * const entry: HistoryEntry = { id: 'c0ffee', at: Date.now(), jid: 'alice@example.org/phone', message }
 * ```
 */
export interface HistoryEntry {
  /** The XEP-0359 stanza-id the room gave the message. */
  id: string
  /** When the room received it (ms since the epoch). */
  at: number
  /** The sender's real full JID (shown as the delay's `from` in non-anonymous rooms only). */
  jid: string
  /** The reflected message, without `to`; never changed once stored. */
  message: Element
}

/**
 * What a join asks of the store: the newest `maxStanzas` messages, only those after `since`
 * (ms since the epoch) when given. The engine applies `maxchars` itself.
 *
 * @example
 * ```ts
 * const q: HistoryQuery = { maxStanzas: 20, since: Date.now() - 180_000 }
 * ```
 */
export interface HistoryQuery {
  maxStanzas: number
  since?: number
}

/**
 * Where rooms keep their discussion history. A method may return a promise (a database): the
 * engine holds a joining occupant's live traffic until the history is sent. Room names are the
 * rooms' bare JIDs. The SQLite store of a later version implements the same interface.
 *
 * @example
 * ```ts
 * muc(xmpp, { history: new MemoryHistory(50) })
 * ```
 */
export interface HistoryStore {
  /** Keeps `entry` as the newest message of `room`, keeping at most `keep` of them. */
  append(room: string, entry: HistoryEntry, keep: number): void | Promise<void>
  /** The newest entries of `room` matching `query`, oldest first. */
  recent(room: string, query: HistoryQuery): readonly HistoryEntry[] | Promise<readonly HistoryEntry[]>
  /** Forgets `room` (it was destroyed). */
  forget(room: string): void | Promise<void>
}

/**
 * The default {@link HistoryStore}: the newest messages of each room in memory, at most
 * `maxPerRoom` per room (and never more than a room's own length); lost on restart. Rooms are
 * forgotten when destroyed, so memory is bounded by the service's rooms limit.
 *
 * @example
 * ```ts
 * const history = new MemoryHistory(20)
 * ```
 */
export class MemoryHistory implements HistoryStore {
  readonly #rooms = new Map<string, HistoryEntry[]>()
  constructor(readonly maxPerRoom = 200) {}

  append(room: string, entry: HistoryEntry, keep: number): void {
    const max = Math.min(keep, this.maxPerRoom)
    if (max <= 0) return
    let list = this.#rooms.get(room)
    if (list === undefined) {
      list = []
      this.#rooms.set(room, list)
    }
    list.push(entry)
    if (list.length > max) list.splice(0, list.length - max)
  }

  recent(room: string, query: HistoryQuery): readonly HistoryEntry[] {
    const list = this.#rooms.get(room)
    if (list === undefined || query.maxStanzas <= 0) return []
    let start = Math.max(0, list.length - query.maxStanzas)
    const since = query.since
    if (since !== undefined) while (start < list.length && (list[start] as HistoryEntry).at <= since) start++
    return list.slice(start)
  }

  forget(room: string): void {
    this.#rooms.delete(room)
  }

  /** Rooms with history kept. */
  get rooms(): number {
    return this.#rooms.size
  }
}

/** What a join's `<history/>` asks for, within the room's length. @internal */
export interface Wanted {
  query: HistoryQuery
  maxChars: number
}

function nonNegativeInt(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,15}$/.test(value)) return undefined
  return Number(value)
}

/**
 * Reads `<history maxstanzas maxchars seconds since/>` (XEP-0045 §7.2.14): every given
 * criterion applies (the smallest traffic that meets them all); a malformed attribute is
 * ignored; no element: the room's length.
 */
export function wanted(history: Element | undefined, length: number, now: number): Wanted {
  const out: Wanted = { query: { maxStanzas: length }, maxChars: Number.POSITIVE_INFINITY }
  if (history === undefined) return out
  const a = history.attrs as Record<string, string | undefined>
  const stanzas = nonNegativeInt(a.maxstanzas)
  if (stanzas !== undefined) out.query.maxStanzas = Math.min(length, stanzas)
  const chars = nonNegativeInt(a.maxchars)
  if (chars !== undefined) out.maxChars = chars
  if (chars === 0) out.query.maxStanzas = 0
  const seconds = nonNegativeInt(a.seconds)
  let since = seconds === undefined ? undefined : now - seconds * 1000
  const t = a.since === undefined ? Number.NaN : Date.parse(a.since)
  if (Number.isFinite(t)) since = since === undefined ? t : Math.max(since, t)
  if (since !== undefined) out.query.since = since
  return out
}
