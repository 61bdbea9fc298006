// Messages both ways: chat messages (ids mapped in the store), chat states, receipts,
// corrections and reactions, each only when the adapter declares it. What the user sends to a
// contact is relayed through the user's live legacy session (logging in if needed).
import { randomUUID } from 'node:crypto'
import { errorReply, hasResource, type Stanza, StanzaError, type Unroute, xml } from '@satellite/core'
import { fromJid } from '@satellite/escaping'
import { userOf } from './access.js'
import type { ChatState, IncomingMessage } from './adapter.js'
import type { BridgeContext } from './context.js'
import { NS_CHATSTATES, NS_CORRECT, NS_HINTS, NS_REACTIONS, NS_RECEIPTS } from './ns.js'
import type { UserSession } from './sessions.js'
import { CHAT_STATES, isLegacyId } from './validate.js'

export interface Messages<S> {
  /** A message from a contact (login `gen`): to the user, the sender added as a contact if new. */
  incoming(us: UserSession<S>, gen: number, m: IncomingMessage): Promise<void>
  typing(us: UserSession<S>, contact: string, state: ChatState): void
  receipt(us: UserSession<S>, contact: string, legacyId: string): Promise<void>
  reaction(us: UserSession<S>, contact: string, legacyId: string, emojis: string[]): Promise<void>
}

export function messages<S>(ctx: BridgeContext<S>): Messages<S> {
  const { store, caps, contactJid } = ctx
  return {
    async incoming(us, gen, m) {
      // A message from someone new adds the contact first (within limits.contacts).
      const stored = await store.contacts(us.user)
      if (!stored.some((c) => c.legacyId === m.from)) await ctx.contacts.addSender(us, gen, m.from)
      // The legacy id doubles as the XMPP id (as Slidge does): stable and easy to correlate.
      const id = m.id !== '' ? m.id : randomUUID()
      await store.putMessage(us.user, { contact: m.from, xmppId: id, legacyId: m.id })
      const msg = xml(
        'message',
        { from: contactJid(m.from), to: us.user, type: 'chat', id },
        xml('body', {}, m.text),
      )
      if (m.replaces !== undefined && caps.corrections) {
        const original = await store.xmppIdOf(us.user, m.from, m.replaces)
        if (original !== null) msg.c('replace', { xmlns: NS_CORRECT, id: original })
      }
      if (caps.receipts) msg.c('request', { xmlns: NS_RECEIPTS })
      if (caps.typing) msg.c('active', { xmlns: NS_CHATSTATES })
      await ctx.send(msg)
    },
    typing(us, contact, state) {
      // sessionEvents let only the five XEP-0085 states through; never an element name from outside.
      if (!CHAT_STATES.has(state)) return
      void ctx.send(
        xml(
          'message',
          { from: contactJid(contact), to: us.user, type: 'chat' },
          xml(state, { xmlns: NS_CHATSTATES }),
        ),
      )
    },
    async receipt(us, contact, legacyId) {
      const id = await store.xmppIdOf(us.user, contact, legacyId)
      if (id === null) return
      void ctx.send(
        xml(
          'message',
          { from: contactJid(contact), to: us.user, id: randomUUID() },
          xml('received', { xmlns: NS_RECEIPTS, id }),
        ),
      )
    },
    async reaction(us, contact, legacyId, emojis) {
      const id = await store.xmppIdOf(us.user, contact, legacyId)
      if (id === null) return
      const reactions = xml('reactions', { xmlns: NS_REACTIONS, id })
      for (const e of emojis) reactions.c('reaction').t(e)
      void ctx.send(
        xml(
          'message',
          { from: contactJid(contact), to: us.user, type: 'chat', id: randomUUID() },
          reactions,
          xml('store', { xmlns: NS_HINTS }),
        ),
      )
    },
  }
}

/** Chat and normal messages from users to contacts: relayed, or answered with a stanza error. */
export function messageRoute<S>(ctx: BridgeContext<S>): Unroute {
  const { domain, store, caps, networkName, guarded } = ctx
  const unsupported = (what: string) =>
    new StanzaError('feature-not-implemented', { text: `${networkName} does not support ${what}` })

  async function relay(msg: Stanza): Promise<void> {
    const user = userOf(msg)
    const to = String(msg.attrs.to)
    const legacyId = fromJid(to, domain)
    // A local part that unescapes to no usable id (a lone surrogate, too long) is no contact.
    if (legacyId === null || !isLegacyId(legacyId)) {
      throw new StanzaError('jid-malformed', { text: 'not the address of a contact' })
    }
    // Contacts have no resources; with groups, `room@gateway/nick` is an occupant: never relay
    // that to the contact `room` (on IRC-like networks it would post to the channel).
    if (ctx.groups !== undefined && hasResource(to)) {
      throw new StanzaError('feature-not-implemented', {
        text: `private messages to ${networkName} group members are not bridged; message the contact directly`,
      })
    }
    const handle = await ctx.gateway.sessionFor(user)
    if (ctx.groups?.isGroup(user, legacyId)) {
      throw new StanzaError('not-acceptable', {
        text: `${legacyId} is a group: join the room and send groupchat messages`,
      })
    }
    const body = msg.getChildText('body')
    const children = msg.getChildElements()
    if (body !== null) {
      const replace = children.find((c) => c.name === 'replace' && c.attrs.xmlns === NS_CORRECT)
      const xmppId = msg.attrs.id ?? randomUUID()
      if (replace !== undefined) {
        if (caps.corrections === undefined) throw unsupported('message corrections')
        const original = await store.legacyIdOf(user, legacyId, String(replace.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the corrected message is unknown' })
        const newId = await guarded.correct(user, handle, legacyId, original, body)
        await store.putMessage(user, { contact: legacyId, xmppId, legacyId: newId })
        return
      }
      const sent = await guarded.sendText(user, handle, legacyId, body)
      await store.putMessage(user, { contact: legacyId, xmppId, legacyId: sent })
      return
    }
    for (const c of children) {
      if (c.attrs.xmlns === NS_CHATSTATES && CHAT_STATES.has(c.name)) {
        if (caps.typing === undefined) throw unsupported('typing notifications')
        await guarded.sendTyping(user, handle, legacyId, c.name as ChatState)
        return
      }
      if (c.attrs.xmlns === NS_RECEIPTS && c.name === 'received') {
        if (caps.receipts === undefined) throw unsupported('delivery receipts')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the received message is unknown' })
        await guarded.sendReceipt(user, handle, legacyId, original)
        return
      }
      if (c.attrs.xmlns === NS_REACTIONS && c.name === 'reactions') {
        if (caps.reactions === undefined) throw unsupported('reactions')
        const original = await store.legacyIdOf(user, legacyId, String(c.attrs.id ?? ''))
        if (original === null)
          throw new StanzaError('item-not-found', { text: 'the message reacted to is unknown' })
        const emojis = c.getChildElements().flatMap((r) => (r.name === 'reaction' ? [r.getText()] : []))
        await guarded.react(user, handle, legacyId, original, emojis)
        return
      }
    }
  }

  return ctx.xmpp.message({ to: '*', type: ['chat', 'normal'] }, async (msg) => {
    try {
      await relay(msg)
    } catch (err) {
      // StanzaErrors are the bridge's own or the guard's (valid condition, stable text); anything
      // else is a bug or a store failure: logged, and a stable text for the user.
      if (!(err instanceof StanzaError)) ctx.report(err as Error)
      const e =
        err instanceof StanzaError
          ? err
          : new StanzaError('undefined-condition', { text: 'the gateway could not relay this message' })
      await ctx.send(errorReply(msg, e))
    }
  })
}
