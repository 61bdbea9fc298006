// Contacts' vCards (XEP-0054, answered by the bridge on every contact JID) and pictures: asked
// to the adapter once per contact and login, kept in the AvatarCache, announced by their
// XEP-0153 hash in the contact's presence (presence.ts), replaced by the adapter's events.
import { StanzaError, type Unroute, xml } from '@satellite/core'
import { contactIdOf, userOf } from './access.js'
import type { Avatar } from './adapter.js'
import type { CachedAvatar } from './avatars.js'
import type { BridgeContext } from './context.js'
import { NS_VCARD } from './ns.js'
import type { UserSession } from './sessions.js'

export interface VCards<S> {
  /** The contact's picture: known, or asked to the adapter (undefined: unknown, e.g. offline or failed). */
  avatarOf(us: UserSession<S>, legacyId: string): Promise<CachedAvatar | null | undefined>
  /** The legacy network reports a contact's new picture (null: removed). */
  changed(us: UserSession<S>, legacyId: string, avatar: Avatar | null): void
}

export function vcards<S>(ctx: BridgeContext<S>): VCards<S> {
  const { avatars, caps } = ctx
  return {
    async avatarOf(us, legacyId) {
      if (caps.avatars === undefined) return null
      if (avatars.has(us.user, legacyId)) return avatars.get(us.user, legacyId)
      const st = us.state
      if (st.kind !== 'online') return undefined
      try {
        const av = await ctx.guarded.avatar(us.user, st.handle, legacyId)
        return ctx.sessions.isCurrent(us, st.gen) ? avatars.set(us.user, legacyId, av) : undefined
      } catch {
        return undefined // reported by the guard
      }
    },
    changed(us, legacyId, avatar) {
      if (caps.avatars === undefined) return
      avatars.set(us.user, legacyId, avatar)
      const pres = us.presence.get(legacyId)
      if (us.state.kind === 'online' && pres?.online === true) {
        ctx.presence.contact(us.user, legacyId, true, pres.status)
      }
    },
  }
}

/** vcard-temp on contact JIDs: FN and NICKNAME from the contact's name, PHOTO with `avatars`. */
export function vcardRoute<S>(ctx: BridgeContext<S>): Unroute {
  const { domain } = ctx
  return ctx.xmpp.iqGet({ xmlns: NS_VCARD, name: 'vCard', to: '*' }, async (iq) => {
    const user = userOf(iq)
    const legacyId = contactIdOf(String(iq.attrs.to), domain)
    if (legacyId === null) throw new StanzaError('item-not-found')
    if ((await ctx.users.read(user)).kind === 'none') {
      throw new StanzaError('registration-required', { text: `register with ${domain} first` })
    }
    const contact = (await ctx.store.contacts(user)).find((c) => c.legacyId === legacyId)
    if (contact === undefined) throw new StanzaError('item-not-found', { text: 'not one of your contacts' })
    const card = xml('vCard', { xmlns: NS_VCARD }, xml('FN', {}, contact.name ?? legacyId))
    if (contact.name !== undefined) card.c('NICKNAME').t(contact.name)
    const us = ctx.sessions.get(user)
    const av = us === undefined ? undefined : await ctx.vcards.avatarOf(us, legacyId)
    if (av !== undefined && av !== null) {
      card.c('PHOTO').c('TYPE').t(av.type).up().c('BINVAL').t(av.data.toString('base64'))
    }
    return card
  })
}
