// Component's events are typed by ComponentEvents (declared by core itself, not taken from the
// consumer's @types/node): `pnpm typecheck` checks the @ts-expect-error lines below, the test
// checks that the typed methods are EventEmitter's, unchanged at run time.
import { EventEmitter, once as eventOnce } from 'node:events'
import { type Component, type ComponentListener, component, type JID, type Status } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { DOMAIN, make, server } from './helpers.js'

describe('typed events', () => {
  it('on/once/off take the events of ComponentEvents with their arguments', async () => {
    const srv = await server()
    const xmpp: Component = make(srv)
    expect(xmpp).toBeInstanceOf(EventEmitter)
    const statuses: Status[] = []
    const onStatus: ComponentListener<'status'> = (status) => void statuses.push(status)
    expect(xmpp.on('status', onStatus)).toBe(xmpp)
    const online = eventOnce(xmpp, 'online') as Promise<[JID]>
    await xmpp.start()
    const [address] = await online
    expect(address.toString()).toBe(DOMAIN)
    expect(xmpp.listenerCount('status')).toBe(1)
    expect(xmpp.listeners('status')).toEqual([onStatus])
    xmpp.off('status', onStatus)
    expect(xmpp.listenerCount('status')).toBe(0)
    expect(statuses).toEqual(['connecting', 'authenticating', 'online'])
  })

  it('refuses an unknown event name and a wrong listener at compile time', () => {
    const xmpp = component({ service: 'xmpp://127.0.0.1:1', domain: DOMAIN, secret: 's', reconnect: false })
    const calls: unknown[] = []
    // @ts-expect-error: no such event
    xmpp.on('onlin', (x: unknown) => calls.push(x))
    // @ts-expect-error: 'online' gives a JID, not a number
    xmpp.on('online', (n: number) => calls.push(n.toFixed()))
    // @ts-expect-error: 'status' gives a Status and maybe a ReconnectInfo
    xmpp.once('status', (s: Status, detail: string) => calls.push(s, detail))
    // @ts-expect-error: emit checks the arguments too
    xmpp.emit('status', 'nope')
    xmpp.on('status', (status, detail) => calls.push(status, detail?.delay))
    xmpp.emit('status', 'reconnecting', { delay: 5, attempt: 1, reason: 'timeout', error: undefined })
    expect(calls).toEqual(['nope', undefined, 'reconnecting', 5])
    expect(xmpp.eventNames().sort()).toEqual(['onlin', 'online', 'status'])
    xmpp.removeAllListeners()
  })
})
