// The inbound path alone: bounded concurrency, the inbox, the backpressure signal, the iq callee
// (exactly one reply) and handler errors, with a fake host and fake timers.
import { type Element, isSatelliteError, SatelliteError, Stanza, StanzaError, xml } from '@satellite/core'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Inbound } from '../src/inbound.js'
import { Router } from '../src/routing/router.js'

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
})

function stanza(name: string, attrs: Record<string, string>, ...children: Element[]): Stanza {
  const s = new Stanza(name, { from: 'alice@localhost/a', to: 'bot@echo.localhost', ...attrs })
  for (const c of children) s.cnode(c)
  return s
}

const later = <T = undefined>(ms: number, value?: T) =>
  new Promise<T | undefined>((r) => setTimeout(() => r(value), ms))

function setup(concurrency = 2) {
  const router = new Router()
  const sent: Element[] = []
  const errors: Error[] = []
  const observed: string[] = []
  const settled: Stanza[] = []
  const signals: boolean[] = []
  let sendResult: (s: Element) => Promise<void> = () => Promise.resolve()
  const inbound: Inbound = new Inbound({
    router,
    concurrency,
    send: (s) => {
      sent.push(s)
      return sendResult(s)
    },
    settle: (iq) => {
      settled.push(iq)
      return true
    },
    observe: (s) => void observed.push(s.attrs.id ?? s.name),
    error: (e) => void errors.push(e),
    pressure: () => void signals.push(inbound.behind),
  })
  return {
    inbound,
    router,
    sent,
    errors,
    observed,
    settled,
    signals,
    failSends: (f: (s: Element) => Promise<void>) => {
      sendResult = f
    },
  }
}

describe('bounded concurrency and backpressure', () => {
  it('runs at most `concurrency` async handlers; the rest wait in order; pressure on, then off', async () => {
    const t = setup(2)
    const order: string[] = []
    t.router.add('message', undefined, async (m) => {
      order.push(`start ${m.attrs.id}`)
      await later(Number(m.attrs.ms))
      order.push(`end ${m.attrs.id}`)
    })
    const ids = ['a', 'b', 'c', 'd', 'e']
    const ms: Record<string, string> = { a: '100', b: '50', c: '10', d: '10', e: '10' }
    for (const id of ids) t.inbound.receive(stanza('message', { id, ms: ms[id] as string }))
    expect(t.inbound.inflight).toBe(2)
    expect(t.inbound.backlog).toBe(3)
    expect(t.inbound.behind).toBe(true)
    expect(t.signals).toEqual([true])
    expect(order).toEqual(['start a', 'start b'])
    await vi.advanceTimersByTimeAsync(50)
    expect(order.slice(2)).toEqual(['end b', 'start c'])
    expect(t.inbound.backlog).toBe(2)
    await vi.advanceTimersByTimeAsync(100)
    expect(t.inbound.backlog).toBe(0)
    expect(t.inbound.behind).toBe(false)
    expect(t.signals).toEqual([true, false])
    expect(order.filter((o) => o.startsWith('start'))).toEqual(ids.map((i) => `start ${i}`))
    expect(t.observed).toEqual(ids)
    await vi.advanceTimersByTimeAsync(100)
    expect(t.inbound.inflight).toBe(0)
  })

  it('synchronous handlers take no slot and never signal pressure', () => {
    const t = setup(1)
    let n = 0
    t.router.add('message', undefined, () => void n++)
    for (let i = 0; i < 100; i++) t.inbound.receive(stanza('message', { id: String(i) }))
    expect(n).toBe(100)
    expect(t.inbound.inflight).toBe(0)
    expect(t.signals).toEqual([])
  })

  it('a stanza arriving while others wait queues behind them, even with a free slot', async () => {
    const t = setup(1)
    const seen: string[] = []
    t.router.add('message', undefined, (m) => {
      seen.push(m.attrs.id as string)
      return m.attrs.id === 'slow' ? later(50) : undefined
    })
    t.inbound.receive(stanza('message', { id: 'slow' }))
    t.inbound.receive(stanza('message', { id: 'queued' }))
    expect(t.inbound.backlog).toBe(1)
    await vi.advanceTimersByTimeAsync(50)
    t.inbound.receive(stanza('message', { id: 'after' }))
    expect(seen).toEqual(['slow', 'queued', 'after'])
  })

  it('a rejected handler frees its slot and is reported', async () => {
    const t = setup(1)
    t.router.add('message', undefined, async () => {
      await later(10)
      throw new Error('database down')
    })
    t.inbound.receive(stanza('message', { id: '1' }))
    t.inbound.receive(stanza('message', { id: '2' }))
    await vi.advanceTimersByTimeAsync(30)
    expect(t.errors.map((e) => e.message)).toEqual(['database down', 'database down'])
    expect(t.inbound.inflight).toBe(0)
    expect(t.signals).toEqual([true, false])
  })

  it('a handler throwing a non-Error is reported as SAT_ERR_STANZA', () => {
    const t = setup()
    t.router.add('presence', undefined, () => {
      throw 'nope'
    })
    t.inbound.receive(stanza('presence', {}))
    expect(isSatelliteError(t.errors[0], 'SAT_ERR_STANZA')).toBe(true)
    expect(t.errors[0]?.message).toMatch(/non-Error: nope/)
  })
})

const get = (id: string, ...payload: Element[]) => stanza('iq', { type: 'get', id }, ...payload)
const Q = (ns = 'urn:example:q') => xml('query', { xmlns: ns })

describe('the iq callee: exactly one reply', () => {
  it('the result payload, an empty result, a StanzaError, or internal-server-error for anything else', async () => {
    const t = setup(4)
    t.router.addIq('get', { xmlns: 'urn:example:value' }, () =>
      xml('query', { xmlns: 'urn:example:value' }, 'v'),
    )
    t.router.addIq('get', { xmlns: 'urn:example:empty' }, async () => {})
    t.router.addIq('get', { xmlns: 'urn:example:denied' }, () => {
      throw new StanzaError('forbidden', { text: 'no' })
    })
    t.router.addIq('get', { xmlns: 'urn:example:throws' }, async () => {
      throw new Error('boom')
    })
    t.router.addIq('get', { xmlns: 'urn:example:garbage' }, () => 'text' as never)
    for (const ns of ['value', 'empty', 'denied', 'throws', 'garbage']) {
      t.inbound.receive(get(ns, Q(`urn:example:${ns}`)))
    }
    await vi.advanceTimersByTimeAsync(0)
    const replies = Object.fromEntries(t.sent.map((s) => [s.attrs.id, s]))
    expect(t.sent).toHaveLength(5)
    expect(replies.value?.attrs.type).toBe('result')
    expect(replies.value?.getChild('query')?.getText()).toBe('v')
    expect(replies.empty?.attrs.type).toBe('result')
    expect(replies.empty?.children).toHaveLength(0)
    expect(replies.denied?.getChild('error')?.getChild('forbidden')).toBeDefined()
    expect(replies.throws?.getChild('error')?.getChild('internal-server-error')).toBeDefined()
    expect(replies.garbage?.getChild('error')?.getChild('internal-server-error')).toBeDefined()
    for (const r of t.sent) {
      expect(r.attrs.to).toBe('alice@localhost/a')
      expect(r.attrs.from).toBe('bot@echo.localhost')
    }
    // The synchronous handler's error comes first.
    expect(t.errors.map((e) => e.message)).toEqual([
      'iq handler returned something that is not an Element',
      'boom',
    ])
  })

  it('bad-request for no payload, two payloads or an unknown type; service-unavailable without a route', () => {
    const t = setup()
    t.inbound.receive(get('none'))
    t.inbound.receive(get('two', Q(), Q()))
    t.inbound.receive(stanza('iq', { type: 'sideways', id: 'odd' }, Q()))
    t.inbound.receive(get('nobody', Q('urn:example:nobody')))
    const conditions = t.sent.map((s) => [s.attrs.id, s.getChild('error')?.children[0]])
    expect(conditions.map(([id, c]) => [id, (c as Element).name])).toEqual([
      ['none', 'bad-request'],
      ['two', 'bad-request'],
      ['odd', 'bad-request'],
      ['nobody', 'service-unavailable'],
    ])
  })

  it('results and errors go to the waiting request, never to a handler', () => {
    const t = setup()
    const handler = vi.fn()
    t.router.addIq('get', { xmlns: 'urn:example:q' }, handler)
    t.inbound.receive(stanza('iq', { type: 'result', id: 'r1' }))
    t.inbound.receive(stanza('iq', { type: 'error', id: 'r2' }, Q()))
    expect(t.settled.map((s) => s.attrs.id)).toEqual(['r1', 'r2'])
    expect(handler).not.toHaveBeenCalled()
    expect(t.sent).toEqual([])
  })

  it('an answer refused for a name that is not an XML name still answers once, with internal-server-error', async () => {
    const t = setup()
    // (The fake send refuses every result as the real one refuses a name that is not an XML name.)
    t.router.addIq('get', { xmlns: 'urn:example:q' }, () => xml('query', { xmlns: 'urn:example:q' }))
    t.failSends((s) =>
      s.attrs.type === 'result'
        ? Promise.reject(new SatelliteError('SAT_ERR_XML_NAME', "'bad name' is not an XML name"))
        : Promise.resolve(),
    )
    t.inbound.receive(get('x', Q()))
    await vi.advanceTimersByTimeAsync(0)
    expect(t.sent.map((s) => s.attrs.type)).toEqual(['result', 'error'])
    expect(t.sent[1]?.getChild('error')?.getChild('internal-server-error')).toBeDefined()
    expect(isSatelliteError(t.errors[0], 'SAT_ERR_XML_NAME')).toBe(true)
  })

  it('an async iq handler holds a slot until it answers', async () => {
    const t = setup(1)
    t.router.addIq('get', { xmlns: 'urn:example:q' }, () =>
      later(20, xml('query', { xmlns: 'urn:example:q' })),
    )
    t.inbound.receive(get('1', Q()))
    t.inbound.receive(get('2', Q()))
    expect(t.inbound.inflight).toBe(1)
    expect(t.inbound.backlog).toBe(1)
    await vi.advanceTimersByTimeAsync(20)
    expect(t.sent.map((s) => s.attrs.id)).toEqual(['1'])
    await vi.advanceTimersByTimeAsync(20)
    expect(t.sent.map((s) => s.attrs.id)).toEqual(['1', '2'])
  })
})
