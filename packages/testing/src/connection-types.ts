import type { ServerConnection } from './connection.js'
import type { StreamErrorCondition } from './errors.js'
import type { ServerResolvedOptions } from './options.js'
import type { Element } from './xml.js'

/** The server side a connection talks to. @internal */
export interface ConnectionHost {
  readonly options: ServerResolvedOptions
  /** Registers an authenticated connection; returns an error to send instead when refused. */
  register(conn: ServerConnection): { condition: StreamErrorCondition; text: string } | undefined
  authenticated(conn: ServerConnection): void
  stanza(stanza: Element, conn: ServerConnection): void
  route(stanza: Element, conn: ServerConnection): void
  closed(conn: ServerConnection): void
}

/**
 * Options of `conn.write()`.
 * @example
 * await conn.write('<message>…</message>', { splitAt: [3, 10], delayMs: 20 })
 */
export interface WriteOptions {
  /** Byte offsets at which to cut the data into separate TCP writes (may fall inside UTF-8 sequences). */
  splitAt?: number[]
  /** Pause between the pieces so they arrive as separate reads. Default 20 ms when `splitAt` is given. */
  delayMs?: number
}

/**
 * A stream error the server sent on a connection.
 * @example
 * await conn.closed
 * expect(conn.streamErrorSent).toEqual({ condition: 'conflict', text: 'Component already connected' })
 */
export interface SentStreamError {
  condition: string
  text?: string
  /**
   * When the server closed the stream because of the component's input (`not-well-formed`,
   * `restricted-xml`): what was wrong and where, e.g. `mismatched tag: </message> closes <a>`.
   * Never sent on the wire (Prosody sends no text; ejabberd sends expat's message, e.g.
   * `mismatched tag`, as `text`).
   */
  reason?: string
}

/**
 * Events of a {@link ServerConnection}: `stanza` for each stanza from the component,
 * `authenticated` after the handshake, `close` when the TCP connection is gone.
 * @example
 * conn.on('stanza', (stanza) => { if (stanza.is('iq')) conn.send(reply(stanza)) })
 */
export interface ServerConnectionEvents {
  stanza: [stanza: Element]
  authenticated: []
  close: []
}
