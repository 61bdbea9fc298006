import type { Stanza } from '@satellite/core'
import type { Grant } from './grant.js'
import type { RosterItem } from './roster.js'

/**
 * Events of {@link Privileges}.
 *
 * @example
 * ```ts
 * priv.on('change', (server, grant) => console.log(server, grant?.roster ?? 'gone'))
 * ```
 */
export interface PrivilegeEvents {
  /** A server announced its grant (again), or the grant was forgotten (`undefined`: offline). */
  change: [server: string, grant: Grant | undefined]
  /**
   * An announcement was ignored: malformed (the server's previous grant is then dropped, with
   * a `change` to `undefined`), or from a sender not in `servers`, or beyond `maxServers`. Also
   * emitted with `partial: true` when only a part was ignored (a `<perm/>` or `<namespace/>`
   * with an unknown type, read as `none`; an unknown `push`, read as `false`) and the rest recorded.
   */
  invalid: [info: { stanza: Stanza; reason: string; partial: boolean }]
  /** A roster push forwarded by the server (XEP-0356 0.4 with `push`): `user`'s roster changed. */
  rosterPush: [push: { user: string; items: RosterItem[] }]
}

/**
 * A listener of the {@link Privileges} event `E`.
 *
 * @example
 * ```ts
 * const onChange: PrivilegeListener<'change'> = (server, grant) => console.log(server, grant?.roster)
 * ```
 */
export type PrivilegeListener<E extends keyof PrivilegeEvents> = (...args: PrivilegeEvents[E]) => void
