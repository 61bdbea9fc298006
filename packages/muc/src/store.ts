// Where the engine keeps what outlives an occupant: persistent rooms, affiliations and the
// message archive (history on join and XEP-0313 queries). The interface is narrow so that
// another database can implement it; MemoryStore is the default, SqliteMucStore the durable one.
import type { Element } from '@satellite/core'

/** A value, or a promise of it: a store may be synchronous (memory, SQLite) or not. */
export type MaybePromise<T> = T | Promise<T>

/**
 * A persistent room as stored: its bare JID, its configuration as a plain JSON object (the
 * engine's settings, merged over the service's defaults when loaded), its subject.
 *
 * @example
 * ```ts
 * const r: StoredRoom = { jid: 'lobby@chat.example', config: { persistent: true }, subject: 'Hi', subjectNick: 'alice', created: Date.now() }
 * ```
 */
export interface StoredRoom {
  /** The room's bare JID (lower case). */
  jid: string
  /** The room's settings (JSON-serialisable). */
  config: Record<string, unknown>
  /** The subject ('' when none). */
  subject: string
  /** The nick that set it, if any. */
  subjectNick?: string | undefined
  /** When the room was created (ms since the epoch). */
  created: number
}

/**
 * One affiliation of a room (XEP-0045 §5.2): `'none'` is never stored (setting it removes).
 *
 * @example
 * ```ts
 * const a: StoredAffiliation = { jid: 'alice@example.org', affiliation: 'owner' }
 * ```
 */
export interface StoredAffiliation {
  /** A bare JID (or a domain, for outcast domains). */
  jid: string
  affiliation: 'owner' | 'admin' | 'member' | 'outcast'
  /** Why it was given (the `<reason/>` of the `muc#admin` item), if any. */
  reason?: string
}

/**
 * A message of a room's archive: the message as the room reflected it (from the sender's
 * occupant JID, with its stanza-id and occupant-id, without `to`).
 *
 * @example
 * ```ts
 * const m: ArchivedMessage = { id: 'c0ffee', at: Date.now(), nick: 'alice', occupantId: 'x1', jid: 'alice@example.org/phone', message }
 * ```
 */
export interface ArchivedMessage {
  /** The XEP-0359 stanza-id the room gave the message (unique in the room). */
  id: string
  /** When the room received it (ms since the epoch). */
  at: number
  /** The sender's nick when it was sent. */
  nick: string
  /** The sender's XEP-0421 occupant id. */
  occupantId: string
  /** The sender's real full JID (its bare JID is the user; the delay's `from` in non-anonymous rooms). */
  jid: string
  /** The reflected message, without `to`; never changed once stored. */
  message: Element
}

/**
 * A query of a room's archive, in the order messages were archived: the messages with
 * `start <= at <= end` (ms), sent under `nick` when given; then, of those, the ones after the
 * message `after` or before the message `before` (stanza-ids; `before: ''` = the last page),
 * at most `max` of them.
 *
 * @example
 * ```ts
 * const q: ArchiveQuery = { max: 50, before: '' } // the newest 50
 * ```
 */
export interface ArchiveQuery {
  start?: number
  end?: number
  nick?: string
  after?: string
  before?: string
  max: number
}

/**
 * A page of an archive query, oldest first. `count`: messages matching the filters (not
 * counting the paging); `complete`: the page reaches the end of the result set in the paging
 * direction (the first message for `before`, the last otherwise).
 *
 * @example
 * ```ts
 * const { messages, complete, count } = page
 * ```
 */
export interface ArchivePage {
  messages: ArchivedMessage[]
  complete: boolean
  count: number
}

/**
 * How long the archive keeps messages: older than `before` (ms since the epoch) deleted, and at
 * most `keep` per room (the newest).
 *
 * @example
 * ```ts
 * const r: Retention = { before: Date.now() - 30 * 86_400_000, keep: 10_000 }
 * ```
 */
export interface Retention {
  before?: number
  keep?: number
}

/**
 * The engine's storage. Room names are the rooms' bare JIDs (lower case), user names bare JIDs.
 * Every method may return a promise; the engine handles both. A backend for another database
 * implements these methods and nothing else (see the package README).
 *
 * @example
 * ```ts
 * muc(xmpp, { store: new SqliteMucStore({ path: 'chat.db' }) })
 * ```
 */
export interface MucStore {
  /** The persistent room `jid`, or undefined when there is none. */
  loadRoom(jid: string): MaybePromise<StoredRoom | undefined>
  /** Creates or replaces a persistent room. */
  saveRoom(room: StoredRoom): MaybePromise<void>
  /** Deletes the room, its affiliations and its archive. */
  deleteRoom(jid: string): MaybePromise<void>
  /** Bare JIDs of the persistent rooms, sorted. */
  rooms(): MaybePromise<string[]>
  /** The room's affiliations (none stored: an empty list). */
  affiliations(room: string): MaybePromise<StoredAffiliation[]>
  /** Sets `jid`'s affiliation (with its reason, if any); `'none'` removes it. */
  setAffiliation(
    room: string,
    jid: string,
    affiliation: StoredAffiliation['affiliation'] | 'none',
    reason?: string,
  ): MaybePromise<void>
  /** Archives `message` as the newest of `room`; the store may drop the oldest beyond `keep`. */
  append(room: string, message: ArchivedMessage, keep: number): MaybePromise<void>
  /** A page of the room's archive; `null` when `after` or `before` names no message of the room. */
  query(room: string, query: ArchiveQuery): MaybePromise<ArchivePage | null>
  /** Applies `retention` to every room's archive; returns how many messages were deleted. */
  prune(retention: Retention): MaybePromise<number>
}

interface MemoryRoom {
  messages: ArchivedMessage[]
}

/** Indices [from, to) of `list` matching the time bounds (list in archive order, `at` non-decreasing). */
function matching(list: readonly ArchivedMessage[], q: ArchiveQuery): ArchivedMessage[] {
  const out: ArchivedMessage[] = []
  for (const m of list) {
    if (q.start !== undefined && m.at < q.start) continue
    if (q.end !== undefined && m.at > q.end) continue
    if (q.nick !== undefined && m.nick !== q.nick) continue
    out.push(m)
  }
  return out
}

/**
 * Pages `all` (the filtered result set, oldest first) with `after`/`before`/`max`; `order` gives
 * each message's position in the room's archive (to place an anchor that the filters left out).
 * Returns null for an anchor that is not in the room. @internal
 */
export function pageOf(
  all: readonly ArchivedMessage[],
  q: ArchiveQuery,
  position: (id: string) => number | undefined,
  pos: (m: ArchivedMessage) => number,
): ArchivePage | null {
  const count = all.length
  const max = Math.max(0, q.max)
  if (q.after !== undefined) {
    const p = position(q.after)
    if (p === undefined) return null
    let i = 0
    while (i < all.length && pos(all[i] as ArchivedMessage) <= p) i++
    const messages = all.slice(i, i + max)
    return { messages, complete: i + max >= all.length, count }
  }
  if (q.before !== undefined) {
    let end = all.length
    if (q.before !== '') {
      const p = position(q.before)
      if (p === undefined) return null
      end = 0
      while (end < all.length && pos(all[end] as ArchivedMessage) < p) end++
    }
    const from = Math.max(0, end - max)
    return { messages: all.slice(from, end), complete: from === 0, count }
  }
  return { messages: all.slice(0, max), complete: max >= all.length, count }
}

/**
 * The default {@link MucStore}: everything in memory, lost on restart. Each room's archive is
 * bounded by the `keep` the engine gives on append (its retention count), so memory is bounded
 * by the service's rooms limit.
 *
 * @example
 * ```ts
 * muc(xmpp, { store: new MemoryStore() })
 * ```
 */
export class MemoryStore implements MucStore {
  readonly #rooms = new Map<string, StoredRoom>()
  readonly #affiliations = new Map<string, Map<string, StoredAffiliation>>()
  readonly #archive = new Map<string, MemoryRoom>()
  /** Archive order of every message: a counter over the store's life. */
  readonly #seq = new WeakMap<ArchivedMessage, number>()
  readonly #ids = new Map<string, Map<string, number>>()
  #next = 0

  loadRoom(jid: string): StoredRoom | undefined {
    const r = this.#rooms.get(jid)
    return r === undefined ? undefined : { ...r, config: structuredClone(r.config) }
  }

  saveRoom(room: StoredRoom): void {
    this.#rooms.set(room.jid, { ...room, config: structuredClone(room.config) })
  }

  deleteRoom(jid: string): void {
    this.#rooms.delete(jid)
    this.#affiliations.delete(jid)
    this.#archive.delete(jid)
    this.#ids.delete(jid)
  }

  rooms(): string[] {
    return [...this.#rooms.keys()].sort()
  }

  affiliations(room: string): StoredAffiliation[] {
    const m = this.#affiliations.get(room)
    if (m === undefined) return []
    return [...m.values()].map((a) => ({ ...a }))
  }

  setAffiliation(
    room: string,
    jid: string,
    affiliation: StoredAffiliation['affiliation'] | 'none',
    reason?: string,
  ): void {
    let m = this.#affiliations.get(room)
    if (affiliation === 'none') {
      m?.delete(jid)
      if (m?.size === 0) this.#affiliations.delete(room)
      return
    }
    if (m === undefined) {
      m = new Map()
      this.#affiliations.set(room, m)
    }
    m.set(jid, reason === undefined ? { jid, affiliation } : { jid, affiliation, reason })
  }

  append(room: string, message: ArchivedMessage, keep: number): void {
    if (keep <= 0) return
    let r = this.#archive.get(room)
    let ids = this.#ids.get(room)
    if (r === undefined || ids === undefined) {
      r = { messages: [] }
      ids = new Map()
      this.#archive.set(room, r)
      this.#ids.set(room, ids)
    }
    // A stanza-id already archived in the room is kept once (as the SQL stores do).
    if (ids.has(message.id)) return
    const seq = this.#next++
    this.#seq.set(message, seq)
    ids.set(message.id, seq)
    r.messages.push(message)
    if (r.messages.length > keep) this.#drop(room, r, r.messages.length - keep)
  }

  #drop(room: string, r: MemoryRoom, n: number): void {
    const ids = this.#ids.get(room)
    for (const m of r.messages.splice(0, n)) ids?.delete(m.id)
  }

  query(room: string, q: ArchiveQuery): ArchivePage | null {
    const list = this.#archive.get(room)?.messages ?? []
    const ids = this.#ids.get(room)
    return pageOf(
      matching(list, q),
      q,
      (id) => ids?.get(id),
      (m) => this.#seq.get(m) ?? 0,
    )
  }

  prune(retention: Retention): number {
    let removed = 0
    for (const [room, r] of this.#archive) {
      let n = 0
      if (retention.before !== undefined) {
        const before = retention.before
        while (n < r.messages.length && (r.messages[n] as ArchivedMessage).at < before) n++
      }
      if (retention.keep !== undefined) n = Math.max(n, r.messages.length - retention.keep)
      if (n > 0) {
        this.#drop(room, r, n)
        removed += n
      }
    }
    return removed
  }
}
