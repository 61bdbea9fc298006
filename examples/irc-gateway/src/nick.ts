// The nicks tried when the server refuses the one a user asked for: 433 (in use) gives the
// visible fallback `nick_`, then `nick__`, `nick___`, then `nick_` plus digits; 432 (erroneous)
// first reduces the nick to RFC 2812 characters. Each candidate fits the server's NICKLEN.

const RFC_NICK_CHAR = /[A-Za-z0-9[\]\\`_^{|}-]/g

/** `nick` reduced to RFC 2812 nick characters, not starting with a digit or '-'; 'xmpp' when nothing is left. */
export function sanitizeNick(nick: string): string {
  const kept = (nick.match(RFC_NICK_CHAR) ?? []).join('').replace(/^[0-9-]+/, '')
  return kept === '' ? 'xmpp' : kept
}

/**
 * The candidate for the `attempt`-th retry (1-based) after `requested` was refused for `reason`:
 * suffixes of '_' (up to 3), then '_' and 4 random digits; cut so it fits `maxLength`.
 */
export function fallbackNick(
  requested: string,
  attempt: number,
  reason: 'in-use' | 'erroneous',
  maxLength: number,
  random: () => number = Math.random,
): string {
  const base = reason === 'erroneous' ? sanitizeNick(requested) : requested
  const suffix =
    attempt <= 3
      ? '_'.repeat(attempt)
      : `_${Math.floor(random() * 10_000)
          .toString()
          .padStart(4, '0')}`
  const room = Math.max(1, maxLength - suffix.length)
  return [...base].slice(0, room).join('') + suffix
}
