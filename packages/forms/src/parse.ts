import type { Element } from '@satellite/core'
import { FormError } from './errors.js'
import { excerpt } from './text.js'
import {
  FIELD_TYPES,
  type FieldOption,
  type FieldType,
  type FieldValue,
  FORM_TYPES,
  type FormType,
  MULTI_VALUE_TYPES,
  NS_DATA,
} from './types.js'

/**
 * A field as found on the wire: raw string values, `type` undefined when the sender did not
 * give one (allowed in submissions).
 *
 * @example
 * ```ts
 * const f: ParsedField = { var: 'nick', type: 'text-single', required: true, values: ['alice'], options: [] }
 * ```
 */
export interface ParsedField {
  var?: string
  type?: FieldType
  label?: string
  desc?: string
  required: boolean
  values: string[]
  options: FieldOption[]
}

/**
 * A parsed `<x xmlns='jabber:x:data'/>`. `formType` is the value of the hidden FORM_TYPE
 * field (which is also kept in `fields`).
 *
 * @example
 * ```ts
 * const form: ParsedForm = parseForm(x)
 * if (form.type === 'cancel') return
 * ```
 */
export interface ParsedForm {
  type: FormType
  title?: string
  instructions: string[]
  formType?: string
  fields: ParsedField[]
  /** Column definitions of a multi-item result. */
  reported?: ParsedField[]
  /** Rows of a multi-item result. */
  items: ParsedField[][]
}

const SINGLE_VALUE: ReadonlySet<string> = new Set([
  'boolean',
  'hidden',
  'jid-single',
  'list-single',
  'text-private',
  'text-single',
])
const BOOLEANS: ReadonlySet<string> = new Set(['0', '1', 'true', 'false'])

function isData(el: Element): boolean {
  const ns = el.attrs.xmlns
  return ns === undefined || ns === NS_DATA
}

function children(el: Element, name: string): Element[] {
  return el.getChildElements().filter((c) => c.name === name && isData(c))
}

function parseField(el: Element, where: string, typed: boolean): ParsedField {
  const name = el.attrs.var as string | undefined
  const rawType = el.attrs.type as string | undefined
  const label = name === undefined ? `a field ${where}` : `field '${excerpt(name)}'`
  if (rawType !== undefined && !FIELD_TYPES.includes(rawType as FieldType)) {
    throw new FormError(`${label} has an unknown type '${excerpt(rawType)}'`)
  }
  const type = (rawType ?? (typed ? 'text-single' : undefined)) as FieldType | undefined
  if (name === undefined && type !== 'fixed') throw new FormError(`a field ${where} has no var`)
  if (name === '') throw new FormError(`a field ${where} has an empty var`)
  const values = children(el, 'value').map((v) => v.getText())
  if (type !== undefined && SINGLE_VALUE.has(type) && values.length > 1) {
    throw new FormError(`${label} (${type}) has ${values.length} values`)
  }
  if (type === 'boolean' && values[0] !== undefined && !BOOLEANS.has(values[0])) {
    throw new FormError(`${label} is boolean but its value is '${excerpt(values[0])}'`)
  }
  const options: FieldOption[] = []
  for (const o of children(el, 'option')) {
    const ov = children(o, 'value')
    if (ov.length !== 1) throw new FormError(`an option of ${label} must have exactly one value`)
    const opt: FieldOption = { value: (ov[0] as Element).getText() }
    if (o.attrs.label !== undefined) opt.label = String(o.attrs.label)
    options.push(opt)
  }
  const f: ParsedField = { required: children(el, 'required').length > 0, values, options }
  if (name !== undefined) f.var = name
  if (type !== undefined) f.type = type
  if (el.attrs.label !== undefined) f.label = String(el.attrs.label)
  const desc = children(el, 'desc')[0]
  if (desc !== undefined) f.desc = desc.getText()
  return f
}

function parseFields(parent: Element, where: string, typed: boolean): ParsedField[] {
  const out: ParsedField[] = []
  const seen = new Set<string>()
  for (const el of children(parent, 'field')) {
    const f = parseField(el, where, typed)
    if (f.var !== undefined) {
      if (seen.has(f.var)) throw new FormError(`field '${excerpt(f.var)}' appears twice ${where}`)
      seen.add(f.var)
    }
    out.push(f)
  }
  return out
}

/**
 * Parses a data form strictly. Throws a {@link FormError} (`bad-request`) when the element is
 * not `<x xmlns='jabber:x:data'/>`, the form type is missing or unknown, a field has an
 * unknown type, no `var` (except fixed fields), a duplicate `var`, several values although
 * single-valued, a boolean value other than 0/1/true/false, a malformed option, or when an
 * item has a field that `<reported/>` does not declare. A field without `type` counts as
 * text-single in forms and results, and stays untyped in submissions.
 *
 * @example
 * ```ts
 * const x = query.getChild('x', NS_DATA)
 * if (x) {
 *   const form = parseForm(x) // throws FormError, which answers bad-request from a handler
 *   console.log(form.formType, form.fields.map((f) => f.var))
 * }
 * ```
 */
export function parseForm(x: Element): ParsedForm {
  if (x.name !== 'x' || (x.attrs.xmlns ?? x.getNS()) !== NS_DATA) {
    throw new FormError(`expected <x xmlns='${NS_DATA}'/>, got <${excerpt(x.name)}/>`)
  }
  const rawType = x.attrs.type as string | undefined
  if (rawType === undefined) throw new FormError('the data form has no type')
  if (!FORM_TYPES.includes(rawType as FormType))
    throw new FormError(`unknown data form type '${excerpt(rawType)}'`)
  const type = rawType as FormType
  const typed = type === 'form' || type === 'result'
  const fields = parseFields(x, 'in the form', typed)
  const form: ParsedForm = {
    type,
    instructions: children(x, 'instructions').map((i) => i.getText()),
    fields,
    items: [],
  }
  const title = children(x, 'title')[0]
  if (title !== undefined) form.title = title.getText()
  const ft = fields.find((f) => f.var === 'FORM_TYPE')
  if (ft !== undefined && (ft.type === undefined || ft.type === 'hidden')) {
    if (ft.values.length !== 1) throw new FormError('FORM_TYPE must have exactly one value')
    form.formType = ft.values[0] as string
  }
  const reported = children(x, 'reported')
  if (reported.length > 1) throw new FormError('the data form has several <reported/>')
  const items = children(x, 'item')
  if (reported[0] !== undefined) {
    form.reported = parseFields(reported[0], 'in <reported/>', true)
    const known = new Set(form.reported.map((f) => f.var))
    for (const item of items) {
      const row = parseFields(item, 'in an <item/>', false)
      for (const f of row) {
        if (!known.has(f.var)) {
          throw new FormError(`an <item/> has field '${excerpt(String(f.var))}' that <reported/> lacks`)
        }
      }
      form.items.push(row)
    }
  } else if (items.length > 0) {
    throw new FormError('the data form has <item/> without <reported/>')
  }
  return form
}

/**
 * The first `<x xmlns='jabber:x:data'/>` child of `parent` (optionally the one whose
 * FORM_TYPE is `formType`; forms without FORM_TYPE never match then), or undefined.
 *
 * @example
 * ```ts
 * const x = findForm(query, 'jabber:iq:register')
 * ```
 */
export function findForm(parent: Element, formType?: string): Element | undefined {
  for (const c of parent.getChildElements()) {
    if (c.name !== 'x' || (c.attrs.xmlns ?? c.getNS()) !== NS_DATA) continue
    if (formType === undefined) return c
    for (const f of c.getChildElements()) {
      if (f.name === 'field' && f.attrs.var === 'FORM_TYPE' && f.getChildText('value') === formType) return c
    }
  }
  return undefined
}

/**
 * Converts the raw values of a parsed field to a typed value, according to `type` (the
 * field's own type by default; text-single for untyped fields): boolean, string[] for the
 * multi types, string otherwise (`''` when absent). Throws a {@link FormError} for a bad
 * boolean.
 *
 * @example
 * ```ts
 * const form = parseForm(x)
 * const row = form.items[0]?.map((f) => [f.var, fieldValue(f)])
 * ```
 */
export function fieldValue(field: ParsedField, type: FieldType | undefined = field.type): FieldValue {
  const t = type ?? 'text-single'
  if (t === 'boolean') {
    const v = field.values[0]
    if (v === undefined) return false
    if (!BOOLEANS.has(v)) {
      throw new FormError(`field '${excerpt(String(field.var))}' is boolean but its value is '${excerpt(v)}'`)
    }
    return v === '1' || v === 'true'
  }
  if (MULTI_VALUE_TYPES.includes(t)) return [...field.values]
  return field.values[0] ?? ''
}
