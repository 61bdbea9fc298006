import { type Element, xml } from '@satellite/core'
import { type DataForm, type Field, type FieldValue, NS_DATA } from './types.js'

function valuesOf(value: FieldValue | readonly string[] | undefined): string[] {
  if (value === undefined) return []
  if (typeof value === 'boolean') return [value ? 'true' : 'false']
  if (typeof value === 'string') return [value]
  return [...value]
}

/** `full`: a form field; `column`: a `<reported/>` column (var, type, label only); `bare`: var, type and value. */
function fieldElement(
  f: Field,
  mode: 'full' | 'column' | 'bare',
  value?: FieldValue | readonly string[],
): Element {
  const attrs: Record<string, string> = { type: f.type }
  if (f.var !== undefined) attrs.var = f.var
  if (mode !== 'bare' && f.label !== undefined) attrs.label = f.label
  const el = xml('field', attrs)
  if (mode === 'full') {
    if (f.desc !== undefined) el.c('desc').t(f.desc)
    if (f.required === true) el.c('required')
    if (f.type === 'list-single' || f.type === 'list-multi') {
      for (const o of f.options) {
        const oel = el.c('option', o.label === undefined ? {} : { label: o.label })
        oel.c('value').t(o.value)
      }
    }
  }
  for (const v of valuesOf(value)) el.c('value').t(v)
  return el
}

/**
 * Builds the `<x xmlns='jabber:x:data'/>` of a definition: title, instructions, FORM_TYPE
 * (first, as a hidden field), the fields with their label, description, required flag,
 * options and (default) values, then `<reported/>` (columns: var, type, label) and one
 * `<item/>` per row for a multi-item result. Validation hints (maxLength, pattern...) stay server side.
 *
 * @example
 * ```ts
 * const x = formElement({
 *   title: 'Search',
 *   formType: 'jabber:iq:search',
 *   fields: [{ type: 'text-single', var: 'nick', label: 'Nickname' }],
 * })
 * xmpp.iqGet({ xmlns: 'urn:example' }, () => xml('query', { xmlns: 'urn:example' }, x))
 * ```
 */
export function formElement(definition: DataForm): Element {
  const x = xml('x', { xmlns: NS_DATA, type: definition.type ?? 'form' })
  if (definition.title !== undefined) x.c('title').t(definition.title)
  const instructions = definition.instructions
  if (instructions !== undefined) {
    for (const line of typeof instructions === 'string' ? [instructions] : instructions) {
      x.c('instructions').t(line)
    }
  }
  if (definition.formType !== undefined) {
    x.cnode(fieldElement({ type: 'hidden', var: 'FORM_TYPE' }, 'bare', definition.formType))
  }
  for (const f of definition.fields ?? []) x.cnode(fieldElement(f, 'full', f.value))
  if (definition.reported !== undefined) {
    const reported = x.c('reported')
    for (const f of definition.reported) reported.cnode(fieldElement(f, 'column'))
    for (const row of definition.items ?? []) {
      const item = x.c('item')
      for (const f of definition.reported) {
        if (f.var === undefined) continue
        const v = row[f.var]
        if (v === undefined) continue
        const fel = xml('field', { var: f.var })
        for (const s of valuesOf(v)) fel.c('value').t(s)
        item.cnode(fel)
      }
    }
  }
  return x
}

/**
 * Builds a `type='submit'` form from values (what a client sends back): booleans become
 * `true`/`false`, arrays several `<value/>`s. With `formType`, FORM_TYPE comes first.
 *
 * @example
 * ```ts
 * const x = submitForm({ nick: 'alice', newsletter: true }, { formType: 'jabber:iq:register' })
 * alice.send(xml('iq', { type: 'set', to: 'component.example.org' }, xml('query', { xmlns: 'jabber:iq:register' }, x)))
 * ```
 */
export function submitForm(
  values: Readonly<Record<string, FieldValue | readonly string[] | undefined>>,
  options: { formType?: string; type?: 'submit' | 'cancel' } = {},
): Element {
  const x = xml('x', { xmlns: NS_DATA, type: options.type ?? 'submit' })
  if (options.formType !== undefined) {
    x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(options.formType)
  }
  for (const [name, v] of Object.entries(values)) {
    if (v === undefined) continue
    const f = x.c('field', { var: name })
    for (const s of valuesOf(v)) f.c('value').t(s)
  }
  return x
}
