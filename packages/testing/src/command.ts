import { type Element, ElementClass, xml } from './xml.js'

/** XEP-0050 ad-hoc commands. @internal */
export const NS_COMMANDS = 'http://jabber.org/protocol/commands'
/** XEP-0004 data forms. @internal */
export const NS_DATA = 'jabber:x:data'

/**
 * The `status` of a command session (XEP-0050): `executing` while a stage waits for the
 * requester, then `completed` or `canceled`.
 * @example
 * if (session.status === 'executing') await session.next({ nick: 'alice' })
 */
export type CommandStatus = 'executing' | 'completed' | 'canceled'

/**
 * An action a requester may take in a session (XEP-0050 `<actions/>`).
 * @example
 * expect(session.actions).toEqual(['prev', 'complete'])
 */
export type CommandStep = 'prev' | 'next' | 'complete'

/**
 * A `<note/>` of a command response; a note without a type is `info`.
 * @example
 * expect(session.notes).toContainEqual({ type: 'info', text: 'Saved' })
 */
export interface CommandNote {
  type: 'info' | 'warn' | 'error'
  text: string
}

/**
 * A field of a received data form (XEP-0004), as sent: nothing is validated.
 * @example
 * expect(session.form?.field('lang')?.options.map((o) => o.value)).toEqual(['en', 'fr'])
 */
export interface ReceivedField {
  /** `var`; `''` for a field without one (`fixed` fields). */
  var: string
  /** `type`; `text-single` when absent, as XEP-0004 says. */
  type: string
  label: string | undefined
  desc: string | undefined
  required: boolean
  /** The `<value/>`s, in order. */
  values: string[]
  /** The `<option/>`s of a list field. */
  options: Array<{ label: string | undefined; value: string }>
}

/**
 * A received data form (XEP-0004): the stage's form (`type='form'`) or a result (`'result'`).
 * @example
 * expect(session.form?.value('nick')).toBe('Alice') // a prefilled value
 * expect(session.form?.items.map((row) => row.jid?.[0])).toEqual(['a@localhost', 'b@localhost'])
 */
export interface ReceivedForm {
  type: string
  title: string | undefined
  instructions: string[]
  /** The fields, in order (those of `<reported/>` and `<item/>` are in `reported` and `items`). */
  fields: ReceivedField[]
  /** The `<reported/>` fields of a multi-item result. */
  reported: ReceivedField[]
  /** The `<item/>`s of a multi-item result: `var` → values. */
  items: Array<Record<string, string[]>>
  /** The `<x xmlns='jabber:x:data'/>` element itself. */
  element: Element
  /** The field named `name`. */
  field(name: string): ReceivedField | undefined
  /** The first value of the field named `name`. */
  value(name: string): string | undefined
}

/**
 * Values to submit: a string or number is one `<value/>`, a boolean `true`/`false`, an array
 * several `<value/>`s; `undefined` leaves the field out.
 * @example
 * await session.complete({ question: 'Lunch?', choices: ['pizza', 'sushi'], anonymous: true })
 */
export type SubmitValues = Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>

/**
 * Options of `client.command()`.
 * @example
 * const session = await alice.command('poll.localhost', 'create', { timeout: 5000 })
 */
export interface CommandOptions {
  /** Time to wait for each answer, in ms (default 2000). */
  timeout?: number
}

/** What a command session needs from its client. @internal */
export interface CommandRequester {
  request(iq: Element, timeout?: number): Promise<Element>
}

/**
 * Reads an `<x xmlns='jabber:x:data'/>`.
 * @example
 * const form = readForm(message.getChild('x', 'jabber:x:data'))
 */
export function readForm(x: Element): ReceivedForm {
  const fields = x.getChildren('field').map(readField)
  const reported = (x.getChild('reported')?.getChildren('field') ?? []).map(readField)
  const items = x.getChildren('item').map((item) => {
    const row: Record<string, string[]> = Object.create(null)
    for (const f of item.getChildren('field')) {
      const name = String(f.attrs.var ?? '')
      row[name] = [...(row[name] ?? []), ...valuesOf(f)]
    }
    return row
  })
  const title = x.getChild('title')
  return {
    type: String(x.attrs.type ?? ''),
    title: title === undefined ? undefined : title.getText(),
    instructions: x.getChildren('instructions').map((i) => i.getText()),
    fields,
    reported,
    items,
    element: x,
    field: (name) => fields.find((f) => f.var === name),
    value: (name) => fields.find((f) => f.var === name)?.values[0],
  }
}

function valuesOf(field: Element): string[] {
  return field.getChildren('value').map((v) => v.getText())
}

function readField(f: Element): ReceivedField {
  const label = f.attrs.label
  const desc = f.getChild('desc')
  return {
    var: String(f.attrs.var ?? ''),
    type: String(f.attrs.type ?? 'text-single'),
    label: label === undefined ? undefined : String(label),
    desc: desc === undefined ? undefined : desc.getText(),
    required: f.getChild('required') !== undefined,
    values: valuesOf(f),
    options: f.getChildren('option').map((o) => ({
      label: o.attrs.label === undefined ? undefined : String(o.attrs.label),
      value: o.getChildText('value') ?? '',
    })),
  }
}

/**
 * Builds a formSubmission (`<x xmlns='jabber:x:data' type='submit'/>`) for `values`. The hidden
 * fields of `shown` (FORM_TYPE among them) are returned with their values, as a client does,
 * unless `values` names them.
 * @example
 * formSubmission({ nick: 'alice', adult: true }, session.form)
 */
export function formSubmission(values: SubmitValues, shown?: ReceivedForm): Element {
  const x = xml('x', { xmlns: NS_DATA, type: 'submit' })
  for (const f of shown?.fields ?? []) {
    if (f.type !== 'hidden' || f.var === '' || Object.hasOwn(values, f.var)) continue
    const field = x.c('field', { var: f.var })
    for (const v of f.values) field.c('value').t(v)
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue
    const field = x.c('field', { var: name })
    const list = Array.isArray(value) ? (value as readonly string[]) : [value as string | number | boolean]
    for (const v of list) field.c('value').t(String(v))
  }
  return x
}

/**
 * A XEP-0050 ad-hoc command session driven from a simulated client (see `client.command()`):
 * each step sends the `<command/>` iq and updates `status`, `form`, `notes`, `actions` and
 * `response` from the answer. A step answered with an error rejects with a
 * `StanzaErrorResponse` (`condition`, `application`, e.g. `bad-request` + `bad-payload`) and
 * leaves the session as it was, so the test can try again or cancel. It speaks the wire format
 * only: any XEP-0050 implementation can be tested.
 * @example
 * const poll = await alice.command('poll.localhost', 'create-poll')
 * expect(poll.form?.field('question')?.required).toBe(true)
 * await poll.next({ question: 'Lunch?' })
 * await poll.complete({ choices: ['pizza', 'sushi'] })
 * expect(poll.status).toBe('completed')
 * expect(poll.notes[0]?.text).toMatch(/created/)
 */
export class CommandSession {
  /** The address the command was sent to. */
  readonly to: string
  /** The command node. */
  readonly node: string
  readonly #client: CommandRequester
  readonly #timeout: number
  #response: Element | undefined
  #command: Element | undefined
  #form: ReceivedForm | undefined

  /** @internal */
  constructor(client: CommandRequester, to: string, node: string, options: CommandOptions = {}) {
    this.#client = client
    this.to = to
    this.node = node
    this.#timeout = options.timeout ?? 2000
  }

  /** The `sessionid` the responder chose (undefined before the first answer). */
  get sessionId(): string | undefined {
    const id = this.#command?.attrs.sessionid
    return id === undefined ? undefined : String(id)
  }

  /** `executing`, `completed` or `canceled`, as the last answer said. */
  get status(): CommandStatus {
    return String(this.#command?.attrs.status ?? 'executing') as CommandStatus
  }

  /** The data form of the last answer: the stage's form, or a result; undefined if none. */
  get form(): ReceivedForm | undefined {
    return this.#form
  }

  /** The notes of the last answer, in order. */
  get notes(): CommandNote[] {
    return (this.#command?.getChildren('note') ?? []).map((n) => ({
      type: (['warn', 'error'].includes(String(n.attrs.type)) ? n.attrs.type : 'info') as CommandNote['type'],
      text: n.getText(),
    }))
  }

  /** The actions offered by the last answer (`<actions/>`), e.g. `['prev', 'complete']`. */
  get actions(): CommandStep[] {
    const actions = this.#command?.getChild('actions')
    return (actions?.children ?? [])
      .filter((c): c is Element => c instanceof ElementClass)
      .map((c) => c.name)
      .filter((name): name is CommandStep => name === 'prev' || name === 'next' || name === 'complete')
  }

  /** The default action of the last answer (`<actions execute='…'/>`), if any. */
  get defaultAction(): CommandStep | undefined {
    const value = this.#command?.getChild('actions')?.attrs.execute
    return value === 'prev' || value === 'next' || value === 'complete' ? value : undefined
  }

  /** The last answer: the whole `<iq type='result'/>`. */
  get response(): Element {
    if (this.#response === undefined) throw new Error('the command has not been executed yet')
    return this.#response
  }

  /**
   * Sends `execute` (what `client.command()` does), or, inside a session, the stage's default
   * action with `values`.
   * @example
   * await session.execute({ confirm: true })
   */
  execute(values?: SubmitValues): Promise<this> {
    return this.#step('execute', values)
  }

  /**
   * Submits `values` and moves to the next stage.
   * @example
   * await session.next({ question: 'Lunch?' })
   */
  next(values?: SubmitValues): Promise<this> {
    return this.#step('next', values)
  }

  /**
   * Goes back one stage (nothing is submitted).
   * @example
   * await session.prev()
   */
  prev(): Promise<this> {
    return this.#step('prev', undefined)
  }

  /**
   * Submits `values` and completes the command.
   * @example
   * await session.complete({ confirm: true })
   * expect(session.status).toBe('completed')
   */
  complete(values?: SubmitValues): Promise<this> {
    return this.#step('complete', values)
  }

  /**
   * Cancels the session.
   * @example
   * await session.cancel()
   * expect(session.status).toBe('canceled')
   */
  cancel(): Promise<this> {
    return this.#step('cancel', undefined)
  }

  async #step(action: 'execute' | CommandStep | 'cancel', values: SubmitValues | undefined): Promise<this> {
    const attrs: Record<string, string> = { xmlns: NS_COMMANDS, node: this.node, action }
    const id = this.sessionId
    if (id !== undefined) attrs.sessionid = id
    const command = xml('command', attrs)
    if (values !== undefined) command.append(formSubmission(values, this.#form))
    const response = await this.#client.request(
      xml('iq', { type: 'set', to: this.to }, command),
      this.#timeout,
    )
    const answer = response.getChild('command', NS_COMMANDS)
    if (answer === undefined) {
      throw new Error(`the answer to the command '${this.node}' has no <command xmlns='${NS_COMMANDS}'/>`)
    }
    this.#response = response
    this.#command = answer
    const x = answer.getChild('x', NS_DATA)
    this.#form = x === undefined ? undefined : readForm(x)
    return this
  }
}
