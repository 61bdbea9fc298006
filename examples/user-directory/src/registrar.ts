// XEP-0077 registration: the data form, and legacy fields for old clients (nick, name, city,
// email). Legacy registrations keep the publish choices already made, or DEFAULT_PUBLISHED.
import type { Component } from '@satellite/core'
import { type RegistrationHandle, registration } from '@satellite/register'
import type { DirectoryContext } from './context.js'
import { asRegistration, DEFAULT_PUBLISHED, entryForm, entryFromForm, text } from './entries.js'
import type { DirectoryEntry, EntryField } from './store.js'

/** Installs the directory's registrar on `xmpp`. */
export function directoryRegistration(xmpp: Component, ctx: DirectoryContext): RegistrationHandle {
  const { store, save } = ctx
  return registration(xmpp, {
    instructions:
      'Create or update your entry in the user directory. Choose which fields others can see in search results.',
    form: entryForm(null),
    fields: ['nick', 'name', 'city', 'email'],
    // As in the form, only the nick is required: old clients are not asked for more than new ones.
    optional: ['name', 'city', 'email'],
    allow: ctx.access.allowed,
    hooks: {
      get: async (jid) => {
        const e = await store.get(jid)
        return e === null ? null : asRegistration(e)
      },
      register: async (jid, values) => {
        const current = await store.get(jid)
        if ('name' in values || 'city' in values) {
          // legacy: the four fields replace theirs; the others and the publish choices stay
          const entry: Omit<DirectoryEntry, 'updated'> = {
            ...(current ?? { published: [...DEFAULT_PUBLISHED] }),
            jid,
            nick: text(values.nick) ?? '',
          }
          const set = (f: EntryField, v: unknown) => {
            const t = text(v)
            if (t === undefined) delete entry[f as Exclude<EntryField, 'nick'>]
            else (entry as Record<string, unknown>)[f] = t
          }
          set('fullname', values.name)
          set('locality', values.city)
          set('email', values.email)
          delete (entry as Partial<DirectoryEntry>).updated
          await save(entry, jid)
        } else {
          await save(entryFromForm(jid, values, current), jid)
        }
      },
      remove: async (jid) => {
        ctx.access.mayWrite(jid)
        await store.remove(jid)
      },
    },
  })
}
