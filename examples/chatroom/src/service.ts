// The chatroom service: @satellite/muc on the component's domain, its persistent rooms and
// archive in one SQLite file.
import type { Component } from '@satellite/core'
import { type MucService, muc, SqliteMucStore } from '@satellite/muc'
import type { ChatroomOptions } from './options.js'

/** A running chatroom service. */
export interface Chatroom {
  /** The room engine (rooms, occupants, `prune()`). */
  readonly rooms: MucService
  /** The database of persistent rooms, affiliations and the archive. */
  readonly store: SqliteMucStore
  /** Closes the engine (occupants get 110+332) then the database. Idempotent. */
  close(): void
}

/**
 * Installs the chatroom service on `xmpp` (rooms at `room@domain`). The store is opened first;
 * if the engine refuses an option, the store is closed again before the error propagates.
 */
export function chatroom(xmpp: Component, options: ChatroomOptions): Chatroom {
  const store = new SqliteMucStore({ path: options.db })
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
    store.close()
    throw err
  }
  let closed = false
  return {
    rooms,
    store,
    close() {
      if (closed) return
      closed = true
      rooms.close()
      store.close()
    },
  }
}
