// Test support for the repository's own tests (not published): shared by the fast-check fuzz
// tests (core, the protocol toolkit, the directory): arbitraries for hostile payloads and the
// checks every answer must pass.
import { type Element, xml } from '@satellite/core'
import { type SimulatedClient, StanzaErrorResponse } from '@satellite/testing'
import fc from 'fast-check'
import { expect } from 'vitest'

const NS_DATA = 'jabber:x:data'

/** The stanza error conditions of RFC 6120 section 8.3.3. */
export const RFC6120_CONDITIONS: ReadonlySet<string> = new Set([
  'bad-request',
  'conflict',
  'feature-not-implemented',
  'forbidden',
  'gone',
  'internal-server-error',
  'item-not-found',
  'jid-malformed',
  'not-acceptable',
  'not-allowed',
  'not-authorized',
  'payment-required',
  'policy-violation',
  'recipient-unavailable',
  'redirect',
  'registration-required',
  'remote-server-not-found',
  'remote-server-timeout',
  'resource-constraint',
  'service-unavailable',
  'subscription-required',
  'undefined-condition',
  'unexpected-request',
])
const ERROR_TYPES: ReadonlySet<string> = new Set(['auth', 'cancel', 'continue', 'modify', 'wait'])
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'
/** Longest error text a plugin may send (values from outside are quoted in excerpts). */
export const MAX_ERROR_TEXT = 400

/**
 * Text a remote party could send: markup characters, whitespace, non-Latin letters, emoji,
 * a zero-width space, JID punctuation; never what XML 1.0 cannot carry (a server would
 * close the stream before any plugin saw it).
 */
export const text = (maxLength = 24): fc.Arbitrary<string> =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(
        '<',
        '>',
        '&',
        '"',
        "'",
        ' ',
        '\n',
        '\t',
        '/',
        '@',
        '%',
        'é',
        'ß',
        '語',
        '😀',
        '\u200b',
      ),
      fc.constantFrom(...'abcxyz019-_.'),
    ),
    maxLength,
  })

/** Either one of `known` (so that the fuzzer reaches the code behind them) or random text. */
export const oneOf = (known: readonly string[], maxLength = 24): fc.Arbitrary<string> =>
  known.length === 0 ? text(maxLength) : fc.oneof(fc.constantFrom(...known), text(maxLength))

/** Strings of a data form: the ten field types, the four form types, a few vars, random. */
export const FIELD_TYPES = [
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

/** A `<field/>` with random type, var, values, options, flags and a stray child. */
export const fieldElement = (vars: readonly string[]): fc.Arbitrary<Element> =>
  fc
    .record({
      var: fc.option(oneOf([...vars, 'FORM_TYPE', '']), { nil: undefined }),
      type: fc.option(oneOf(FIELD_TYPES), { nil: undefined }),
      values: fc.array(oneOf(['', 'true', 'false', '1', '0', 'maybe', 'a@b', 'x@localhost/r']), {
        maxLength: 4,
      }),
      options: fc.array(fc.array(text(8), { maxLength: 2 }), { maxLength: 3 }),
      required: fc.boolean(),
      stray: fc.option(fc.constantFrom('x', 'field', 'item', 'reported', 'desc', 'foo'), { nil: undefined }),
      strayNs: fc.boolean(),
    })
    .map((f) => {
      const attrs: Record<string, string> = {}
      if (f.var !== undefined) attrs.var = f.var
      if (f.type !== undefined) attrs.type = f.type
      const el = xml('field', attrs)
      for (const v of f.values) el.c('value').t(v)
      for (const o of f.options) {
        const opt = el.c('option', { label: 'l' })
        for (const v of o) opt.c('value').t(v)
      }
      if (f.required) el.c('required')
      if (f.stray !== undefined) el.c(f.stray, f.strayNs ? { xmlns: 'urn:example:other' } : {})
      return el
    })

/**
 * An `<x xmlns='jabber:x:data'/>` with random form type, FORM_TYPE, fields, and sometimes
 * `<reported/>`, `<item/>`s, a nested `<x/>`, a foreign namespace.
 */
export const dataForm = (vars: readonly string[], formTypes: readonly string[] = []): fc.Arbitrary<Element> =>
  fc
    .record({
      type: fc.option(oneOf(['form', 'submit', 'cancel', 'result']), { nil: undefined }),
      formType: fc.option(oneOf(formTypes.length > 0 ? formTypes : ['urn:example']), { nil: undefined }),
      fields: fc.array(fieldElement(vars), { maxLength: 6 }),
      reported: fc.option(fc.array(fieldElement(vars), { maxLength: 3 }), { nil: undefined }),
      items: fc.array(fc.array(fieldElement(vars), { maxLength: 3 }), { maxLength: 2 }),
      nested: fc.boolean(),
      ns: fc.constantFrom(NS_DATA, NS_DATA, NS_DATA, 'jabber:x:dat', ''),
    })
    .map((f) => {
      const attrs: Record<string, string> = f.ns === '' ? {} : { xmlns: f.ns }
      if (f.type !== undefined) attrs.type = f.type
      const x = xml('x', attrs)
      if (f.formType !== undefined) {
        x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(f.formType)
      }
      for (const field of f.fields) x.cnode(field)
      if (f.reported !== undefined) {
        const reported = x.c('reported')
        for (const field of f.reported) reported.cnode(field)
      }
      for (const row of f.items) {
        const item = x.c('item')
        for (const field of row) item.cnode(field)
      }
      if (f.nested) x.c('x', { xmlns: NS_DATA, type: 'submit' }).c('field', { var: 'inner' })
      return x
    })

/**
 * A `<set xmlns='http://jabber.org/protocol/rsm'/>`: mostly a plausible page request
 * (`max`, at most one anchor among `uids`), sometimes random children and values.
 */
export const rsmSet = (uids: readonly string[] = ['a@localhost']): fc.Arbitrary<Element> => {
  const value = (known: string[]) => fc.oneof({ arbitrary: fc.constantFrom(...known), weight: 4 }, oneOf([]))
  const plausible = fc
    .record({
      max: fc.option(value(['0', '1', '3', '10', '100']), { nil: undefined }),
      anchor: fc.option(
        fc.oneof(
          fc.tuple(fc.constant('after'), value([...uids])),
          fc.tuple(fc.constant('before'), value([...uids, ''])),
          fc.tuple(fc.constant('index'), value(['0', '2', '29', '1000'])),
        ),
        { nil: undefined },
      ),
    })
    .map(({ max, anchor }) => {
      const set = xml('set', { xmlns: 'http://jabber.org/protocol/rsm' })
      if (max !== undefined) set.c('max').t(max)
      if (anchor !== undefined) set.c(anchor[0]).t(anchor[1])
      return set
    })
  const random = fc
    .array(
      fc.tuple(
        fc.constantFrom('max', 'after', 'before', 'index', 'count', 'first', 'last', 'other'),
        oneOf(['', '0', '1', '5', '-1', '999999999999999999', '1e3', ' 2 ', ...uids]),
      ),
      { maxLength: 4 },
    )
    .map((children) => {
      const set = xml('set', { xmlns: 'http://jabber.org/protocol/rsm' })
      for (const [name, v] of children) set.c(name).t(v)
      return set
    })
  return fc.oneof({ arbitrary: plausible, weight: 3 }, { arbitrary: random, weight: 1 })
}

/**
 * Sends `iq` and returns the answer, result or error (a missing answer fails the test), after
 * checking that it is a well-formed answer to it: an iq of type result, or of type error with
 * a valid type, exactly one RFC 6120 condition and a short text.
 */
export async function answer(client: SimulatedClient, iq: Element): Promise<Element> {
  let reply: Element
  try {
    reply = await client.request(iq, 5000)
  } catch (err) {
    if (!(err instanceof StanzaErrorResponse)) throw err
    reply = err.stanza as unknown as Element
  }
  checkAnswer(reply)
  return reply
}

/** Checks one answer: see {@link answer}. */
export function checkAnswer(reply: Element): void {
  expect(reply.name).toBe('iq')
  expect(['result', 'error']).toContain(reply.attrs.type)
  if (reply.attrs.type === 'result') return
  const error = reply.getChild('error') as Element
  expect(error, reply.toString()).toBeDefined()
  expect(ERROR_TYPES.has(String(error.attrs.type)), reply.toString()).toBe(true)
  const conditions = error.getChildElements().filter((c) => c.getNS() === NS_STANZAS && c.name !== 'text')
  expect(conditions, reply.toString()).toHaveLength(1)
  expect(RFC6120_CONDITIONS.has((conditions[0] as Element).name), reply.toString()).toBe(true)
  const t = error.getChildText('text', NS_STANZAS)
  if (t !== null) expect(t.length, t).toBeLessThanOrEqual(MAX_ERROR_TEXT)
}

/** Fails the test if anything rejected without a handler while `run` ran. */
export async function noUnhandledRejection(run: () => Promise<void>): Promise<void> {
  const seen: unknown[] = []
  const onRejection = (reason: unknown) => void seen.push(reason)
  process.on('unhandledRejection', onRejection)
  try {
    await run()
    await new Promise((r) => setImmediate(r))
  } finally {
    process.off('unhandledRejection', onRejection)
  }
  expect(seen).toEqual([])
}
