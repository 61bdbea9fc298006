import type { StanzaErrorType } from './errors.js'
import { ejabberdStreamId, prosodyStreamId } from './handshake.js'

/**
 * Which real server to emulate. Each flavour is a preset of the options and wire behaviour
 * verified against Prosody 0.12.3 and ejabberd 23.01.
 * @example
 * await createServer({ flavour: 'ejabberd', components: { 'echo.localhost': 's' } })
 */
export type Flavour = 'prosody' | 'ejabberd'

/**
 * What happens when a second connection authenticates for an already connected domain.
 * `kick_new` (Prosody default): the new one gets `<conflict/>` "Component already connected".
 * `kick_old`: the old one gets `<conflict/>` "Replaced by a new connection".
 * `balance` (ejabberd): all stay connected and stanzas to the domain are spread over them.
 * @example
 * await createServer({ conflict: 'kick_old', components: { 'echo.localhost': 's' } })
 */
export type ConflictPolicy = 'kick_new' | 'kick_old' | 'balance'

/**
 * How stanzas are spread with `conflict: 'balance'`: `random` per stanza (ejabberd's default),
 * `bare_source` sticky by the sender's bare JID (ejabberd `domain_balancing: bare_source`),
 * `bare_destination` sticky by the recipient's bare JID (ejabberd `bare_destination`; with
 * `componentNumber`, ejabberd 23.01's fixed slots: see that option), or `round_robin` (like
 * Openfire or Prosody's mod_component_roundrobin).
 * @example
 * await createServer({ conflict: 'balance', balance: 'bare_source', components: { 'echo.localhost': 's' } })
 */
export type BalancePolicy = 'random' | 'bare_source' | 'bare_destination' | 'round_robin'

/**
 * Options of {@link createServer}. Unset options take the flavour's preset.
 * @example
 * const server = await createServer({ components: { 'echo.localhost': 'secret' } })
 */
export interface ServerOptions {
  /** The server's own domain; simulated clients live here. Default `'localhost'`. */
  domain?: string
  /** Component domains and their secrets. */
  components?: Record<string, string>
  /** Interface to listen on. Default `'127.0.0.1'`. */
  host?: string
  /** Port; `0` (default) lets the OS choose. */
  port?: number
  /** Preset of everything below. Default `'prosody'`. */
  flavour?: Flavour
  /** Second connection for a connected domain. Prosody: `kick_new`; ejabberd: `balance`. */
  conflict?: ConflictPolicy
  /** Spreading with `conflict: 'balance'`. Default `'random'`. */
  balance?: BalancePolicy
  /**
   * ejabberd's `component_number` with `balance: 'bare_destination'`, as measured on ejabberd
   * 23.01: each recipient bare JID sticks to one of this many slots; a connection takes the
   * lowest free slot when it authenticates (one made while every slot is taken holds none and
   * receives nothing, even when a slot frees later); the stanzas of a slot whose connection
   * closed are dropped silently until a new connection takes it.
   */
  componentNumber?: number
  /** A `from` outside the component's domain closes the stream with `<invalid-from/>`. Default true. */
  validateFrom?: boolean
  /**
   * Largest stanza (bytes) accepted from a component. Prosody: 524288, over it
   * `<not-well-formed/>` (as Prosody really does). ejabberd: `Infinity`; when set, over it
   * `<policy-violation/>` "XML stanza is too big".
   */
  stanzaSizeLimit?: number
  /** Milliseconds from TCP accept to a successful handshake, else `<connection-timeout/>`. Default 10000. */
  handshakeTimeout?: number
  /** Stream id generator. Prosody: UUID; ejabberd: decimal number. */
  streamId?: () => string
  /** Shuffle the attribute order of the header reply, as Prosody's does. Prosody: true; ejabberd: false. */
  shuffleHeaderAttributes?: boolean
  /**
   * Keep at most this many stanzas in each `received` list and in `server.undelivered` (oldest
   * dropped first). Default `Infinity`; the CLI uses 1000 so a long-running dev server stays small.
   */
  recordLimit?: number
}

/** Bounce sent for stanzas to a component that is not connected. @internal */
export interface BounceSpec {
  type: StanzaErrorType
  condition: string
  text: string
  prosodyNotConnected: boolean
}

/** Flavour rules that are not options. @internal */
export interface FlavourRules {
  tooBigCondition: 'not-well-formed' | 'policy-violation'
  tooBigText: string | undefined
  /** Send expat's message (e.g. `mismatched tag`) as the text of an XML stream error. */
  xmlErrorText: boolean
  missingTo: 'bad-request' | 'improper-addressing'
  missingFrom: 'stamp' | 'improper-addressing'
  beforeAuth: 'service-unavailable' | 'not-authorized'
  unknownDomain: 'host-unknown' | 'not-authorized'
  handshakeCaseSensitive: boolean
  wrongSecretText: string | undefined
  offlineBounce: BounceSpec
  invalidFromText(from: string, domain: string): string
  fromAnyListenerDomain: boolean
  localDomainComponent: 'host-unknown' | 'conflict'
}

/** Fully resolved options. @internal */
export interface ServerResolvedOptions {
  domain: string
  components: Map<string, string>
  host: string
  port: number
  flavour: Flavour
  conflict: ConflictPolicy
  balance: BalancePolicy
  componentNumber: number | undefined
  validateFrom: boolean
  stanzaSizeLimit: number
  handshakeTimeout: number
  streamId: () => string
  shuffleHeaderAttributes: boolean
  recordLimit: number
  rules: FlavourRules
}

const PROSODY: FlavourRules = {
  tooBigCondition: 'not-well-formed',
  tooBigText: undefined,
  xmlErrorText: false,
  missingTo: 'bad-request',
  missingFrom: 'stamp',
  beforeAuth: 'service-unavailable',
  unknownDomain: 'host-unknown',
  handshakeCaseSensitive: false,
  wrongSecretText: 'Given token does not match calculated token',
  offlineBounce: {
    type: 'wait',
    condition: 'remote-server-timeout',
    text: 'Component unavailable',
    prosodyNotConnected: true,
  },
  invalidFromText: (from, domain) =>
    `Component tried to send from address <${from}> which is not in domain <${domain}>`,
  fromAnyListenerDomain: false,
  localDomainComponent: 'host-unknown',
}

const EJABBERD: FlavourRules = {
  tooBigCondition: 'policy-violation',
  tooBigText: 'XML stanza is too big',
  xmlErrorText: true,
  missingTo: 'improper-addressing',
  missingFrom: 'improper-addressing',
  beforeAuth: 'not-authorized',
  unknownDomain: 'not-authorized',
  handshakeCaseSensitive: true,
  wrongSecretText: undefined,
  offlineBounce: {
    type: 'auth',
    condition: 'forbidden',
    text: 'Access denied by service policy',
    prosodyNotConnected: false,
  },
  invalidFromText: () => "Improper domain part of 'from' attribute",
  fromAnyListenerDomain: true,
  localDomainComponent: 'conflict',
}

/** Applies the flavour preset. @internal */
export function resolveOptions(options: ServerOptions = {}): ServerResolvedOptions {
  const flavour = options.flavour ?? 'prosody'
  if (flavour !== 'prosody' && flavour !== 'ejabberd') throw new TypeError(`Unknown flavour: ${flavour}`)
  const prosody = flavour === 'prosody'
  const components = new Map<string, string>()
  for (const [domain, secret] of Object.entries(options.components ?? {})) {
    components.set(domain.toLowerCase(), secret)
  }
  const limit = options.stanzaSizeLimit ?? (prosody ? 524_288 : Number.POSITIVE_INFINITY)
  if (!(limit > 0)) throw new RangeError('stanzaSizeLimit must be positive')
  return {
    domain: (options.domain ?? 'localhost').toLowerCase(),
    components,
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    flavour,
    conflict: options.conflict ?? (prosody ? 'kick_new' : 'balance'),
    balance: options.balance ?? 'random',
    componentNumber: options.componentNumber,
    validateFrom: options.validateFrom ?? true,
    stanzaSizeLimit: limit,
    handshakeTimeout: options.handshakeTimeout ?? 10_000,
    streamId: options.streamId ?? (prosody ? prosodyStreamId : ejabberdStreamId),
    shuffleHeaderAttributes: options.shuffleHeaderAttributes ?? prosody,
    recordLimit: options.recordLimit ?? Number.POSITIVE_INFINITY,
    rules: prosody ? PROSODY : EJABBERD,
  }
}
