// Contacts' pictures known so far, per user and legacy id (a picture with its SHA-1, or null:
// none), for all users together: at most `maxPerUser` per user and `maxBytes` in all, the
// least recently used dropped first (and asked again when needed).
import { createHash } from 'node:crypto'
import type { Avatar } from './adapter.js'

export interface CachedAvatar extends Avatar {
  /** Hex SHA-1 of the bytes (XEP-0153). */
  hash: string
}

const OVERHEAD = 128

export class AvatarCache {
  /** `user \0 legacyId` → entry, least recently used first. */
  readonly #entries = new Map<string, { user: string; value: CachedAvatar | null; bytes: number }>()
  /** user → keys of the user's entries, least recently used first. */
  readonly #byUser = new Map<string, Set<string>>()
  #bytes = 0

  constructor(
    readonly maxPerUser: number,
    readonly maxBytes: number,
  ) {}

  has(user: string, legacyId: string): boolean {
    return this.#entries.has(`${user}\0${legacyId}`)
  }

  /** The picture (null: none), or undefined when not known. */
  get(user: string, legacyId: string): CachedAvatar | null | undefined {
    const key = `${user}\0${legacyId}`
    const e = this.#entries.get(key)
    if (e === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, e)
    return e.value
  }

  set(user: string, legacyId: string, avatar: Avatar | null): CachedAvatar | null {
    const key = `${user}\0${legacyId}`
    this.#drop(key)
    const value =
      avatar === null
        ? null
        : { type: avatar.type, data: avatar.data, hash: createHash('sha1').update(avatar.data).digest('hex') }
    const bytes = OVERHEAD + 2 * key.length + (value === null ? 0 : value.data.length + value.type.length)
    this.#entries.set(key, { user, value, bytes })
    this.#bytes += bytes
    const mine = this.#byUser.get(user) ?? new Set<string>()
    mine.add(key)
    this.#byUser.set(user, mine)
    while (mine.size > this.maxPerUser) this.#drop(mine.values().next().value as string)
    while (this.#bytes > this.maxBytes && this.#entries.size > 0) {
      this.#drop(this.#entries.keys().next().value as string)
    }
    return value
  }

  delete(user: string, legacyId: string): void {
    this.#drop(`${user}\0${legacyId}`)
  }

  /** Forgets every picture of `user`. */
  clear(user: string): void {
    for (const key of [...(this.#byUser.get(user) ?? [])]) this.#drop(key)
  }

  #drop(key: string): void {
    const e = this.#entries.get(key)
    if (e === undefined) return
    this.#entries.delete(key)
    this.#bytes -= e.bytes
    const mine = this.#byUser.get(e.user)
    mine?.delete(key)
    if (mine?.size === 0) this.#byUser.delete(e.user)
  }

  /** Entries and bytes held. */
  get size(): number {
    return this.#entries.size
  }
  get bytes(): number {
    return this.#bytes
  }
}
