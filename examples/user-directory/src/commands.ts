// XEP-0050 ad-hoc commands: a user's own entry (edit, show, delete) and the admins' (list,
// edit, remove). Admins get sessions of their own: users of many accounts cannot lock them out.
import { type CommandRegistry, commands, type Session, type Stage } from '@satellite/adhoc'
import { type Component, StanzaError } from '@satellite/core'
import { excerpt, type Field } from '@satellite/forms'
import { requesterOf } from './access.js'
import type { DirectoryContext } from './context.js'
import { entryForm, entryFromForm, entryResult } from './entries.js'
import type { DirectoryOptions } from './options.js'
import { FIELDS, LABELS } from './store.js'

type EditState = { jid?: string }

/** Installs the directory's commands on `xmpp`; `sessions` are checked by `commands()`. */
export function directoryCommands(
  xmpp: Component,
  ctx: DirectoryContext,
  sessions: DirectoryOptions['sessions'],
): CommandRegistry {
  const { access } = ctx
  const registry = commands(xmpp, {
    sessionTimeout: sessions?.timeout ?? 10 * 60_000,
    maxSessionsPerRequester: sessions?.perRequester ?? 5,
    maxSessions: sessions?.max ?? 10_000,
    ...(ctx.settings.admins.size > 0
      ? {
          privileged: access.isAdmin,
          ...(sessions?.adminReserve !== undefined ? { reservedSessions: sessions.adminReserve } : {}),
        }
      : {}),
  })
  userCommands(registry, ctx)
  adminCommands(registry, ctx)
  return registry
}

const editStage = (ctx: DirectoryContext, who: (s: Session<EditState>) => string) => ({
  form: async (s: Session<EditState>) => entryForm(await ctx.store.get(who(s))),
  submit: async (values: Record<string, unknown>, s: Session<EditState>) => {
    const jid = who(s)
    await ctx.save(entryFromForm(jid, values, await ctx.store.get(jid)), s.from)
  },
})

const self = (s: Session<unknown>) => requesterOf(s.from)

/** A user's commands on their own entry. */
function userCommands(registry: CommandRegistry, ctx: DirectoryContext): void {
  const { store, access } = ctx
  const allowed = access.allowed
  registry.register<EditState>({
    node: 'edit-entry',
    name: 'Create or edit my directory entry',
    allowed,
    stages: [editStage(ctx, self)],
    complete: () => ({ notes: ['Your entry is saved.'] }),
  })
  registry.register({
    node: 'show-entry',
    name: 'Show my directory entry',
    allowed,
    complete: async (s) => {
      const e = await store.get(self(s))
      if (e === null) return { notes: ['You have no entry in the directory.'] }
      return { form: entryResult(e) }
    },
  })
  registry.register<{ confirm?: boolean }>({
    node: 'delete-entry',
    name: 'Delete my directory entry',
    allowed,
    stages: [
      {
        form: {
          title: 'Delete my entry',
          fields: [{ type: 'boolean', var: 'confirm', label: 'Really delete?', required: true }],
        },
        submit: (values, s) => {
          s.state.confirm = values.confirm === true
        },
      },
    ],
    complete: async (s) => {
      if (s.state.confirm !== true) return { notes: ['Nothing was deleted.'] }
      access.mayWrite(s.from)
      return { notes: [(await store.remove(self(s))) ? 'Your entry is deleted.' : 'You had no entry.'] }
    },
  })
}

/** The admins' commands on anybody's entry. */
function adminCommands(registry: CommandRegistry, ctx: DirectoryContext): void {
  const { store } = ctx
  const adminOnly = ctx.access.isAdmin
  const pickJid = (title: string, extra: Field[] = []): Stage<EditState>[] => [
    {
      form: {
        title,
        fields: [{ type: 'jid-single', var: 'jid', label: 'Entry (JID)', required: true }, ...extra],
      },
      submit: async (values, s) => {
        const jid = requesterOf(String(values.jid))
        if ((await store.get(jid)) === null) {
          throw new StanzaError('item-not-found', { text: `no entry for ${excerpt(jid)}` })
        }
        s.state.jid = jid
        if (values.confirm !== undefined) (s.state as Record<string, unknown>).confirm = values.confirm
      },
    },
  ]
  registry.register<{ filter?: string; after?: string }>({
    node: 'admin-list',
    name: 'List entries (admin)',
    allowed: adminOnly,
    stages: [
      {
        form: {
          title: 'List entries',
          fields: [
            { type: 'text-single', var: 'filter', label: 'JID contains' },
            { type: 'text-single', var: 'after', label: 'Start after JID' },
          ],
        },
        submit: (values, s) => {
          if (typeof values.filter === 'string') s.state.filter = values.filter.toLowerCase()
          if (typeof values.after === 'string') s.state.after = values.after
        },
      },
    ],
    complete: async (s) => {
      const rows = await store.list({ ...s.state, limit: 100 })
      return {
        notes: [
          `${await store.count()} entries in the directory; ${rows.length} shown (at most 100 a page).`,
        ],
        form: {
          type: 'result',
          title: 'Entries',
          reported: [
            { type: 'jid-single', var: 'jid', label: 'JID' },
            ...FIELDS.map((f): Field => ({ type: 'text-single', var: f, label: LABELS[f] })),
            { type: 'text-single', var: 'published', label: 'Published' },
          ],
          items: rows.map((e) => {
            const row: Record<string, string> = { jid: e.jid, published: e.published.join(' ') }
            for (const f of FIELDS) {
              const v = e[f]
              if (v !== undefined) row[f] = v
            }
            return row
          }),
        },
      }
    },
  })
  registry.register<EditState>({
    node: 'admin-edit',
    name: 'Edit an entry (admin)',
    allowed: adminOnly,
    stages: [...pickJid('Edit an entry'), editStage(ctx, (s) => s.state.jid as string)],
    complete: (s) => ({ notes: [`The entry of ${s.state.jid} is saved.`] }),
  })
  registry.register<EditState>({
    node: 'admin-remove',
    name: 'Remove an entry (admin)',
    allowed: adminOnly,
    stages: pickJid('Remove an entry', [
      { type: 'boolean', var: 'confirm', label: 'Really remove?', required: true },
    ]),
    complete: async (s) => {
      const st = s.state as EditState & { confirm?: boolean }
      if (st.confirm !== true) return { notes: ['Nothing was removed.'] }
      await store.remove(st.jid as string)
      return { notes: [`The entry of ${st.jid} is removed.`] }
    },
  })
}
