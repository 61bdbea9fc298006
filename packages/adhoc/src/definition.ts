import type { Stanza } from '@satellite/core'
import type { DataForm, Field, FormValues, ValidateOptions } from '@satellite/forms'
import type { Requester } from './requester.js'

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
