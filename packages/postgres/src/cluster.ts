// Several instances of one component on one ejabberd domain (docs/scaling.md): each holds a lease
// in PostgreSQL; when another instance's lease expires, the one survivor that takes it over opens
// one more stream for the domain and so takes the dead instance's slot (ejabberd's domain_balancing
// with component_number = instances). The service answers only while its own lease is valid
// (`serving()`); a lost lease is reported once (`onLost`), and the service stops or lets go.
// Used by examples/chatroom (rooms, bare_destination) and examples/legacy-bridge (users, bare_source).
import type { Component, ExtraStream } from '@satellite/core'
import createDebug from 'debug'
import type { PostgresDb } from './database.js'
import { Lease } from './lease.js'

const log: (formatter: string, ...args: unknown[]) => void = createDebug('satellite:postgres:cluster')

/** Options of {@link joinCluster}. */
export interface ClusterOptions {
  /** This instance's id (default: a random UUID). */
  instance?: string
  /** The lease's time to live in ms (default 3,000); a dead instance's slot is taken within about 1.3 × ttl. */
  ttl?: number
  /** Called once when this instance's lease is lost (expired or taken over): stop serving. */
  onLost?(reason: string): void
  /**
   * Called with each stream opened for a dead instance's slot (`peer`, its lease's instance), when
   * it is opened and when it is opened again (the old holder has left): e.g. to find the users
   * whose stanzas now come to this instance once `stream` is online.
   */
  onStream?(peer: string, stream: ExtraStream): void
}

/** This instance's membership of the cluster. */
export interface Cluster {
  /** This instance's lease. */
  readonly lease: Lease
  /** Whether this instance may serve now (its lease valid on its own clock). */
  serving(): boolean
  /**
   * The instances whose slots this one took over, with the streams it opened for them (also those
   * an instance whose lease this one took had taken over in turn).
   */
  readonly claimed: ReadonlyMap<string, ExtraStream>
  /**
   * Stops watching and closes the claimed streams; then marks this instance gone if its lease was
   * lost (`markLeft()`), else gives the lease up when `release` (default true: a clean stop).
   */
  close(release?: boolean): Promise<void>
}

/**
 * Takes this instance's lease in the group of the component's domain and watches the others'
 * every `ttl / 3`: claims the slot of each expired one it takes over (`xmpp.openStream()`).
 *
 * @example
 * ```ts
 * const cluster = await joinCluster(xmpp, db, { ttl: 3000, onLost: () => void xmpp.stop() })
 * xmpp.once('stopped', () => void cluster.close())
 * ```
 */
export async function joinCluster(
  xmpp: Component,
  db: PostgresDb,
  options: ClusterOptions = {},
): Promise<Cluster> {
  const lease = await Lease.acquire(db.sql, {
    group: xmpp.domain,
    ...(options.instance === undefined ? {} : { instance: options.instance }),
    ...(options.ttl === undefined ? {} : { ttl: options.ttl }),
  })
  const claimed = new Map<string, ExtraStream>()
  /**
   * Slots held for an instance whose lease another one (the value) had taken over before this one
   * took that one's: its streams are reopened with that one's (when it has left).
   */
  const inherited = new Map<string, string>()
  /** When each claimed stream was (re)opened, by the database's clock as peers() reads it (ms). */
  const openedAt = new Map<string, number>()
  let watching = true
  let busy = false
  lease.on('lost', (reason) => {
    log('%s: %s', lease.instance, reason)
    options.onLost?.(reason)
  })
  lease.on('error', (err) => log('%s: renewal failed: %s', lease.instance, err.message))
  const open = (peer: string) => {
    const stream = xmpp.openStream()
    claimed.set(peer, stream)
    try {
      options.onStream?.(peer, stream)
    } catch (err) {
      log('%s: onStream failed: %s', lease.instance, (err as Error).message)
    }
    stream.start().catch((err: Error) => log('stream for %s: %s', peer, err.message))
  }
  const heldFor = (instance: string) => [...inherited].filter(([, via]) => via === instance).map(([i]) => i)
  const watch = async () => {
    if (!watching || busy || !lease.valid) return
    busy = true
    try {
      const rows = await lease.peers()
      for (const peer of rows) {
        const mine = claimed.get(peer.instance)
        if (mine !== undefined && peer.takenBy === lease.instance && peer.leftAt !== null) {
          // The instance whose lease we took has closed its connections now: if our stream landed as
          // a spare while it still held the slot, only a new connection takes the slot.
          if (peer.leftAt > (openedAt.get(peer.instance) ?? 0)) {
            log('%s: %s has left, reconnecting its stream', lease.instance, peer.instance)
            for (const instance of [peer.instance, ...heldFor(peer.instance)]) {
              openedAt.set(instance, peer.leftAt)
              await claimed.get(instance)?.close()
              if (watching) open(instance)
            }
          }
          continue
        }
        if (peer.instance === lease.instance || !peer.expired || peer.takenBy !== null) continue
        if (!(await lease.takeOver(peer))) continue
        log('%s takes over the slot of %s (generation %d)', lease.instance, peer.instance, peer.generation)
        // (The local clock against the database's: they are assumed close; a left mark older than
        // the claim means our stream was opened after that instance's connection closed.)
        openedAt.set(peer.instance, Date.now())
        open(peer.instance)
        // The slots that instance held for others it had taken over: ours too now.
        const taken = new Set([peer.instance])
        for (let grew = true; grew; ) {
          grew = false
          for (const row of rows) {
            if (row.takenBy === null || !taken.has(row.takenBy) || taken.has(row.instance)) continue
            if (row.instance === lease.instance || claimed.has(row.instance)) continue
            log('%s also takes the slot of %s (held by %s)', lease.instance, row.instance, row.takenBy)
            taken.add(row.instance)
            inherited.set(row.instance, peer.instance)
            openedAt.set(row.instance, Date.now())
            open(row.instance)
            grew = true
          }
        }
      }
    } catch (err) {
      log('%s: watching failed: %s', lease.instance, (err as Error).message)
    } finally {
      busy = false
    }
  }
  const timer = setInterval(() => void watch(), Math.max(100, Math.floor(lease.ttl / 3)))
  timer.unref()
  return {
    lease,
    claimed,
    serving: () => lease.valid,
    async close(release = true) {
      watching = false
      clearInterval(timer)
      await Promise.allSettled([...claimed.values()].map((s) => s.close()))
      if (lease.state.kind === 'lost') {
        // Our connections are closed: the instance that took our lease may take our slot now.
        await lease
          .markLeft()
          .catch((err: Error) => log('%s: markLeft failed: %s', lease.instance, err.message))
      } else if (release) await lease.release()
      else lease.removeAllListeners('lost')
    },
  }
}
