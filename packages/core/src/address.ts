/**
 * The parts of a JID string, read as RFC 7622 writes it (`local@domain/resource`): the first
 * `/` starts the resource (which may contain `@` and `/`); an `@` before it ends the local part.
 * Nothing is parsed or validated (use `parseJid()` for that) and nothing is allocated but the
 * part returned, so routing and maps can call these on every stanza. Case is kept as written:
 * lower-case a domain or a local part yourself where you compare them.
 */

const AT = 64

/** Index of the first `/` (the resource's separator), or the string's length. */
function bareEnd(address: string): number {
  const slash = address.indexOf('/')
  return slash < 0 ? address.length : slash
}

/** Index of the `@` ending the local part, or -1 when there is none (a domain JID). */
function atIndex(address: string, end: number): number {
  for (let i = 0; i < end; i++) if (address.charCodeAt(i) === AT) return i
  return -1
}

/**
 * The local part of a JID string (before `@`), or `''` when it has none.
 *
 * @example
 * ```ts
 * localOf('alice@example.org/phone') // 'alice'
 * localOf('example.org/a@b')        // ''
 * ```
 */
export function localOf(address: string | undefined): string {
  if (!address) return ''
  const at = atIndex(address, bareEnd(address))
  return at <= 0 ? '' : address.slice(0, at)
}

/**
 * The domain of a JID string (between `@` and `/`).
 *
 * @example
 * ```ts
 * domainOf('alice@example.org/phone') // 'example.org'
 * ```
 */
export function domainOf(address: string | undefined): string {
  if (!address) return ''
  const end = bareEnd(address)
  const at = atIndex(address, end)
  return at < 0 && end === address.length ? address : address.slice(at + 1, end)
}

/**
 * The bare JID of a JID string (without its resource); the string itself when it has none.
 *
 * @example
 * ```ts
 * bareOf('alice@example.org/phone') // 'alice@example.org'
 * ```
 */
export function bareOf(address: string | undefined): string {
  if (!address) return ''
  const end = bareEnd(address)
  return end === address.length ? address : address.slice(0, end)
}

/**
 * The resource of a JID string (after the first `/`), or `''` when it has none.
 *
 * @example
 * ```ts
 * resourceOf('room@muc.example.org/nick/with/slashes') // 'nick/with/slashes'
 * ```
 */
export function resourceOf(address: string | undefined): string {
  if (!address) return ''
  const slash = address.indexOf('/')
  return slash < 0 ? '' : address.slice(slash + 1)
}

/**
 * True if the JID string has a resource part (a `/`, even with nothing after it).
 *
 * @example
 * ```ts
 * hasResource('alice@example.org/') // true
 * ```
 */
export function hasResource(address: string | undefined): boolean {
  return address !== undefined && address.indexOf('/') >= 0
}

/**
 * True if `address`'s bare JID is `bare`, compared case-insensitively (`toLowerCase()`, no other
 * normalisation). Allocates nothing when the cases already agree.
 *
 * @example
 * ```ts
 * isBareOf('Alice@Example.org/phone', 'alice@example.org') // true
 * ```
 */
export function isBareOf(address: string | undefined, bare: string): boolean {
  if (!address) return false
  const end = bareEnd(address)
  if (end === bare.length && address.startsWith(bare)) return true
  return address.slice(0, end).toLowerCase() === bare.toLowerCase()
}
