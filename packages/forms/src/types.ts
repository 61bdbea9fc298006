/**
 * The `jabber:x:data` namespace (XEP-0004).
 *
 * @example
 * ```ts
 * const x = query.getChild('x', NS_DATA)
 * ```
 */
export const NS_DATA = 'jabber:x:data'

/**
 * The `type` of an `<x xmlns='jabber:x:data'/>`.
 *
 * @example
 * ```ts
 * const t: FormType = 'submit'
 * ```
 */
export type FormType = 'form' | 'submit' | 'cancel' | 'result'

/**
 * Every XEP-0004 form type, in the order of the specification.
 *
 * @example
 * ```ts
 * FORM_TYPES.includes('submit') // true
 * ```
 */
export const FORM_TYPES: readonly FormType[] = ['form', 'submit', 'cancel', 'result']

/**
 * A XEP-0004 field type.
 *
 * @example
 * ```ts
 * const t: FieldType = 'list-single'
 * ```
 */
export type FieldType =
  | 'boolean'
  | 'fixed'
  | 'hidden'
  | 'jid-multi'
  | 'jid-single'
  | 'list-multi'
  | 'list-single'
  | 'text-multi'
  | 'text-private'
  | 'text-single'

/**
 * Every XEP-0004 field type.
 *
 * @example
 * ```ts
 * FIELD_TYPES.includes('jid-multi') // true
 * ```
 */
export const FIELD_TYPES: readonly FieldType[] = [
  'boolean',
  'fixed',
  'hidden',
  'jid-multi',
  'jid-single',
  'list-multi',
  'list-single',
  'text-multi',
  'text-private',
  'text-single',
]

/**
 * Field types that carry several `<value/>` elements.
 *
 * @example
 * ```ts
 * MULTI_VALUE_TYPES.includes('list-multi') // true
 * ```
 */
export const MULTI_VALUE_TYPES: readonly FieldType[] = ['jid-multi', 'list-multi', 'text-multi']

/**
 * One `<option/>` of a list field.
 *
 * @example
 * ```ts
 * const o: FieldOption = { value: 'en', label: 'English' }
 * ```
 */
export interface FieldOption {
  value: string
  label?: string
}

/**
 * A typed field value: `boolean` for boolean fields, `string[]` for the multi-value types
 * (jid-multi, list-multi, text-multi; a text-multi value is one string per line), `string`
 * otherwise (a jid-single value is the JID as a normalised string).
 *
 * @example
 * ```ts
 * const values: Record<string, FieldValue> = { nick: 'alice', public: true, langs: ['en', 'fr'] }
 * ```
 */
export type FieldValue = string | string[] | boolean

interface FieldCommon {
  /** Human-readable label. */
  label?: string
  /** Longer description (`<desc/>`). */
  desc?: string
  /** The field must be filled in (`<required/>`). */
  required?: boolean
}

interface NamedField extends FieldCommon {
  /** The field name (`var`). */
  var: string
}

/**
 * A `boolean` field. Accepted on the wire: `0`, `1`, `false`, `true`.
 *
 * @example
 * ```ts
 * const f: BooleanField = { type: 'boolean', var: 'public', label: 'Public?', value: false }
 * ```
 */
export interface BooleanField extends NamedField {
  type: 'boolean'
  /** Default (or, in a result, the actual) value. */
  value?: boolean
}

/**
 * A `fixed` field: read-only text (section headers, explanations); `var` is optional.
 *
 * @example
 * ```ts
 * const f: FixedField = { type: 'fixed', value: 'Account details' }
 * ```
 */
export interface FixedField extends FieldCommon {
  type: 'fixed'
  var?: string
  value?: string | readonly string[]
}

/**
 * A `hidden` field (e.g. a session id), returned unchanged by the submitter.
 *
 * @example
 * ```ts
 * const f: HiddenField = { type: 'hidden', var: 'session', value: 's1' }
 * ```
 */
export interface HiddenField extends NamedField {
  type: 'hidden'
  value?: string
}

/**
 * Validation hints shared by text-like fields (checked by `validateSubmission`).
 *
 * @example
 * ```ts
 * const hints: TextHints = { maxLength: 32, pattern: /^[a-z0-9_]+$/ }
 * ```
 */
export interface TextHints {
  /** Maximum length in Unicode code points (text-multi: of the lines joined with `\n`). */
  maxLength?: number
  /** Minimum length in code points (an empty value of an optional field is still accepted). */
  minLength?: number
  /** The value (each line of a text-multi) must match this expression. */
  pattern?: RegExp
}

/**
 * A `text-single` or `text-private` (password) field.
 *
 * @example
 * ```ts
 * const f: TextField = { type: 'text-single', var: 'nick', required: true, maxLength: 32 }
 * ```
 */
export interface TextField extends NamedField, TextHints {
  type: 'text-single' | 'text-private'
  value?: string
}

/**
 * A `text-multi` field: its value is a list of lines.
 *
 * @example
 * ```ts
 * const f: TextMultiField = { type: 'text-multi', var: 'bio', maxItems: 10 }
 * ```
 */
export interface TextMultiField extends NamedField, TextHints {
  type: 'text-multi'
  value?: readonly string[]
  /** Maximum number of lines. */
  maxItems?: number
}

/**
 * A `jid-single` field; submitted values must be valid JIDs.
 *
 * @example
 * ```ts
 * const f: JidSingleField = { type: 'jid-single', var: 'owner', required: true }
 * ```
 */
export interface JidSingleField extends NamedField {
  type: 'jid-single'
  value?: string
}

/**
 * A `jid-multi` field.
 *
 * @example
 * ```ts
 * const f: JidMultiField = { type: 'jid-multi', var: 'admins', maxItems: 5 }
 * ```
 */
export interface JidMultiField extends NamedField {
  type: 'jid-multi'
  value?: readonly string[]
  /** Maximum number of JIDs. */
  maxItems?: number
}

/**
 * A `list-single` field. Unless `open` is true, a submitted value must be one of `options`.
 *
 * @example
 * ```ts
 * const f: ListSingleField = { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] }
 * ```
 */
export interface ListSingleField extends NamedField {
  type: 'list-single'
  options: readonly FieldOption[]
  value?: string
  /** Accept values that are not among the options. */
  open?: boolean
}

/**
 * A `list-multi` field. Unless `open` is true, every submitted value must be one of `options`.
 *
 * @example
 * ```ts
 * const f: ListMultiField = { type: 'list-multi', var: 'topics', options: [{ value: 'news' }, { value: 'sport' }] }
 * ```
 */
export interface ListMultiField extends NamedField {
  type: 'list-multi'
  options: readonly FieldOption[]
  value?: readonly string[]
  open?: boolean
  /** Maximum number of values. */
  maxItems?: number
}

/**
 * Any field of a {@link DataForm} definition.
 *
 * @example
 * ```ts
 * const fields: Field[] = [{ type: 'text-single', var: 'first' }, { type: 'boolean', var: 'ok' }]
 * ```
 */
export type Field =
  | BooleanField
  | FixedField
  | HiddenField
  | TextField
  | TextMultiField
  | JidSingleField
  | JidMultiField
  | ListSingleField
  | ListMultiField

/**
 * A field that carries a value (every field but `fixed`).
 *
 * @example
 * ```ts
 * const inputs = (def.fields ?? []).filter((f): f is InputField => f.type !== 'fixed')
 * ```
 */
export type InputField = Exclude<Field, FixedField>

/**
 * The typed value of field `F`.
 *
 * @example
 * ```ts
 * type V = ValueOf<{ type: 'boolean'; var: 'ok' }> // boolean
 * ```
 */
export type ValueOf<F extends Field> = F['type'] extends 'boolean'
  ? boolean
  : F['type'] extends 'jid-multi' | 'list-multi' | 'text-multi'
    ? string[]
    : string

/** The fields of a form that take input (every field but `fixed`). */
export type Inputs<Fs extends readonly Field[]> = Exclude<Fs[number], FixedField>

/**
 * The values `validateSubmission` returns for the fields `Fs` (define the form with
 * {@link defineForm} to get literal field names): required fields are present, the others
 * optional.
 *
 * @example
 * ```ts
 * const def = defineForm({ fields: [{ type: 'text-single', var: 'nick', required: true }] })
 * type V = FormValues<NonNullable<typeof def.fields>> // { nick: string }
 * ```
 */
export type FormValues<Fs extends readonly Field[]> = {
  [F in Inputs<Fs> as F extends { required: true } ? F['var'] : never]: ValueOf<F>
} & {
  [F in Inputs<Fs> as F extends { required: true } ? never : F['var']]?: ValueOf<F>
}

/**
 * A data form definition (what the builder turns into `<x xmlns='jabber:x:data'/>` and what
 * submissions are validated against).
 *
 * @example
 * ```ts
 * const form: DataForm = {
 *   type: 'form',
 *   title: 'Sign up',
 *   instructions: 'Choose a nickname',
 *   formType: 'jabber:iq:register',
 *   fields: [{ type: 'text-single', var: 'nick', required: true, maxLength: 32 }],
 * }
 * ```
 */
export interface DataForm<Fs extends readonly Field[] = readonly Field[]> {
  /** Form type; `form` when omitted. */
  type?: FormType
  title?: string
  /** One string per `<instructions/>` element. */
  instructions?: string | readonly string[]
  /** XEP-0068 FORM_TYPE, emitted as the first (hidden) field. */
  formType?: string
  fields?: Fs
  /** Column definitions of a multi-item result (`<reported/>`). */
  reported?: readonly Field[]
  /** Rows of a multi-item result (`<item/>`), keyed by the `var` of the reported fields. */
  items?: readonly Readonly<Record<string, FieldValue | readonly string[] | undefined>>[]
}

/**
 * Identity function that keeps the literal field names and types of a definition, so that
 * `validateSubmission` returns precisely typed values.
 *
 * @example
 * ```ts
 * const signup = defineForm({
 *   formType: 'urn:example:signup',
 *   fields: [
 *     { type: 'text-single', var: 'nick', required: true },
 *     { type: 'boolean', var: 'newsletter' },
 *   ],
 * })
 * ```
 */
export function defineForm<const Fs extends readonly Field[]>(definition: DataForm<Fs>): DataForm<Fs> {
  return definition
}
