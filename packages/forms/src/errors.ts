import { StanzaError } from '@satellite/core'

/**
 * Why a field (or the whole form) was rejected.
 *
 * - `malformed`: the `<x/>` is not a well-formed data form (parser error).
 * - `form-type`: wrong form `type` (not `submit`) or a FORM_TYPE other than the expected one.
 * - `unknown-field`: a field the definition does not have.
 * - `wrong-type`: a value that does not parse for the field type (e.g. boolean `maybe`).
 * - `multiple-values`: several values for a single-value field.
 * - `required`: a required field is missing or empty.
 * - `not-in-options`: a list value that is not one of the options.
 * - `too-long`, `too-short`, `pattern`, `too-many`: the validation hints.
 * - `invalid-jid`: a jid-single/jid-multi value that is not a valid JID.
 *
 * @example
 * ```ts
 * const reason: FieldErrorReason = 'not-in-options'
 * ```
 */
export type FieldErrorReason =
  | 'malformed'
  | 'form-type'
  | 'unknown-field'
  | 'wrong-type'
  | 'multiple-values'
  | 'required'
  | 'not-in-options'
  | 'too-long'
  | 'too-short'
  | 'pattern'
  | 'too-many'
  | 'invalid-jid'

/**
 * One problem found in a form; `var` is undefined for form-level problems.
 *
 * @example
 * ```ts
 * const e: FieldError = { var: 'nick', reason: 'required', message: "field 'nick' is required" }
 * ```
 */
export interface FieldError {
  var: string | undefined
  reason: FieldErrorReason
  message: string
}

/** Reasons that make a request structurally invalid (answered with `bad-request`). */
const STRUCTURAL: ReadonlySet<FieldErrorReason> = new Set([
  'malformed',
  'form-type',
  'unknown-field',
  'wrong-type',
  'multiple-values',
])

/**
 * The stanza error condition for a list of field errors: `bad-request` when the form is
 * malformed (parse error, wrong FORM_TYPE or form type, unknown field, unparsable value,
 * several values for a single field), `not-acceptable` when it is well-formed but a value
 * breaks a rule (required, options, length, pattern, JID).
 *
 * @example
 * ```ts
 * conditionFor([{ var: 'nick', reason: 'required', message: '...' }]) // 'not-acceptable'
 * ```
 */
export function conditionFor(errors: readonly FieldError[]): 'bad-request' | 'not-acceptable' {
  return errors.some((e) => STRUCTURAL.has(e.reason)) ? 'bad-request' : 'not-acceptable'
}

/** How many field errors the text of a {@link FormError} spells out (the others are counted). */
const TEXT_ERRORS = 3

function errorText(list: readonly FieldError[]): string {
  const shown = list.slice(0, TEXT_ERRORS).map((e) => e.message)
  if (list.length > TEXT_ERRORS) shown.push(`${list.length - TEXT_ERRORS} more`)
  return shown.join('; ')
}

/**
 * A data form error. It is a `StanzaError` (condition `bad-request` or `not-acceptable`,
 * text naming the fields: the first three problems, then how many more), so an iq handler
 * can simply let it propagate and Satellite answers with the right stanza error. `errors`
 * lists every problem found. Values from outside are quoted with {@link excerpt}.
 *
 * @example
 * ```ts
 * xmpp.iqSet({ xmlns: 'urn:example' }, (iq, payload) => {
 *   const r = validateSubmission(def, payload.getChild('x', NS_DATA))
 *   if (!r.ok) throw new FormError(r.errors)
 *   save(r.values)
 * })
 * ```
 */
export class FormError extends StanzaError {
  /** Every problem found (at least one). */
  readonly errors: readonly FieldError[]
  constructor(
    errors: readonly FieldError[] | string,
    options: { condition?: 'bad-request' | 'not-acceptable' } = {},
  ) {
    const list: readonly FieldError[] =
      typeof errors === 'string' ? [{ var: undefined, reason: 'malformed', message: errors }] : errors
    super(options.condition ?? conditionFor(list), { text: errorText(list) })
    this.name = 'FormError'
    this.errors = list
  }
}
