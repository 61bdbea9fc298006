import type { ResolvedOptions } from '../config.js'
import { StanzaError } from '../errors.js'
import type { Router } from '../routing/router.js'
import { xml } from '../xml/element.js'
import { type Disco, infoQuery, itemsQuery, NS_DISCO_INFO, NS_DISCO_ITEMS } from './disco.js'

export const NS_PING = 'urn:xmpp:ping'
export const NS_VERSION = 'jabber:iq:version'
export const NS_TIME = 'urn:xmpp:time'
export const NS_CAPS = 'http://jabber.org/protocol/caps'

/** Satellite's own version, reported by XEP-0092 unless overridden. */
export const SATELLITE_VERSION = '0.1.0'

/** Registers the built-in responders as fallback routes (user routes take precedence). */
export function installResponders(router: Router, disco: Disco, opts: ResolvedOptions['responders']): void {
  if (opts.disco !== false) {
    router.addIq(
      'get',
      { xmlns: NS_DISCO_INFO, name: 'query' },
      (iq, query) => {
        const local = iq.toLocal
        const node = query.attrs.node as string | undefined
        const info =
          node !== undefined && disco.isCapsNode(local, node) ? disco.info(local) : disco.info(local, node)
        if (!info) throw new StanzaError('item-not-found')
        return infoQuery(info, node)
      },
      true,
    )
    router.addIq(
      'get',
      { xmlns: NS_DISCO_ITEMS, name: 'query' },
      (iq, query) => {
        const node = query.attrs.node as string | undefined
        const items = disco.items(iq.toLocal, node)
        if (!items) throw new StanzaError('item-not-found')
        return itemsQuery(items, node)
      },
      true,
    )
  }
  if (opts.ping !== false) {
    router.addIq('get', { xmlns: NS_PING, name: 'ping' }, () => undefined, true)
  }
  if (opts.version !== false) {
    const v = typeof opts.version === 'object' ? opts.version : {}
    const name = v.name ?? 'Satellite'
    const version = v.version ?? SATELLITE_VERSION
    router.addIq(
      'get',
      { xmlns: NS_VERSION, name: 'query', to: '' },
      () => {
        const q = xml('query', { xmlns: NS_VERSION }, xml('name', {}, name), xml('version', {}, version))
        if (v.os !== undefined) q.c('os').t(v.os)
        return q
      },
      true,
    )
  }
  if (opts.time !== false) {
    router.addIq(
      'get',
      { xmlns: NS_TIME, name: 'time', to: '' },
      () => {
        const now = new Date()
        return xml(
          'time',
          { xmlns: NS_TIME },
          xml('tzo', {}, tzo(now)),
          xml('utc', {}, `${now.toISOString().slice(0, 19)}Z`),
        )
      },
      true,
    )
  }
}

/** Time zone offset as `+hh:mm` (XEP-0082). */
export function tzo(d: Date): string {
  const off = -d.getTimezoneOffset()
  const sign = off >= 0 ? '+' : '-'
  const a = Math.abs(off)
  return `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`
}
