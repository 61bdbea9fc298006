import {
  type Component,
  component,
  type Element,
  isSatelliteError,
  type SatelliteError,
  StanzaError,
  xml,
} from '@satellite/core'
import { NS_DATA, parseForm, submitForm } from '@satellite/forms'
import { type Registration, type RegistrationOptions, registration } from '@satellite/register'
import { createServer, type SimulatedClient, StanzaErrorResponse, type TestServer } from '@satellite/testing'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'

const DOMAIN = 'reg.localhost'
const SECRET = 's3cret'
const NS = 'jabber:iq:register'

let srv: TestServer
let xmpp: Component
let close: (() => void) | undefined
const users = new Map<string, Registration>()
const calls: string[] = []

const hooks: RegistrationOptions['hooks'] = {
  get: (jid) => users.get(jid) ?? null,
  register: (jid, values) => {
    if (values.username === 'taken') throw new StanzaError('conflict', { text: 'username taken' })
    if (values.username === 'boom') throw new Error('database down')
    calls.push(`register ${jid}`)
    users.set(jid, values)
  },
  update: async (jid, values, current) => {
    calls.push(`update ${jid} ${String(current.username)}`)
    users.set(jid, { ...current, ...values })
  },
  remove: (jid) => {
    calls.push(`remove ${jid}`)
    users.delete(jid)
  },
}

beforeAll(async () => {
  srv = await createServer({ components: { [DOMAIN]: SECRET } })
  xmpp = component({ service: srv.url, domain: DOMAIN, secret: SECRET })
  await xmpp.start()
})
afterAll(async () => {
  await xmpp.stop()
  await srv.close()
})
beforeEach(() => {
  close?.()
  users.clear()
  calls.length = 0
})

function use(options: Partial<RegistrationOptions>): void {
  close = registration(xmpp, { hooks, ...options }).close
}

/** The error registration() throws for `options`: a fatal SAT_ERR_CONFIG, before it installs anything. */
function optionFailure(options: RegistrationOptions): SatelliteError<string> {
  const before = xmpp.disco.info('')?.features
  try {
    registration(xmpp, options)
  } catch (err) {
    if (!isSatelliteError(err)) throw err
    expect(err.code).toBe('SAT_ERR_CONFIG')
    expect(err.fatal).toBe(true)
    expect(xmpp.disco.info('')?.features).toEqual(before)
    return err
  }
  throw new Error('expected an option error')
}

let n = 0
function client(): SimulatedClient {
  return srv.client(`user${++n}@localhost/r`)
}

const iq = (type: 'get' | 'set', ...children: Element[]) =>
  xml('iq', { type, to: DOMAIN }, xml('query', { xmlns: NS }, ...children))

async function fails(c: SimulatedClient, request: Element): Promise<StanzaErrorResponse> {
  try {
    await c.request(request)
  } catch (err) {
    if (err instanceof StanzaErrorResponse) return err
    throw err
  }
  throw new Error('expected an error')
}

describe('register: legacy fields', () => {
  it('answers get with instructions and the fields, then registers, shows <registered/>, updates, removes', async () => {
    use({ fields: ['username', 'password', 'email'], instructions: 'Choose a username and password' })
    const alice = client()
    const form = await alice.request(iq('get'))
    const q = form.getChild('query', NS) as Element
    expect(q.getChildElements().map((c) => c.name)).toEqual(['instructions', 'username', 'password', 'email'])
    expect(q.getChildText('instructions')).toBe('Choose a username and password')

    await alice.request(
      iq('set', xml('username', {}, 'alice'), xml('password', {}, 'pw'), xml('email', {}, 'a@example.org')),
    )
    expect(users.get(alice.bare)).toEqual({ username: 'alice', password: 'pw', email: 'a@example.org' })

    const again = (await alice.request(iq('get'))).getChild('query', NS) as Element
    expect(again.getChild('registered')).toBeDefined()
    expect(again.getChildText('username')).toBe('alice')
    expect(again.getChildText('password')).toBe('') // never sent back

    await alice.request(
      iq('set', xml('username', {}, 'alice'), xml('password', {}, 'pw2'), xml('email', {}, 'b@example.org')),
    )
    expect(users.get(alice.bare)?.email).toBe('b@example.org')

    await alice.request(iq('set', xml('remove')))
    expect(users.has(alice.bare)).toBe(false)
    expect(calls).toEqual([`register ${alice.bare}`, `update ${alice.bare} alice`, `remove ${alice.bare}`])
  })

  it('advertises jabber:iq:register in disco and stops answering after close()', async () => {
    use({ fields: ['username'] })
    const c = client()
    const info = await c.request(
      xml(
        'iq',
        { type: 'get', to: DOMAIN },
        xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
      ),
    )
    const features = info
      .getChild('query')
      ?.getChildren('feature')
      .map((f) => f.attrs.var)
    expect(features).toContain(NS)
    close?.()
    close = undefined
    expect((await fails(c, iq('get'))).condition).toBe('service-unavailable')
  })

  it('rejects malformed and unacceptable requests with the right condition', async () => {
    use({ fields: ['username', 'password'] })
    const c = client()
    const cases: Array<[Element, string, RegExp?]> = [
      [iq('set'), 'bad-request'], // empty query
      [xml('iq', { type: 'set', to: DOMAIN }, xml('query', { xmlns: 'urn:other' })), 'service-unavailable'],
      [iq('set', xml('username', {}, 'a')), 'not-acceptable', /password/],
      [iq('set', xml('username', {}, 'a'), xml('password')), 'not-acceptable', /password/],
      [
        iq('set', xml('username', {}, 'a'), xml('password', {}, 'p'), xml('color', {}, 'x')),
        'bad-request',
        /color/,
      ],
      [
        iq('set', xml('username', {}, 'a'), xml('username', {}, 'b'), xml('password', {}, 'p')),
        'bad-request',
      ],
      [iq('set', xml('remove'), xml('username', {}, 'a')), 'bad-request'],
      [iq('set', xml('remove')), 'registration-required'],
      [iq('set', xml('username', {}, 'taken'), xml('password', {}, 'p')), 'conflict', /taken/],
      [iq('set', xml('username', {}, 'boom'), xml('password', {}, 'p')), 'internal-server-error'],
      [iq('set', submitForm({ username: 'a', password: 'p' }, { formType: 'urn:wrong' })), 'bad-request'],
      [iq('set', xml('x', { xmlns: NS_DATA, type: 'bogus' })), 'bad-request'],
    ]
    for (const [request, condition, text] of cases) {
      const err = await fails(c, request)
      expect(err.condition, request.toString()).toBe(condition)
      if (text) expect(err.text).toMatch(text)
    }
    expect(users.size).toBe(0)
  })

  it('keeps current values on update: empty <password/>, omitted fields (XEP-0077 3.3)', async () => {
    use({ fields: ['username', 'password', 'email'] })
    const c = client()
    await c.request(
      iq('set', xml('username', {}, 'erin'), xml('password', {}, 'old'), xml('email', {}, 'e@x.org')),
    )
    await c.request(iq('set', xml('username', {}, 'erin'), xml('password')))
    expect(users.get(c.bare)).toEqual({ username: 'erin', password: 'old', email: 'e@x.org' })
    await c.request(iq('set', xml('username', {}, 'erin'), xml('password', {}, 'new')))
    expect(users.get(c.bare)).toEqual({ username: 'erin', password: 'new', email: 'e@x.org' })
    // Both the form and legacy fields in one request.
    const both = iq(
      'set',
      xml('username', {}, 'erin'),
      submitForm({ username: 'erin', password: 'p' }, { formType: NS }),
    )
    expect((await fails(c, both)).condition).toBe('bad-request')
  })

  it('accepts a data form submission made of the legacy fields', async () => {
    use({ fields: ['username', 'password'] })
    const c = client()
    await c.request(iq('set', submitForm({ username: 'carol', password: 'p' }, { formType: NS })))
    expect(users.get(c.bare)).toEqual({ username: 'carol', password: 'p' })
  })

  it('optional legacy fields: listed, may be left out or empty, not required in the form either', async () => {
    expect(optionFailure({ hooks, fields: ['username'], optional: ['email'] }).message).toBe(
      "registration.optional: field 'email' is not one of `fields`",
    )
    // Field names become element names: only XEP-0077's.
    for (const bad of ['a><b', 'x', '']) {
      expect(optionFailure({ hooks, fields: ['username', bad as 'username'] }).message).toBe(
        `registration.fields: '${bad}' is not a legacy field of XEP-0077 (LEGACY_FIELDS)`,
      )
    }
    use({ fields: ['username', 'password', 'email', 'city'], optional: ['email', 'city'] })
    const c = client()
    const q = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(q.getChildElements().map((e) => e.name)).toEqual(['username', 'password', 'email', 'city'])
    // An old client sends every listed field back, the optional ones empty.
    await c.request(
      iq('set', xml('username', {}, 'olga'), xml('password', {}, 'pw'), xml('email'), xml('city', {}, '')),
    )
    expect(users.get(c.bare)).toEqual({ username: 'olga', password: 'pw' })
    // A required one is still required.
    const d = client()
    const missing = await fails(d, iq('set', xml('username', {}, 'dan'), xml('email', {}, 'd@x.org')))
    expect(missing.condition).toBe('not-acceptable')
    expect(missing.text).toContain("'password'")
    // The form made of the legacy fields marks only the required ones.
    await d.request(iq('set', submitForm({ username: 'dan', password: 'p' }, { formType: NS })))
    expect(users.get(d.bare)).toEqual({ username: 'dan', password: 'p' })
    // On update an empty optional field keeps its value, a new one is added.
    await c.request(iq('set', xml('username', {}, 'olga'), xml('password'), xml('city', {}, 'Oslo')))
    expect(users.get(c.bare)).toEqual({ username: 'olga', password: 'pw', city: 'Oslo' })
  })

  it('answers not-allowed when allow() refuses', async () => {
    use({ fields: ['username'], allow: (jid) => !jid.startsWith('user') })
    const c = client()
    expect((await fails(c, iq('get'))).condition).toBe('not-allowed')
    expect((await fails(c, iq('set', xml('username', {}, 'x')))).condition).toBe('not-allowed')
    expect(users.size).toBe(0)
  })
})

describe('register: data form', () => {
  const options: Partial<RegistrationOptions> = {
    fields: ['username', 'password'],
    instructions: 'Fill in the form',
    form: {
      title: 'Registration',
      fields: [
        { type: 'text-single', var: 'username', required: true, maxLength: 10 },
        { type: 'text-private', var: 'password', required: true },
        { type: 'list-single', var: 'lang', options: [{ value: 'en' }, { value: 'fr' }] },
        { type: 'boolean', var: 'newsletter' },
      ],
    },
  }

  it('sends legacy fields and the form (FORM_TYPE jabber:iq:register), prefilled once registered', async () => {
    use(options)
    const c = client()
    const q = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(q.getChildElements().map((e) => e.name)).toEqual(['instructions', 'username', 'password', 'x'])
    const form = parseForm(q.getChild('x', NS_DATA) as Element)
    expect(form.type).toBe('form')
    expect(form.formType).toBe(NS)
    expect(form.instructions).toEqual(['Fill in the form'])
    expect(form.fields.map((f) => f.var)).toEqual(['FORM_TYPE', 'username', 'password', 'lang', 'newsletter'])

    await c.request(
      iq(
        'set',
        submitForm({ username: 'dave', password: 'p', lang: 'fr', newsletter: '1' }, { formType: NS }),
      ),
    )
    expect(users.get(c.bare)).toEqual({ username: 'dave', password: 'p', lang: 'fr', newsletter: true })
    const again = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(again.getChild('registered')).toBeDefined()
    const filled = parseForm(again.getChild('x', NS_DATA) as Element)
    expect(filled.fields.find((f) => f.var === 'lang')?.values).toEqual(['fr'])
    expect(filled.fields.find((f) => f.var === 'newsletter')?.values).toEqual(['true'])
    expect(filled.fields.find((f) => f.var === 'password')?.values).toEqual([])
    // Update through the form: an empty password keeps the current one.
    await c.request(iq('set', submitForm({ username: 'dave', password: '', lang: 'en' }, { formType: NS })))
    expect(users.get(c.bare)).toEqual({ username: 'dave', password: 'p', lang: 'en', newsletter: true })
  })

  it('rejects bad submissions: missing required, not in options, boolean maybe, unknown field, too long', async () => {
    use(options)
    const c = client()
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ password: 'p' }, 'not-acceptable', /username/],
      [{ username: 'a', password: 'p', lang: 'de' }, 'not-acceptable', /lang/],
      [{ username: 'a', password: 'p', newsletter: 'maybe' }, 'bad-request', /newsletter/],
      [{ username: 'a', password: 'p', color: 'red' }, 'bad-request', /color/],
      [{ username: 'abcdefghijk', password: 'p' }, 'not-acceptable', /username/],
    ]
    for (const [values, condition, text] of cases) {
      const err = await fails(c, iq('set', submitForm(values, { formType: NS })))
      expect(err.condition, JSON.stringify(values)).toBe(condition)
      expect(err.text).toMatch(text)
    }
    // A cancelled form changes nothing.
    await c.request(iq('set', submitForm({}, { type: 'cancel' })))
    expect(users.size).toBe(0)
  })

  it('quotes a field name from the request cut short in its error text (#13)', async () => {
    use({ fields: ['username', 'password'] })
    const c = client()
    const long = `x${'y'.repeat(5000)}`
    const err = await fails(c, iq('set', xml('username', {}, 'a'), xml(long, {}, 'b')))
    expect(err.condition).toBe('bad-request')
    expect(err.text).toMatch(/^unknown field 'xy+…'$/)
    expect(err.text?.length ?? 0).toBeLessThan(100)
  })

  it('form only: legacy submissions are refused with bad-request', async () => {
    use({ form: options.form as NonNullable<RegistrationOptions['form']> })
    const c = client()
    const q = (await c.request(iq('get'))).getChild('query', NS) as Element
    expect(q.getChildElements().map((e) => e.name)).toEqual(['x'])
    const err = await fails(c, iq('set', xml('username', {}, 'a')))
    expect(err.condition).toBe('bad-request')
    expect(optionFailure({ hooks }).message).toBe(
      'registration.fields: is required when there is no `form` (give either or both)',
    )
  })
})

describe('register: the plugin contract', () => {
  const discoFeatures = async (c: SimulatedClient) =>
    (
      (
        await c.request(
          xml(
            'iq',
            { type: 'get', to: DOMAIN },
            xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }),
          ),
        )
      ).getChild('query') as Element
    )
      .getChildren('feature')
      .map((f) => f.attrs.var)

  it('close() removes both routes and the disco feature; a request then gets what it gets without the plugin; idempotent', async () => {
    const c = client()
    const without = await fails(c, iq('get'))
    expect(without.condition).toBe('service-unavailable')
    expect(await discoFeatures(c)).not.toContain(NS)

    const handle = registration(xmpp, { hooks, fields: ['username', 'password'] })
    expect(await discoFeatures(c)).toContain(NS)
    await c.request(iq('set', xml('username', {}, 'u'), xml('password', {}, 'p')))
    expect(users.has(c.bare)).toBe(true)

    handle.close()
    expect(await discoFeatures(c)).not.toContain(NS)
    for (const request of [iq('get'), iq('set', xml('remove'))]) {
      const after = await fails(c, request)
      expect(after.condition).toBe(without.condition)
      expect(after.errorType).toBe(without.errorType)
    }
    expect(users.has(c.bare)).toBe(true) // the set after close() reached no hook
    expect(() => handle.close()).not.toThrow()
  })

  it('throws a fatal SAT_ERR_CONFIG for hooks and allow that are not functions, installing nothing', () => {
    const { get: _get, ...noGet } = hooks
    expect(optionFailure({ fields: ['username'], hooks: noGet as typeof hooks }).message).toBe(
      'registration.hooks.get: must be a function, got undefined',
    )
    expect(
      optionFailure({
        fields: ['username'],
        hooks: { ...hooks, update: 'no' } as unknown as typeof hooks,
      }).message,
    ).toBe('registration.hooks.update: must be a function, got string')
    expect(optionFailure({ fields: ['username'], hooks: undefined as unknown as typeof hooks }).message).toBe(
      'registration.hooks.get: must be a function, got undefined',
    )
    expect(
      optionFailure({ fields: ['username'], hooks, allow: true as unknown as () => boolean }).message,
    ).toBe('registration.allow: must be a function, got boolean')
  })
})
