// The legacy bridge as a cluster (docs/scaling.md): N instances on one ejabberd domain with
// `domain_balancing: bare_source` (each user's stanzas come to one slot, so one instance holds
// the user's legacy session) and `component_number: N`, sharing PostgreSQL. The leases and the
// takeover are @satellite/postgres's joinCluster; this file adds what is the bridge's own:
// - who is whose: ejabberd does not tell which users hash to a slot, so an instance that starts or
//   claims a slot probes every registered user (presence probe from the gateway); each user's
//   server answers with the user's available presences, which ejabberd routes by bare source to
//   the slot that owns the user: that instance, and only it, logs the user in (lazily, any other
//   stanza of the user does too);
// - the fence: while its lease is not valid (a paused process waking up) the instance sends
//   nothing to XMPP and logs nobody in; when the lease is lost it logs its users out of the legacy
//   network and stops (exit 75), and the survivor that took its lease takes its slot.
import type { BridgeStore, NetworkAdapter } from '@satellite/bridge'
import { type Component, type Element, ErrorCodes, SatelliteError, StanzaError, xml } from '@satellite/core'
import { isPostgresUrl } from '@satellite/postgres'
import createDebug from 'debug'

const log = createDebug('legacy-bridge:cluster')

/**
 * Makes `xmpp` drop what it would send while `serving()` is false (a stale instance must not
 * speak): send, sendEach and request reject with `SAT_ERR_STOPPED`; counts what was dropped.
 */
export function fenceSends(xmpp: Component, serving: () => boolean): { dropped(): number } {
  let dropped = 0
  const refuse = (what: string) => {
    dropped++
    log('not serving: %s dropped', what)
    const err = new SatelliteError(ErrorCodes.STOPPED, `${what}: this instance's lease is not valid`)
    const p = Promise.reject(err)
    p.catch(() => {})
    return p
  }
  const send = xmpp.send.bind(xmpp)
  const sendEach = xmpp.sendEach.bind(xmpp)
  const request = xmpp.request.bind(xmpp)
  xmpp.send = (stanza: Element) => (serving() ? send(stanza) : refuse(`<${stanza.name}>`))
  xmpp.sendEach = (stanza, recipients) =>
    serving() ? sendEach(stanza, recipients) : refuse(`<${stanza.name}> to several`)
  xmpp.request = (iq, options) => (serving() ? request(iq, options) : refuse('<iq> request'))
  return { dropped: () => dropped }
}

/** `adapter` whose logins and sent texts are refused (`service-unavailable`) while `serving()` is false. */
export function fenceAdapter<S>(adapter: NetworkAdapter<S>, serving: () => boolean): NetworkAdapter<S> {
  const refused = () => new StanzaError('service-unavailable', { text: 'this gateway instance is stopping' })
  return {
    ...adapter,
    login: (credentials, events) =>
      serving() ? adapter.login(credentials, events) : Promise.reject(refused()),
    sendText: (session, to, text) =>
      serving() ? adapter.sendText(session, to, text) : Promise.reject(refused()),
  }
}

/**
 * Sends a presence probe from the gateway to every registered user (one after the other: the
 * component's queue paces them); the answers come to whichever instance owns each user.
 * Resolves with the number sent.
 */
export async function probeUsers(
  xmpp: Component,
  store: BridgeStore,
  serving: () => boolean,
): Promise<number> {
  let sent = 0
  for (const user of await store.users()) {
    if (!serving()) break
    await xmpp.send(xml('presence', { from: xmpp.domain, to: user, type: 'probe' })).then(
      () => sent++,
      (err: Error) => log('probe of %s: %s', user, err.message),
    )
  }
  log('probed %d users', sent)
  return sent
}

/** The cluster's settings: BRIDGE_LEASE_TTL (ms; unset: one instance) and BRIDGE_INSTANCE. */
export interface BridgeClusterSettings {
  ttl: number
  instance?: string
}

/**
 * BRIDGE_LEASE_TTL (1000 to 3,600,000 ms; needs BRIDGE_DB=postgres://…; refuses
 * BRIDGE_LOGIN_AT_START=1, which would log every user in on every instance) and BRIDGE_INSTANCE
 * (1 to 200 printable characters); undefined when BRIDGE_LEASE_TTL is unset. A fatal
 * `SAT_ERR_CONFIG` lists every problem.
 */
export function clusterFromEnv(env: NodeJS.ProcessEnv, db: string): BridgeClusterSettings | undefined {
  const ttl = env.BRIDGE_LEASE_TTL
  if (ttl === undefined || ttl === '') return undefined
  const problems: string[] = []
  const n = Number(ttl)
  if (!/^\d+$/.test(ttl) || n < 1000 || n > 3_600_000) {
    problems.push(`BRIDGE_LEASE_TTL: expected milliseconds from 1000 to 3600000, got ${JSON.stringify(ttl)}`)
  }
  if (!isPostgresUrl(db)) {
    problems.push('BRIDGE_LEASE_TTL: several instances need BRIDGE_DB=postgres://… (a shared database)')
  }
  if (env.BRIDGE_LOGIN_AT_START === '1') {
    problems.push(
      'BRIDGE_LOGIN_AT_START: not with BRIDGE_LEASE_TTL (every instance would log every user in); instances probe their users at start',
    )
  }
  const instance = env.BRIDGE_INSTANCE
  if (instance !== undefined && instance !== '' && !/^[\x21-\x7e]{1,200}$/.test(instance)) {
    problems.push('BRIDGE_INSTANCE: 1 to 200 printable characters without spaces')
  }
  if (problems.length > 0) {
    throw new SatelliteError(ErrorCodes.CONFIG, problems.join('\n'), { fatal: true })
  }
  return instance === undefined || instance === '' ? { ttl: n } : { ttl: n, instance }
}
