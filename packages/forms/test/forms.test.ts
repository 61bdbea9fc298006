import { createRequire } from 'node:module'
import { type Element, parseJid, StanzaError, xml } from '@satellite/core'
import {
  assertSubmission,
  defineForm,
  type FieldErrorReason,
  FormError,
  fieldValue,
  findForm,
  formElement,
  isValidJid,
  NS_DATA,
  parseForm,
  submitForm,
  validateSubmission,
} from '@satellite/forms'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

const signup = defineForm({
  title: 'Sign up',
  instructions: ['Fill in the form', 'Then submit it'],
  formType: 'urn:example:signup',
  fields: [
    { type: 'fixed', value: 'Account' },
    {
      type: 'text-single',
      var: 'nick',
      label: 'Nickname',
      required: true,
      maxLength: 8,
      pattern: /^[a-z]+$/,
    },
    { type: 'text-private', var: 'password', required: true, minLength: 4 },
    { type: 'boolean', var: 'public', value: false, desc: 'Visible to everyone' },
    { type: 'hidden', var: 'session', value: 's1' },
    { type: 'jid-single', var: 'owner' },
    { type: 'jid-multi', var: 'admins', maxItems: 2 },
    {
      type: 'list-single',
      var: 'lang',
      options: [{ value: 'en', label: 'English' }, { value: 'fr' }],
      value: 'en',
    },
    { type: 'list-multi', var: 'topics', options: [{ value: 'news' }, { value: 'sport' }] },
    { type: 'text-multi', var: 'bio', maxItems: 3 },
  ],
})

function reasons(x: Element): Array<[string | undefined, FieldErrorReason]> {
  const r = validateSubmission(signup, x)
  if (r.ok) throw new Error('expected errors')
  return r.errors.map((e) => [e.var, e.reason])
}

describe('forms: builder', () => {
  it('builds every field type with label, desc, required, options and defaults', () => {
    const x = formElement(signup)
    expect(x.attrs).toEqual({ xmlns: NS_DATA, type: 'form' })
    expect(x.getChildText('title')).toBe('Sign up')
    expect(x.getChildren('instructions').map((i) => i.getText())).toEqual([
      'Fill in the form',
      'Then submit it',
    ])
    const fields = x.getChildren('field')
    expect(fields[0]?.toString()).toBe(
      '<field type="hidden" var="FORM_TYPE"><value>urn:example:signup</value></field>',
    )
    expect(fields[1]?.toString()).toBe('<field type="fixed"><value>Account</value></field>')
    expect(fields[2]?.attrs).toEqual({ type: 'text-single', var: 'nick', label: 'Nickname' })
    expect(fields[2]?.getChild('required')).toBeDefined()
    expect(fields[4]?.getChildText('desc')).toBe('Visible to everyone')
    expect(fields[4]?.getChildText('value')).toBe('false')
    const lang = fields.find((f) => f.attrs.var === 'lang') as Element
    expect(lang.toString()).toBe(
      '<field type="list-single" var="lang"><option label="English"><value>en</value></option><option><value>fr</value></option><value>en</value></field>',
    )
    // Round trip through the parser.
    const parsed = parseForm(xml('x', { xmlns: NS_DATA, type: 'form' }, ...x.getChildElements()))
    expect(parsed.formType).toBe('urn:example:signup')
    expect(parsed.fields.map((f) => f.type)).toEqual([
      'hidden',
      'fixed',
      'text-single',
      'text-private',
      'boolean',
      'hidden',
      'jid-single',
      'jid-multi',
      'list-single',
      'list-multi',
      'text-multi',
    ])
    expect(parsed.fields.find((f) => f.var === 'nick')?.required).toBe(true)
    expect(parsed.fields.find((f) => f.var === 'lang')?.options).toEqual([
      { value: 'en', label: 'English' },
      { value: 'fr' },
    ])
  })

  it('builds and parses a multi-item result (reported + items)', () => {
    const x = formElement({
      type: 'result',
      formType: 'jabber:iq:search',
      reported: [
        { type: 'jid-single', var: 'jid', label: 'JID' },
        { type: 'text-single', var: 'nick' },
        { type: 'boolean', var: 'online' },
      ],
      items: [
        { jid: 'a@example.org', nick: 'a', online: true },
        { jid: 'b@example.org', online: false },
      ],
    })
    expect(x.getChild('reported')?.toString()).toBe(
      '<reported><field type="jid-single" var="jid" label="JID"/><field type="text-single" var="nick"/>' +
        '<field type="boolean" var="online"/></reported>',
    )
    const form = parseForm(x)
    expect(form.type).toBe('result')
    expect(form.reported?.map((f) => f.var)).toEqual(['jid', 'nick', 'online'])
    expect(form.items).toHaveLength(2)
    expect(
      form.items[1]?.map((f) => [f.var, fieldValue(f, f.var === 'online' ? 'boolean' : undefined)]),
    ).toEqual([
      ['jid', 'b@example.org'],
      ['online', false],
    ])
  })

  it('builds a submission, a cancel, and finds a form by FORM_TYPE', () => {
    const x = submitForm(
      { nick: 'al', public: true, topics: ['news', 'sport'], skip: undefined },
      { formType: 'urn:f' },
    )
    expect(x.toString()).toBe(
      '<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE" type="hidden"><value>urn:f</value></field>' +
        '<field var="nick"><value>al</value></field><field var="public"><value>true</value></field>' +
        '<field var="topics"><value>news</value><value>sport</value></field></x>',
    )
    expect(submitForm({}, { type: 'cancel' }).attrs.type).toBe('cancel')
    const q = xml('query', { xmlns: 'urn:q' }, submitForm({}, { formType: 'urn:a' }), x)
    expect(findForm(q, 'urn:f')).toBe(x)
    expect(findForm(q)?.attrs.type).toBe('submit')
    expect(findForm(q, 'urn:none')).toBeUndefined()
  })
})

describe('forms: strict parser', () => {
  const bad: Array<[string, string]> = [
    ['not x', "<y xmlns='jabber:x:data' type='form'/>"],
    ['wrong namespace', "<x xmlns='urn:other' type='form'/>"],
    ['no type', "<x xmlns='jabber:x:data'/>"],
    ['unknown form type', "<x xmlns='jabber:x:data' type='draft'/>"],
    ['unknown field type', "<x xmlns='jabber:x:data' type='form'><field var='a' type='text-huge'/></x>"],
    ['missing var', "<x xmlns='jabber:x:data' type='form'><field type='text-single'/></x>"],
    ['empty var', "<x xmlns='jabber:x:data' type='submit'><field var=''/></x>"],
    [
      'bad boolean',
      "<x xmlns='jabber:x:data' type='submit'><field var='b' type='boolean'><value>maybe</value></field></x>",
    ],
    [
      'two values',
      "<x xmlns='jabber:x:data' type='form'><field var='a'><value>1</value><value>2</value></field></x>",
    ],
    ['duplicate var', "<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='a'/></x>"],
    [
      'option without value',
      "<x xmlns='jabber:x:data' type='form'><field var='l' type='list-single'><option/></field></x>",
    ],
    ['item without reported', "<x xmlns='jabber:x:data' type='result'><item><field var='a'/></item></x>"],
    [
      'item field not reported',
      "<x xmlns='jabber:x:data' type='result'><reported><field var='a'/></reported><item><field var='b'/></item></x>",
    ],
  ]
  for (const [what, text] of bad) {
    it(`rejects ${what} with a bad-request FormError`, () => {
      const el = parseXml(text)
      let caught: unknown
      try {
        parseForm(el)
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(FormError)
      expect(caught).toBeInstanceOf(StanzaError)
      expect((caught as FormError).condition).toBe('bad-request')
    })
  }

  it('accepts fixed fields without var and untyped submission fields', () => {
    const form = parseForm(
      parseXml(
        "<x xmlns='jabber:x:data' type='submit'><field type='fixed'><value>hi</value></field><field var='a'/></x>",
      ),
    )
    expect(form.fields[1]).toEqual({ var: 'a', required: false, values: [], options: [] })
  })
})

describe('forms: validateSubmission', () => {
  const good = {
    nick: 'alice',
    password: 'secret',
    public: '1',
    session: 's1',
    owner: 'Bob@Example.org/x',
    admins: ['a@example.org', 'example.net'],
    lang: 'fr',
    topics: ['news'],
    bio: ['line 1', 'line 2'],
  }

  it('returns typed values', () => {
    const r = validateSubmission(signup, submitForm(good, { formType: 'urn:example:signup' }))
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const nick: string = r.values.nick
    expect(nick).toBe('alice')
    expect(r.values).toEqual({
      nick: 'alice',
      password: 'secret',
      public: true,
      session: 's1',
      owner: 'bob@example.org/x',
      admins: ['a@example.org', 'example.net'],
      lang: 'fr',
      topics: ['news'],
      bio: ['line 1', 'line 2'],
    })
  })

  it('leaves absent optional fields out and accepts a missing FORM_TYPE unless required', () => {
    const x = submitForm({ nick: 'bob', password: 'pass', public: 'false' })
    expect(assertSubmission(signup, x)).toEqual({ nick: 'bob', password: 'pass', public: false })
  })

  it('reports each kind of error', () => {
    const cases: Array<[Record<string, string | string[]>, Array<[string | undefined, FieldErrorReason]>]> = [
      [{ password: 'pass' }, [['nick', 'required']]],
      [{ nick: '', password: 'pass' }, [['nick', 'required']]],
      [{ ...good, lang: 'de' }, [['lang', 'not-in-options']]],
      [{ ...good, topics: ['news', 'cooking'] }, [['topics', 'not-in-options']]],
      [{ ...good, public: 'maybe' }, [['public', 'wrong-type']]],
      [{ ...good, nick: 'abcdefghi' }, [['nick', 'too-long']]],
      [{ ...good, nick: 'Alice' }, [['nick', 'pattern']]],
      [{ ...good, password: 'abc' }, [['password', 'too-short']]],
      [{ ...good, owner: 'not a jid' }, [['owner', 'invalid-jid']]],
      [{ ...good, admins: ['a@example.org', '@x'] }, [['admins', 'invalid-jid']]],
      [{ ...good, admins: ['a@b', 'c@d', 'e@f'] }, [['admins', 'too-many']]],
      [{ ...good, bio: ['1', '2', '3', '4'] }, [['bio', 'too-many']]],
      [{ ...good, color: 'red' }, [['color', 'unknown-field']]],
      [{ ...good, nick: ['a', 'b'] }, [['nick', 'multiple-values']]],
    ]
    for (const [values, expected] of cases) {
      const got = reasons(submitForm(values, { formType: 'urn:example:signup' }))
      expect(got).toEqual(expected)
    }
  })

  it('maps errors to bad-request (malformed) or not-acceptable (rule broken)', () => {
    const notAcceptable = new FormError([
      { var: 'lang', reason: 'not-in-options', message: "field 'lang'..." },
    ])
    expect(notAcceptable.condition).toBe('not-acceptable')
    expect(notAcceptable.type).toBe('modify')
    expect(new FormError('broken').condition).toBe('bad-request')
    expect(() => assertSubmission(signup, submitForm({ password: 'pass' }))).toThrow(
      /field 'nick' is required/,
    )
    try {
      assertSubmission(signup, submitForm({ ...good, color: 'red' }))
    } catch (err) {
      expect((err as FormError).condition).toBe('bad-request')
    }
  })

  it('rejects a wrong FORM_TYPE, a non-submit form, a missing form; ignoreUnknown and requireFormType', () => {
    expect(reasons(submitForm(good, { formType: 'urn:other' }))).toEqual([['FORM_TYPE', 'form-type']])
    expect(reasons(submitForm(good, { formType: 'urn:example:signup', type: 'cancel' }))).toEqual([
      [undefined, 'form-type'],
    ])
    const none = validateSubmission(signup, undefined)
    expect(none.ok).toBe(false)
    const strict = validateSubmission(signup, submitForm(good), { requireFormType: true })
    expect(strict.ok).toBe(false)
    const lax = validateSubmission(signup, submitForm({ ...good, color: 'red' }), { ignoreUnknown: true })
    expect(lax.ok).toBe(true)
    const parsed = parseForm(submitForm(good))
    expect(validateSubmission(signup, parsed).ok).toBe(true)
  })

  it('validates JIDs', () => {
    for (const ok of ['example.org', 'a@example.org', 'a@example.org/r', 'a@b/c@d/e'])
      expect(isValidJid(ok)).toBe(true)
    for (const bad of ['', ' a@b', 'a b@c', '@b', 'a@', 'a@b/', 'a@@b', 'a@b..c', `${'x'.repeat(1024)}@b`]) {
      expect(isValidJid(bad)).toBe(false)
    }
  })

  it('isValidJid reads the parts with core and decides as the hand-written split did (#15)', () => {
    // The split isValidJid had before it used localOf/domainOf/resourceOf, as the reference.
    const before = (value: string): boolean => {
      // biome-ignore lint/suspicious/noControlCharactersInRegex: as in isValidJid
      if (value === '' || /[\s\u0000-\u001f\u007f]/u.test(value)) return false
      const slash = value.indexOf('/')
      const bare = slash < 0 ? value : value.slice(0, slash)
      const resource = slash < 0 ? undefined : value.slice(slash + 1)
      const at = bare.indexOf('@')
      const local = at < 0 ? undefined : bare.slice(0, at)
      const domain = at < 0 ? bare : bare.slice(at + 1)
      if (local !== undefined && (local === '' || /[@"&'/:<>]/.test(local))) return false
      if (domain === '' || domain.includes('@') || domain.startsWith('.') || domain.includes('..'))
        return false
      if (resource !== undefined && resource === '') return false
      for (const part of [local, domain, resource]) {
        if (part !== undefined && Buffer.byteLength(part) > 1023) return false
      }
      try {
        parseJid(value)
        return true
      } catch {
        return false
      }
    }
    const piece = fc.constantFrom('a', 'b', '@', '/', '.', ':', '<', 'é', '\\', ' ', '')
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), fc.nat(1030), (parts, long) => {
        const value = parts.join('')
        expect(isValidJid(value)).toBe(before(value))
        const big = `${'x'.repeat(long)}@${value}`
        expect(isValidJid(big)).toBe(before(big))
      }),
      { numRuns: 2000 },
    )
  })
})

const require = createRequire(import.meta.url)
// ltx (one copy for the workspace) through @xmpp/xml, whose parser it is.
const ltx = createRequire(require.resolve('@xmpp/xml'))('ltx') as { parse(s: string): Element }
const parseXml = (s: string): Element => ltx.parse(s)
