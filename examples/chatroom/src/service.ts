// The chatroom service: @satellite/muc on the component's domain, its persistent rooms and
// archive in one SQLite file or in a PostgreSQL database (CHATROOM_DB=postgres://…).
import type { Component } from '@satellite/core'
import { type MucService, type MucStore, muc, SqliteMucStore } from '@satellite/muc'
import { PostgresMucStore } from '@satellite/muc/postgres'
import { isPostgresUrl } from '@satellite/postgres'
import type { ChatroomOptions } from './options.js'

/** A running chatroom service. */
export interface Chatroom {
  /** The room engine (rooms, occupants, `prune()`). */
  readonly rooms: MucService
  /** The database of persistent rooms, affiliations and the archive: an SQLite file or PostgreSQL. */
  readonly store: SqliteMucStore | PostgresMucStore
  /** Closes the engine (occupants get 110+332), waits for its writes in flight, then closes the database. Idempotent. */
  close(): Promise<void>
}

/** The affiliation source of the service admins: owner of every room (the rooms' own lists win). */
function ownersOf(admins: readonly string[]): (room: string, bare: string) => 'owner' | undefined {
  const set = new Set(admins)
  return (_room, bare) => (set.has(bare.toLowerCase()) ? 'owner' : undefined)
}

/** Opens the store `db` names: a `postgres://` URL (its tables migrated) or an SQLite path. */
export async function openStore(db: string): Promise<SqliteMucStore | PostgresMucStore> {
  return isPostgresUrl(db) ? PostgresMucStore.open(db) : new SqliteMucStore({ path: db })
}

/**
 * `store` as the engine sees it, with the promises of its calls still pending kept in `pending`.
 * The engine does not wait for its writes, and `PostgresMucStore.close()` ends the pool without
 * waiting for the writes it has not sent yet (they are rejected): on stop, the service waits for
 * them before closing the store, so a message reflected to its room before the stop is in the
 * archive after it.
 */
function draining(store: MucStore, pending: Set<Promise<unknown>>): MucStore {
  const track = <T>(result: T | Promise<T>): T | Promise<T> => {
    if (!(result instanceof Promise)) return result
    pending.add(result)
    const done = () => void pending.delete(result)
    result.then(done, done)
    return result
  }
  return {
    loadRoom: (jid) => track(store.loadRoom(jid)),
    saveRoom: (room) => track(store.saveRoom(room)),
    deleteRoom: (jid) => track(store.deleteRoom(jid)),
    rooms: () => track(store.rooms()),
    affiliations: (room) => track(store.affiliations(room)),
    setAffiliation: (room, jid, affiliation, reason) =>
      track(store.setAffiliation(room, jid, affiliation, reason)),
    append: (room, message, keep) => track(store.append(room, message, keep)),
    query: (room, query) => track(store.query(room, query)),
    prune: (retention) => track(store.prune(retention)),
  }
}

/**
 * Installs the chatroom service on `xmpp` (rooms at `room@domain`). The store is opened first;
 * if the engine refuses an option, the store is closed again before the error propagates.
 * `how.serving`: with several instances, whether this one may answer for rooms now (its lease).
 */
export async function chatroom(
  xmpp: Component,
  options: ChatroomOptions,
  how: { serving?: () => boolean } = {},
): Promise<Chatroom> {
  const store = await openStore(options.db)
  const pending = new Set<Promise<unknown>>()
  let rooms: MucService
  const serving = how.serving
  try {
    rooms = muc(xmpp, {
      // With several instances: rooms are answered only while this instance's lease is valid.
      ...(serving === undefined ? {} : { isRoom: () => serving() }),
      ...(options.admins === undefined ? {} : { hooks: { affiliation: ownersOf(options.admins) } }),
      store: draining(store, pending),
      ...(options.name !== undefined ? { name: options.name } : {}),
      ...(options.occupantSecret !== undefined ? { occupantIdSecret: options.occupantSecret } : {}),
      ...(options.lockNewRooms !== undefined ? { lockNewRooms: options.lockNewRooms } : {}),
      ...(options.archiveDays !== undefined ? { archive: { days: options.archiveDays } } : {}),
    })
  } catch (err) {
    await store.close()
    throw err
  }
  let closing: Promise<void> | undefined
  return {
    rooms,
    store,
    close() {
      closing ??= (async () => {
        rooms.close()
        await Promise.allSettled([...pending]) // the engine's writes in flight (see draining())
        await store.close()
      })()
      return closing
    },
  }
}
