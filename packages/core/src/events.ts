import type { Component } from './component.js'
import type { SatelliteError } from './errors.js'
import type { JID } from './jid.js'
import type { Stanza } from './xml/stanza.js'

/**
 * Lifecycle states, announced by the `status` event. The allowed changes are listed in
 * docs/connection.md ("Statuses and events"); any other is a bug.
 */
export type Status =
  | 'idle'
  | 'connecting'
  | 'authenticating'
  | 'online'
  | 'offline'
  | 'reconnecting'
  | 'stopping'
  | 'stopped'

/** Detail of a `reconnecting` status. */
export interface ReconnectInfo {
  /** Delay before the next attempt, in ms. */
  delay: number
  /** Failed attempts in a row so far. */
  attempt: number
  /** Why the previous connection ended (a stream error condition, an errno code, `timeout`...). */
  reason: string
  error: Error | undefined
}

/** Events of a {@link Component}. */
export interface ComponentEvents {
  /** The handshake succeeded; the component's JID is given. */
  online: [address: JID]
  /** The connection went down (a reconnect may follow; see `status`). */
  offline: [info: { reason: string; error: Error | undefined }]
  /** Every incoming stanza, before routing (for logging or xmpp.js-style handling). */
  stanza: [stanza: Stanza]
  /** Connection errors, fatal errors (`err.fatal`), and errors thrown by handlers. */
  error: [err: Error]
  /** Every lifecycle change. */
  status: [status: Status, detail?: ReconnectInfo]
  /** A reconnect is scheduled. */
  reconnecting: [info: ReconnectInfo]
  /** A stanza was not sent: queue full, expired, or stopped. */
  dropped: [info: { data: string; error: SatelliteError }]
  /** Satellite stopped: by `stop()`, the AbortSignal, or a fatal error. */
  stopped: [info: { error: Error | undefined }]
}

/** A listener of the {@link Component} event `E`. */
export type ComponentListener<E extends keyof ComponentEvents> = (...args: ComponentEvents[E]) => void

/** The two event methods the connection supervisor and the inbound queue use. */
export interface EventSink {
  emit<E extends keyof ComponentEvents>(event: E, ...args: ComponentEvents[E]): boolean
  listenerCount(event: keyof ComponentEvents): number
}
