// The values an adapter returns or reports, checked and bounded: lists cut at their limit,
// duplicates and entries with unusable ids dropped (each drop reported), strings cleaned.
import type {
  Avatar,
  IncomingGroupMessage,
  IncomingMessage,
  LegacyContact,
  LegacyGroup,
  LegacyMember,
} from './adapter.js'
import type { ResolvedLimits } from './limits.js'
import { cleanText, isLegacyId, isMimeType, isWellFormed, toResource } from './validate.js'

/** Where cleaning reports what it dropped. */
export interface CleanContext {
  limits: ResolvedLimits
  /** Reports input that was dropped or cut (`what`: a short description, no secret). */
  dropped(what: string): void
}

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null

/** A list from the adapter: an array (anything else: empty), cut at `max`. */
function listOf(ctx: CleanContext, x: unknown, max: number, what: string): unknown[] {
  if (!Array.isArray(x)) {
    ctx.dropped(`${what}: not a list`)
    return []
  }
  if (x.length > max) ctx.dropped(`${what}: ${x.length} entries, cut at ${max}`)
  return x.length > max ? x.slice(0, max) : x
}

/** A legacy message id: a well-formed string of at most `fieldLength` units; otherwise ''. */
export function messageIdOf(ctx: CleanContext, x: unknown): string {
  if (typeof x === 'string' && x.length <= ctx.limits.fieldLength && isWellFormed(x)) {
    return cleanText(x, ctx.limits.fieldLength) ?? ''
  }
  ctx.dropped('a message id that is not a short string')
  return ''
}

/** An optional display string (name, status, subject): cleaned and cut, or undefined. */
export const fieldOf = (ctx: CleanContext, x: unknown): string | undefined =>
  cleanText(x, ctx.limits.fieldLength)

export function contactsOf(ctx: CleanContext, x: unknown): LegacyContact[] {
  const out = new Map<string, LegacyContact>()
  for (const c of listOf(ctx, x, ctx.limits.contacts, 'contact list')) {
    if (!isObject(c) || !isLegacyId(c.id)) {
      ctx.dropped('a contact without a usable id')
      continue
    }
    if (out.has(c.id)) continue
    const name = fieldOf(ctx, c.name)
    const status = fieldOf(ctx, c.status)
    out.set(c.id, {
      id: c.id,
      ...(name === undefined ? {} : { name }),
      ...(typeof c.online === 'boolean' ? { online: c.online } : {}),
      ...(status === undefined ? {} : { status }),
    })
  }
  return [...out.values()]
}

export function groupsOf(ctx: CleanContext, x: unknown): LegacyGroup[] {
  const out = new Map<string, LegacyGroup>()
  for (const g of listOf(ctx, x, ctx.limits.groups, 'group list')) {
    if (!isObject(g) || !isLegacyId(g.id)) {
      ctx.dropped('a group without a usable id')
      continue
    }
    if (out.has(g.id)) continue
    const name = fieldOf(ctx, g.name)
    const subject = fieldOf(ctx, g.subject)
    const nick = g.nick === undefined ? null : toResource(g.nick)
    if (g.nick !== undefined && nick === null) ctx.dropped(`group ${g.id}: a nick that cannot be a resource`)
    out.set(g.id, {
      id: g.id,
      ...(name === undefined ? {} : { name }),
      ...(subject === undefined ? {} : { subject }),
      ...(nick === null ? {} : { nick }),
    })
  }
  return [...out.values()]
}

/** Members: ids are short well-formed strings (not JIDs); nicks are made resources when joining. */
export function membersOf(ctx: CleanContext, x: unknown): LegacyMember[] {
  const out = new Map<string, LegacyMember>()
  for (const m of listOf(ctx, x, ctx.limits.members, 'member list')) {
    const id =
      isObject(m) && typeof m.id === 'string' && m.id !== ''
        ? cleanText(m.id, ctx.limits.fieldLength)
        : undefined
    if (id === undefined || !isObject(m) || id !== m.id) {
      ctx.dropped('a member without a usable id')
      continue
    }
    if (!out.has(id))
      out.set(id, { id, nick: typeof m.nick === 'string' ? m.nick.slice(0, 4 * ctx.limits.fieldLength) : '' })
  }
  return [...out.values()]
}

/** A picture: a MIME type and a Buffer of at most `avatarBytes`; anything else is none (null). */
export function avatarOf(ctx: CleanContext, x: unknown): Avatar | null {
  if (x === null || x === undefined) return null
  if (!isObject(x) || !isMimeType(x.type) || !Buffer.isBuffer(x.data)) {
    ctx.dropped('a picture without a MIME type or bytes')
    return null
  }
  if (x.data.length > ctx.limits.avatarBytes) {
    ctx.dropped(`a picture of ${x.data.length} bytes (limits.avatarBytes ${ctx.limits.avatarBytes})`)
    return null
  }
  return { type: x.type, data: x.data }
}

/** A message text: a string of at most `textLength` units, cleaned; longer or not a string: null. */
export function messageTextOf(ctx: CleanContext, x: unknown): string | null {
  if (typeof x !== 'string') {
    ctx.dropped('a message without a text')
    return null
  }
  if (x.length > ctx.limits.textLength) {
    ctx.dropped(`a message of ${x.length} characters (limits.textLength ${ctx.limits.textLength})`)
    return null
  }
  return cleanText(x, ctx.limits.textLength) ?? null
}

export function incomingMessageOf(ctx: CleanContext, x: unknown): IncomingMessage | null {
  if (!isObject(x) || !isLegacyId(x.from)) {
    ctx.dropped('a message from no usable contact id')
    return null
  }
  const text = messageTextOf(ctx, x.text)
  if (text === null) return null
  const replaces = x.replaces === undefined ? undefined : messageIdOf(ctx, x.replaces)
  return {
    from: x.from,
    id: x.id === undefined || x.id === '' ? '' : messageIdOf(ctx, x.id),
    text,
    ...(replaces === undefined || replaces === '' ? {} : { replaces }),
  }
}

export function groupMessageOf(ctx: CleanContext, x: unknown): IncomingGroupMessage | null {
  if (!isObject(x) || !isLegacyId(x.group) || typeof x.from !== 'string' || x.from === '') {
    ctx.dropped('a group message without a usable group or sender')
    return null
  }
  const from = cleanText(x.from, ctx.limits.fieldLength) as string
  const text = messageTextOf(ctx, x.text)
  if (text === null) return null
  return { group: x.group, from, id: x.id === undefined || x.id === '' ? '' : messageIdOf(ctx, x.id), text }
}

/** Emojis of a reaction: short strings, at most `reactions` of them, no duplicates. */
export function emojisOf(ctx: CleanContext, x: unknown): string[] | null {
  if (!Array.isArray(x)) {
    ctx.dropped('a reaction without a list of emojis')
    return null
  }
  const out = new Set<string>()
  for (const e of x) {
    if (out.size >= ctx.limits.reactions) {
      ctx.dropped(`a reaction with more than ${ctx.limits.reactions} emojis`)
      break
    }
    const s = typeof e === 'string' && e !== '' && e.length <= 64 ? cleanText(e, 64) : undefined
    if (s !== undefined) out.add(s)
  }
  return [...out]
}
