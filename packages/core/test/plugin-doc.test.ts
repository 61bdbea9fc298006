// docs/plugins.md, kept true: its example plugin (between the markers below, copied verbatim
// into the page, which this test checks) runs against the embedded server: option errors, the
// answer, the disco entries, and close() undoing all of it.

import { readFileSync } from 'node:fs'
import {
  type Component,
  component,
  isSatelliteError,
  numberOption,
  optionError,
  type Plugin,
  type PluginHandle,
  xml,
} from '@satellite/core'
import { createServer, StanzaErrorResponse, type TestServer } from '@satellite/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// --- docs/plugins.md example start
/** Options of {@link entityTime}. */
export interface EntityTimeOptions {
  /** Local part that answers (default '', the component's domain). */
  to?: string
  /** Minutes added to UTC in the answer (default 0). */
  offsetMinutes?: number
}

/** XEP-0202 Entity Time: answers `<time xmlns='urn:xmpp:time'/>` requests. */
export const entityTime: Plugin<EntityTimeOptions, PluginHandle> = (xmpp, options = {}) => {
  // 1. Check every option before installing anything.
  const to = options.to ?? ''
  if (!/^[a-z0-9-]*$/.test(to)) throw optionError('entityTime', 'to', 'must be a lower-case local part')
  const offset = numberOption('entityTime', 'offsetMinutes', options.offsetMinutes, 0, {
    min: -720,
    max: 840,
  })

  // 2. Install: routes (their namespaces are advertised in disco#info) and disco entries.
  const unroute = xmpp.iqGet({ to, xmlns: 'urn:xmpp:time', name: 'time' }, () => {
    const sign = offset < 0 ? '-' : '+'
    const abs = Math.abs(offset)
    const tzo = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
    return xml(
      'time',
      { xmlns: 'urn:xmpp:time' },
      xml('tzo', {}, tzo),
      xml('utc', {}, new Date().toISOString()),
    )
  })
  const identity = { category: 'component', type: 'generic', name: 'Entity time' }
  xmpp.disco.identity(identity, { to })

  // 3. Return the handle: close() undoes step 2 and may be called more than once.
  let open = true
  return {
    close() {
      if (!open) return
      open = false
      unroute()
      xmpp.disco.removeIdentity(identity, { to })
    },
  }
}
// --- docs/plugins.md example end

let server: TestServer
let xmpp: Component

beforeEach(async () => {
  server = await createServer({ components: { 'time.localhost': 'secret' } })
  xmpp = component({ service: server.url, domain: 'time.localhost', secret: 'secret' })
  await xmpp.start()
})

afterEach(async () => {
  await xmpp.stop()
  await server.close()
})

const timeIq = (to: string) => xml('iq', { type: 'get', to }, xml('time', { xmlns: 'urn:xmpp:time' }))
const infoIq = (to: string) =>
  xml('iq', { type: 'get', to }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }))

describe('docs/plugins.md', () => {
  it('shows the example plugin verbatim', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8')
    const example = source.slice(
      source.indexOf('// --- docs/plugins.md example start\n') +
        '// --- docs/plugins.md example start\n'.length,
      source.indexOf('// --- docs/plugins.md example end'),
    )
    const page = readFileSync(new URL('../../../docs/plugins.md', import.meta.url), 'utf8')
    expect(example.length).toBeGreaterThan(500)
    expect(page).toContain(example.trim())
  })

  it('refuses bad options before installing anything', () => {
    const routes = () => xmpp.disco.info('clock')
    for (const [options, message] of [
      [{ to: 'Clock!' }, 'entityTime.to: must be a lower-case local part'],
      [{ offsetMinutes: 1000 }, 'entityTime.offsetMinutes: must be from -720 to 840, got 1000'],
      [{ to: 'clock', offsetMinutes: 1.5 }, 'entityTime.offsetMinutes: must be an integer, got 1.5'],
    ] as const) {
      let error: unknown
      try {
        entityTime(xmpp, options)
      } catch (err) {
        error = err
      }
      expect(isSatelliteError(error, 'SAT_ERR_CONFIG')).toBe(true)
      expect((error as Error).message).toBe(message)
      expect((error as { fatal: boolean }).fatal).toBe(true)
    }
    expect(routes()).toBeNull()
  })

  it('answers, is listed in disco, and close() undoes both (twice is fine)', async () => {
    const alice = server.client('alice@localhost/phone')
    const handle = entityTime(xmpp, { to: 'clock', offsetMinutes: -90 })
    const answer = await alice.request(timeIq('clock@time.localhost'))
    expect(answer.getChild('time')?.getChildText('tzo')).toBe('-01:30')
    const info = await alice.request(infoIq('clock@time.localhost'))
    const query = info.getChild('query')
    expect(query?.getChild('identity')?.attrs.name).toBe('Entity time')
    expect(query?.getChildren('feature').map((f) => f.attrs.var)).toContain('urn:xmpp:time')

    await handle.close()
    await handle.close()
    for (const iq of [timeIq('clock@time.localhost'), infoIq('clock@time.localhost')]) {
      const error = await alice.request(iq).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(StanzaErrorResponse)
    }
    expect(xmpp.disco.info('clock')).toBeNull()
  })
})

describe('disco entries a plugin removes in close()', () => {
  it('removeFeature, removeIdentity and removeItem undo feature, identity and item', () => {
    const before = { domain: xmpp.disco.info(''), items: xmpp.disco.items('') }
    xmpp.disco.feature('urn:extra').item({ jid: 'room@time.localhost', name: 'Room' })
    xmpp.disco.identity({ category: 'client', type: 'bot' }, { to: '*' }).feature('urn:bot', { to: '*' })
    expect(xmpp.disco.info('')?.features).toContain('urn:extra')
    expect(xmpp.disco.items('')).toEqual([{ jid: 'room@time.localhost', name: 'Room' }])
    expect(xmpp.disco.info('anyone')?.identities).toEqual([{ category: 'client', type: 'bot' }])

    xmpp.disco.removeFeature('urn:extra').removeItem({ jid: 'room@time.localhost' })
    xmpp.disco
      .removeIdentity({ category: 'client', type: 'bot' }, { to: '*' })
      .removeFeature('urn:bot', { to: '*' })
    xmpp.disco.removeFeature('urn:never-added', { to: 'nobody' }) // nothing to remove: no error
    expect(xmpp.disco.info('')).toEqual(before.domain)
    expect(xmpp.disco.items('')).toEqual(before.items)
    expect(xmpp.disco.info('anyone')).toBeNull()
  })

  it('removes one of two equal identities at a time', () => {
    const bot = { category: 'client', type: 'bot' }
    xmpp.disco.identity(bot, { to: 'a' }).identity(bot, { to: 'a' })
    xmpp.disco.removeIdentity(bot, { to: 'a' })
    expect(xmpp.disco.info('a')?.identities).toEqual([bot])
    xmpp.disco.removeIdentity(bot, { to: 'A' })
    expect(xmpp.disco.info('a')).toBeNull()
  })
})
