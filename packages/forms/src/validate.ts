import { domainOf, type Element, hasResource, localOf, parseJid, resourceOf } from '@satellite/core'
import { type FieldError, FormError } from './errors.js'
import { type ParsedField, type ParsedForm, parseForm } from './parse.js'
import { excerpt } from './text.js'
import type { DataForm, Field, FieldValue, FormValues, InputField, TextHints } from './types.js'

/**
 * The outcome of {@link validateSubmission}: typed values, or every field error found.
 *
 * @example
 * ```ts
 * const r: Validation<{ nick: string }> = { ok: true, values: { nick: 'alice' } }
 * ```
 */
export type Validation<V> = { ok: true; values: V; form: ParsedForm } | { ok: false; errors: FieldError[] }

/**
 * Options of {@link validateSubmission}.
 *
 * @example
 * ```ts
 * const options: ValidateOptions = { ignoreUnknown: true, requireFormType: true }
 * ```
 */
export interface ValidateOptions {
  /** Drop fields the definition does not have instead of reporting `unknown-field`. */
  ignoreUnknown?: boolean
  /** Report `form-type` when the submission has no FORM_TYPE although the definition has one. */
  requireFormType?: boolean
}

const codePoints = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

/**
 * True if `value` is a valid JID (a domain, optional non-empty local part and resource, no
 * whitespace or control characters, parts of at most 1023 bytes).
 *
 * @example
 * ```ts
 * isValidJid('alice@example.org/phone') // true
 * isValidJid('not a jid') // false
 * ```
 */
export function isValidJid(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we reject
  if (value === '' || /[\s\u0000-\u001f\u007f]/u.test(value)) return false
  // The parts as core reads them; what they may hold is checked here.
  const local = localOf(value) // '' for none, and for an empty one ('@b'), refused next
  if (value.charCodeAt(0) === 64 /* @ */) return false
  if (/["&'/:<>]/.test(local)) return false
  const domain = domainOf(value)
  if (domain === '' || domain.includes('@') || domain.startsWith('.') || domain.includes('..')) return false
  const resource = resourceOf(value)
  if (resource === '' && hasResource(value)) return false
  if (
    Buffer.byteLength(local) > 1023 ||
    Buffer.byteLength(domain) > 1023 ||
    Buffer.byteLength(resource) > 1023
  ) {
    return false
  }
  try {
    parseJid(value)
    return true
  } catch {
    return false
  }
}

function checkText(f: { var: string } & TextHints, lines: string[], errors: FieldError[]): void {
  const name = f.var
  const text = lines.join('\n')
  if (f.maxLength !== undefined && codePoints(text) > f.maxLength) {
    errors.push({
      var: name,
      reason: 'too-long',
      message: `field '${name}' is longer than ${f.maxLength} characters`,
    })
  }
  if (f.minLength !== undefined && text !== '' && codePoints(text) < f.minLength) {
    errors.push({
      var: name,
      reason: 'too-short',
      message: `field '${name}' is shorter than ${f.minLength} characters`,
    })
  }
  if (f.pattern !== undefined && text !== '') {
    const re = f.pattern
    for (const line of lines) {
      re.lastIndex = 0
      if (!re.test(line)) {
        errors.push({
          var: name,
          reason: 'pattern',
          message: `field '${name}' does not have the expected format`,
        })
        break
      }
    }
  }
}

function checkMax(f: { var: string; maxItems?: number }, n: number, errors: FieldError[]): void {
  if (f.maxItems !== undefined && n > f.maxItems) {
    errors.push({
      var: f.var,
      reason: 'too-many',
      message: `field '${f.var}' has more than ${f.maxItems} values`,
    })
  }
}

/** Converts and checks one submitted field; pushes errors, returns the value or undefined. */
function convert(f: InputField, sub: ParsedField, errors: FieldError[]): FieldValue | undefined {
  const name = f.var
  const values = sub.values
  const before = errors.length
  const empty = values.length === 0 || (values.length === 1 && values[0] === '')
  if (empty) {
    if (f.required === true)
      errors.push({ var: name, reason: 'required', message: `field '${name}' is required` })
    return undefined
  }
  switch (f.type) {
    case 'boolean': {
      const v = values[0] as string
      if (values.length > 1) break
      if (v === '1' || v === 'true') return true
      if (v === '0' || v === 'false') return false
      errors.push({
        var: name,
        reason: 'wrong-type',
        message: `field '${name}' must be a boolean (0, 1, true, false)`,
      })
      return undefined
    }
    case 'hidden':
    case 'text-single':
    case 'text-private':
      if (values.length > 1) break
      checkText(f, values, errors)
      return errors.length === before ? (values[0] as string) : undefined
    case 'text-multi':
      checkMax(f, values.length, errors)
      checkText(f, values, errors)
      return errors.length === before ? [...values] : undefined
    case 'jid-single':
    case 'jid-multi': {
      if (f.type === 'jid-single' && values.length > 1) break
      if (f.type === 'jid-multi') checkMax(f, values.length, errors)
      const out: string[] = []
      for (const v of values) {
        if (!isValidJid(v)) {
          errors.push({
            var: name,
            reason: 'invalid-jid',
            message: `field '${name}': '${excerpt(v)}' is not a valid JID`,
          })
        } else out.push(parseJid(v).toString())
      }
      if (errors.length !== before) return undefined
      return f.type === 'jid-single' ? (out[0] as string) : out
    }
    case 'list-single':
    case 'list-multi': {
      if (f.type === 'list-single' && values.length > 1) break
      if (f.type === 'list-multi') checkMax(f, values.length, errors)
      if (f.open !== true) {
        const allowed = new Set(f.options.map((o) => o.value))
        for (const v of values) {
          if (!allowed.has(v)) {
            errors.push({
              var: name,
              reason: 'not-in-options',
              message: `field '${name}': '${excerpt(v)}' is not one of the options`,
            })
            break
          }
        }
      }
      if (errors.length !== before) return undefined
      return f.type === 'list-single' ? (values[0] as string) : [...values]
    }
  }
  errors.push({ var: name, reason: 'multiple-values', message: `field '${name}' takes a single value` })
  return undefined
}

/**
 * Checks a submitted form against its definition and returns the typed values (`boolean`,
 * `string[]` for multi fields, `string` otherwise; JIDs normalised) or every error found:
 * malformed form, form type not `submit`, FORM_TYPE different from the definition's, unknown
 * field, missing required field, value not among the options, bad boolean, several values for
 * a single field, too long/short, pattern mismatch, too many values, invalid JID. Fields
 * absent from the submission (and empty optional ones) are absent from `values`. Turn errors
 * into a stanza error with `new FormError(errors)` (or use {@link assertSubmission}).
 *
 * @example
 * ```ts
 * const signup = defineForm({
 *   formType: 'urn:example:signup',
 *   fields: [{ type: 'text-single', var: 'nick', required: true, maxLength: 32 }],
 * })
 * const r = validateSubmission(signup, query.getChild('x', NS_DATA))
 * if (r.ok) console.log(r.values.nick)
 * else console.log(r.errors.map((e) => e.message))
 * ```
 */
export function validateSubmission<Fs extends readonly Field[]>(
  definition: DataForm<Fs>,
  submitted: Element | ParsedForm | undefined,
  options: ValidateOptions = {},
): Validation<FormValues<Fs>> {
  if (submitted === undefined) {
    return {
      ok: false,
      errors: [{ var: undefined, reason: 'malformed', message: 'no data form was submitted' }],
    }
  }
  let form: ParsedForm
  if ('fields' in submitted && Array.isArray(submitted.fields) && !('attrs' in submitted)) form = submitted
  else {
    try {
      form = parseForm(submitted as Element)
    } catch (err) {
      if (err instanceof FormError) return { ok: false, errors: [...err.errors] }
      throw err
    }
  }
  const errors: FieldError[] = []
  if (form.type !== 'submit') {
    errors.push({
      var: undefined,
      reason: 'form-type',
      message: `expected a form of type 'submit', got '${form.type}'`,
    })
    return { ok: false, errors }
  }
  if (definition.formType !== undefined) {
    if (
      form.formType === undefined ? options.requireFormType === true : form.formType !== definition.formType
    ) {
      errors.push({
        var: 'FORM_TYPE',
        reason: 'form-type',
        message: `expected FORM_TYPE '${definition.formType}', got '${excerpt(form.formType ?? '(none)')}'`,
      })
      return { ok: false, errors }
    }
  }
  const defs = new Map<string, InputField>()
  for (const f of definition.fields ?? []) if (f.type !== 'fixed') defs.set(f.var, f)
  const submittedByVar = new Map<string, ParsedField>()
  for (const s of form.fields) {
    if (s.var === undefined || s.var === 'FORM_TYPE') continue
    if (!defs.has(s.var)) {
      if (options.ignoreUnknown !== true) {
        errors.push({ var: s.var, reason: 'unknown-field', message: `unknown field '${excerpt(s.var)}'` })
      }
      continue
    }
    submittedByVar.set(s.var, s)
  }
  const values: Record<string, FieldValue> = {}
  for (const [name, f] of defs) {
    const sub = submittedByVar.get(name) ?? { required: false, values: [], options: [] }
    const v = convert(f, sub, errors)
    if (v !== undefined) values[name] = v
  }
  if (errors.length > 0) return { ok: false, errors }
  return { ok: true, values: values as FormValues<Fs>, form }
}

/**
 * Like {@link validateSubmission} but returns the values directly and throws a
 * {@link FormError} (a `StanzaError`: `bad-request` or `not-acceptable`) on any error.
 *
 * @example
 * ```ts
 * xmpp.iqSet({ xmlns: 'urn:example:signup' }, (iq, query) => {
 *   const values = assertSubmission(signup, query.getChild('x', NS_DATA))
 *   return undefined // empty result
 * })
 * ```
 */
export function assertSubmission<Fs extends readonly Field[]>(
  definition: DataForm<Fs>,
  submitted: Element | ParsedForm | undefined,
  options: ValidateOptions = {},
): FormValues<Fs> {
  const r = validateSubmission(definition, submitted, options)
  if (!r.ok) throw new FormError(r.errors)
  return r.values
}
