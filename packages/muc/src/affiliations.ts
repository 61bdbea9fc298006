// A room's affiliation lists (XEP-0045 §5.2): owner, admin, member, outcast, by bare JID. One
// place holds them, behind a small interface, so that a store can keep them (it is told every
// change through `onChange`).
import type { Affiliation, Role } from './room.js'

/** An affiliation that is on a list (`none` is the absence of one). */
export type ListedAffiliation = Exclude<Affiliation, 'none'>

/** One entry of a room's affiliation lists. */
export interface AffiliationEntry {
  /** Bare JID (lower-case domain and local part as the client sent them). */
  jid: string
  affiliation: ListedAffiliation
  /** Why it was given (the `<reason/>` of the `muc#admin` item), if any. */
  reason?: string
}

/**
 * A room's affiliation lists. `set(jid, 'none')` removes the entry. Every change is passed to
 * `onChange` (for persistence); reading never allocates more than the answer.
 */
export class Affiliations {
  readonly #byJid = new Map<string, AffiliationEntry>()
  #owners = 0
  /** Called after each change, with the entry as it is now (`affiliation: 'none'` when removed). */
  onChange: ((jid: string, affiliation: Affiliation, reason: string | undefined) => void) | undefined

  /** Asked for a bare JID on no list (the `hooks.affiliation` source); `none` when it has no answer. */
  source: ((jid: string) => Affiliation | undefined) | undefined

  /** The affiliation of a bare JID: its list's, else the source's, else `none`. */
  get(jid: string): Affiliation {
    return this.#byJid.get(jid)?.affiliation ?? this.source?.(jid) ?? 'none'
  }

  /** Puts `jid` on the list of `affiliation` (off every list for `none`). */
  set(jid: string, affiliation: Affiliation, reason?: string): void {
    const before = this.#byJid.get(jid)
    if (before?.affiliation === 'owner') this.#owners--
    if (affiliation === 'none') this.#byJid.delete(jid)
    else {
      const entry: AffiliationEntry = { jid, affiliation }
      if (reason !== undefined) entry.reason = reason
      this.#byJid.set(jid, entry)
      if (affiliation === 'owner') this.#owners++
    }
    this.onChange?.(jid, affiliation, reason)
  }

  /** The entries of one list, in JID order. */
  list(affiliation: ListedAffiliation): AffiliationEntry[] {
    const out: AffiliationEntry[] = []
    for (const e of this.#byJid.values()) if (e.affiliation === affiliation) out.push(e)
    return out.sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0))
  }

  /** Every entry (for a store to save the room). */
  entries(): IterableIterator<AffiliationEntry> {
    return this.#byJid.values()
  }

  /** How many owners the room has. */
  get owners(): number {
    return this.#owners
  }

  /** How many entries there are on every list together. */
  get size(): number {
    return this.#byJid.size
  }
}

/** Rank of an affiliation, for "at or above" comparisons (§5.2). */
export function rank(a: Affiliation): number {
  switch (a) {
    case 'owner':
      return 4
    case 'admin':
      return 3
    case 'member':
      return 2
    case 'none':
      return 1
    default:
      return 0
  }
}

/** The role an affiliation gives on entering (§5.1.2): owners and admins moderate, members speak. */
export function roleFor(a: Affiliation, moderated: boolean): Role {
  if (a === 'owner' || a === 'admin') return 'moderator'
  if (a === 'member' || !moderated) return 'participant'
  return 'visitor'
}
