// Every row naming @satellite/forms in the error tables of docs/*.md and packages/*/README.md
// (packages/forms/README.md "Errors"): the condition of new FormError(errors) for what
// validateSubmission finds in a submission.

import type { Element } from '@satellite/core'
import { xml } from '@satellite/core'
import { defineForm, FormError, NS_DATA, submitForm, validateSubmission } from '@satellite/forms'
import { checkErrorTables, type Observed } from '@satellite/test-support/error-tables'
import { expect, it } from 'vitest'

const form = defineForm({
  formType: 'urn:example:signup',
  fields: [
    { type: 'text-single', var: 'nick', required: true, maxLength: 8, pattern: /^[a-z]+$/ },
    { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
    { type: 'boolean', var: 'adult' },
    { type: 'jid-single', var: 'buddy' },
  ],
})

/** The FormError of a submission (it must be refused). */
async function refused(x: Element): Promise<Observed> {
  const r = validateSubmission(form, x)
  if (r.ok) throw new Error(`accepted: ${x.toString()}`)
  return new FormError(r.errors)
}

const submit = (values: Record<string, string | string[]>, formType = 'urn:example:signup') =>
  refused(submitForm(values, { formType }))

it('every error table row for @satellite/forms matches what the code answers', async () => {
  await checkErrorTables('@satellite/forms', {
    'not a data form (`<x/>` of another namespace, a `<field/>` without `var`)': async () => {
      const other = await refused(xml('x', { xmlns: 'urn:example:not-forms', type: 'submit' }))
      const noVar = await refused(
        xml('x', { xmlns: NS_DATA, type: 'submit' }, xml('field', {}, xml('value', {}, 'a'))),
      )
      return other.condition === noVar.condition ? other : { condition: 'differing' }
    },
    'a form `type` other than `submit`': () =>
      refused(
        xml(
          'x',
          { xmlns: NS_DATA, type: 'result' },
          xml('field', { var: 'FORM_TYPE' }, xml('value', {}, 'urn:example:signup')),
          xml('field', { var: 'nick' }, xml('value', {}, 'al')),
        ),
      ),
    'a wrong FORM_TYPE': () => submit({ nick: 'al' }, 'urn:example:other'),
    'an unknown form field': () => submit({ nick: 'al', colour: 'red' }),
    'a boolean that is not `true`, `false`, `1` or `0`': () => submit({ nick: 'al', adult: 'maybe' }),
    'several values for a single-value field': () => submit({ nick: ['al', 'bo'] }),
    'a required field missing': () => submit({ lang: 'en' }),
    'a value not among the options': () => submit({ nick: 'al', lang: 'de' }),
    "a value longer than the field's `maxLength`": () => submit({ nick: 'abcdefghij' }),
    "a value that does not match the field's `pattern`": () => submit({ nick: 'Al1' }),
    'a `jid-single` value that is not a JID': () => submit({ nick: 'al', buddy: 'a@b@c' }),
    'a broken rule and a structural problem together': async () => {
      const e = (await submit({ lang: 'de', colour: 'red' })) as FormError
      expect(e.errors.map((x) => x.reason).sort()).toEqual(['not-in-options', 'required', 'unknown-field'])
      return e
    },
  })
})
