import { domainOf, localOf } from '@satellite/core'

/**
 * A bare JID as the XEP-0356 operations take it: `[local@]domain`, without a resource, a second
 * `@` or white space. Validation is the point here (a user's address given to `rosterGet`, the
 * sender of an announcement); the parts are then read with core's `localOf` and `domainOf`.
 */
const BARE = /^(?:[^@/\s]+@)?[^@/\s]+$/

/** True if `address` is a bare JID (`[local@]domain`). */
export function isBareJid(address: string): boolean {
  return BARE.test(address)
}

/** The server (domain, lower-cased) of a user's bare JID `user@server`; undefined if it is not one. */
export function serverOfUser(address: unknown): string | undefined {
  if (typeof address !== 'string' || !BARE.test(address) || localOf(address) === '') return undefined
  return domainOf(address).toLowerCase()
}

/** `address` lower-cased if it is a bare domain JID (a server's address); undefined otherwise. */
export function serverDomain(address: unknown): string | undefined {
  if (typeof address !== 'string' || !BARE.test(address) || localOf(address) !== '') return undefined
  return domainOf(address).toLowerCase()
}
