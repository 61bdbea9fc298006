// A directory entry as the protocols see it: the registration and ad-hoc entry form, the
// result form, the registration view, and the limits every saved entry is checked against.
import { StanzaError } from '@satellite/core'
import type { DataForm, Field } from '@satellite/forms'
import type { Registration } from '@satellite/register'
import { type DirectoryEntry, type EntryField, FIELDS, LABELS, MAX_LENGTH } from './store.js'

/** Fields published when the person does not choose (legacy clients, first registration). */
export const DEFAULT_PUBLISHED: readonly EntryField[] = ['nick', 'fullname', 'locality', 'country', 'about']
/** Most lines in the free-text field. */
export const MAX_ABOUT_LINES = 30
const EMAIL = /^[^\s@]+@[^\s@]+$/
// Control characters (anything but the newline allowed in `about`) are refused.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f]/

/** Registration form and ad-hoc entry form: the six fields, then one publish switch each. */
export function entryForm(current: DirectoryEntry | null, instructions?: string): DataForm {
  const fields: Field[] = FIELDS.map((f): Field => {
    const value = current?.[f]
    if (f === 'about') {
      return {
        type: 'text-multi',
        var: f,
        label: LABELS[f],
        maxItems: MAX_ABOUT_LINES,
        maxLength: MAX_LENGTH[f],
        ...(value !== undefined ? { value: value.split('\n') } : {}),
      }
    }
    return {
      type: 'text-single',
      var: f,
      label: LABELS[f],
      maxLength: MAX_LENGTH[f],
      ...(f === 'nick' ? { required: true } : {}),
      ...(value !== undefined ? { value } : {}),
    }
  })
  for (const f of FIELDS) {
    fields.push({
      type: 'boolean',
      var: `publish_${f}`,
      label: `Show my ${LABELS[f].toLowerCase()} in search results`,
      value: (current?.published ?? DEFAULT_PUBLISHED).includes(f),
    })
  }
  return { title: 'Your directory entry', ...(instructions ? { instructions } : {}), fields }
}

/** A submitted value as trimmed text; `undefined` when absent or blank. */
export const text = (v: unknown): string | undefined => {
  if (v === undefined || v === null) return undefined
  const s = (Array.isArray(v) ? v.join('\n') : String(v)).trim()
  return s === '' ? undefined : s
}

/**
 * Checks an entry against the limits; throws `not-acceptable` naming the field.
 */
export function checkEntry(entry: Omit<DirectoryEntry, 'updated'>): void {
  const bad = (f: string, why: string) => new StanzaError('not-acceptable', { text: `field '${f}' ${why}` })
  if (entry.nick === '') throw bad('nick', 'is required')
  for (const f of FIELDS) {
    const v = entry[f]
    if (v === undefined) continue
    if ([...v].length > MAX_LENGTH[f]) throw bad(f, `is longer than ${MAX_LENGTH[f]} characters`)
    if (CONTROL.test(v) || (f !== 'about' && v.includes('\n'))) throw bad(f, 'contains control characters')
  }
  if (entry.about !== undefined && entry.about.split('\n').length > MAX_ABOUT_LINES) {
    throw bad('about', `has more than ${MAX_ABOUT_LINES} lines`)
  }
  if (entry.email !== undefined && !EMAIL.test(entry.email)) throw bad('email', 'is not an email address')
}

/** An entry from submitted form values (`publish_*` booleans); absent fields are cleared. */
export function entryFromForm(
  jid: string,
  values: Record<string, unknown>,
  current: DirectoryEntry | null,
): Omit<DirectoryEntry, 'updated'> {
  const entry: Omit<DirectoryEntry, 'updated'> = { jid, nick: text(values.nick) ?? '', published: [] }
  for (const f of FIELDS) {
    const v = text(values[f])
    if (f !== 'nick' && v !== undefined) entry[f] = v
    const choice = values[`publish_${f}`]
    const pub = typeof choice === 'boolean' ? choice : (current?.published ?? DEFAULT_PUBLISHED).includes(f)
    if (pub) entry.published.push(f)
  }
  return entry
}

/** The registration view of an entry: form vars, plus the legacy names `name` and `city`. */
export function asRegistration(e: DirectoryEntry): Registration {
  const r: Registration = { nick: e.nick }
  for (const f of FIELDS) {
    const v = e[f]
    if (v !== undefined) r[f] = f === 'about' ? v.split('\n') : v
    r[`publish_${f}`] = e.published.includes(f)
  }
  if (e.fullname !== undefined) r.name = e.fullname
  if (e.locality !== undefined) r.city = e.locality
  return r
}

/** An entry as a result form (its owner or an admin sees every field and the choices). */
export function entryResult(e: DirectoryEntry): DataForm {
  const fields: Field[] = [{ type: 'jid-single', var: 'jid', label: 'JID', value: e.jid }]
  for (const f of FIELDS) {
    const v = e[f]
    if (f === 'about')
      fields.push({ type: 'text-multi', var: f, label: LABELS[f], value: v?.split('\n') ?? [] })
    else fields.push({ type: 'text-single', var: f, label: LABELS[f], value: v ?? '' })
  }
  for (const f of FIELDS) {
    fields.push({
      type: 'boolean',
      var: `publish_${f}`,
      label: `${LABELS[f]} published`,
      value: e.published.includes(f),
    })
  }
  return { type: 'result', title: 'Your directory entry', fields }
}
