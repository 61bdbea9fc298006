// Who may use the directory: admins, users of the allowed domains (or anybody when federated
// users are allowed), and the write rate limit every change but an admin's goes through.
import { bareOf, domainOf } from '@satellite/core'
import { takeOrRefuse } from './limits.js'
import type { DirectorySettings } from './options.js'

/** The parent domain of a component domain (`localhost` for `directory.localhost`). */
export function parentDomain(domain: string): string {
  const dot = domain.indexOf('.')
  return dot < 0 ? domain : domain.slice(dot + 1)
}

/** The lower-cased bare JID of an address: the key of admins and rate limits. */
export const requesterOf = (address: string): string => bareOf(address).toLowerCase()

/** The access rules of a directory. Every address may be a full JID. */
export interface Access {
  isAdmin(address: string): boolean
  /** May use the service (register, search, its own entry's commands). */
  allowed(address: string): boolean
  /** A change by `requester`: takes a token of its write bucket unless an admin; `resource-constraint` when empty. */
  mayWrite(requester: string): void
}

/** The access rules of `settings`. */
export function access(settings: DirectorySettings): Access {
  const { admins, domains, writes } = settings
  const isAdmin = (address: string) => admins.has(requesterOf(address))
  return {
    isAdmin,
    allowed: (address) => {
      const bare = requesterOf(address)
      return admins.has(bare) || settings.allowFederated || domains.has(domainOf(bare))
    },
    mayWrite: (requester) => {
      if (!isAdmin(requester)) takeOrRefuse(writes, requesterOf(requester), 'changes')
    },
  }
}
