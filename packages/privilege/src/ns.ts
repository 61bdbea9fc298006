/**
 * XEP-0356 namespace of versions up to 0.3 (spoken by ejabberd up to at least 23.01).
 *
 * @example
 * ```ts
 * if (priv.granted()?.namespace === NS_PRIVILEGE_1) console.log('an older server')
 * ```
 */
export const NS_PRIVILEGE_1 = 'urn:xmpp:privilege:1'
/**
 * XEP-0356 namespace of version 0.4 and later (spoken by Prosody's mod_privilege since 2022):
 * adds the `iq` permission and the `push` attribute of the `roster` permission.
 *
 * @example
 * ```ts
 * if (priv.granted()?.namespace === NS_PRIVILEGE_2) console.log('iq permission possible')
 * ```
 */
export const NS_PRIVILEGE_2 = 'urn:xmpp:privilege:2'
/**
 * XEP-0297 Stanza Forwarding, used to wrap a message sent on a user's behalf.
 *
 * @example
 * ```ts
 * wrapper.getChild('privilege', NS_PRIVILEGE_2)?.getChild('forwarded', NS_FORWARD)
 * ```
 */
export const NS_FORWARD = 'urn:xmpp:forward:0'
/**
 * The roster namespace (RFC 6121).
 *
 * @example
 * ```ts
 * xml('query', { xmlns: NS_ROSTER })
 * ```
 */
export const NS_ROSTER = 'jabber:iq:roster'
