import {
  bareOf,
  type Component,
  type Element,
  optionError,
  type PluginHandle,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'
import {
  type DataForm,
  excerpt,
  type Field,
  type FieldValue,
  FormError,
  formElement,
  NS_DATA,
  type ParsedForm,
  parseForm,
  validateSubmission,
} from '@satellite/forms'

/**
 * The `jabber:iq:register` namespace (XEP-0077), also the FORM_TYPE of its data form.
 *
 * @example
 * ```ts
 * const q = xml('query', { xmlns: NS_REGISTER })
 * ```
 */
export const NS_REGISTER = 'jabber:iq:register'

/**
 * The legacy registration fields of XEP-0077 section 14.1, in its order.
 *
 * @example
 * ```ts
 * LEGACY_FIELDS.includes('email') // true
 * ```
 */
export const LEGACY_FIELDS = [
  'username',
  'nick',
  'password',
  'name',
  'first',
  'last',
  'email',
  'address',
  'city',
  'state',
  'zip',
  'phone',
  'url',
  'date',
  'misc',
  'text',
  'key',
] as const

/**
 * A legacy XEP-0077 field name (`<username/>`, `<password/>`...).
 *
 * @example
 * ```ts
 * const fields: LegacyField[] = ['username', 'password', 'email']
 * ```
 */
export type LegacyField = (typeof LEGACY_FIELDS)[number]

/**
 * What the registrar stores for an entity: field name to value (legacy fields are strings;
 * data form fields have their typed value).
 *
 * @example
 * ```ts
 * const r: Registration = { username: 'juliet', email: 'juliet@example.org' }
 * ```
 */
export type Registration = Record<string, FieldValue>

/**
 * The storage of the registrar. `jid` is always the bare JID of the requester. A hook may
 * throw a `StanzaError` (e.g. `conflict` for a taken username); any other error is answered
 * with `internal-server-error`.
 *
 * @example
 * ```ts
 * const users = new Map<string, Registration>()
 * const hooks: RegistrationHooks = {
 *   get: (jid) => users.get(jid) ?? null,
 *   register: (jid, values) => void users.set(jid, values),
 *   remove: (jid) => void users.delete(jid),
 * }
 * ```
 */
export interface RegistrationHooks {
  /** The current registration of `jid`, or null when not registered. */
  get(jid: string): Registration | null | Promise<Registration | null>
  /** A new registration (also called for a re-registration when `update` is absent). */
  register(jid: string, values: Registration): void | Promise<void>
  /**
   * A registered entity changed its registration. `values` is the complete new registration:
   * fields it left out or empty (e.g. an empty `<password/>`) keep their current value.
   * `current` is what `get` returned.
   */
  update?(jid: string, values: Registration, current: Registration): void | Promise<void>
  /** Cancels the registration of `jid` (only called when `get` found one). */
  remove(jid: string): void | Promise<void>
}

/**
 * Options of {@link registration}. Give legacy `fields`, a data `form`, or both (the
 * response then carries both and either may be submitted).
 *
 * @example
 * ```ts
 * const options: RegistrationOptions = {
 *   fields: ['username', 'password'],
 *   instructions: 'Enter your legacy network login',
 *   hooks,
 * }
 * ```
 */
export interface RegistrationOptions {
  /**
   * Legacy fields (names of {@link LEGACY_FIELDS}; anything else is an option error). XEP-0077
   * treats every field listed in the legacy response as required, and so does this registrar,
   * except those named in `optional`.
   */
  fields?: readonly LegacyField[]
  /**
   * Legacy fields (a subset of `fields`) that may be left out or empty. They are still listed
   * in the legacy response (the legacy protocol has no way to mark a field optional, so old
   * clients show them and send them back, possibly empty), and in the form made from the
   * legacy fields they are not `required`. A field left empty is absent from the registration
   * (or keeps its current value on an update). Use it to match a data form in which only some
   * fields are required, so that old clients are not asked for more than new ones.
   */
  optional?: readonly LegacyField[]
  /** A data form; its FORM_TYPE is set to `jabber:iq:register`. */
  form?: DataForm
  /** `<instructions/>` of the legacy response (and of the form when it has none). */
  instructions?: string
  /** Local part the registrar answers on (`''` the component domain, the default; `'*'` any user). */
  to?: string
  hooks: RegistrationHooks
  /** Who may register; `not-allowed` for the others. Receives the bare JID. */
  allow?: (jid: string) => boolean | Promise<boolean>
}

/**
 * Handle returned by {@link registration}: `close()` removes both routes, and with them the
 * `jabber:iq:register` feature from disco; a request after it is answered as if the
 * registrar had never been installed. Idempotent.
 *
 * @example
 * ```ts
 * const reg = registration(xmpp, options)
 * reg.close() // removes the routes (and the disco feature)
 * ```
 */
export interface RegistrationHandle extends PluginHandle {
  /** Removes the routes, and with them the disco feature. Idempotent. */
  close(): void
}

const PRIVATE: ReadonlySet<string> = new Set(['password', 'key'])

function legacyForm(fields: readonly LegacyField[], optional: ReadonlySet<string>): Field[] {
  return fields.map((name) => ({
    type: PRIVATE.has(name) ? ('text-private' as const) : ('text-single' as const),
    var: name,
    required: !optional.has(name),
  }))
}

/** Fills the form's default values from the current registration (never private fields). */
function prefill(form: DataForm, current: Registration | null): DataForm {
  if (current === null) return form
  const fields = (form.fields ?? []).map((f) => {
    if (f.type === 'fixed' || f.type === 'text-private') return f
    const v = current[f.var]
    if (v === undefined) return f
    return { ...f, value: v } as Field
  })
  return { ...form, fields }
}

/** The requester's bare JID, lower-cased as a parsed JID is; `bad-request` when `from` is not a JID. */
function bareFrom(iq: Stanza): string {
  if (iq.fromJid === null) throw new StanzaError('bad-request', { text: 'the request has no valid from' })
  return bareOf(iq.from).toLowerCase()
}

function elementChildren(el: Element): Element[] {
  return el.getChildElements()
}

/**
 * Makes the component an XEP-0077 registrar: answers `jabber:iq:register` get (the fields
 * or form to fill in, `<registered/>` and the current values when already registered; the
 * password is never sent back) and set (registration, update, `<remove/>` cancellation),
 * both with legacy fields and with a data form. The feature is advertised in disco.
 * Malformed requests are answered with a stanza error: `bad-request` (no usable payload,
 * unknown field, `<remove/>` with siblings, malformed form), `not-acceptable` (a required
 * field missing or empty, or a value breaking the form rules; the text names the field),
 * `not-allowed` (refused by `allow`), `registration-required` (`<remove/>` while not
 * registered), and whatever the hooks throw (e.g. `conflict`). A registered entity may
 * resubmit only what changes: omitted or empty fields (an empty `<password/>`) keep their
 * current value, as XEP-0077 section 3.3 requires. Submitting the form and legacy fields
 * together is a `bad-request`. A bad option is a fatal `SAT_ERR_CONFIG` `SatelliteError` named
 * `registration.<option>`, thrown before anything is installed.
 *
 * @example
 * ```ts
 * const users = new Map<string, Registration>()
 * registration(xmpp, {
 *   fields: ['username', 'password'],
 *   instructions: 'Enter your IRC login',
 *   hooks: {
 *     get: (jid) => users.get(jid) ?? null,
 *     register: (jid, values) => void users.set(jid, values),
 *     remove: (jid) => void users.delete(jid),
 *   },
 * })
 * ```
 */
export function registration(xmpp: Component, options: RegistrationOptions): RegistrationHandle {
  const { hooks, instructions } = options
  const legacy = options.fields === undefined ? undefined : [...new Set(options.fields)]
  if (legacy === undefined && options.form === undefined) {
    throw optionError('registration', 'fields', 'is required when there is no `form` (give either or both)')
  }
  // Each legacy field becomes an element name in the answer to a get: only XEP-0077's names.
  for (const name of legacy ?? []) {
    if (!(LEGACY_FIELDS as readonly string[]).includes(name)) {
      throw optionError(
        'registration',
        'fields',
        `'${String(name).slice(0, 32)}' is not a legacy field of XEP-0077 (LEGACY_FIELDS)`,
      )
    }
  }
  const optional: ReadonlySet<string> = new Set(options.optional ?? [])
  for (const name of optional) {
    if (!legacy?.includes(name as LegacyField)) {
      throw optionError(
        'registration',
        'optional',
        `field '${String(name).slice(0, 32)}' is not one of \`fields\``,
      )
    }
  }
  for (const hook of ['get', 'register', 'remove', 'update'] as const) {
    const fn = hooks?.[hook]
    if (typeof fn !== 'function' && !(hook === 'update' && fn === undefined)) {
      throw optionError(
        'registration',
        `hooks.${hook}`,
        `must be a function, got ${fn === null ? 'null' : typeof fn}`,
      )
    }
  }
  if (options.allow !== undefined && typeof options.allow !== 'function') {
    throw optionError('registration', 'allow', `must be a function, got ${typeof options.allow}`)
  }
  const form: DataForm | undefined =
    options.form === undefined
      ? undefined
      : {
          ...options.form,
          type: 'form',
          formType: NS_REGISTER,
          ...(options.form.instructions === undefined && instructions !== undefined ? { instructions } : {}),
        }
  // What a submitted form is checked against: the configured form, or one made of the legacy fields.
  const submitDef: DataForm =
    form ??
    ({ formType: NS_REGISTER, fields: legacyForm(legacy as LegacyField[], optional) } satisfies DataForm)

  async function check(jid: string): Promise<void> {
    if (options.allow !== undefined && !(await options.allow(jid))) {
      throw new StanzaError('not-allowed', { text: 'registration is not allowed for this address' })
    }
  }

  async function onGet(iq: Stanza): Promise<Element> {
    const jid = bareFrom(iq)
    await check(jid)
    const current = await hooks.get(jid)
    const q = xml('query', { xmlns: NS_REGISTER })
    if (instructions !== undefined) q.c('instructions').t(instructions)
    if (current !== null) q.c('registered')
    for (const name of legacy ?? []) {
      const v = current?.[name]
      const el = q.c(name)
      if (v !== undefined && !PRIVATE.has(name)) el.t(Array.isArray(v) ? v.join('\n') : String(v))
    }
    if (form !== undefined) q.cnode(formElement(prefill(form, current)))
    return q
  }

  async function onSet(iq: Stanza, query: Element): Promise<undefined> {
    const jid = bareFrom(iq)
    const children = elementChildren(query)
    const remove = children.find((c) => c.name === 'remove')
    if (remove !== undefined) {
      if (children.length > 1) {
        throw new StanzaError('bad-request', { text: '<remove/> must be the only child of <query/>' })
      }
      await check(jid)
      if ((await hooks.get(jid)) === null) {
        throw new StanzaError('registration-required', { text: 'not registered' })
      }
      await hooks.remove(jid)
      return undefined
    }
    const x = children.find((c) => c.name === 'x' && c.attrs.xmlns === NS_DATA)
    const fields = children.filter((c) => c !== x && c.name !== 'instructions' && c.name !== 'registered')
    if (x !== undefined && fields.length > 0) {
      throw new StanzaError('bad-request', {
        text: 'submit either the data form or the legacy fields, not both',
      })
    }
    let values: Registration
    let current: Registration | null
    if (x !== undefined) {
      const parsed = parseForm(x) // throws FormError (bad-request)
      if (parsed.type === 'cancel') return undefined
      await check(jid)
      current = await hooks.get(jid)
      values = formValues(parsed, current)
    } else {
      const submitted = legacySubmission(fields)
      await check(jid)
      current = await hooks.get(jid)
      values = legacyValues(submitted, current)
    }
    if (current !== null && hooks.update !== undefined) await hooks.update(jid, values, current)
    else await hooks.register(jid, values)
    return undefined
  }

  /** Validates a submitted form; a registered entity keeps the current value of fields it leaves empty. */
  function formValues(parsed: ParsedForm, current: Registration | null): Registration {
    const keep = (name: string | undefined) =>
      current !== null && name !== undefined && current[name] !== undefined
    const def: DataForm =
      current === null
        ? submitDef
        : {
            ...submitDef,
            fields: (submitDef.fields ?? []).map((f) =>
              f.required === true && keep(f.var) ? { ...f, required: false } : f,
            ),
          }
    const r = validateSubmission(def, parsed)
    if (!r.ok) throw new FormError(r.errors)
    const values = r.values as Registration
    return current === null ? values : withCurrent(values, current, def)
  }

  function withCurrent(values: Registration, current: Registration, def: DataForm): Registration {
    const out: Registration = { ...values }
    for (const f of def.fields ?? []) {
      if (f.var === undefined || f.type === 'fixed') continue
      const now = current[f.var]
      if (out[f.var] === undefined && now !== undefined) out[f.var] = now
    }
    return out
  }

  /** The legacy fields of a set, checked for structure (unknown or repeated fields): bad-request. */
  function legacySubmission(fields: Element[]): Record<string, string> {
    if (fields.length === 0) throw new StanzaError('bad-request', { text: 'the request has no fields' })
    if (legacy === undefined) {
      throw new StanzaError('bad-request', { text: `this service needs the data form (${NS_DATA})` })
    }
    const allowed = new Set<string>(legacy)
    const values: Record<string, string> = {}
    for (const c of fields) {
      if (!allowed.has(c.name) || (c.attrs.xmlns !== undefined && c.attrs.xmlns !== NS_REGISTER)) {
        throw new StanzaError('bad-request', { text: `unknown field '${excerpt(c.name)}'` })
      }
      if (values[c.name] !== undefined) {
        throw new StanzaError('bad-request', { text: `field '${excerpt(c.name)}' appears twice` })
      }
      values[c.name] = c.getText()
    }
    return values
  }

  /**
   * Every legacy field not in `optional` is required (not-acceptable otherwise), except that a
   * registered entity keeps its current value for a field it leaves out or empty (XEP-0077
   * section 3.3: an empty <password/> keeps the password).
   */
  function legacyValues(submitted: Record<string, string>, current: Registration | null): Registration {
    const values: Registration = {}
    for (const name of legacy ?? []) {
      const v = submitted[name]
      const now = current?.[name]
      if (v !== undefined && v !== '') values[name] = v
      else if (now !== undefined) values[name] = now
      else if (optional.has(name)) continue
      else throw new StanzaError('not-acceptable', { text: `field '${name}' is required` })
    }
    return values
  }

  const match = { xmlns: NS_REGISTER, name: 'query', to: options.to ?? '' }
  const offGet = xmpp.iqGet(match, (iq) => onGet(iq))
  const offSet = xmpp.iqSet(match, (iq, query) => onSet(iq, query))
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    offGet()
    offSet()
  }
  return { close }
}
