/** What a stream error from the server means for a component, and what to fix. */
export function explainStreamError(condition: string, domain: string, text: string | undefined): string {
  const said = text ? ` (server said: "${text}")` : ''
  switch (condition) {
    case 'not-authorized':
      return `the server rejected the handshake for ${domain}${said}: the secret must equal the component_secret configured for ${domain} on the server (Prosody: component_secret under Component "${domain}"; ejabberd: the password of ${domain} in the ejabberd_service listener's hosts). On ejabberd an unknown domain gives this error too.`
    case 'host-unknown':
      return `the server has no external component ${domain}${said}: declare Component "${domain}" (Prosody) or list ${domain} under the ejabberd_service listener's hosts (ejabberd), or fix XMPP_DOMAIN`
    case 'invalid-namespace':
      return `the server does not speak jabber:component:accept on this port${said}: point XMPP_SERVICE at the component port (5347 by default), not the client (5222) or server (5269) port`
    case 'improper-addressing':
      return `the server found an address missing${said}: a stanza without to/from, or a header without to; check XMPP_DOMAIN and that every stanza has a 'to'`
    case 'invalid-from':
      return `the server refused a 'from' outside ${domain}${said}: stanzas must come from ${domain} or user@${domain}`
    case 'bad-format':
      return `the server could not process what the component sent${said}`
    case 'conflict':
      if (text && /local domain/i.test(text)) {
        return `${domain} is one of the server's own virtual hosts${said}: a component needs a domain of its own (e.g. a subdomain such as bot.${domain}); remove it from the server's hosts or pick another XMPP_DOMAIN`
      }
      return `another connection already serves ${domain}${said}: another instance is running, or the server has not yet noticed that the previous connection died (Prosody's default component_conflict_resolve = "kick_new"); retrying no sooner than reconnect.conflictFloor`
    case 'system-shutdown':
      return `the server is shutting down${said}; reconnecting with backoff`
    case 'policy-violation':
      return `the server closed the stream for a policy violation${said}, often a stanza over its size limit (Prosody component_stanza_size_limit, ejabberd max_stanza_size)`
    case 'not-well-formed':
      return `the server found malformed XML${said} (Prosody also uses this for stanzas over component_stanza_size_limit)`
    default:
      return `the server closed the stream with <${condition}/>${said}`
  }
}
