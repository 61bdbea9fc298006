// The one object that wires the bridge (built by bridge()): the services every part uses (the
// component, the guarded adapter, the store, the limits, reporting) and the parts themselves.
// A part reaches the others through it when it runs, never while it is built, so the parts
// can call one another without import cycles, and a test can build a part on a small context.
import type { Component, Element } from '@satellite/core'
import type { Access } from './access.js'
import type { Capabilities, NetworkAdapter } from './adapter.js'
import type { AvatarCache } from './avatars.js'
import type { Contacts } from './contacts.js'
import type { Gateway } from './gateway.js'
import type { Groups } from './groups.js'
import type { GuardedAdapter } from './guard.js'
import type { ResolvedLimits } from './limits.js'
import type { Messages } from './messages.js'
import type { ResolvedRetry } from './options.js'
import type { Presence } from './presence.js'
import type { Roster } from './roster.js'
import type { Sessions } from './sessions.js'
import type { BridgeStore } from './store.js'
import type { LoginThrottle } from './throttle.js'
import type { VCards } from './vcards.js'

/** What every part of the bridge uses. */
export interface BridgeServices<S> {
  readonly xmpp: Component
  /** The component's domain: the gateway's address. */
  readonly domain: string
  /** The network's name as users read it. */
  readonly networkName: string
  readonly adapter: NetworkAdapter<S>
  readonly caps: Capabilities<S>
  /** The adapter behind its guard: clean values or StanzaErrors with stable texts. */
  readonly guarded: GuardedAdapter<S>
  readonly store: BridgeStore
  /** Who may use the gateway; reading registrations. */
  readonly users: Access
  readonly limits: ResolvedLimits
  readonly retry: ResolvedRetry
  readonly throttle: LoginThrottle
  /** Contacts' pictures known so far. */
  readonly avatars: AvatarCache
  /** Contacts in the users' rosters (XEP-0356 pushes or subscriptions, and the catch-up). */
  readonly roster: Roster
  /** To the operator (the component's `error` event, rate-limited). */
  report(err: Error): void
  /** A bound of `limits` or `loginLimits` was reached. */
  limit(what: string): void
  /** Input from the adapter dropped (reported), for `user` if given. */
  dropped(user?: string): (what: string) => void
  /** Sends; a failure is reported, never thrown. */
  send(el: Element): Promise<void>
  /** A chat message from the gateway to the user. */
  notify(user: string, text: string): void
  /** The JID standing for a legacy id. */
  contactJid(legacyId: string): string
}

/** The parts, one concern each. */
export interface BridgeParts<S> {
  /** The users' legacy sessions: login, logout, re-logins. */
  sessions: Sessions<S>
  /** Presence: the gateway's, the contacts', and the user's (which logs in and out). */
  presence: Presence<S>
  /** The contact list: stored contacts and the roster follow the legacy one. */
  contacts: Contacts<S>
  /** Messages both ways (and chat states, receipts, corrections, reactions). */
  messages: Messages<S>
  /** Contacts' vCards and pictures. */
  vcards: VCards<S>
  /** Registration, jabber:iq:gateway, and requests waiting for a login. */
  gateway: Gateway<S>
  /** Group chats (undefined without the `groups` capability). */
  groups: Groups | undefined
}

export type BridgeContext<S> = BridgeServices<S> & BridgeParts<S>
