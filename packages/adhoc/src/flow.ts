import { randomUUID } from 'node:crypto'
import { type Element, type Stanza, StanzaError, xml } from '@satellite/core'
import { excerpt, FormError, formElement, NS_DATA, validateSubmission } from '@satellite/forms'
import type { CommandDefinition, Note, Session, Stage } from './definition.js'
import { commandError } from './errors.js'
import { ACTIONS, type CommandAction, NS_COMMANDS } from './ns.js'
import type { CommandsOptions } from './options.js'
import { requesterOf } from './requester.js'
import type { Live, SessionTable } from './sessions.js'

function noteElement(note: Note): Element {
  return typeof note === 'string'
    ? xml('note', { type: 'info' }, note)
    : xml('note', { type: note.type ?? 'info' }, note.text)
}

function reply(session: Session<unknown>, status: 'executing' | 'completed' | 'canceled'): Element {
  return xml('command', { xmlns: NS_COMMANDS, node: session.node, sessionid: session.id, status })
}

/** May `from` see and run `def`? */
export async function isAllowed(def: CommandDefinition<unknown>, from: string): Promise<boolean> {
  return def.allowed === undefined ? true : await def.allowed(from, requesterOf(from))
}

/**
 * The XEP-0050 exchange: answers one `<command/>` request (execute, next, prev, complete,
 * cancel), moving its session through the command's stages.
 */
export class CommandFlow {
  readonly #defs: ReadonlyMap<string, CommandDefinition<unknown>>
  readonly #table: SessionTable
  readonly #privileged: CommandsOptions['privileged']

  constructor(
    defs: ReadonlyMap<string, CommandDefinition<unknown>>,
    table: SessionTable,
    privileged: CommandsOptions['privileged'],
  ) {
    this.#defs = defs
    this.#table = table
    this.#privileged = privileged
  }

  async handle(iq: Stanza, cmd: Element): Promise<Element> {
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
    if (!(await isAllowed(def, from))) throw new StanzaError('forbidden')
    const sessionId = cmd.attrs.sessionid as string | undefined
    if (sessionId === undefined || sessionId === '') {
      if (action !== 'execute') throw commandError('bad-action', `'${action}' needs a session`)
      return this.#start(iq, def)
    }
    const live = this.#table.get(sessionId)
    if (live === undefined) {
      if (this.#table.isExpired(sessionId)) throw commandError('session-expired')
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
    if (held && this.#table.full(bare, privileged)) {
      throw new StanzaError('resource-constraint', { text: 'too many open command sessions' })
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
    this.#table.add(live)
    try {
      session.state = def.init === undefined ? {} : await def.init(session as Session<undefined>)
      this.#table.touch(live)
      return await this.#show(live, [])
    } catch (err) {
      this.#table.end(live, false)
      throw err
    }
  }

  async #continue(live: Live, iq: Stanza, cmd: Element, requested: CommandAction): Promise<Element> {
    if (live.done) throw commandError('session-expired')
    const session = live.session
    session.iq = iq
    this.#table.touch(live)
    const stages = live.def.stages ?? []
    const last = session.stage === stages.length - 1
    const action: CommandAction = requested === 'execute' ? (last ? 'complete' : 'next') : requested
    switch (action) {
      case 'cancel': {
        this.#table.end(live, false)
        await live.def.cancel?.(session)
        return reply(session, 'canceled')
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
    const answer = reply(session, 'executing')
    const last = session.stage === stages.length - 1
    const actions = answer.c('actions', { execute: last ? 'complete' : 'next' })
    if (session.stage > 0) actions.c('prev')
    actions.c(last ? 'complete' : 'next')
    for (const n of notes) answer.cnode(noteElement(n))
    answer.cnode(formElement({ ...form, type: form.type ?? 'form' }))
    return answer
  }

  async #complete(live: Live, notes: readonly Note[]): Promise<Element> {
    const result = (await live.def.complete?.(live.session)) ?? {}
    this.#table.end(live, false)
    const answer = reply(live.session, 'completed')
    for (const n of [...notes, ...(result.notes ?? [])]) answer.cnode(noteElement(n))
    if (result.form !== undefined)
      answer.cnode(formElement({ ...result.form, type: result.form.type ?? 'result' }))
    return answer
  }
}
