// The archive of the group-chat rooms (the engine's MucStore): the newest group messages per
// user and group, kept while the legacy session is up and after it (for the next join), read by
// the engine for the history on join and for XEP-0313 queries. The engine archives what it sends
// in a joined room; the bridge adds what arrives while the user is not in the room (its sender's
// nick is given when read: the room's members are known only once the user joins). Bounded:
// `size` messages per group, `maxChars` characters per user (the oldest message of any group
// dropped first), `maxUsers` users (the oldest dropped first). Views are never persistent: no
// rooms or affiliations are stored.
import { resourceOf, xml } from '@satellite/core'
import type { ArchivedMessage, ArchivePage, ArchiveQuery, MucStore, StoredRoom } from '@satellite/muc'
import { NS_SID } from '@satellite/muc'
import { setBounded } from './limits.js'

/** A message kept; `from` (a legacy id) when the sender's nick is to be found when read. */
interface Kept {
  m: ArchivedMessage
  from?: string
  chars: number
}

/** One user's archive: its characters, and archive key (room JID + ' ' + user) → its messages. */
interface UserArchive {
  chars: number
  rooms: Map<string, Kept[]>
}

const charsOf = (m: ArchivedMessage) => (m.message.getChildText('body') ?? '').length + m.id.length + 128

/** The archive key of `user`'s view of the room `jid` (as the engine names it). */
export const archiveKey = (jid: string, user: string) => `${jid} ${user}`
const userOfKey = (key: string) => key.slice(key.indexOf(' ') + 1)

export class GroupArchive implements MucStore {
  readonly #users = new Map<string, UserArchive>()

  constructor(
    readonly size: number,
    readonly maxChars: number,
    readonly maxUsers: number,
    /** The nick of the member `from` in `user`'s view of the room `jid` now. */
    readonly nickOf: (user: string, jid: string, from: string) => string,
  ) {}

  loadRoom(): StoredRoom | undefined {
    return undefined
  }
  saveRoom(): void {}
  deleteRoom(key: string): void {
    const mine = this.#users.get(userOfKey(key))
    const list = mine?.rooms.get(key)
    if (mine === undefined || list === undefined) return
    for (const k of list) mine.chars -= k.chars
    mine.rooms.delete(key)
  }
  rooms(): string[] {
    return []
  }
  affiliations(): [] {
    return []
  }
  setAffiliation(): void {}
  prune(): number {
    return 0
  }

  append(key: string, m: ArchivedMessage, keep: number): void {
    this.#add(key, { m, chars: charsOf(m) }, keep)
  }

  /** A message from the legacy member `from` while the user was not in the room. */
  remember(
    jid: string,
    user: string,
    p: { from: string; id: string; text: string; at: number },
    sid: string,
  ) {
    const message = xml(
      'message',
      { from: jid, type: 'groupchat', id: p.id },
      xml('body', {}, p.text),
      xml('stanza-id', { xmlns: NS_SID, id: sid, by: jid }),
    )
    const m: ArchivedMessage = { id: sid, at: p.at, nick: '', occupantId: '', jid: '', message }
    this.#add(archiveKey(jid, user), { m, from: p.from, chars: charsOf(m) }, this.size)
  }

  #add(key: string, kept: Kept, keep: number): void {
    const size = Math.min(keep, this.size)
    if (size <= 0) return
    const user = userOfKey(key)
    let mine = this.#users.get(user)
    if (mine === undefined) {
      mine = { chars: 0, rooms: new Map() }
      setBounded(this.#users, user, mine, this.maxUsers)
    }
    const list = mine.rooms.get(key) ?? []
    mine.rooms.set(key, list)
    list.push(kept)
    mine.chars += kept.chars
    if (list.length > size) for (const k of list.splice(0, list.length - size)) mine.chars -= k.chars
    while (mine.chars > this.maxChars) {
      let oldest: [string, Kept[]] | undefined
      for (const entry of mine.rooms) {
        if (oldest === undefined || (entry[1][0] as Kept).m.at < (oldest[1][0] as Kept).m.at) oldest = entry
      }
      if (oldest === undefined) break
      mine.chars -= (oldest[1].shift() as Kept).chars
      if (oldest[1].length === 0) mine.rooms.delete(oldest[0])
    }
  }

  /** The message as it is read: a remembered one from its sender's nick now. */
  #read(key: string, k: Kept): ArchivedMessage {
    if (k.from === undefined) return k.m
    const jid = key.slice(0, key.indexOf(' '))
    const nick = this.nickOf(userOfKey(key), jid, k.from)
    const message = xml('message', { ...k.m.message.attrs, from: `${jid}/${nick}` })
    message.children.push(...k.m.message.children)
    return { ...k.m, nick, message }
  }

  query(key: string, q: ArchiveQuery): ArchivePage | null {
    const list = this.#users.get(userOfKey(key))?.rooms.get(key) ?? []
    const position = (id: string) => {
      const i = list.findIndex((k) => k.m.id === id)
      return i < 0 ? undefined : i
    }
    const all: [number, ArchivedMessage][] = []
    for (const [i, k] of list.entries()) {
      if (q.start !== undefined && k.m.at < q.start) continue
      if (q.end !== undefined && k.m.at > q.end) continue
      const m = this.#read(key, k)
      if (q.nick !== undefined && resourceOf(m.message.attrs.from ?? '') !== q.nick) continue
      all.push([i, m])
    }
    const count = all.length
    const max = Math.max(0, q.max)
    const page = (from: number, to: number, complete: boolean) => ({
      messages: all.slice(from, to).map(([, m]) => m),
      complete,
      count,
    })
    if (q.after !== undefined) {
      const p = position(q.after)
      if (p === undefined) return null
      const i = all.findIndex(([n]) => n > p)
      const from = i < 0 ? all.length : i
      return page(from, from + max, from + max >= all.length)
    }
    if (q.before !== undefined) {
      let end = all.length
      if (q.before !== '') {
        const p = position(q.before)
        if (p === undefined) return null
        const i = all.findIndex(([n]) => n >= p)
        end = i < 0 ? all.length : i
      }
      const from = Math.max(0, end - max)
      return page(from, end, from === 0)
    }
    return page(0, max, max >= all.length)
  }

  /** The user is gone (registration removed or replaced): its archive too. */
  forget(user: string): void {
    this.#users.delete(user)
  }

  /** Users with messages kept. */
  get users(): number {
    return this.#users.size
  }

  /** Most characters kept for one user. */
  get largest(): number {
    let n = 0
    for (const u of this.#users.values()) n = Math.max(n, u.chars)
    return n
  }
}
