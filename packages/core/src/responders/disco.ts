import { createHash } from '../builtins.js'
import type { Router } from '../routing/router.js'
import { type Element, xml } from '../xml/element.js'

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'

/** A XEP-0030 identity. */
export interface Identity {
  category: string
  type: string
  name?: string
  lang?: string
}

/** A XEP-0030 item. */
export interface DiscoItem {
  jid: string
  node?: string
  name?: string
}

/**
 * Where a disco entry applies: `to` is a local part (`''` the domain, the default; `'*'`
 * every user@domain; `'bot'` bot@domain), `node` an optional disco node.
 */
export interface DiscoTarget {
  to?: string
  node?: string
}

interface Entry {
  identities: Identity[]
  features: Set<string>
  items: DiscoItem[]
}

/** The answer to a disco#info query. */
export interface DiscoInfo {
  identities: Identity[]
  features: string[]
  /** XEP-0128 extended info forms. */
  forms: Element[]
}

/**
 * The component's service discovery registry. Features of iq routes are added
 * automatically; identities, extra features, items and nodes are registered here.
 *
 * @example
 * ```ts
 * xmpp.disco.identity({ category: 'gateway', type: 'irc', name: 'IRC gateway' })
 * xmpp.disco.feature('jabber:iq:gateway')
 * xmpp.disco.item({ jid: 'rooms.example.org', name: 'Rooms' })
 * ```
 */
export class Disco {
  readonly #entries = new Map<string, Entry>()
  readonly #router: Router
  readonly #defaultIdentity: Identity
  /** Local part → verification string, least recently used first; at most {@link capsCacheSize}. */
  #capsCache = new Map<string, string>()
  /** Node URI used in XEP-0115 caps. */
  capsNode = 'https://github.com/satellite-xmpp/satellite'
  /**
   * Most local parts whose caps verification string is kept (default 1000, option
   * `responders.caps.cacheSize`). Presences go out from any local part a peer chooses (both
   * Prosody and ejabberd forward a client's probe to any local part), so the cache is an LRU.
   */
  capsCacheSize = 1000

  /** @internal Created by the component; use it as `xmpp.disco`. */
  constructor(router: Router, defaultIdentity: Identity) {
    this.#router = router
    this.#defaultIdentity = defaultIdentity
  }

  #entry(t: DiscoTarget = {}): Entry {
    const key = `${(t.to ?? '').toLowerCase()}\u0000${t.node ?? ''}`
    let e = this.#entries.get(key)
    if (!e) {
      e = { identities: [], features: new Set(), items: [] }
      this.#entries.set(key, e)
    }
    this.#capsCache.clear()
    return e
  }

  #get(to: string, node: string | undefined): Entry | undefined {
    return this.#entries.get(`${to}\u0000${node ?? ''}`)
  }

  /** Adds an identity. For the domain, the first one replaces the default `component/generic`. */
  identity(identity: Identity, target?: DiscoTarget): this {
    this.#entry(target).identities.push(identity)
    return this
  }

  /** Advertises a feature namespace. */
  feature(ns: string, target?: DiscoTarget): this {
    this.#entry(target).features.add(ns)
    return this
  }

  /** Lists an item in disco#items. */
  item(item: DiscoItem, target?: DiscoTarget): this {
    this.#entry(target).items.push(item)
    return this
  }

  /**
   * Removes an identity added with {@link Disco.identity} (same category, type and name; and lang when
   * given). A plugin's `close()` calls it for what it added.
   */
  removeIdentity(identity: Identity, target?: DiscoTarget): this {
    this.#remove(target, (e) => {
      const i = e.identities.findIndex(
        (x) =>
          x.category === identity.category &&
          x.type === identity.type &&
          x.name === identity.name &&
          (identity.lang === undefined || x.lang === identity.lang),
      )
      if (i >= 0) e.identities.splice(i, 1)
    })
    return this
  }

  /** Stops advertising a feature namespace added with {@link Disco.feature}. */
  removeFeature(ns: string, target?: DiscoTarget): this {
    this.#remove(target, (e) => e.features.delete(ns))
    return this
  }

  /** Removes an item listed with {@link Disco.item} (same `jid` and `node`). */
  removeItem(item: DiscoItem, target?: DiscoTarget): this {
    this.#remove(target, (e) => {
      const i = e.items.findIndex((x) => x.jid === item.jid && x.node === item.node)
      if (i >= 0) e.items.splice(i, 1)
    })
    return this
  }

  #remove(t: DiscoTarget = {}, change: (e: Entry) => void): void {
    const key = `${(t.to ?? '').toLowerCase()}\u0000${t.node ?? ''}`
    const e = this.#entries.get(key)
    if (e === undefined) return
    change(e)
    if (e.identities.length === 0 && e.features.size === 0 && e.items.length === 0) this.#entries.delete(key)
    this.#capsCache.clear()
  }

  /** Forgets cached caps hashes (called when routes change). */
  invalidate(): void {
    this.#capsCache.clear()
  }

  /** Local parts whose caps verification string is cached now (at most {@link capsCacheSize}). */
  get capsCached(): number {
    return this.#capsCache.size
  }

  /** disco#info for the JID with local part `local` ('' = the domain); null if nothing is known. */
  info(local: string, node?: string): DiscoInfo | null {
    const l = local.toLowerCase()
    const entries: Entry[] = []
    const own = this.#get(l, node)
    if (own) entries.push(own)
    if (l !== '') {
      const any = this.#get('*', node)
      if (any) entries.push(any)
    }
    const identities: Identity[] = []
    const features = new Set<string>()
    for (const e of entries) {
      identities.push(...e.identities)
      for (const f of e.features) features.add(f)
    }
    if (node === undefined) {
      for (const f of this.#router.features(l)) features.add(f)
      if (l === '' && identities.length === 0) identities.push(this.#defaultIdentity)
    }
    if (identities.length === 0) return null
    features.add(NS_DISCO_INFO)
    return { identities, features: [...features].sort(), forms: [] }
  }

  /** disco#items for the JID with local part `local`. */
  items(local: string, node?: string): DiscoItem[] | null {
    const l = local.toLowerCase()
    const own = this.#get(l, node)
    const any = l !== '' ? this.#get('*', node) : undefined
    if (!own && !any && node !== undefined) return null
    return [...(own?.items ?? []), ...(any?.items ?? [])]
  }

  /** XEP-0115 verification string for the JID with local part `local`, or null. */
  capsVer(local: string): string | null {
    const l = local.toLowerCase()
    const cache = this.#capsCache
    const cached = cache.get(l)
    if (cached !== undefined) {
      // Most recently used last (a Map iterates in insertion order).
      cache.delete(l)
      cache.set(l, cached)
      return cached
    }
    const info = this.info(l)
    if (!info) return null
    const ver = capsHash(info)
    while (cache.size > 0 && cache.size >= this.capsCacheSize)
      cache.delete(cache.keys().next().value as string)
    cache.set(l, ver)
    return ver
  }

  /** Resolves a caps node (`node#ver`) back to the plain info for `local`. */
  isCapsNode(local: string, node: string): boolean {
    const ver = this.capsVer(local)
    return ver !== null && node === `${this.capsNode}#${ver}`
  }
}

/** XEP-0115 section 5.1 verification string (SHA-1, base64). */
export function capsHash(info: DiscoInfo): string {
  const ids = info.identities.map((i) => `${i.category}/${i.type}/${i.lang ?? ''}/${i.name ?? ''}`).sort()
  let s = ''
  for (const id of ids) s += `${id}<`
  for (const f of [...info.features].sort()) s += `${f}<`
  return createHash('sha1').update(s, 'utf8').digest('base64')
}

/** Builds the `<query xmlns='...disco#info'>` payload. */
export function infoQuery(info: DiscoInfo, node: string | undefined): Element {
  const q = xml('query', node === undefined ? { xmlns: NS_DISCO_INFO } : { xmlns: NS_DISCO_INFO, node })
  for (const i of info.identities) {
    const attrs: Record<string, string> = { category: i.category, type: i.type }
    if (i.name !== undefined) attrs.name = i.name
    if (i.lang !== undefined) attrs['xml:lang'] = i.lang
    q.c('identity', attrs)
  }
  for (const f of info.features) q.c('feature', { var: f })
  for (const form of info.forms) q.cnode(form)
  return q
}

/** Builds the `<query xmlns='...disco#items'>` payload. */
export function itemsQuery(items: DiscoItem[], node: string | undefined): Element {
  const q = xml('query', node === undefined ? { xmlns: NS_DISCO_ITEMS } : { xmlns: NS_DISCO_ITEMS, node })
  for (const it of items) {
    const attrs: Record<string, string> = { jid: it.jid }
    if (it.node !== undefined) attrs.node = it.node
    if (it.name !== undefined) attrs.name = it.name
    q.c('item', attrs)
  }
  return q
}
