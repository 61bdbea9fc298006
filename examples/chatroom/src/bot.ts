// The chatroom as a component module: `satellite run dist/bot.js` runs it too (the CLI supplies
// the connection). Configured through the environment (see README): CHATROOM_DB,
// CHATROOM_OCCUPANT_SECRET(_FILE), CHATROOM_NAME, CHATROOM_LOCK_NEW_ROOMS, CHATROOM_ARCHIVE_DAYS.
import type { Component } from '@satellite/core'
import { optionsFromEnv } from './options.js'
import { chatroom } from './service.js'

/** The component module: `satellite run` calls the returned cleanup on stop (it closes the database). */
export default async function chatroomModule(xmpp: Component): Promise<() => Promise<void>> {
  const service = await chatroom(xmpp, optionsFromEnv())
  return () => service.close()
}
