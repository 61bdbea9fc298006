// A template for a real network: copy this file, fill in each TODO, and pass the adapter to
// `bridge(xmpp, { adapter, store })`. The simulated network's adapter (network/adapter.ts) is
// the complete reference implementation.
//
// Treat everything the network sends as hostile (its users and its server alike); see
// network/fields.ts for the checks the reference adapter makes:
// - Parse defensively where the data arrives (a socket's `data` handler, your library's
//   callbacks): a malformed message is dropped and logged, never thrown out of the handler
//   (an exception there ends the process), and the session goes on.
// - A chat state is one of the five of XEP-0085; an error condition one of RFC 6120's (anything
//   else: `undefined-condition`); contact and group ids are non-empty, without control
//   characters, short enough for a JID; picture types look like `type/subtype`, their data is
//   bounded. Drop what does not fit; leave a bad item out of a list rather than the whole list.
// - Bound what the network can make you hold: line or frame length, requests waiting for an
//   answer (and a timeout on each), anything keyed by what the network chooses.
// - Users see short fixed texts (`new StanzaError('service-unavailable', { text: 'the network
//   is unreachable' })`); addresses, socket errors and stack traces go to your debug log.
import type { Credentials, LegacyContact, NetworkAdapter, SessionEvents } from '@satellite/bridge'
import { StanzaError } from '@satellite/core'

/** Your session handle: whatever your network's client library gives you once logged in. */
export interface TemplateSession {
  user: string
  events: SessionEvents
}

export const templateAdapter: NetworkAdapter<TemplateSession> = {
  // The disco identity becomes gateway/<type>; pick the XEP-0100 registry value when there is one.
  network: { type: 'template', name: 'Template network' },

  // The XEP-0077 fields the user fills in (also offered as a data form).
  registration: { fields: ['username', 'password'], instructions: 'Enter your Template network login' },

  async login(credentials: Credentials, events: SessionEvents): Promise<TemplateSession> {
    // TODO: connect with credentials.username / credentials.password. The bridge calls login both
    // to validate a registration and for every session (at presence, at start, after reconnects).
    // Wrong credentials: throw new StanzaError('not-authorized'). Network down: any other error
    // (the bridge retries with backoff), with a short text that names no host or port.
    // Then wire your library's callbacks to `events`: events.message({ from, id, text }),
    // events.presence(contact, online), events.contacts(list), events.disconnected(reason).
    if (credentials.password === '') throw new StanzaError('not-authorized', { text: 'empty password' })
    return { user: String(credentials.username), events }
  },

  async logout(_session: TemplateSession): Promise<void> {
    // TODO: close the connection. Events emitted after logout are ignored by the bridge.
  },

  async sendText(_session: TemplateSession, to: string, _text: string): Promise<string> {
    // TODO: send and return the network's message id (mapped to the XMPP id for receipts and
    // corrections). Unknown contact: StanzaError('item-not-found'); offline contact when the
    // network has no offline storage: StanzaError('recipient-unavailable').
    throw new StanzaError('item-not-found', { text: `no contact ${to} (template adapter)` })
  },

  async listContacts(_session: TemplateSession): Promise<LegacyContact[]> {
    // TODO: the contact list: ids are any strings (escaped losslessly into JIDs, XEP-0106).
    return []
  },

  // Optional: declare only what the network really supports; the bridge advertises these in disco
  // and answers the others with feature-not-implemented.
  capabilities: {
    // typing: { sendTyping: async (session, to, state) => {} },
    // receipts: { sendReceipt: async (session, to, messageId) => {} },
    // corrections: { correct: async (session, to, messageId, text) => newMessageId },
    // reactions: { react: async (session, to, messageId, emojis) => {} },
    // avatars: { avatar: async (session, contact) => ({ type: 'image/png', data: pngBuffer }) or null },
    // (the session reports the other direction through events.typing/receipt/reaction/avatar)
    // status: { setStatus: async (session, online, status) => {} },
    // groups: {
    //   listGroups: async (session) => [{ id: '#general', name: 'General', subject: 'Welcome', nick: 'me' }],
    //   members: async (session, group) => [{ id: 'zed', nick: 'Zed' }], // the others, not the user
    //   sendGroupText: async (session, group, text) => messageId,
    // },
    // (and events.groupMessage/groupMembers/groupSubject; each group is a XEP-0045 room at
    // escapeLocal(groupId)@gateway: give groups ids no contact can have, like IRC's #channel)
  },
}
