// Test helpers: an embedded server, a component with the room engine, users joining rooms.
import { type Component, type Element, xml } from '@satellite/core'
import { type MucOptions, type MucService, muc, NS_MUC, NS_MUC_USER } from '@satellite/muc'
import { serverAndComponent } from '@satellite/test-support/component'
import type { SimulatedClient, TestServer } from '@satellite/testing'

export const DOMAIN = 'chat.localhost'
export const ROOM = `lobby@${DOMAIN}`

export interface Setup {
  srv: TestServer
  service: MucService
  xmpp: Component
  client(jid: string): SimulatedClient
}

export async function setup(options: MucOptions = {}): Promise<Setup> {
  const { srv, xmpp } = await serverAndComponent(DOMAIN, 's3cret')
  const service = muc(xmpp, options)
  await xmpp.start()
  return { srv, service, xmpp, client: (jid) => srv.client(jid) }
}

/** A join presence (with `<x xmlns=muc/>` and `extra` in it unless `bare`). */
export function joinPresence(to: string, extra: Element[] = [], options: { gc1?: boolean } = {}): Element {
  return options.gc1
    ? xml('presence', { to })
    : xml('presence', { to }, xml('x', { xmlns: NS_MUC }, ...extra))
}

/** Status codes of a room presence, in document order. */
export function codes(el: Element): number[] {
  const x = el.getChild('x', NS_MUC_USER)
  return (x?.getChildren('status') ?? []).map((s) => Number(s.attrs.code))
}

/** The `<item/>` attributes of a room presence. */
export function item(el: Element): Record<string, string> {
  return { ...(el.getChild('x', NS_MUC_USER)?.getChild('item')?.attrs ?? {}) } as Record<string, string>
}

/** Waits until `c` received `n` stanzas more than `from`, then returns those. */
export async function nextStanzas(c: SimulatedClient, n: number, from = 0, ms = 2000): Promise<Element[]> {
  const until = Date.now() + ms
  while (c.received.length < from + n) {
    if (Date.now() > until) {
      throw new Error(
        `expected ${n} stanzas, got ${c.received.length - from}:\n${c.received.slice(from).join('\n')}`,
      )
    }
    await new Promise((r) => setTimeout(r, 5))
  }
  return c.received.slice(from, from + n)
}

/** Lets in-flight stanzas arrive, then returns everything `c` received after `from`. */
export async function settle(c: SimulatedClient, from = 0, ms = 60): Promise<Element[]> {
  await new Promise((r) => setTimeout(r, ms))
  return c.received.slice(from)
}

/** Joins `nick` in `room` and waits for the end of the join (the subject message). */
export async function join(
  c: SimulatedClient,
  room: string,
  nick: string,
  extra: Element[] = [],
): Promise<Element[]> {
  const start = c.received.length
  c.send(joinPresence(`${room}/${nick}`, extra))
  await c.expectStanza(
    (s) =>
      s.name === 'message' && s.getChild('subject') !== undefined && s.attrs.from?.startsWith(room) === true,
  )
  return c.received.slice(start)
}

/** A short rendering of a stanza for order assertions: `presence room/nick [codes]` etc. */
export function brief(el: Element): string {
  const type = el.attrs.type ? ` ${el.attrs.type}` : ''
  const cs = codes(el)
  const tail =
    el.name === 'presence'
      ? cs.length > 0
        ? ` [${cs.join(',')}]`
        : ''
      : el.getChild('subject')
        ? ' subject'
        : el.getChild('delay')
          ? ` delayed ${el.getChildText('body')}`
          : ` ${el.getChildText('body') ?? ''}`
  return `${el.name}${type} ${el.attrs.from}${tail}`
}

/** The condition, type and text of an error stanza. */
export function errorOf(el: Element): { condition: string; type: string; text: string | undefined } {
  const error = el.getChild('error')
  const cond = error?.getChildElements().find((c) => c.name !== 'text')
  return {
    condition: cond?.name ?? '',
    type: String(error?.attrs.type ?? ''),
    text: error?.getChildText('text') ?? undefined,
  }
}

/** Sends `stanza` and waits for the error reply of the same kind. */
export async function refused(c: SimulatedClient, stanza: Element): Promise<Element> {
  const sent = c.send(stanza)
  return c.expectStanza((s) => s.name === sent.name && s.attrs.type === 'error')
}

export const groupchat = (text: string, attrs: Record<string, string> = {}, ...extra: Element[]) =>
  xml('message', { to: ROOM, type: 'groupchat', ...attrs }, xml('body', {}, text), ...extra)
