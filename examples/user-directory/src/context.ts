// What the directory's parts share: the store, the settings, the access rules, and save(),
// the one way an entry is written.
import { StanzaError } from '@satellite/core'
import { type Access, access } from './access.js'
import { checkEntry } from './entries.js'
import type { DirectorySettings } from './options.js'
import type { DirectoryEntry, DirectoryStore } from './store.js'

/** The context of the registrar, the search service and the commands. */
export interface DirectoryContext {
  readonly store: DirectoryStore
  readonly settings: DirectorySettings
  readonly access: Access
  /**
   * Checks and stores an entry on behalf of `requester` (a JID; rate-limited unless an admin):
   * `not-acceptable` naming a bad field, `resource-constraint` when the directory is full or
   * the requester made too many changes.
   */
  save(entry: Omit<DirectoryEntry, 'updated'>, requester: string): Promise<void>
}

/** The context of a directory over `store`. */
export function directoryContext(store: DirectoryStore, settings: DirectorySettings): DirectoryContext {
  const rules = access(settings)
  return {
    store,
    settings,
    access: rules,
    async save(entry, requester) {
      checkEntry(entry)
      // Not atomic: new entries saved at the same moment (on this instance, or on others sharing a
      // PostgreSQL) may pass it together, so the directory may hold a few more than maxEntries.
      if ((await store.get(entry.jid)) === null && (await store.count()) >= settings.maxEntries) {
        throw new StanzaError('resource-constraint', { type: 'wait', text: 'the directory is full' })
      }
      rules.mayWrite(requester)
      await store.put(entry)
    },
  }
}
