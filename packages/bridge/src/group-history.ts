// The discussion history of group chats: the newest group messages per user and group, kept
// while the legacy session is up and after it (for the next join), sent on join as XEP-0045
// asks (§7.2.13-15). Bounded: `size` messages per group, `maxChars` characters per user (the
// oldest message of any group dropped first), `maxUsers` users (the oldest dropped first).
import type { Element } from '@satellite/core'
import { setBounded } from './limits.js'

/** A group message kept for the discussion history (`from` null: the user's own). */
export interface Past {
  from: string | null
  id: string
  text: string
  at: Date
}

/** Which of `past` a join asks for (XEP-0045 7.2.14: maxchars 0, maxstanzas, seconds, since). */
export function wanted(past: Past[], history: Element | undefined, now: number): Past[] {
  if (history === undefined) return past
  const { maxchars, maxstanzas, seconds, since } = history.attrs as Record<string, string | undefined>
  if (maxchars === '0') return []
  let out = past
  const s = seconds === undefined ? Number.NaN : Number(seconds)
  if (Number.isFinite(s) && s >= 0) out = out.filter((p) => now - p.at.getTime() <= s * 1000)
  const t = since === undefined ? Number.NaN : Date.parse(since)
  if (Number.isFinite(t)) out = out.filter((p) => p.at.getTime() > t)
  const n = maxstanzas === undefined ? Number.NaN : Number(maxstanzas)
  if (Number.isInteger(n) && n >= 0) out = n === 0 ? [] : out.slice(-n)
  return out
}

const pastChars = (p: Past) => p.text.length + p.id.length + 64

export class GroupHistory {
  /** user → its characters kept, and group → its newest messages (oldest first). */
  readonly #users = new Map<string, { chars: number; groups: Map<string, Past[]> }>()

  constructor(
    readonly size: number,
    readonly maxChars: number,
    readonly maxUsers: number,
  ) {}

  add(user: string, group: string, past: Past): void {
    let mine = this.#users.get(user)
    if (mine === undefined) {
      mine = { chars: 0, groups: new Map<string, Past[]>() }
      setBounded(this.#users, user, mine, this.maxUsers)
    }
    const list = mine.groups.get(group) ?? []
    mine.groups.set(group, list)
    list.push(past)
    mine.chars += pastChars(past)
    if (list.length > this.size) {
      for (const p of list.splice(0, list.length - this.size)) mine.chars -= pastChars(p)
    }
    while (mine.chars > this.maxChars) {
      let oldest: [string, Past[]] | undefined
      for (const entry of mine.groups) {
        if (oldest === undefined || (entry[1][0] as Past).at < (oldest[1][0] as Past).at) oldest = entry
      }
      if (oldest === undefined) break
      mine.chars -= pastChars(oldest[1].shift() as Past)
      if (oldest[1].length === 0) mine.groups.delete(oldest[0])
    }
  }

  /** The messages kept for `user` in `group`, oldest first. */
  of(user: string, group: string): Past[] {
    return this.#users.get(user)?.groups.get(group) ?? []
  }

  forget(user: string): void {
    this.#users.delete(user)
  }

  /** Users with history. */
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
