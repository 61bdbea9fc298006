import {
  type Component,
  type Element,
  optionError,
  type PluginHandle,
  type Stanza,
  StanzaError,
  xml,
} from '@satellite/core'

/**
 * The vcard-temp namespace (XEP-0054).
 *
 * @example
 * ```ts
 * const card = result.getChild('vCard', NS_VCARD)
 * ```
 */
export const NS_VCARD = 'vcard-temp'

/**
 * A structured name (`<N/>`).
 *
 * @example
 * ```ts
 * const n: VCardName = { family: 'Liddell', given: 'Alice' }
 * ```
 */
export interface VCardName {
  family?: string
  given?: string
  middle?: string
  prefix?: string
  suffix?: string
}

/**
 * An organisation (`<ORG/>`).
 *
 * @example
 * ```ts
 * const org: VCardOrg = { name: 'Example Inc.', unit: 'Support' }
 * ```
 */
export interface VCardOrg {
  name?: string
  unit?: string
}

/**
 * The type flags of a `<TEL/>` (XEP-0054's schema): the closed set of element names a
 * telephone number may carry.
 *
 * @example
 * ```ts
 * const flags = TEL_TYPES.filter((t) => legacy.flags.includes(t))
 * ```
 */
export const TEL_TYPES = [
  'HOME',
  'WORK',
  'VOICE',
  'FAX',
  'PAGER',
  'MSG',
  'CELL',
  'VIDEO',
  'BBS',
  'MODEM',
  'ISDN',
  'PCS',
  'PREF',
] as const

/**
 * A type flag of a `<TEL/>` (one of {@link TEL_TYPES}).
 *
 * @example
 * ```ts
 * const t: VCardTelType = 'CELL'
 * ```
 */
export type VCardTelType = (typeof TEL_TYPES)[number]

const TEL_TYPE_SET: ReadonlySet<string> = new Set(TEL_TYPES)

/**
 * A telephone number (`<TEL/>`), with its type flags (`VOICE`, `CELL`, `WORK`, `HOME`...).
 * The flags become element names: only {@link TEL_TYPES} are accepted.
 *
 * @example
 * ```ts
 * const tel: VCardTel = { number: '+33 1 23 45 67 89', types: ['WORK', 'VOICE'] }
 * ```
 */
export interface VCardTel {
  number: string
  types?: VCardTelType[]
}

/**
 * A picture (`<PHOTO/>`): inline (`type` + base64 `binval`) or by URL (`extval`).
 *
 * @example
 * ```ts
 * const photo: VCardPhoto = { type: 'image/png', binval: png.toString('base64') }
 * ```
 */
export type VCardPhoto = { type: string; binval: string } | { extval: string }

/**
 * A vcard-temp (XEP-0054) vCard. Element names follow the spec; simple fields are strings.
 * `EMAIL` and `TEL` may repeat. `extra` keeps any other child element as it is.
 *
 * @example
 * ```ts
 * const card: VCard = { FN: 'Alice', NICKNAME: 'alice', EMAIL: ['alice@example.org'], DESC: 'Bridged from IRC' }
 * ```
 */
export interface VCard {
  FN?: string
  N?: VCardName
  NICKNAME?: string
  BDAY?: string
  URL?: string
  EMAIL?: string | string[]
  TEL?: VCardTel[]
  ORG?: VCardOrg
  TITLE?: string
  ROLE?: string
  JABBERID?: string
  DESC?: string
  PHOTO?: VCardPhoto
  /** Child elements not described above, kept untouched. */
  extra?: Element[]
}

const SIMPLE = ['FN', 'NICKNAME', 'BDAY', 'URL', 'TITLE', 'ROLE', 'JABBERID', 'DESC'] as const
type SimpleKey = (typeof SIMPLE)[number]
const NAME_PARTS: Array<[keyof VCardName, string]> = [
  ['family', 'FAMILY'],
  ['given', 'GIVEN'],
  ['middle', 'MIDDLE'],
  ['prefix', 'PREFIX'],
  ['suffix', 'SUFFIX'],
]
const KNOWN = new Set<string>([...SIMPLE, 'N', 'EMAIL', 'TEL', 'ORG', 'PHOTO'])

/**
 * Builds the `<vCard xmlns='vcard-temp'/>` element of a {@link VCard}. Throws a `TypeError`
 * for a `TEL` type that is not one of {@link TEL_TYPES} (it would become an element name).
 *
 * @example
 * ```ts
 * vcardElement({ FN: 'Alice', N: { family: 'Liddell', given: 'Alice' }, EMAIL: 'alice@example.org' })
 * // <vCard xmlns='vcard-temp'><FN>Alice</FN><N><FAMILY>Liddell</FAMILY><GIVEN>Alice</GIVEN></N>
 * //   <EMAIL><INTERNET/><USERID>alice@example.org</USERID></EMAIL></vCard>
 * ```
 */
export function vcardElement(v: VCard): Element {
  const el = xml('vCard', { xmlns: NS_VCARD })
  if (v.FN !== undefined) el.c('FN').t(v.FN)
  if (v.N !== undefined) {
    const n = el.c('N')
    for (const [key, name] of NAME_PARTS) {
      const value = v.N[key]
      if (value !== undefined) n.c(name).t(value)
    }
  }
  for (const key of SIMPLE) {
    if (key === 'FN') continue
    const value = v[key]
    if (value !== undefined) el.c(key).t(value)
  }
  const emails = v.EMAIL === undefined ? [] : typeof v.EMAIL === 'string' ? [v.EMAIL] : v.EMAIL
  for (const e of emails) el.c('EMAIL').c('INTERNET').up().c('USERID').t(e)
  for (const tel of v.TEL ?? []) {
    const t = el.c('TEL')
    for (const type of tel.types ?? []) {
      if (!TEL_TYPE_SET.has(type)) throw new TypeError(`not a vCard TEL type: '${String(type).slice(0, 32)}'`)
      t.c(type)
    }
    t.c('NUMBER').t(tel.number)
  }
  if (v.ORG !== undefined) {
    const org = el.c('ORG')
    if (v.ORG.name !== undefined) org.c('ORGNAME').t(v.ORG.name)
    if (v.ORG.unit !== undefined) org.c('ORGUNIT').t(v.ORG.unit)
  }
  if (v.PHOTO !== undefined) {
    const photo = el.c('PHOTO')
    if ('extval' in v.PHOTO) photo.c('EXTVAL').t(v.PHOTO.extval)
    else photo.c('TYPE').t(v.PHOTO.type).up().c('BINVAL').t(v.PHOTO.binval)
  }
  for (const child of v.extra ?? []) el.cnode(child)
  return el
}

function text(el: Element | undefined, name: string): string | undefined {
  const child = el?.getChild(name)
  return child === undefined ? undefined : child.getText()
}

/**
 * Reads a `<vCard xmlns='vcard-temp'/>` element into a {@link VCard}. Element names are
 * matched exactly (upper case, as the spec writes them); `BINVAL` loses its line breaks;
 * unknown children land in `extra`; `TEL` flags other than {@link TEL_TYPES} are dropped.
 * Throws a `TypeError` if `el` is not a vCard.
 *
 * @example
 * ```ts
 * const card = parseVcard(result.getChild('vCard', 'vcard-temp')!)
 * card.FN // 'Alice'
 * ```
 */
export function parseVcard(el: Element): VCard {
  if (el.name !== 'vCard' || (el.attrs.xmlns ?? el.getNS()) !== NS_VCARD) {
    throw new TypeError(`expected <vCard xmlns='${NS_VCARD}'/>, got <${el.name}/>`)
  }
  const v: VCard = {}
  for (const key of SIMPLE) {
    const value = text(el, key)
    if (value !== undefined) (v as Record<SimpleKey, string>)[key] = value
  }
  const n = el.getChild('N')
  if (n !== undefined) {
    const name: VCardName = {}
    for (const [key, tag] of NAME_PARTS) {
      const value = text(n, tag)
      if (value !== undefined) name[key] = value
    }
    v.N = name
  }
  const emails = el
    .getChildren('EMAIL')
    .map((e) => text(e, 'USERID'))
    .filter((e): e is string => e !== undefined)
  if (emails.length === 1) v.EMAIL = emails[0] as string
  else if (emails.length > 1) v.EMAIL = emails
  const tels: VCardTel[] = []
  for (const t of el.getChildren('TEL')) {
    const number = text(t, 'NUMBER')
    if (number === undefined) continue
    // only the flags of the schema: other children are dropped, never reused as names
    const types = t
      .getChildElements()
      .flatMap((c) => (TEL_TYPE_SET.has(c.name) ? [c.name as VCardTelType] : []))
    tels.push(types.length > 0 ? { number, types } : { number })
  }
  if (tels.length > 0) v.TEL = tels
  const org = el.getChild('ORG')
  if (org !== undefined) {
    const o: VCardOrg = {}
    const name = text(org, 'ORGNAME')
    const unit = text(org, 'ORGUNIT')
    if (name !== undefined) o.name = name
    if (unit !== undefined) o.unit = unit
    v.ORG = o
  }
  const photo = el.getChild('PHOTO')
  if (photo !== undefined) {
    const extval = text(photo, 'EXTVAL')
    const binval = text(photo, 'BINVAL')
    if (binval !== undefined) {
      v.PHOTO = {
        type: text(photo, 'TYPE') ?? 'application/octet-stream',
        binval: binval.replace(/\s+/g, ''),
      }
    } else if (extval !== undefined) {
      v.PHOTO = { extval }
    }
  }
  const extra = el.getChildElements().filter((c) => !KNOWN.has(c.name))
  if (extra.length > 0) v.extra = extra
  return v
}

/**
 * Options of {@link vcard}.
 *
 * @example
 * ```ts
 * const options: VcardOptions = { get: (local) => (local === '' ? { FN: 'Gateway' } : null) }
 * ```
 */
export interface VcardOptions {
  /**
   * The vCard of a local part (`''` is the component's domain itself; a user's local part
   * is given as it appears in the address, still escaped, see `@satellite/escaping`).
   * Return `null` (or `undefined`) for an unknown user: the answer is `item-not-found`.
   * Throw a `StanzaError` to answer with another condition.
   */
  get: (local: string, iq: Stanza) => VCard | null | undefined | Promise<VCard | null | undefined>
  /**
   * Accepts a vCard update. Without it, every set is answered `not-allowed` (the
   * component owns its users' vCards). Throw `StanzaError('forbidden')` to refuse a requester.
   */
  set?: (local: string, card: VCard, iq: Stanza) => void | Promise<void>
}

/**
 * Handle returned by {@link vcard}: `close()` removes both routes, and with them the
 * `vcard-temp` feature from disco; a request after it is answered as if the plugin had never
 * been installed. Idempotent.
 *
 * @example
 * ```ts
 * const cards = vcard(xmpp, { get: () => null })
 * cards.close()
 * ```
 */
export interface VcardHandle extends PluginHandle {
  /** Removes the routes, and with them the disco feature. Idempotent. */
  close(): void
}

/**
 * Answers XEP-0054 vCard requests (`<vCard xmlns='vcard-temp'/>` iq gets) for the
 * component's domain and its virtual users; `vcard-temp` is advertised in disco.
 * Returns a {@link VcardHandle} whose `close()` removes the routes. A bad option (`get` or
 * `set` not a function) is a fatal `SAT_ERR_CONFIG` `SatelliteError` named `vcard.<option>`,
 * thrown before anything is installed.
 *
 * @example
 * ```ts
 * vcard(xmpp, {
 *   get: async (local) => local === '' ? { FN: 'IRC gateway' } : ((await users.find(local)) ?? null),
 * })
 * ```
 */
export function vcard(xmpp: Component, options: VcardOptions): VcardHandle {
  if (typeof options?.get !== 'function') {
    throw optionError('vcard', 'get', `must be a function, got ${typeof options?.get}`)
  }
  if (options.set !== undefined && typeof options.set !== 'function') {
    throw optionError('vcard', 'set', `must be a function, got ${typeof options.set}`)
  }
  const offGet = xmpp.iqGet({ xmlns: NS_VCARD, name: 'vCard' }, async (iq) => {
    const card = await options.get(iq.toLocal, iq)
    if (card === null || card === undefined)
      throw new StanzaError('item-not-found', { text: 'no vCard here' })
    return vcardElement(card)
  })
  const offSet = xmpp.iqSet({ xmlns: NS_VCARD, name: 'vCard' }, async (iq, payload) => {
    const set = options.set
    if (set === undefined) throw new StanzaError('not-allowed', { text: 'vCards here are read-only' })
    let card: VCard
    try {
      card = parseVcard(payload)
    } catch {
      throw new StanzaError('bad-request')
    }
    await set(iq.toLocal, card, iq)
    return undefined
  })
  let closed = false
  const close = (): void => {
    if (closed) return
    closed = true
    offGet()
    offSet()
  }
  return { close }
}
