// The namespaces the bridge writes and reads (the group-chat ones are in groups.ts).

export const NS_GATEWAY = 'jabber:iq:gateway'
export const NS_VCARD = 'vcard-temp'
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'
export const NS_RECEIPTS = 'urn:xmpp:receipts'
export const NS_CORRECT = 'urn:xmpp:message-correct:0'
export const NS_REACTIONS = 'urn:xmpp:reactions:0'
export const NS_NICK = 'http://jabber.org/protocol/nick'
export const NS_VCARD_UPDATE = 'vcard-temp:x:update'
export const NS_HINTS = 'urn:xmpp:hints'
