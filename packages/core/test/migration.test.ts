// The migration guide's promise, tested: the echo bot written as in @xmpp/component's README
// (docs/migration-from-xmpp-js.md, "Before") and its Satellite port ("After") differ by a
// handful of lines, and answer the same client script with the same stanzas. The two
// sources below are the ones the guide shows; the test fails when they drift apart.

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { Element } from '@satellite/core'
import * as satellite from '@satellite/core'
import type { TestServer } from '@satellite/testing'
import * as xmppjs from '@xmpp/component'
import { describe, expect, it } from 'vitest'
import { server, sleep } from './helpers.js'

export const BEFORE = `import { component, xml } from '@xmpp/component'

const xmpp = component({
  service: 'xmpp://localhost:5347',
  domain: 'echo.localhost',
  password: 'mysecretcomponentpassword',
})

xmpp.on('error', (err) => {
  console.error(err)
})

xmpp.on('offline', () => {
  console.log('offline')
})

xmpp.on('stanza', async (stanza) => {
  if (stanza.is('message') && stanza.attrs.type !== 'error') {
    const { from, to, id, type } = stanza.attrs
    await xmpp.send(
      xml('message', { from: to, to: from, id, type }, xml('body', {}, stanza.getChildText('body'))),
    )
  }
})

xmpp.iqCallee.get('jabber:iq:last', 'query', () => {
  return xml('query', { xmlns: 'jabber:iq:last', seconds: '0' })
})

xmpp.on('online', (address) => {
  console.log('online as', address.toString())
})

await xmpp.start()
`

export const AFTER = `import { component, xml } from '@satellite/core'

const xmpp = component({
  service: 'xmpp://localhost:5347',
  domain: 'echo.localhost',
  secret: 'mysecretcomponentpassword',
})

xmpp.on('error', (err) => {
  console.error(err)
})

xmpp.on('offline', () => {
  console.log('offline')
})

xmpp.on('stanza', async (stanza) => {
  if (stanza.is('message') && stanza.attrs.type !== 'error') {
    const { from, to, id, type } = stanza.attrs
    await xmpp.send(
      xml('message', { from: to, to: from, id, type }, xml('body', {}, stanza.getChildText('body'))),
    )
  }
})

xmpp.iqGet({ xmlns: 'jabber:iq:last', name: 'query' }, () => {
  return xml('query', { xmlns: 'jabber:iq:last', seconds: '0' })
})

xmpp.on('online', (address) => {
  console.log('online as', address.toString())
})

await xmpp.start()
`

const SECRET = 'mysecretcomponentpassword'
const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (
  ...args: string[]
) => (...args: unknown[]) => Promise<{ stop(): Promise<unknown>; reconnect?: { stop(): void } }>

/**
 * Runs a bot source as written: its one import line becomes a lookup in `modules`, its
 * service URL points at the test server, and `console` is captured. Returns the component.
 */
async function run(source: string, srv: TestServer, logs: string[]) {
  const importRe = /^import \{ ([^}]+) \} from '([^']+)'$/m
  const m = importRe.exec(source)
  if (!m) throw new Error('no import line')
  const body = source
    .replace(importRe, `const { ${m[1]} } = modules['${m[2]}']`)
    .replace("'xmpp://localhost:5347'", JSON.stringify(srv.url))
    .replace(/^await xmpp\.start\(\)$/m, 'await xmpp.start()\nreturn xmpp')
  const console = {
    log: (...a: unknown[]) => logs.push(a.join(' ')),
    error: (...a: unknown[]) => logs.push(`E ${a}`),
  }
  return new AsyncFunction('modules', 'console', body)(
    { '@xmpp/component': xmppjs, '@satellite/core': satellite },
    console,
  )
}

/** The client script: what alice receives, normalised and sorted. */
async function play(srv: TestServer): Promise<string[]> {
  const { xml } = satellite
  const alice = srv.client('alice@localhost/phone')
  alice.send(
    xml('message', { to: 'bot@echo.localhost', type: 'chat', id: 'm1' }, xml('body', {}, 'hello 😀')),
  )
  alice.send(xml('message', { to: 'echo.localhost', id: 'm2' }, xml('body', {}, '<&>')))
  alice.send(
    xml('iq', { type: 'get', to: 'echo.localhost', id: 'i1' }, xml('query', { xmlns: 'jabber:iq:last' })),
  )
  alice.send(
    xml('iq', { type: 'get', to: 'echo.localhost', id: 'i2' }, xml('query', { xmlns: 'jabber:iq:roster' })),
  )
  const deadline = Date.now() + 3000
  while (alice.received.length < 4 && Date.now() < deadline) await sleep(10)
  await sleep(50)
  return alice.received
    .map((s) => {
      const err = s.getChild('error')
      const cond = err ? (err.children.find((c) => typeof c !== 'string') as Element | undefined)?.name : ''
      return `${s.name} ${s.attrs.type ?? ''} id=${s.attrs.id} from=${s.attrs.from} to=${s.attrs.to} body=${s.getChildText('body') ?? ''} err=${cond ?? ''} seconds=${s.getChild('query')?.attrs.seconds ?? ''}`
    })
    .sort()
}

/** Lines of `a` and `b` that differ, position by position (both have the same line count here). */
function changedLines(a: string, b: string): number {
  const x = a.split('\n')
  const y = b.split('\n')
  let n = Math.abs(x.length - y.length)
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) n++
  return n
}

describe('migration from @xmpp/component', () => {
  it('the port changes at most 8 lines of the xmpp.js echo bot', () => {
    expect(changedLines(BEFORE, AFTER)).toBe(3)
    expect(changedLines(BEFORE, AFTER)).toBeLessThanOrEqual(8)
  })

  it('both answer the same client script with the same stanzas', async () => {
    const a = await server({ components: { 'echo.localhost': SECRET } })
    const beforeLogs: string[] = []
    const before = await run(BEFORE, a, beforeLogs)
    const expected = await play(a)
    before.reconnect?.stop()
    await before.stop()

    const b = await server({ components: { 'echo.localhost': SECRET } })
    const afterLogs: string[] = []
    const after = await run(AFTER, b, afterLogs)
    const actual = await play(b)
    await after.stop()

    expect(expected).toEqual([
      'iq error id=i2 from=echo.localhost to=alice@localhost/phone body= err=service-unavailable seconds=',
      'iq result id=i1 from=echo.localhost to=alice@localhost/phone body= err= seconds=0',
      'message  id=m2 from=echo.localhost to=alice@localhost/phone body=<&> err= seconds=',
      'message chat id=m1 from=bot@echo.localhost to=alice@localhost/phone body=hello 😀 err= seconds=',
    ])
    expect(actual).toEqual(expected)
    expect(beforeLogs).toContain('online as echo.localhost')
    expect(afterLogs).toContain('online as echo.localhost')
  })

  it('docs/migration-from-xmpp-js.md shows exactly these two sources', () => {
    const doc = readFileSync(
      fileURLToPath(new URL('../../../docs/migration-from-xmpp-js.md', import.meta.url)),
      'utf8',
    )
    expect(doc).toContain(`\`\`\`js\n${BEFORE}\`\`\``)
    expect(doc).toContain(`\`\`\`js\n${AFTER}\`\`\``)
  })
})
