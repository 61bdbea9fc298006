// Fuzz tests (fast-check) of the XEP-0004 boundary: parseForm, validateSubmission and
// fieldValue get random forms (field types, vars, values, options, nesting, namespaces) and
// must answer with typed values or a FormError (bad-request / not-acceptable) whose text
// stays short, never with another exception.
import { xml } from '@satellite/core'
import {
  defineForm,
  excerpt,
  type FieldErrorReason,
  FormError,
  fieldValue,
  MULTI_VALUE_TYPES,
  NS_DATA,
  parseForm,
  validateSubmission,
} from '@satellite/forms'
import { dataForm, MAX_ERROR_TEXT, text } from '@satellite/test-support/fuzz'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const definition = defineForm({
  formType: 'urn:example',
  fields: [
    { type: 'fixed', value: 'Header' },
    { type: 'boolean', var: 'b' },
    { type: 'hidden', var: 'h', value: 'x' },
    { type: 'jid-multi', var: 'jm', maxItems: 2 },
    { type: 'jid-single', var: 'js' },
    { type: 'list-multi', var: 'lm', options: [{ value: 'a' }, { value: 'b' }] },
    { type: 'list-single', var: 'ls', options: [{ value: 'a' }], open: true },
    { type: 'text-multi', var: 'tm', maxItems: 3, maxLength: 10 },
    { type: 'text-private', var: 'tp', minLength: 2 },
    { type: 'text-single', var: 'ts', required: true, pattern: /^[a-z]+$/ },
  ],
})
const VARS = (definition.fields ?? []).flatMap((f) => (f.type === 'fixed' ? [] : [f.var]))
const REASONS: ReadonlySet<FieldErrorReason> = new Set([
  'malformed',
  'form-type',
  'unknown-field',
  'wrong-type',
  'multiple-values',
  'required',
  'not-in-options',
  'too-long',
  'too-short',
  'pattern',
  'too-many',
  'invalid-jid',
])

function checkFormError(err: unknown): void {
  expect(err).toBeInstanceOf(FormError)
  const e = err as FormError
  expect(['bad-request', 'not-acceptable']).toContain(e.condition)
  expect(e.errors.length).toBeGreaterThan(0)
  for (const fe of e.errors) expect(REASONS.has(fe.reason)).toBe(true)
  expect((e.text ?? '').length).toBeLessThanOrEqual(MAX_ERROR_TEXT)
}

describe('forms: fuzz', () => {
  it('parseForm and fieldValue return typed data or throw a FormError, nothing else', () => {
    fc.assert(
      fc.property(dataForm(VARS, ['urn:example']), (x) => {
        let parsed: ReturnType<typeof parseForm>
        try {
          parsed = parseForm(x)
        } catch (err) {
          checkFormError(err)
          return
        }
        expect(['form', 'submit', 'cancel', 'result']).toContain(parsed.type)
        for (const f of [...parsed.fields, ...(parsed.reported ?? []), ...parsed.items.flat()]) {
          try {
            const v = fieldValue(f)
            if (f.type === 'boolean') expect(typeof v).toBe('boolean')
            else if (f.type !== undefined && MULTI_VALUE_TYPES.includes(f.type))
              expect(Array.isArray(v)).toBe(true)
            else expect(typeof v).toBe('string')
          } catch (err) {
            checkFormError(err)
          }
        }
      }),
      { numRuns: 300 },
    )
  })

  it('validateSubmission never throws: values of the defined types, or errors with known reasons', () => {
    fc.assert(
      fc.property(dataForm(VARS, ['urn:example', 'urn:other']), fc.boolean(), (x, ignoreUnknown) => {
        const r = validateSubmission(definition, x, { ignoreUnknown })
        if (!r.ok) {
          checkFormError(new FormError(r.errors))
          return
        }
        for (const [name, v] of Object.entries(r.values)) {
          const def = definition.fields?.find((f) => f.type !== 'fixed' && f.var === name)
          expect(def, name).toBeDefined()
          if (def?.type === 'boolean') expect(typeof v).toBe('boolean')
          else if (def !== undefined && MULTI_VALUE_TYPES.includes(def.type))
            expect(Array.isArray(v)).toBe(true)
          else expect(typeof v).toBe('string')
        }
        expect(r.values.ts).toMatch(/^[a-z]+$/)
      }),
      { numRuns: 300 },
    )
  })

  it('keeps error texts short whatever the size and number of the bad values', () => {
    const long = fc.string({ minLength: 450, maxLength: 3000 })
    fc.assert(
      fc.property(long, long, fc.integer({ min: 1, max: 60 }), (name, value, n) => {
        const x = xml('x', { xmlns: NS_DATA, type: 'submit' })
        x.c('field', { var: 'ts' }).c('value').t('ok')
        x.c('field', { var: 'js' }).c('value').t(value)
        x.c('field', { var: 'ls', type: name }).c('value').t(value)
        for (let i = 0; i < n; i++)
          x.c('field', { var: `${name}${i}` })
            .c('value')
            .t(value)
        const r = validateSubmission(definition, x)
        expect(r.ok).toBe(false)
        if (!r.ok) checkFormError(new FormError(r.errors))
        let parsed: unknown
        try {
          parsed = parseForm(x)
        } catch (err) {
          checkFormError(err)
        }
        expect(parsed).toBeUndefined() // the unknown field type is refused
      }),
      { numRuns: 40, endOnFailure: true },
    )
  })

  it('excerpt cuts long values at a character boundary', () => {
    fc.assert(
      fc.property(text(200), fc.integer({ min: 1, max: 60 }), (s, max) => {
        const e = excerpt(s, max)
        if ([...s].length <= max) expect(e).toBe(s)
        else {
          expect([...e]).toHaveLength(max + 1)
          expect(e.endsWith('…')).toBe(true)
          expect(s.startsWith(e.slice(0, -1))).toBe(true)
        }
      }),
      { numRuns: 300 },
    )
    expect(excerpt('😀'.repeat(100), 3)).toBe('😀😀😀…')
  })
})
