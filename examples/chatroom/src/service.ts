// The chatroom service: @satellite/muc on the component's domain, its persistent rooms and
// archive in one SQLite file or in a PostgreSQL database (CHATROOM_DB=postgres://…).
import type { Component } from '@satellite/core'
import { type MucService, muc, SqliteMucStore } from '@satellite/muc'
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
  let rooms: MucService
  const serving = how.serving
  try {
    rooms = muc(xmpp, {
      // With several instances: rooms are answered only while this instance's lease is valid.
      ...(serving === undefined ? {} : { isRoom: () => serving() }),
      ...(options.admins === undefined ? {} : { hooks: { affiliation: ownersOf(options.admins) } }),
      store,
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
        // The engine does not wait for its writes; the store's close() waits for those in flight
        // (PostgresMucStore: its per-room queue, then the pool; SqliteMucStore writes synchronously).
        await store.close()
      })()
      return closing
    },
  }
}
