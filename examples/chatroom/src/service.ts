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
  /** Closes the engine (occupants get 110+332) then the database. Idempotent. */
  close(): Promise<void>
}

/** Opens the store `db` names: a `postgres://` URL (its tables migrated) or an SQLite path. */
export async function openStore(db: string): Promise<SqliteMucStore | PostgresMucStore> {
  return isPostgresUrl(db) ? PostgresMucStore.open(db) : new SqliteMucStore({ path: db })
}

/**
 * Installs the chatroom service on `xmpp` (rooms at `room@domain`). The store is opened first;
 * if the engine refuses an option, the store is closed again before the error propagates.
 */
export async function chatroom(xmpp: Component, options: ChatroomOptions): Promise<Chatroom> {
  const store = await openStore(options.db)
  let rooms: MucService
  try {
    rooms = muc(xmpp, {
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
        await store.close()
      })()
      return closing
    },
  }
}
