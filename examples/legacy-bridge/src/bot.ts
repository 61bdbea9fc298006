// The legacy bridge as a component module: a gateway (XEP-0100) to the simulated legacy network.
import {
  type Bridge,
  type BridgeOptions,
  type BridgeStore,
  bridge,
  keyFromEnv,
  SqliteStore,
} from '@satellite/bridge'
import type { Component } from '@satellite/core'
import { type LegacyClientLimits, simulatedNetworkAdapter } from './network/adapter.js'

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
}

/**
 * Wires the bridge kit to the simulated network. From the environment: LEGACY_HOST (127.0.0.1),
 * LEGACY_PORT (5299), BRIDGE_DB (bridge.db), BRIDGE_KEY or BRIDGE_KEY_FILE (required),
 * BRIDGE_RETRY_MAX (re-login attempts after a legacy disconnect before giving up; default: no limit),
 * BRIDGE_ALLOWED_DOMAINS (comma-separated domains whose users may register, `*` for anybody; default:
 * the parent domain of the component's).
 */
export function legacyBridge(xmpp: Component, options: LegacyBridgeOptions = {}): Bridge {
  const env = process.env
  const store = options.store ?? new SqliteStore({ path: env.BRIDGE_DB ?? 'bridge.db', key: keyFromEnv(env) })
  return bridge(xmpp, {
    adapter: simulatedNetworkAdapter({
      host: options.legacyHost ?? env.LEGACY_HOST ?? '127.0.0.1',
      port: options.legacyPort ?? Number(env.LEGACY_PORT ?? 5299),
      ...(options.legacyLimits !== undefined ? { limits: options.legacyLimits } : {}),
    }),
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

export default function legacyBridgeModule(xmpp: Component): void {
  legacyBridge(xmpp)
}
