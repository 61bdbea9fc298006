// The gateway's jabber:iq:gateway (XEP-0100 §6.3), the contacts' vCards (XEP-0054) and the
// presences users send to contacts (subscriptions, probes).
import { type Component, type Element, errorReply, StanzaError, type Unroute, xml } from '@satellite/core'
import { fromJid } from '@satellite/escaping'
import { userOf } from './access.js'
import type { CachedAvatar } from './avatars.js'
import type { MaybePromise, StoredContact } from './store.js'
import { isLegacyId } from './validate.js'

export const NS_GATEWAY = 'jabber:iq:gateway'
export const NS_VCARD = 'vcard-temp'

export interface ContactRoutesHost {
  xmpp: Component
  networkName: string
  /** The adapter's normalizeId, guarded: a usable legacy id or a StanzaError. */
  normalizeId(input: string): Promise<string>
  contactJid(legacyId: string): string
  /** The user has a registration (readable or not). */
  registered(user: string): Promise<boolean>
  contacts(user: string): MaybePromise<StoredContact[]>
  /** The contact's picture (null: none; undefined: not known). */
  avatar(user: string, legacyId: string): Promise<CachedAvatar | null | undefined>
  /** The contact's legacy presence as the user's session knows it. */
  presence(user: string, legacyId: string): { online: boolean; status: string | undefined }
  contactPresence(
    user: string,
    legacyId: string,
    online: boolean,
    status: string | undefined,
    to: string,
  ): void
  send(el: Element): Promise<void>
}

/**
 * The legacy id a contact address stands for: null when the address is not a contact's
 * (another domain, no local part); `jid-malformed` when its local part unescapes to no usable
 * id (a lone surrogate such as `\u{d800}`, or too long).
 */
function legacyIdOf(address: string, domain: string): string | null {
  const id = fromJid(address, domain)
  if (id !== null && !isLegacyId(id))
    throw new StanzaError('jid-malformed', { text: 'not the address of a contact' })
  return id
}

/** jabber:iq:gateway and the contacts' vCards (registered before the group-chat routes). */
export function gatewayRoutes(host: ContactRoutesHost): Unroute[] {
  const { xmpp, networkName } = host
  const domain = xmpp.domain
  return [
    xmpp.iqGet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, () =>
      xml(
        'query',
        { xmlns: NS_GATEWAY },
        xml('desc', {}, `Enter the ${networkName} ID of the contact`),
        xml('prompt', {}, `${networkName} ID`),
      ),
    ),
    xmpp.iqSet({ xmlns: NS_GATEWAY, name: 'query', to: '' }, async (_iq, query) => {
      const input = (query.getChildText('prompt') ?? '').trim()
      if (input === '') throw new StanzaError('bad-request', { text: 'give the contact ID in <prompt/>' })
      const id = await host.normalizeId(input)
      return xml('query', { xmlns: NS_GATEWAY }, xml('jid', {}, host.contactJid(id)))
    }),
    xmpp.iqGet({ xmlns: NS_VCARD, name: 'vCard', to: '*' }, async (iq) => {
      const user = userOf(iq)
      const legacyId = legacyIdOf(String(iq.attrs.to), domain)
      if (legacyId === null) throw new StanzaError('item-not-found')
      if (!(await host.registered(user))) {
        throw new StanzaError('registration-required', { text: `register with ${domain} first` })
      }
      const contact = (await host.contacts(user)).find((c) => c.legacyId === legacyId)
      if (contact === undefined) throw new StanzaError('item-not-found', { text: 'not one of your contacts' })
      const card = xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, contact.name ?? legacyId))
      if (contact.name !== undefined) card.c('NICKNAME').t(contact.name)
      const av = await host.avatar(user, legacyId)
      if (av !== undefined && av !== null) {
        card.c('PHOTO').c('TYPE').t(av.type).up().c('BINVAL').t(av.data.toString('base64'))
      }
      return card
    }),
  ]
}

/** Presences to contacts: subscriptions answered, probes answered with the contact's presence. */
export function contactPresenceRoute(host: ContactRoutesHost): Unroute {
  const domain = host.xmpp.domain
  return host.xmpp.presence({ to: '*' }, async (p) => {
    const user = userOf(p)
    const type = p.attrs.type ?? 'available'
    let legacyId: string | null
    try {
      legacyId = legacyIdOf(String(p.attrs.to), domain)
    } catch (err) {
      if (type === 'subscribe') await host.send(errorReply(p, err as StanzaError))
      return
    }
    if (legacyId === null) return
    const registered = await host.registered(user)
    if (type === 'subscribe') {
      if (!registered) {
        return host.send(
          errorReply(p, new StanzaError('registration-required', { text: `register with ${domain} first` })),
        )
      }
      return host.send(xml('presence', { from: p.attrs.to, to: user, type: 'subscribed' }))
    }
    if (type === 'probe' && registered) {
      const pres = host.presence(user, legacyId)
      return host.contactPresence(user, legacyId, pres.online, pres.status, String(p.attrs.from))
    }
  })
}
