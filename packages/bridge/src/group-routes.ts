// The component as @satellite/muc sees it in the bridge: the engine's routes narrowed to what is
// the user's room traffic, since group and contact addresses share the gateway's address space and
// a group of one user may be a contact address for another.
import type { Component, Stanza, Unroute } from '@satellite/core'

/**
 * The component as the engine sees it: its routes narrowed to what is the user's room traffic
 * (the other stanzas to the same addresses are contacts', handled by the bridge's routes after
 * it), without the service's disco#items and disco entries (the bridge has its own).
 */
export function narrowed(xmpp: Component, mine: (kind: 'presence' | 'message' | 'iq', s: Stanza) => boolean) {
  type Filter = { to?: string; where?: (s: Stanza) => boolean }
  const wrap =
    (kind: 'presence' | 'message' | 'iq', install: (f: Filter, h: unknown) => Unroute) =>
    (filter: Filter, handler: unknown): Unroute => {
      if (filter.to === '') return () => {}
      const where = filter.where
      return install(
        { ...filter, where: (s: Stanza) => mine(kind, s) && (where === undefined || where(s)) },
        handler,
      )
    }
  const disco = new Proxy(xmpp.disco, {
    get: (target, prop) =>
      ['identity', 'feature', 'removeIdentity', 'removeFeature'].includes(String(prop))
        ? () => {}
        : Reflect.get(target, prop, target),
  })
  const install = (name: 'presence' | 'message' | 'iqGet' | 'iqSet') =>
    (xmpp[name] as (f: Filter, h: unknown) => Unroute).bind(xmpp)
  const routes = {
    presence: wrap('presence', install('presence')),
    message: wrap('message', install('message')),
    iqGet: wrap('iq', install('iqGet')),
    iqSet: wrap('iq', install('iqSet')),
  }
  return new Proxy(xmpp, {
    get(target, prop) {
      if (prop === 'disco') return disco
      if (typeof prop === 'string' && prop in routes) return routes[prop as keyof typeof routes]
      const v = Reflect.get(target, prop, target) as unknown
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}
