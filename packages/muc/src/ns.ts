// The namespaces the room engine reads and writes.

/** XEP-0045: the `<x/>` a client puts in its join presence. */
export const NS_MUC = 'http://jabber.org/protocol/muc'
/** XEP-0045: the `<x/>` of room presences (items, status codes) and of private messages. */
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
/** XEP-0045: affiliation and role lists and changes (§8, §9, §10). */
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin'
/** XEP-0045: room configuration and destruction (§10). */
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner'
/** XEP-0045: the FORM_TYPE of the room configuration form. */
export const NS_MUC_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig'
/** XEP-0045: the FORM_TYPE of a room's extended disco#info (XEP-0128). */
export const NS_MUC_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo'
/** XEP-0045 1.31: the room keeps the `id` of the messages it reflects. */
export const NS_MUC_STABLE_ID = 'http://jabber.org/protocol/muc#stable_id'
/** XEP-0410: the room answers a ping to an occupant's own nick itself. */
export const NS_MUC_SELF_PING = 'http://jabber.org/protocol/muc#self-ping-optimization'
/** XEP-0421 occupant identifiers. */
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'
/** XEP-0359 unique and stable stanza ids. */
export const NS_SID = 'urn:xmpp:sid:0'
/** XEP-0203 delayed delivery. */
export const NS_DELAY = 'urn:xmpp:delay'
/** XEP-0199 ping. */
export const NS_PING = 'urn:xmpp:ping'
/** XEP-0004 data forms. */
export const NS_DATA = 'jabber:x:data'
/** RFC 6120 stanza error conditions. */
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
