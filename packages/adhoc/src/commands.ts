import { randomUUID } from 'node:crypto'
import {
  type Component,
  type Element,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  parseJid,
  type Stanza,
  StanzaError,
  type StanzaErrorCondition,
  type StanzaErrorType,
  xml,
} from '@satellite/core'
import {
  type DataForm,
  excerpt,
  type Field,
  FormError,
  type FormValues,
  formElement,
  NS_DATA,
  type ValidateOptions,
  validateSubmission,
} from '@satellite/forms'

/**
 * The ad-hoc commands namespace (XEP-0050); also the disco node listing the commands.
 *
 * @example
 * ```ts
 * xml('command', { xmlns: NS_COMMANDS, node: 'uptime', action: 'execute' })
 * ```
 */
export const NS_COMMANDS = 'http://jabber.org/protocol/commands'

/**
 * The actions of XEP-0050 (`execute` is the default one).
 *
 * @example
 * ```ts
 * const action: CommandAction = 'next'
 * ```
 */
export type CommandAction = 'execute' | 'next' | 'prev' | 'complete' | 'cancel'
const ACTIONS: ReadonlySet<string> = new Set(['execute', 'next', 'prev', 'complete', 'cancel'])

/**
 * The XEP-0050 application error conditions (namespace {@link NS_COMMANDS}).
 *
 * @example
 * ```ts
 * const c: CommandErrorCondition = 'bad-payload'
 * ```
 */
export type CommandErrorCondition =
  | 'bad-action'
  | 'malformed-action'
  | 'bad-locale'
  | 'bad-payload'
  | 'bad-sessionid'
  | 'session-expired'

/**
 * A stanza error carrying a XEP-0050 application condition: `session-expired` goes with
 * `not-allowed` (as the specification's table says), the others with `bad-request`. The
 * second argument is the text, or `{ text, type }`, as for `new StanzaError(condition, …)`.
 *
 * @example
 * ```ts
 * throw commandError('bad-payload', 'the amount must be positive')
 * throw commandError('bad-payload', { text: 'the poll is being counted', type: 'wait' })
 * ```
 */
export function commandError(
  condition: CommandErrorCondition,
  textOrOptions?: string | { text?: string; type?: StanzaErrorType },
): StanzaError {
  const defined: StanzaErrorCondition = condition === 'session-expired' ? 'not-allowed' : 'bad-request'
  const application = xml(condition, { xmlns: NS_COMMANDS })
  const { text, type } = typeof textOrOptions === 'string' ? { text: textOrOptions } : (textOrOptions ?? {})
  return new StanzaError(defined, {
    application,
    ...(text === undefined ? {} : { text }),
    ...(type === undefined ? {} : { type }),
  })
}

/**
 * The requester of a command, from the iq's `from`: the full JID as received, and its parts
 * (local part and domain lower-cased, as `@satellite/core`'s `parseJid` reads them).
 *
 * @example
 * ```ts
 * const complete = (session: Session<unknown>) => ({
 *   notes: [`Saved for ${session.requester.bare} (from ${session.requester.resource || 'no resource'})`],
 * })
 * ```
 */
export interface Requester {
  /** The full JID as the iq carried it, e.g. `Alice@example.org/phone` (also `Session.from`). */
  readonly full: string
  /** `local@domain` (or the domain alone), e.g. `alice@example.org`: one user across resources. */
  readonly bare: string
  /** The local part, e.g. `alice` (`''` for a domain). */
  readonly local: string
  /** The domain, e.g. `example.org`. */
  readonly domain: string
  /** The resource, e.g. `phone` (`''` when there is none). */
  readonly resource: string
}

/**
 * Reads the requester's address into a {@link Requester} (used for `Session.requester` and the
 * second argument of `allowed` and `privileged`).
 *
 * @example
 * ```ts
 * requesterOf('Alice@example.org/phone') // { full: 'Alice@example.org/phone', bare: 'alice@example.org', local: 'alice', domain: 'example.org', resource: 'phone' }
 * ```
 */
export function requesterOf(from: string): Requester {
  try {
    const j = parseJid(from)
    const { local, domain, resource } = j
    return { full: from, bare: local ? `${local}@${domain}` : domain, local, domain, resource }
  } catch {
    // Not a JID (the server always sends one): split it as written, lower-cased.
    const slash = from.indexOf('/')
    const bare = (slash < 0 ? from : from.slice(0, slash)).toLowerCase()
    const at = bare.indexOf('@')
    return {
      full: from,
      bare,
      local: at < 0 ? '' : bare.slice(0, at),
      domain: bare.slice(at + 1),
      resource: slash < 0 ? '' : from.slice(slash + 1),
    }
  }
}

/**
 * A note shown to the requester (`<note type='info|warn|error'/>`); a plain string is `info`.
 *
 * @example
 * ```ts
 * const notes: Note[] = ['Saved', { type: 'warn', text: 'The old nickname is now free' }]
 * ```
 */
export type Note = string | { type?: 'info' | 'warn' | 'error'; text: string }

/**
 * What a callback returns: `T`, nothing, or a promise of either.
 *
 * @example
 * ```ts
 * const complete = async (): MaybeAsync<CommandResult> => ({ notes: ['done'] })
 * ```
 */
// biome-ignore lint/suspicious/noConfusingVoidType: callbacks may return nothing
export type MaybeAsync<T> = T | void | Promise<T | void>

/**
 * What a stage's `submit` or a command's `complete` may return.
 *
 * @example
 * ```ts
 * const outcome: StepOutcome = { notes: [{ type: 'warn', text: 'nickname shortened' }] }
 * ```
 */
export interface StepOutcome {
  notes?: readonly Note[]
}

/**
 * The outcome of a completed command: notes and/or a result form (type `result`).
 *
 * @example
 * ```ts
 * const result: CommandResult = {
 *   notes: ['2 users online'],
 *   form: { type: 'result', fields: [{ type: 'jid-multi', var: 'users', value: ['a@x', 'b@x'] }] },
 * }
 * ```
 */
export interface CommandResult extends StepOutcome {
  form?: DataForm
}

/**
 * One execution of a command, alive from `execute` until it completes, is canceled or
 * expires. `state` is yours (created by the command's `init`).
 *
 * @example
 * ```ts
 * const complete = (session: Session<{ nick?: string }>) => ({
 *   notes: [`${session.requester.bare} is now ${session.state.nick}`],
 * })
 * ```
 */
export interface Session<S> {
  /** The `sessionid`. */
  readonly id: string
  /** The command node. */
  readonly node: string
  /** The requester's full JID, as received; the session is bound to it. */
  readonly from: string
  /** The requester's address in parts: `full`, `bare`, `local`, `domain`, `resource`. */
  readonly requester: Requester
  /** The address the command was sent to. */
  readonly to: string
  /** Index of the current stage. */
  readonly stage: number
  /** The request being answered. */
  iq: Stanza
  /** Per-session state. */
  state: S
}

/**
 * One stage of a command: a form to fill in, then what to do with the values (prefer
 * {@link stage}, which types the values).
 *
 * @example
 * ```ts
 * const confirm: Stage<unknown> = { form: { fields: [{ type: 'boolean', var: 'sure', required: true }] } }
 * ```
 */
export interface Stage<S> {
  /**
   * The form shown (type `form`); a function is called each time the stage is shown, so the
   * form can depend on the session (its `state`, its `requester`). When the function throws, a
   * `StanzaError` is the answer (anything else `internal-server-error`) and the session stays
   * where it was: at the previous stage after `next`, at the later one after `prev`; at
   * `execute` no session is opened.
   */
  form: DataForm | ((session: Session<S>) => DataForm | Promise<DataForm>)
  /**
   * Receives the submitted values (validated against the form that was shown) when the
   * requester moves on with `next` or `complete`. Throw a `StanzaError` to refuse them (the
   * session stays at this stage).
   */
  submit?: (values: Record<string, unknown>, session: Session<S>) => MaybeAsync<StepOutcome>
  /** Options of `validateSubmission` (from `@satellite/forms`). */
  validate?: ValidateOptions
}

/**
 * A typed {@link Stage}: `values` in `submit` are typed after the form's fields (define the
 * form with `defineForm` from `@satellite/forms`).
 *
 * @example
 * ```ts
 * const ask = stage(
 *   defineForm({ title: 'Kick', fields: [{ type: 'jid-single', var: 'who', required: true }] }),
 *   (values, session: Session<{ who?: string }>) => { session.state.who = values.who },
 * )
 * ```
 */
export function stage<S, const Fs extends readonly Field[]>(
  form: DataForm<Fs> | ((session: Session<S>) => DataForm<Fs> | Promise<DataForm<Fs>>),
  submit?: (values: FormValues<Fs>, session: Session<S>) => MaybeAsync<StepOutcome>,
  validate?: ValidateOptions,
): Stage<S> {
  const s: Stage<S> = { form: form as Stage<S>['form'] }
  if (submit !== undefined) s.submit = submit as NonNullable<Stage<S>['submit']>
  if (validate !== undefined) s.validate = validate
  return s
}

/**
 * A command definition for {@link CommandRegistry.register}.
 *
 * @example
 * ```ts
 * const uptime: CommandDefinition = { node: 'uptime', name: 'Uptime', complete: () => ({ notes: [`${process.uptime()} s`] }) }
 * ```
 */
export interface CommandDefinition<S = Record<string, unknown>> {
  /** The command node, unique in the registry. */
  node: string
  /** Human-readable name (disco#items). */
  name: string
  /**
   * May `from` (the requester's full JID, as received; `requester` has its parts) see and run
   * the command? Default: everybody.
   */
  allowed?: (from: string, requester: Requester) => boolean | Promise<boolean>
  /** Creates the session state (default `{}`). */
  init?: (session: Session<undefined>) => S | Promise<S>
  /** The stages, in order; none for a command that completes at once. */
  stages?: readonly Stage<S>[]
  /** Called after the last stage was submitted with `complete` (or at once without stages). */
  complete?: (session: Session<S>) => MaybeAsync<CommandResult>
  /** Called when the requester cancels (not on expiry). */
  cancel?: (session: Session<S>) => void | Promise<void>
}

/**
 * Options of {@link commands}.
 *
 * @example
 * ```ts
 * const options: CommandsOptions = { sessionTimeout: 5 * 60_000, maxSessionsPerRequester: 3 }
 * ```
 */
export interface CommandsOptions {
  /** Local part the commands live at: `''` (the domain, default), `'bot'`, or `'*'` (every user). */
  to?: string
  /** Idle time after which a session expires, in ms (default 600000, 10 minutes). */
  sessionTimeout?: number
  /** Live sessions per requester (bare JID) before `resource-constraint` (default 5). */
  maxSessionsPerRequester?: number
  /** Live sessions in all (default 10000). */
  maxSessions?: number
  /** How many expired session ids are remembered to answer `session-expired` (default 1000). */
  rememberExpired?: number
  /**
   * Requesters (full JID and its parts, as `allowed` receives them) who may use the
   * `reservedSessions`: typically the administrators. Default: nobody.
   */
  privileged?: (from: string, requester: Requester) => boolean | Promise<boolean>
  /**
   * Sessions of `maxSessions` that only `privileged` requesters may open: the others share
   * `maxSessions - reservedSessions`, so however many accounts they use they cannot lock the
   * administrators out. Default (with `privileged`): 100, or half of `maxSessions` if smaller.
   */
  reservedSessions?: number
}

/**
 * Sizes of a registry's tables (see {@link CommandRegistry.stats}), e.g. for metrics.
 *
 * @example
 * ```ts
 * const { sessions, privileged, requesters, expired } = registry.stats
 * ```
 */
export interface CommandStats {
  /** Live sessions. */
  sessions: number
  /** Live sessions of privileged requesters. */
  privileged: number
  /** Requesters (bare JIDs) holding at least one live session. */
  requesters: number
  /** Expired session ids remembered to answer `session-expired`. */
  expired: number
}

interface Live {
  session: Session<unknown> & { stage: number }
  def: CommandDefinition<unknown>
  bare: string
  /** Opened by a privileged requester (counted against the whole of `maxSessions`). */
  privileged: boolean
  timer: NodeJS.Timeout | null
  /** The form definition shown at the current stage (submissions are validated against it). */
  shown: DataForm | undefined
  /** Requests of one session are handled one after the other. */
  queue: Promise<unknown>
  done: boolean
}

function count(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const n = value ?? fallback
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new TypeError(`commands(): ${name} must be an integer from ${min} to ${max}, got ${value}`)
  }
  return n
}

function noteElement(note: Note): Element {
  return typeof note === 'string'
    ? xml('note', { type: 'info' }, note)
    : xml('note', { type: note.type ?? 'info' }, note.text)
}

/**
 * The commands of a component (see {@link commands}).
 *
 * @example
 * ```ts
 * const registry = commands(xmpp)
 * registry.register({ node: 'uptime', name: 'Uptime', complete: () => ({ notes: [`${process.uptime()} s`] }) })
 * ```
 */
export class CommandRegistry {
  readonly #defs = new Map<string, CommandDefinition<unknown>>()
  readonly #live = new Map<string, Live>()
  readonly #expired = new Set<string>()
  readonly #perRequester = new Map<string, number>()
  readonly #timeout: number
  readonly #maxPer: number
  readonly #max: number
  readonly #remember: number
  readonly #privileged: CommandsOptions['privileged']
  readonly #reserved: number
  /** Live sessions of privileged requesters. */
  #privilegedCount = 0
  readonly #offs: Array<() => void>

  constructor(xmpp: Component, options: CommandsOptions = {}) {
    const to = options.to ?? ''
    this.#timeout = count('sessionTimeout', options.sessionTimeout, 600_000, 1, 2 ** 31 - 1) // setTimeout's range
    this.#maxPer = count('maxSessionsPerRequester', options.maxSessionsPerRequester, 5, 1)
    this.#max = count('maxSessions', options.maxSessions, 10_000, 1)
    this.#remember = count('rememberExpired', options.rememberExpired, 1000, 0)
    this.#privileged = options.privileged
    if (this.#privileged === undefined && options.reservedSessions !== undefined) {
      throw new TypeError('commands(): reservedSessions needs privileged (who may use them)')
    }
    const reserveDefault = this.#privileged === undefined ? 0 : Math.min(100, Math.floor(this.#max / 2))
    this.#reserved = count('reservedSessions', options.reservedSessions, reserveDefault, 0)
    if (this.#reserved >= this.#max) {
      throw new TypeError(
        `commands(): reservedSessions (${this.#reserved}) must be less than maxSessions (${this.#max})`,
      )
    }
    this.#offs = [
      xmpp.iqSet({ xmlns: NS_COMMANDS, name: 'command', to }, (iq, payload) => this.#handle(iq, payload)),
      xmpp.iqGet(
        {
          xmlns: NS_DISCO_ITEMS,
          name: 'query',
          to,
          where: (iq) => iq.getChild('query', NS_DISCO_ITEMS)?.attrs.node === NS_COMMANDS,
        },
        (iq) => this.#items(iq),
      ),
      xmpp.iqGet(
        {
          xmlns: NS_DISCO_INFO,
          name: 'query',
          to,
          where: (iq) => {
            const node = iq.getChild('query', NS_DISCO_INFO)?.attrs.node
            return node === NS_COMMANDS || (node !== undefined && this.#defs.has(node))
          },
        },
        (iq, query) => this.#info(iq, query.attrs.node as string),
      ),
    ]
  }

  /**
   * Number of live sessions.
   *
   * @example
   * ```ts
   * metrics.gauge('adhoc_sessions', registry.sessions)
   * ```
   */
  get sessions(): number {
    return this.#live.size
  }

  /**
   * Sizes of the registry's tables: each is bounded (sessions by `maxSessions`, requesters by
   * the sessions, expired ids by `rememberExpired`).
   *
   * @example
   * ```ts
   * metrics.gauge('adhoc_requesters', registry.stats.requesters)
   * ```
   */
  get stats(): CommandStats {
    return {
      sessions: this.#live.size,
      privileged: this.#privilegedCount,
      requesters: this.#perRequester.size,
      expired: this.#expired.size,
    }
  }

  /**
   * Adds a command. Throws if the node is already registered.
   *
   * @example
   * ```ts
   * registry.register<{ nick?: string }>({
   *   node: 'rename',
   *   name: 'Change nickname',
   *   allowed: (from) => from.startsWith('admin@'),
   *   stages: [stage(defineForm({ fields: [{ type: 'text-single', var: 'nick', required: true }] }),
   *     (values, session: Session<{ nick?: string }>) => { session.state.nick = values.nick })],
   *   complete: (session) => ({ notes: [`Renamed to ${session.state.nick}`] }),
   * })
   * ```
   */
  register<S = Record<string, unknown>>(definition: CommandDefinition<S>): this {
    if (this.#defs.has(definition.node))
      throw new Error(`command node '${definition.node}' is already registered`)
    this.#defs.set(definition.node, definition as CommandDefinition<unknown>)
    return this
  }

  /**
   * Removes a command; its live sessions end (their ids then answer `session-expired`).
   *
   * @example
   * ```ts
   * registry.unregister('rename')
   * ```
   */
  unregister(node: string): boolean {
    for (const live of [...this.#live.values()]) if (live.session.node === node) this.#end(live, true)
    return this.#defs.delete(node)
  }

  /**
   * Removes the routes and ends every session (timers included).
   *
   * @example
   * ```ts
   * xmpp.on('stopped', () => registry.close())
   * ```
   */
  close(): void {
    for (const off of this.#offs) off()
    for (const live of [...this.#live.values()]) this.#end(live, false)
  }

  async #allowed(def: CommandDefinition<unknown>, from: string): Promise<boolean> {
    return def.allowed === undefined ? true : await def.allowed(from, requesterOf(from))
  }

  async #items(iq: Stanza): Promise<Element> {
    const from = iq.attrs.from ?? ''
    const jid = iq.attrs.to ?? ''
    const q = xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })
    for (const def of this.#defs.values()) {
      if (await this.#allowed(def, from)) q.c('item', { jid, node: def.node, name: def.name })
    }
    return q
  }

  #info(_iq: Stanza, node: string): Element {
    const q = xml('query', { xmlns: NS_DISCO_INFO, node })
    if (node === NS_COMMANDS) {
      q.c('identity', { category: 'automation', type: 'command-list' })
      return q
    }
    const def = this.#defs.get(node) as CommandDefinition<unknown>
    q.c('identity', { category: 'automation', type: 'command-node', name: def.name })
    q.c('feature', { var: NS_COMMANDS })
    q.c('feature', { var: NS_DATA })
    return q
  }

  async #handle(iq: Stanza, cmd: Element): Promise<Element> {
    const node = cmd.attrs.node as string | undefined
    if (node === undefined || node === '')
      throw new StanzaError('bad-request', { text: 'the command has no node' })
    const rawAction = cmd.attrs.action as string | undefined
    if (rawAction !== undefined && !ACTIONS.has(rawAction)) {
      throw commandError('malformed-action', `unknown action '${excerpt(rawAction)}'`)
    }
    const action = (rawAction ?? 'execute') as CommandAction
    const def = this.#defs.get(node)
    if (def === undefined) throw new StanzaError('item-not-found', { text: `no command '${excerpt(node)}'` })
    const from = iq.attrs.from ?? ''
    if (!(await this.#allowed(def, from))) throw new StanzaError('forbidden')
    const sessionId = cmd.attrs.sessionid as string | undefined
    if (sessionId === undefined || sessionId === '') {
      if (action !== 'execute') throw commandError('bad-action', `'${action}' needs a session`)
      return this.#start(iq, def)
    }
    const live = this.#live.get(sessionId)
    if (live === undefined) {
      if (this.#expired.has(sessionId)) throw commandError('session-expired')
      throw commandError('bad-sessionid')
    }
    if (live.session.node !== node || live.session.from !== from) throw commandError('bad-sessionid')
    const run = live.queue.then(() => this.#continue(live, iq, cmd, action))
    live.queue = run.catch(() => {})
    return run
  }

  async #start(iq: Stanza, def: CommandDefinition<unknown>): Promise<Element> {
    const from = iq.attrs.from ?? ''
    const requester = requesterOf(from)
    const bare = requester.bare
    const stages = def.stages ?? []
    // A command without stages completes within this request: it holds no session.
    const held = stages.length > 0
    const privileged = held && this.#privileged !== undefined && (await this.#privileged(from, requester))
    // Checked and counted with no await in between, so that concurrent executes cannot exceed
    // the limits. The others may not take the last `reservedSessions`.
    if (held) {
      const ordinary = this.#live.size - this.#privilegedCount
      const full = this.#live.size >= this.#max || (!privileged && ordinary >= this.#max - this.#reserved)
      if (full || (this.#perRequester.get(bare) ?? 0) >= this.#maxPer) {
        throw new StanzaError('resource-constraint', { text: 'too many open command sessions' })
      }
    }
    const session: Live['session'] = {
      id: randomUUID(),
      node: def.node,
      from,
      requester,
      to: iq.attrs.to ?? '',
      stage: 0,
      iq,
      state: undefined,
    }
    const live: Live = {
      session,
      def,
      bare,
      privileged,
      timer: null,
      shown: undefined,
      queue: Promise.resolve(),
      done: false,
    }
    if (!held) {
      session.state = def.init === undefined ? {} : await def.init(session as Session<undefined>)
      return this.#complete(live, [])
    }
    this.#live.set(session.id, live)
    if (privileged) this.#privilegedCount++
    this.#perRequester.set(bare, (this.#perRequester.get(bare) ?? 0) + 1)
    try {
      session.state = def.init === undefined ? {} : await def.init(session as Session<undefined>)
      this.#touch(live)
      return await this.#show(live, [])
    } catch (err) {
      this.#end(live, false)
      throw err
    }
  }

  async #continue(live: Live, iq: Stanza, cmd: Element, requested: CommandAction): Promise<Element> {
    if (live.done) throw commandError('session-expired')
    const session = live.session
    session.iq = iq
    this.#touch(live)
    const stages = live.def.stages ?? []
    const last = session.stage === stages.length - 1
    const action: CommandAction = requested === 'execute' ? (last ? 'complete' : 'next') : requested
    switch (action) {
      case 'cancel': {
        this.#end(live, false)
        await live.def.cancel?.(session)
        return this.#reply(session, 'canceled')
      }
      case 'prev': {
        if (session.stage === 0) throw commandError('bad-action', 'there is no previous stage')
        return this.#move(live, -1, [])
      }
      case 'next': {
        if (last) throw commandError('bad-action', 'this is the last stage; complete it')
        const notes = await this.#submit(live, cmd)
        return this.#move(live, 1, notes)
      }
      default: {
        if (!last) throw commandError('bad-action', 'this stage is not the last one')
        const notes = await this.#submit(live, cmd)
        return this.#complete(live, notes)
      }
    }
  }

  async #submit(live: Live, cmd: Element): Promise<readonly Note[]> {
    const st = (live.def.stages ?? [])[live.session.stage] as Stage<unknown>
    const shown = live.shown
    let values: Record<string, unknown> = {}
    if (shown !== undefined && (shown.fields ?? []).some((f) => f.type !== 'fixed')) {
      const r = validateSubmission(shown, cmd.getChild('x', NS_DATA), st.validate ?? {})
      if (!r.ok) throw commandError('bad-payload', new FormError(r.errors).text)
      values = r.values as Record<string, unknown>
    }
    const outcome = await st.submit?.(values, live.session)
    return outcome?.notes ?? []
  }

  /** Shows the stage `by` away; if its form cannot be built, the session stays where it was. */
  async #move(live: Live, by: 1 | -1, notes: readonly Note[]): Promise<Element> {
    const was = live.session.stage
    live.session.stage = was + by
    try {
      return await this.#show(live, notes)
    } catch (err) {
      live.session.stage = was
      throw err
    }
  }

  async #show(live: Live, notes: readonly Note[]): Promise<Element> {
    const session = live.session
    const stages = live.def.stages ?? []
    const st = stages[session.stage] as Stage<unknown>
    const form = typeof st.form === 'function' ? await st.form(session) : st.form
    live.shown = form
    const reply = this.#reply(session, 'executing')
    const last = session.stage === stages.length - 1
    const actions = reply.c('actions', { execute: last ? 'complete' : 'next' })
    if (session.stage > 0) actions.c('prev')
    actions.c(last ? 'complete' : 'next')
    for (const n of notes) reply.cnode(noteElement(n))
    reply.cnode(formElement({ ...form, type: form.type ?? 'form' }))
    return reply
  }

  async #complete(live: Live, notes: readonly Note[]): Promise<Element> {
    const result = (await live.def.complete?.(live.session)) ?? {}
    this.#end(live, false)
    const reply = this.#reply(live.session, 'completed')
    for (const n of [...notes, ...(result.notes ?? [])]) reply.cnode(noteElement(n))
    if (result.form !== undefined)
      reply.cnode(formElement({ ...result.form, type: result.form.type ?? 'result' }))
    return reply
  }

  #reply(session: Session<unknown>, status: 'executing' | 'completed' | 'canceled'): Element {
    return xml('command', { xmlns: NS_COMMANDS, node: session.node, sessionid: session.id, status })
  }

  #touch(live: Live): void {
    if (live.timer !== null) clearTimeout(live.timer)
    live.timer = setTimeout(() => this.#end(live, true), this.#timeout)
    live.timer.unref()
  }

  /** Forgets a session; `expired` remembers its id to answer `session-expired`. */
  #end(live: Live, expired: boolean): void {
    if (live.done) return
    live.done = true
    if (live.timer !== null) clearTimeout(live.timer)
    live.timer = null
    const id = live.session.id
    if (!this.#live.delete(id)) return // a command without stages: never counted
    if (live.privileged) this.#privilegedCount--
    const n = (this.#perRequester.get(live.bare) ?? 1) - 1
    if (n <= 0) this.#perRequester.delete(live.bare)
    else this.#perRequester.set(live.bare, n)
    if (expired && this.#remember > 0) {
      this.#expired.add(id)
      if (this.#expired.size > this.#remember) {
        this.#expired.delete(this.#expired.values().next().value as string)
      }
    }
  }
}

/**
 * Serves XEP-0050 ad-hoc commands from a component: `<command/>` iq sets, the command list
 * (disco#items on node `http://jabber.org/protocol/commands`, filtered by `allowed`), and
 * each command's disco#info (identity `automation/command-node`, features commands and
 * `jabber:x:data`). Malformed requests get the XEP-0050 errors (`bad-request` with
 * `<malformed-action/>`, `<bad-action/>`, `<bad-sessionid/>`, `<bad-payload/>`;
 * `not-allowed` with `<session-expired/>`), an unknown node `item-not-found`, a refused
 * requester `forbidden`, too many sessions `resource-constraint`.
 *
 * @example
 * ```ts
 * const registry = commands(xmpp, { sessionTimeout: 5 * 60_000 })
 * registry.register({
 *   node: 'announce',
 *   name: 'Send an announcement',
 *   allowed: (_from, requester) => admins.has(requester.bare),
 *   stages: [stage(defineForm({ fields: [{ type: 'text-multi', var: 'body', required: true }] }),
 *     async (values) => { await announce(values.body.join('\n')) })],
 *   complete: () => ({ notes: ['Sent'] }),
 * })
 * ```
 */
export function commands(xmpp: Component, options: CommandsOptions = {}): CommandRegistry {
  return new CommandRegistry(xmpp, options)
}
