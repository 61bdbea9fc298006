// One user's view of a remote room (with a MucBackend): the join through the backend, the
// RoomView the backend drives, and what the user sends that goes to the backend.
import { randomUUID } from 'node:crypto'
import { type Element, type Stanza, StanzaError, xml } from '@satellite/core'
import type { Departure, JoinAnswer, MucBackend, RemoteOccupant, RoomView, Said } from './backend.js'
import { type Context, deliver, log } from './context.js'
import { enter, type JoinRequest } from './enter.js'
import { MucError, MucErrorCodes } from './errors.js'
import { joinHook } from './hooks.js'
import { keep } from './messages.js'
import { enforceNick, nickKey } from './nick.js'
import { NS_MUC_USER, NS_OCCUPANT_ID, NS_SID } from './ns.js'
import { refuse } from './occupancy.js'
import { announce, Status } from './presence.js'
import { type Occupant, Room } from './room.js'

/** The id a remote occupant's occupant id is made from (never a bare JID: it has no '@'). */
const remoteIdentity = (id: string) => `\u0001${id}`

/** Runs a backend call with the engine's timeout; anything but a StanzaError becomes one. */
export function callBackend<T>(ctx: Context, what: string, call: () => T | Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new StanzaError('remote-server-timeout', 'the remote network did not answer in time')),
      ctx.o.backendTimeout,
    )
    timer.unref?.()
    Promise.resolve()
      .then(call)
      .then(resolve, (err: unknown) => {
        if (err instanceof StanzaError) reject(err)
        else {
          ctx.report(new MucError(MucErrorCodes.BACKEND, `the backend failed: ${what}`, { cause: err }))
          reject(new StanzaError('internal-server-error', 'the remote network failed'))
        }
      })
      .finally(() => clearTimeout(timer))
  })
}

/**
 * A join of a view the user is not in yet: checks the service's bounds, asks the backend, then
 * enters the room it describes. Stanzas of the user to the same view wait meanwhile (as for a
 * room being loaded) and are handled once the join is answered.
 */
export function enterView(ctx: Context, backend: MucBackend, r: JoinRequest): void {
  const o = ctx.o
  if (ctx.rooms.size + ctx.loading.size >= o.rooms) {
    throw new StanzaError('resource-constraint', { type: 'wait', text: 'no more rooms can be joined' })
  }
  if ((ctx.userRooms.get(r.bare) ?? 0) >= o.roomsPerUser) {
    throw new StanzaError('resource-constraint', {
      type: 'wait',
      text: `at most ${o.roomsPerUser} rooms at once`,
    })
  }
  if (!o.mayCreate(r.local, r.bare)) throw new StanzaError('not-allowed', 'you may not join rooms here')
  joinHook(ctx, {
    room: r.local,
    roomJid: `${r.local}@${ctx.xmpp.domain}`,
    jid: r.from,
    bare: r.bare,
    nick: r.nick,
    creates: false,
  })
  const jid = `${r.local}@${ctx.xmpp.domain}`
  const room = new Room(r.local, jid, { ...o.defaults, persistent: false }, o.now(), r.bare)
  const view = makeView(ctx, room, r.nick)
  room.view = view
  const queue: (() => void)[] = []
  ctx.loading.set(room.key, queue)
  const password = r.presence.getChild('x')?.getChildText('password') ?? undefined
  const request = password === undefined ? { nick: r.nick } : { nick: r.nick, password }
  callBackend(ctx, `join ${jid}`, () => backend.join(view, request))
    .then(
      (answer) => {
        if (!ctx.open) return
        admitView(ctx, room, r, answer)
      },
      (err: StanzaError) => refuse(ctx, r.presence, err),
    )
    .catch((err: unknown) => {
      ctx.report(new MucError(MucErrorCodes.INTERNAL, `join of ${jid} failed`, { cause: err }))
      refuse(ctx, r.presence, new StanzaError('internal-server-error'))
    })
    .finally(() => {
      ctx.loading.delete(room.key)
      if (ctx.open) for (const h of queue) h()
    })
}

function admitView(ctx: Context, room: Room, r: JoinRequest, answer: JoinAnswer): void {
  let nick = r.nick
  let changed = r.changed
  if (answer.nick !== undefined) {
    const given = enforceNick(String(answer.nick), ctx.o.nickLength)
    if (given.ok && given.nick !== nick) {
      nick = given.nick
      changed = true
    }
  }
  const mine = nickKey(nick)
  for (const occupant of Array.isArray(answer.occupants) ? answer.occupants : []) {
    if (room.occupants.size >= ctx.o.occupantsPerRoom - 1) break
    const n = enforceNick(String(occupant?.nick ?? ''), ctx.o.nickLength)
    if (n.ok && nickKey(n.nick) !== mine) putRemote(ctx, room, occupant, n.nick, false)
  }
  if (answer.subject !== undefined) room.subject = subjectOf(ctx, answer.subject.text, answer.subject.nick)
  if (answer.affiliation !== undefined && answer.affiliation !== 'none' && answer.affiliation !== 'outcast') {
    room.affiliations.set(r.bare, answer.affiliation)
  }
  ctx.rooms.set(room.key, room)
  enter(ctx, { ...r, room, nick, changed })
  const occ = room.byBare.get(r.bare)
  if (occ === undefined) return
  if (answer.role !== undefined && answer.role !== occ.role) {
    occ.role = answer.role
    announce(ctx, room, occ, { base: occ.shown.presence })
  }
  log('%s joined the remote room %s as %s', r.bare, room.jid, nick)
}

function subjectOf(ctx: Context, text: string, nick: string | undefined): Room['subject'] {
  const n = nick === undefined ? undefined : enforceNick(String(nick), ctx.o.nickLength)
  return { text: String(text).slice(0, ctx.o.messageChars), nick: n?.ok ? n.nick : undefined }
}

function presenceOf(o: RemoteOccupant): Element {
  const p = xml('presence')
  if (o.show === 'away' || o.show === 'chat' || o.show === 'dnd' || o.show === 'xa')
    p.children.push(xml('show', {}, o.show))
  if (typeof o.status === 'string' && o.status !== '')
    p.children.push(xml('status', {}, o.status.slice(0, 1024)))
  return p
}

const ROLES = new Set(['moderator', 'participant', 'visitor'])
const AFFILIATIONS = new Set(['owner', 'admin', 'member', 'none'])

/** Adds or updates a remote occupant; announces it when `tell`. */
function putRemote(ctx: Context, room: Room, o: RemoteOccupant, nick: string, tell: boolean): boolean {
  const key = nickKey(nick)
  const role = ROLES.has(o.role as string) ? (o.role as Occupant['role']) : 'participant'
  const affiliation = AFFILIATIONS.has(o.affiliation as string)
    ? (o.affiliation as Occupant['affiliation'])
    : 'none'
  const jid = typeof o.jid === 'string' ? o.jid : ''
  const existing = room.occupants.get(key)
  if (existing !== undefined) {
    if (!existing.remote) return false
    existing.role = role
    existing.affiliation = affiliation
    existing.shown.presence = presenceOf(o)
    if (tell) announce(ctx, room, existing, { base: existing.shown.presence, self: null })
    return true
  }
  if (room.occupants.size >= ctx.o.occupantsPerRoom) return false
  const now = ctx.o.now()
  const occ: Occupant = {
    remote: true,
    nick,
    key,
    bare: jid,
    occupantId: ctx.ids(room.jid, remoteIdentity(String(o.id ?? nick))),
    affiliation,
    role,
    sessions: new Map(),
    shown: { jid, presence: presenceOf(o), at: now, state: { kind: 'joined' } },
    tokens: 0,
    counted: now,
  }
  room.occupants.set(key, occ)
  if (tell) announce(ctx, room, occ, { base: occ.shown.presence, self: null })
  return true
}

function remoteAt(ctx: Context, room: Room, nick: string): Occupant | undefined {
  const n = enforceNick(String(nick), ctx.o.nickLength)
  const occ = n.ok ? room.occupants.get(nickKey(n.nick)) : undefined
  return occ?.remote ? occ : undefined
}

/** The user's occupant in its view (undefined before the join is answered or after it left). */
const self = (room: Room): Occupant | undefined => room.byBare.get(room.user as string)

/** Sends a message to every session of the user in the view. */
function toUser(ctx: Context, room: Room, el: Element): void {
  const me = self(room)
  if (me !== undefined) for (const s of me.sessions.values()) deliver(ctx, s, el)
}

/** The remote network's id of a message, when usable as an `id` attribute. */
const remoteId = (how: Said | undefined): string | undefined => {
  const id = how?.id
  return typeof id === 'string' && id !== '' && id.length <= 256 ? id : undefined
}

/** A groupchat message as the room sends it, archived. */
function groupchat(
  ctx: Context,
  room: Room,
  from: Occupant | undefined,
  nick: string | undefined,
  text: string,
  how: Said | undefined,
  base?: Element,
): void {
  const id = randomUUID()
  const attrs: Record<string, string> = {
    from: nick === undefined ? room.jid : `${room.jid}/${nick}`,
    type: 'groupchat',
    id: base?.attrs.id ?? remoteId(how) ?? id,
  }
  const out = xml('message', attrs, xml('body', {}, how?.action ? `/me ${text}` : text))
  if (from !== undefined) out.c('occupant-id', { xmlns: NS_OCCUPANT_ID, id: from.occupantId })
  out.c('stanza-id', { xmlns: NS_SID, id, by: room.jid })
  const at = typeof how?.at === 'number' && Number.isFinite(how.at) ? how.at : ctx.o.now()
  toUser(ctx, room, out)
  delete out.attrs.to
  keep(ctx, room, { id, at, jid: from?.shown.jid ?? '', message: out })
}

/**
 * The RoomView a backend drives: one per user and remote room, a class so that its methods live on
 * the prototype (an object of closures cost about 1.5 KiB of heap per view: the IRC gateway keeps
 * one per user and channel).
 */
class View implements RoomView {
  readonly room: string
  readonly jid: string
  readonly user: string
  readonly #ctx: Context
  readonly #r: Room
  readonly #nick: string

  constructor(ctx: Context, room: Room, nick: string) {
    this.#ctx = ctx
    this.#r = room
    this.#nick = nick
    this.room = room.local
    this.jid = room.jid
    this.user = room.user as string
  }

  #open(): boolean {
    const ctx = this.#ctx
    return this.#r.state.kind !== 'destroyed' && ctx.open && ctx.rooms.get(this.#r.key) === this.#r
  }

  #text(t: unknown): string {
    return String(t ?? '').slice(0, this.#ctx.o.messageChars)
  }

  get nick(): string {
    return self(this.#r)?.nick ?? this.#nick
  }

  get closed(): boolean {
    return this.#r.state.kind === 'destroyed' || !this.#ctx.open
  }

  get resources(): number {
    return this.#open() ? (self(this.#r)?.sessions.size ?? 0) : 0
  }

  add(o: RemoteOccupant): boolean {
    if (!this.#open()) return false
    const n = enforceNick(String(o?.nick ?? ''), this.#ctx.o.nickLength)
    return n.ok && putRemote(this.#ctx, this.#r, o, n.nick, true)
  }

  remove(nickName: string, how: Departure = {}): boolean {
    if (!this.#open()) return false
    const occ = remoteAt(this.#ctx, this.#r, nickName)
    if (occ === undefined) return false
    const codes = how.banned ? [Status.BANNED] : how.kicked ? [Status.KICKED] : []
    const reason = how.reason === undefined ? undefined : this.#text(how.reason)
    const kicked = codes.length > 0
    const base = !kicked && reason !== undefined ? xml('presence', {}, xml('status', {}, reason)) : undefined
    announce(this.#ctx, this.#r, occ, {
      base,
      type: 'unavailable',
      codes,
      self: null,
      ...(kicked && reason !== undefined ? { reason } : {}),
      ...(kicked && how.actor !== undefined ? { actor: String(how.actor) } : {}),
    })
    this.#r.occupants.delete(occ.key)
    return true
  }

  rename(from: string, to: string): boolean {
    if (!this.#open()) return false
    const occ = remoteAt(this.#ctx, this.#r, from)
    const n = enforceNick(String(to ?? ''), this.#ctx.o.nickLength)
    if (occ === undefined || !n.ok) return false
    const key = nickKey(n.nick)
    if (key !== occ.key && this.#r.occupants.has(key)) return false
    announce(this.#ctx, this.#r, occ, {
      base: undefined,
      type: 'unavailable',
      newNick: n.nick,
      codes: [Status.NICK_CHANGED],
      self: null,
    })
    this.#r.occupants.delete(occ.key)
    occ.nick = n.nick
    occ.key = key
    this.#r.occupants.set(key, occ)
    announce(this.#ctx, this.#r, occ, { base: occ.shown.presence, self: null })
    return true
  }

  say(nickName: string | undefined, body: string, how?: Said): boolean {
    if (!this.#open()) return false
    if (nickName === undefined) {
      groupchat(this.#ctx, this.#r, undefined, undefined, this.#text(body), how)
      return true
    }
    const occ = remoteAt(this.#ctx, this.#r, nickName)
    const n = enforceNick(String(nickName), this.#ctx.o.nickLength)
    if (!n.ok) return false
    groupchat(this.#ctx, this.#r, occ, occ?.nick ?? n.nick, this.#text(body), how)
    return true
  }

  whisper(nickName: string, body: string, how?: Said): boolean {
    if (!this.#open()) return false
    const n = enforceNick(String(nickName), this.#ctx.o.nickLength)
    if (!n.ok) return false
    const occ = remoteAt(this.#ctx, this.#r, nickName)
    const out = xml(
      'message',
      { from: `${this.#r.jid}/${occ?.nick ?? n.nick}`, type: 'chat', id: remoteId(how) ?? randomUUID() },
      xml('body', {}, how?.action ? `/me ${this.#text(body)}` : this.#text(body)),
      xml('x', { xmlns: NS_MUC_USER }),
    )
    if (occ !== undefined) out.c('occupant-id', { xmlns: NS_OCCUPANT_ID, id: occ.occupantId })
    toUser(this.#ctx, this.#r, out)
    return true
  }

  setSubject(subject: string, by?: string): boolean {
    if (!this.#open()) return false
    this.#r.subject = subjectOf(this.#ctx, subject, by)
    const from = this.#r.subject.nick === undefined ? this.#r.jid : `${this.#r.jid}/${this.#r.subject.nick}`
    toUser(
      this.#ctx,
      this.#r,
      xml('message', { from, type: 'groupchat', id: randomUUID() }, xml('subject', {}, this.#r.subject.text)),
    )
    return true
  }

  renameSelf(to: string): boolean {
    const me = self(this.#r)
    const n = enforceNick(String(to ?? ''), this.#ctx.o.nickLength)
    if (!this.#open() || me === undefined || !n.ok) return false
    renameUser(this.#ctx, this.#r, me, n.nick, true)
    return true
  }

  setSelf(change: Parameters<RoomView['setSelf']>[0]): boolean {
    const me = self(this.#r)
    if (!this.#open() || me === undefined) return false
    if (ROLES.has(change.role as string)) me.role = change.role as Occupant['role']
    if (AFFILIATIONS.has(change.affiliation as string))
      me.affiliation = change.affiliation as Occupant['affiliation']
    announce(this.#ctx, this.#r, me, { base: me.shown.presence })
    return true
  }

  close(how: Departure = {}): boolean {
    if (!this.#open()) return false
    const me = self(this.#r)
    const codes = how.banned ? [Status.BANNED] : how.kicked ? [Status.KICKED] : [Status.SHUTDOWN]
    if (me !== undefined) {
      const reason = how.reason === undefined ? undefined : this.#text(how.reason)
      announce(this.#ctx, this.#r, me, {
        base: undefined,
        type: 'unavailable',
        codes,
        others: false,
        ...(reason === undefined ? {} : { reason }),
        ...(how.actor === undefined ? {} : { actor: String(how.actor) }),
      })
    }
    endView(this.#ctx, this.#r, undefined, false)
    return true
  }
}

function makeView(ctx: Context, room: Room, nick: string): RoomView {
  return new View(ctx, room, nick)
}

/** The user's nick changes in its view (303 with the new nick, then the presence under it). */
export function renameUser(ctx: Context, room: Room, me: Occupant, nick: string, assigned: boolean): void {
  const key = nickKey(nick)
  // A remote occupant with that nick in our view is stale: the network gave us the nick.
  const other = room.occupants.get(key)
  if (other !== undefined && other !== me) room.occupants.delete(key)
  announce(ctx, room, me, {
    base: undefined,
    type: 'unavailable',
    newNick: nick,
    codes: [Status.NICK_CHANGED],
  })
  room.occupants.delete(me.key)
  me.nick = nick
  me.key = key
  room.occupants.set(key, me)
  announce(ctx, room, me, { base: me.shown.presence, selfCodes: assigned ? [Status.NICK_ASSIGNED] : [] })
}

/**
 * Ends a view: forgets it, and tells the backend the user left (`leave`), unless the backend
 * closed it. The user's occupant is already gone or told.
 */
export function endView(ctx: Context, room: Room, status: string | undefined, tellBackend: boolean): void {
  if (room.state.kind === 'destroyed') return
  room.state = { kind: 'destroyed' }
  if (ctx.rooms.get(room.key) === room) ctx.rooms.delete(room.key)
  const user = room.user as string
  if (room.byBare.delete(user)) {
    const n = (ctx.userRooms.get(user) ?? 1) - 1
    if (n <= 0) ctx.userRooms.delete(user)
    else ctx.userRooms.set(user, n)
  }
  log('%s left the remote room %s', user, room.jid)
  const backend = ctx.backend
  if (!tellBackend || backend === undefined || room.view === undefined) return
  const view = room.view
  callBackend(ctx, `leave ${room.jid}`, () => backend.leave(view, status)).catch(() => {})
}

/** A groupchat message (or subject change) from the user in its view: through the backend first. */
export function viewGroupchat(ctx: Context, room: Room, occ: Occupant, m: Stanza): void {
  const backend = ctx.backend as MucBackend
  const view = room.view as RoomView
  const body = m.getChild('body')
  const subject = m.getChild('subject')
  if (body === undefined && subject !== undefined) {
    if (backend.subject === undefined)
      throw new StanzaError('forbidden', 'the subject cannot be changed here')
    const set = backend.subject.bind(backend)
    callBackend(ctx, `subject of ${room.jid}`, () => set(view, subject.getText())).catch((err: StanzaError) =>
      refuse(ctx, m, err),
    )
    return
  }
  if (body === undefined) return
  const text = body.getText()
  callBackend(ctx, `message to ${room.jid}`, () => backend.message(view, text, m)).then(
    () => {
      if (room.state.kind !== 'destroyed') groupchat(ctx, room, occ, occ.nick, text, undefined, m)
    },
    (err: StanzaError) => refuse(ctx, m, err),
  )
}

/** A private message from the user to a remote occupant of its view. */
export function viewPrivate(ctx: Context, room: Room, target: Occupant, m: Stanza): void {
  const backend = ctx.backend as MucBackend
  if (backend.privateMessage === undefined) {
    throw new StanzaError('feature-not-implemented', 'private messages are not relayed here')
  }
  const send = backend.privateMessage.bind(backend)
  const text = m.getChildText('body') ?? ''
  if (text === '') return
  callBackend(ctx, `private message in ${room.jid}`, () =>
    send(room.view as RoomView, target.nick, text, m),
  ).catch((err: StanzaError) => refuse(ctx, m, err))
}

/** The user asks for another nick in its view: the backend decides which it gets. */
export function viewNick(ctx: Context, room: Room, me: Occupant, p: Stanza, nick: string): void {
  const backend = ctx.backend as MucBackend
  if (backend.nick === undefined) throw new StanzaError('not-allowed', 'nicks cannot be changed here')
  const change = backend.nick.bind(backend)
  callBackend(ctx, `nick in ${room.jid}`, () => change(room.view as RoomView, nick)).then(
    (given) => {
      const n = enforceNick(String(given ?? ''), ctx.o.nickLength)
      if (room.state.kind === 'destroyed' || !n.ok || n.nick === me.nick) return
      renameUser(ctx, room, me, n.nick, n.nick !== nick)
    },
    (err: StanzaError) => refuse(ctx, p, err),
  )
}
