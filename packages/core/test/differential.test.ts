// The same small bot written against @xmpp/component 0.13.1 (the API Satellite stays
// familiar to) and against Satellite, driven by the same client script: on the happy
// path both must produce the same stanzas.

import { component, type Element, isSatelliteError, xml } from '@satellite/core'
import type { TestServer } from '@satellite/testing'
import { component as xmppjsComponent, xml as xmppjsXml } from '@xmpp/component'
import { describe, expect, it } from 'vitest'
import { DOMAIN, server, sleep } from './helpers.js'

interface XmppJs {
  start(): Promise<unknown>
  stop(): Promise<unknown>
  send(el: Element): Promise<unknown>
  on(event: string, fn: (arg: never) => void): void
  reconnect: { stop(): void }
  iqCallee: { get(ns: string, name: string, fn: (ctx: { stanza: Element }) => unknown): void }
}
const makeXmppJs = xmppjsComponent as unknown as (o: {
  service: string
  domain: string
  password: string
}) => XmppJs
const xjsXml = xmppjsXml as unknown as typeof xml

const ASCII_SECRET = 'plain-secret'

/** The bot, xmpp.js style (README idiom: stanza event + iqCallee). */
async function startXmppJs(srv: TestServer, secret = ASCII_SECRET): Promise<XmppJs> {
  const bot = makeXmppJs({ service: srv.url, domain: DOMAIN, password: secret })
  bot.on('error', () => {})
  bot.on('stanza', ((stanza: Element) => {
    if (stanza.is('message') && stanza.attrs.type !== 'error') {
      const { from, to, id, type } = stanza.attrs
      void bot.send(
        xjsXml(
          'message',
          { from: to, to: from, id, type },
          xjsXml('body', {}, `echo: ${stanza.getChildText('body')}`),
        ),
      )
    }
  }) as never)
  bot.iqCallee.get('jabber:iq:last', 'query', () =>
    xjsXml('query', { xmlns: 'jabber:iq:last', seconds: '42' }),
  )
  await bot.start()
  return bot
}

/** The same bot with Satellite. */
async function startSatellite(srv: TestServer, secret = ASCII_SECRET) {
  const bot = component({
    service: srv.url,
    domain: DOMAIN,
    secret,
    responders: { disco: false, ping: false, version: false, time: false },
  })
  bot.message((m) => {
    if (m.attrs.type === 'error') return
    const { from, to, id, type } = m.attrs
    return bot.send(
      xml('message', { from: to, to: from, id, type }, xml('body', {}, `echo: ${m.getChildText('body')}`)),
    )
  })
  bot.iqGet({ xmlns: 'jabber:iq:last', name: 'query' }, () =>
    xml('query', { xmlns: 'jabber:iq:last', seconds: '42' }),
  )
  await bot.start()
  return bot
}

/** Plays the script and returns what the client received, normalised. */
async function play(srv: TestServer): Promise<string[]> {
  const alice = srv.client('alice@localhost/phone')
  alice.send(xml('message', { to: `bot@${DOMAIN}`, type: 'chat', id: 'm1' }, xml('body', {}, 'hello 😀')))
  alice.send(xml('message', { to: DOMAIN, id: 'm2' }, xml('body', {}, '<&>')))
  alice.send(xml('iq', { type: 'get', to: DOMAIN, id: 'i1' }, xml('query', { xmlns: 'jabber:iq:last' })))
  alice.send(xml('iq', { type: 'get', to: DOMAIN, id: 'i2' }, xml('query', { xmlns: 'jabber:iq:roster' })))
  alice.send(xml('iq', { type: 'set', to: `x@${DOMAIN}`, id: 'i3' }, xml('query', { xmlns: 'urn:unknown' })))
  const deadline = Date.now() + 3000
  while (alice.received.length < 5 && Date.now() < deadline) await sleep(10)
  await sleep(50)
  return alice.received
    .map((s) => {
      const err = s.getChild('error')
      const cond = err ? (err.children.find((c) => typeof c !== 'string') as Element | undefined)?.name : ''
      const payload = s.getChild('query')?.attrs.seconds ?? ''
      return `${s.name} ${s.attrs.type ?? ''} id=${s.attrs.id} from=${s.attrs.from} to=${s.attrs.to} body=${s.getChildText('body') ?? ''} err=${cond} ${payload}`
    })
    .sort()
}

describe('differential: @xmpp/component vs Satellite', () => {
  it('the same bot answers the same script with the same stanzas', async () => {
    const a = await server({ components: { [DOMAIN]: ASCII_SECRET } })
    const xjs = await startXmppJs(a)
    const expected = await play(a)
    xjs.reconnect.stop()
    await xjs.stop()

    const b = await server({ components: { [DOMAIN]: ASCII_SECRET } })
    const sat = await startSatellite(b)
    const actual = await play(b)
    await sat.stop()

    expect(expected).toHaveLength(5)
    const all = expected.join('\n')
    for (const part of [
      'body=echo: hello 😀',
      'body=echo: <&>',
      'id=i2 from=echo.localhost',
      'err=service-unavailable',
      'id=i1 from=echo.localhost to=alice@localhost/phone body= err= 42',
    ]) {
      expect(all).toContain(part)
    }
    expect(actual).toEqual(expected)
  })

  it('where they differ on purpose: a non-ASCII secret (xmpp.js hashes it as Latin-1)', async () => {
    const secret = 'pässwörd'
    const a = await server({ components: { [DOMAIN]: secret } })
    const xjs = makeXmppJs({ service: a.url, domain: DOMAIN, password: secret })
    xjs.on('error', () => {})
    const xjsResult = await xjs.start().then(
      () => 'online',
      (e: Error) => e.message,
    )
    xjs.reconnect.stop()
    await xjs.stop().catch(() => {})
    expect(xjsResult).not.toBe('online')

    const sat = await startSatellite(a, secret).then(
      (c) => c,
      (e: unknown) => e,
    )
    expect(isSatelliteError(sat)).toBe(false)
    await (sat as { stop(): Promise<void> }).stop()
  })
})
