import { bareOf, domainOf, localOf, parseJid, resourceOf } from '@satellite/core'

/**
 * The requester of a command, from the iq's `from`: the full JID as received, and its parts
 * (local part and domain lower-cased, as `@satellite/core`'s `parseJid` reads them).
 *
 * @example
 * ```ts
 * const complete = (session: Session<unknown>) => ({
 *   notes: [`Saved for ${session.requester.bare} (from ${session.requester.resource || 'no resource'})`],
 * })
 * ```
 */
export interface Requester {
  /** The full JID as the iq carried it, e.g. `Alice@example.org/phone` (also `Session.from`). */
  readonly full: string
  /** `local@domain` (or the domain alone), e.g. `alice@example.org`: one user across resources. */
  readonly bare: string
  /** The local part, e.g. `alice` (`''` for a domain). */
  readonly local: string
  /** The domain, e.g. `example.org`. */
  readonly domain: string
  /** The resource, e.g. `phone` (`''` when there is none). */
  readonly resource: string
}

/**
 * Reads the requester's address into a {@link Requester} (used for `Session.requester` and the
 * second argument of `allowed` and `privileged`).
 *
 * @example
 * ```ts
 * requesterOf('Alice@example.org/phone') // { full: 'Alice@example.org/phone', bare: 'alice@example.org', local: 'alice', domain: 'example.org', resource: 'phone' }
 * ```
 */
export function requesterOf(from: string): Requester {
  try {
    const j = parseJid(from)
    const { local, domain, resource } = j
    return { full: from, bare: local ? `${local}@${domain}` : domain, local, domain, resource }
  } catch {
    // Not a JID (the server always sends one): its parts as written, lower-cased.
    return {
      full: from,
      bare: bareOf(from).toLowerCase(),
      local: localOf(from).toLowerCase(),
      domain: domainOf(from).toLowerCase(),
      resource: resourceOf(from),
    }
  }
}
