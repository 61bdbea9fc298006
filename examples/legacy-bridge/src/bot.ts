// The legacy bridge as a component module: a gateway (XEP-0100) to the simulated legacy network.
import {
  type Bridge,
  type BridgeOptions,
  type BridgeStore,
  bridge,
  keyFromEnv,
  SqliteStore,
} from '@satellite/bridge'
import { type Component, optionError } from '@satellite/core'
import { isPostgresUrl, type PostgresOptions, redactUrl } from '@satellite/postgres'
import { fenceAdapter } from './cluster.js'
import { type LegacyClientLimits, simulatedNetworkAdapter } from './network/adapter.js'

/**
 * The store `db` names (BRIDGE_DB): a `postgres://` URL opens a `PostgresBridgeStore` (loaded only
 * then: a bridge on SQLite never loads the PostgreSQL client; `pg` are the pool's options), anything
 * else is a SQLite file. Either refuses a database created with another key (`SAT_ERR_BRIDGE_KEY`);
 * an unreachable PostgreSQL is `SAT_ERR_POSTGRES_CONNECT`, its password never shown.
 */
export async function openBridgeStore(
  db: string,
  key: Buffer,
  pg: Omit<PostgresOptions, 'migrations' | 'name'> = {},
): Promise<BridgeStore & { close(): void | Promise<void> }> {
  if (!isPostgresUrl(db)) return new SqliteStore({ path: db, key })
  const { PostgresBridgeStore } = await import('@satellite/bridge/postgres')
  return PostgresBridgeStore.open(db, { ...pg, key })
}

/** Where the bridge finds its network and keeps its state (defaults from the environment). */
export interface LegacyBridgeOptions {
  legacyHost?: string
  legacyPort?: number
  /**
   * What the network can make each legacy session hold: the longest line (64 KiB), commands
   * waiting for an answer (256), how long one waits (30 s). See {@link LegacyClientLimits}.
   */
  legacyLimits?: LegacyClientLimits
  store?: BridgeStore
  loginAtStart?: boolean
  retry?: BridgeOptions<unknown>['retry']
  /**
   * Several instances (cluster.ts): whether this one may serve now (its lease valid); while it is
   * false, logins and texts to the network are refused.
   */
  serving?: () => boolean
}

/**
 * Wires the bridge kit to the simulated network. From the environment: LEGACY_HOST (127.0.0.1),
 * LEGACY_PORT (5299), BRIDGE_DB (bridge.db; a `postgres://` URL is opened by {@link openBridgeStore},
 * then given as `store`), BRIDGE_KEY or BRIDGE_KEY_FILE (required),
 * BRIDGE_RETRY_MAX (re-login attempts after a legacy disconnect before giving up; default: no limit),
 * BRIDGE_ALLOWED_DOMAINS (comma-separated domains whose users may register, `*` for anybody; default:
 * the parent domain of the component's).
 */
export function legacyBridge(xmpp: Component, options: LegacyBridgeOptions = {}): Bridge {
  const env = process.env
  const db = env.BRIDGE_DB ?? 'bridge.db'
  if (options.store === undefined && isPostgresUrl(db)) {
    throw optionError(
      'legacyBridge',
      'store',
      `BRIDGE_DB is ${redactUrl(db)}: open it with openBridgeStore() and pass it as store`,
    )
  }
  const store = options.store ?? new SqliteStore({ path: db, key: keyFromEnv(env) })
  const adapter = simulatedNetworkAdapter({
    host: options.legacyHost ?? env.LEGACY_HOST ?? '127.0.0.1',
    port: options.legacyPort ?? Number(env.LEGACY_PORT ?? 5299),
    ...(options.legacyLimits !== undefined ? { limits: options.legacyLimits } : {}),
  })
  return bridge(xmpp, {
    adapter: options.serving === undefined ? adapter : fenceAdapter(adapter, options.serving),
    store,
    loginAtStart: options.loginAtStart ?? env.BRIDGE_LOGIN_AT_START === '1',
    ...allowedDomains(env.BRIDGE_ALLOWED_DOMAINS),
    ...(options.retry !== undefined
      ? { retry: options.retry }
      : env.BRIDGE_RETRY_MAX !== undefined && env.BRIDGE_RETRY_MAX !== ''
        ? { retry: { maxAttempts: Number(env.BRIDGE_RETRY_MAX) } }
        : {}),
  })
}

/** BRIDGE_ALLOWED_DOMAINS as the bridge's option (unset or empty: the bridge's default). */
function allowedDomains(value: string | undefined): { allowedDomains?: string[] } {
  const list = (value ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '')
  return list.length === 0 ? {} : { allowedDomains: list }
}

/** The component module (`satellite run`): the store BRIDGE_DB names, closed after the bridge. */
export default async function legacyBridgeModule(xmpp: Component): Promise<() => Promise<void>> {
  const store = await openBridgeStore(process.env.BRIDGE_DB ?? 'bridge.db', keyFromEnv())
  let gateway: Bridge
  try {
    gateway = legacyBridge(xmpp, { store })
  } catch (err) {
    await store.close()
    throw err
  }
  return async () => {
    await gateway.close()
    await store.close()
  }
}
