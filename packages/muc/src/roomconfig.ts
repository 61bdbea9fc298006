// The muc#roomconfig form (XEP-0045 §10.2, §15.5.3): built from a room's settings with
// @satellite/forms, and a submission validated and turned into new settings.

import { type Element, StanzaError } from '@satellite/core'
import { type DataForm, type Field, FormError, validateSubmission } from '@satellite/forms'
import { NS_MUC_ROOMCONFIG } from './ns.js'
import type { Resolved, RoomConfig } from './options.js'

const F = {
  name: 'muc#roomconfig_roomname',
  desc: 'muc#roomconfig_roomdesc',
  persistent: 'muc#roomconfig_persistentroom',
  public: 'muc#roomconfig_publicroom',
  membersOnly: 'muc#roomconfig_membersonly',
  moderated: 'muc#roomconfig_moderatedroom',
  passwordProtected: 'muc#roomconfig_passwordprotectedroom',
  secret: 'muc#roomconfig_roomsecret',
  maxUsers: 'muc#roomconfig_maxusers',
  whois: 'muc#roomconfig_whois',
  allowPm: 'muc#roomconfig_allowpm',
  historyLength: 'muc#roomconfig_historylength',
  allowInvites: 'muc#roomconfig_allowinvites',
  changeSubject: 'muc#roomconfig_changesubject',
} as const

/** The configuration form of a room, its current settings as the values. */
export function configForm(config: RoomConfig, o: Resolved): DataForm {
  const fields: Field[] = [
    { type: 'text-single', var: F.name, label: 'Name', value: config.name ?? '', maxLength: 200 },
    {
      type: 'text-single',
      var: F.desc,
      label: 'Description',
      value: config.description ?? '',
      maxLength: 1000,
    },
    { type: 'boolean', var: F.persistent, label: 'Persistent', value: config.persistent },
    { type: 'boolean', var: F.public, label: 'Listed in the directory', value: config.public },
    { type: 'boolean', var: F.membersOnly, label: 'Members only', value: config.membersOnly },
    { type: 'boolean', var: F.moderated, label: 'Moderated', value: config.moderated },
    {
      type: 'boolean',
      var: F.passwordProtected,
      label: 'Password protected',
      value: config.password !== undefined,
    },
    { type: 'text-private', var: F.secret, label: 'Password', value: config.password ?? '', maxLength: 256 },
    {
      type: 'list-single',
      var: F.maxUsers,
      label: 'Most occupants',
      value: config.maxUsers === undefined ? 'none' : String(config.maxUsers),
      options: [...['10', '20', '30', '50', '100'].map((value) => ({ value })), { value: 'none' }],
      open: true,
    },
    {
      type: 'list-single',
      var: F.whois,
      label: 'Who may see real JIDs',
      value: config.whois,
      options: [{ value: 'moderators' }, { value: 'anyone' }],
    },
    {
      type: 'list-single',
      var: F.allowPm,
      label: 'Private messages',
      value: config.privateMessages ? 'anyone' : 'none',
      options: [{ value: 'anyone' }, { value: 'none' }],
    },
    {
      type: 'text-single',
      var: F.historyLength,
      label: `Messages of history (at most ${o.historyLimit})`,
      value: String(config.historyLength),
      pattern: /^[0-9]{1,6}$/,
    },
    { type: 'boolean', var: F.allowInvites, label: 'Occupants may invite', value: config.allowInvites },
    {
      type: 'boolean',
      var: F.changeSubject,
      label: 'Occupants may change the subject',
      value: config.changeSubject,
    },
  ]
  return { type: 'form', title: 'Room configuration', formType: NS_MUC_ROOMCONFIG, fields }
}

/** Whether a submission has no field besides FORM_TYPE (the instant room, §10.1.2). */
export function isEmptySubmission(x: Element): boolean {
  return x.getChildren('field').every((f) => f.attrs.var === 'FORM_TYPE')
}

/**
 * The settings a submitted form asks for: fields left out keep their value; fields of other
 * services are ignored. Throws a FormError (bad-request / not-acceptable) or a `not-acceptable`
 * StanzaError for values out of range.
 */
export function applyForm(config: RoomConfig, o: Resolved, x: Element): RoomConfig {
  const r = validateSubmission(configForm(config, o), x, { ignoreUnknown: true })
  if (!r.ok) throw new FormError(r.errors)
  const v = r.values as Record<string, string | boolean | undefined>
  const next: RoomConfig = { ...config }
  const text = (k: string) => v[k] as string | undefined
  const bool = (k: string, current: boolean) => (v[k] as boolean | undefined) ?? current
  const name = text(F.name)
  if (name !== undefined) next.name = name === '' ? undefined : name
  const desc = text(F.desc)
  if (desc !== undefined) next.description = desc === '' ? undefined : desc
  next.persistent = bool(F.persistent, config.persistent)
  next.public = bool(F.public, config.public)
  next.membersOnly = bool(F.membersOnly, config.membersOnly)
  next.moderated = bool(F.moderated, config.moderated)
  next.allowInvites = bool(F.allowInvites, config.allowInvites)
  next.changeSubject = bool(F.changeSubject, config.changeSubject)
  const whois = text(F.whois)
  if (whois === 'moderators' || whois === 'anyone') next.whois = whois
  const pm = text(F.allowPm)
  if (pm !== undefined) next.privateMessages = pm === 'anyone'
  const protectedRoom = bool(F.passwordProtected, config.password !== undefined)
  const secret = text(F.secret) ?? config.password ?? ''
  if (protectedRoom && secret === '') {
    throw new StanzaError('not-acceptable', 'a password-protected room needs a password')
  }
  next.password = protectedRoom ? secret : undefined
  const max = text(F.maxUsers)
  if (max !== undefined) {
    if (max === 'none' || max === '') next.maxUsers = undefined
    else {
      const n = /^[0-9]{1,9}$/.test(max) ? Number(max) : Number.NaN
      if (!(n >= 1 && n <= o.occupantsPerRoom)) {
        throw new StanzaError('not-acceptable', `most occupants: 1 to ${o.occupantsPerRoom}, or none`)
      }
      next.maxUsers = n
    }
  }
  const history = text(F.historyLength)
  if (history !== undefined && history !== '') {
    const n = Number(history)
    if (n > o.historyLimit) {
      throw new StanzaError('not-acceptable', `messages of history: at most ${o.historyLimit}`)
    }
    next.historyLength = n
  }
  return next
}
