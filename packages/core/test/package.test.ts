// The runtime file the package exports (dist/satellite-core.js, one ESM bundle made by
// scripts/bundle-core.mjs after `tsc -b`) and the dependencies it shares with xmpp.js.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import * as src from '../src/index.js'
import * as internalSrc from '../src/internal.js'

const require = createRequire(import.meta.url)

describe('package', () => {
  it('exports the same names at runtime from the bundle as from src/index.ts', async () => {
    const manifest = require('../package.json') as {
      exports: Record<'.' | './internal', { types: string; default: string }>
    }
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/satellite-core.js' })
    const bundle = (await import('../dist/satellite-core.js')) as unknown as Record<string, unknown>
    expect(Object.keys(bundle).sort()).toEqual(Object.keys(src).sort())
    for (const [name, value] of Object.entries(src)) expect(typeof bundle[name], name).toBe(typeof value)
  })

  it('gives @satellite/core/internal the names of src/internal.ts, as the very objects of the one bundle', async () => {
    const manifest = require('../package.json') as {
      exports: Record<'.' | './internal', { types: string; default: string }>
    }
    expect(manifest.exports['./internal']).toEqual({
      types: './dist/internal.d.ts',
      default: './dist/satellite-core-internal.js',
    })
    const internal = (await import('../dist/satellite-core-internal.js')) as unknown as Record<
      string,
      unknown
    >
    expect(Object.keys(internal).sort()).toEqual(Object.keys(internalSrc).sort())
    for (const [name, value] of Object.entries(internalSrc))
      expect(typeof internal[name], name).toBe(typeof value)
    // One copy of core: the file holds no code of its own, only what the bundle registered.
    const facade = readFileSync(new URL('../dist/satellite-core-internal.js', import.meta.url), 'utf8')
    expect([...facade.matchAll(/from '([^']+)'/g)].map((m) => m[1])).toEqual(['./satellite-core.js'])
    expect(facade.length).toBeLessThan(600)
    const { Component } = (await import('../dist/satellite-core.js')) as unknown as typeof src
    const registered = (Component as unknown as Record<symbol, Record<string, unknown>>)[
      Symbol.for('satellite.core.internal')
    ]
    for (const name of Object.keys(internalSrc)) expect(internal[name], name).toBe(registered?.[name])
  })

  it('builds elements with the very Element class and escaping of @xmpp/xml (one shared ltx)', () => {
    const xmppXml = require('@xmpp/xml') as {
      (...a: unknown[]): unknown
      Element: unknown
      escapeXML: unknown
      escapeXMLText: unknown
    }
    expect(src.Element).toBe(xmppXml.Element)
    expect(src.escapeXML).toBe(xmppXml.escapeXML)
    expect(src.escapeXMLText).toBe(xmppXml.escapeXMLText)
    const a = src.xml(
      'message',
      { to: 'a@b', n: 1, skip: undefined },
      src.xml('body', {}, 'hi', null as unknown as string, ['!'] as unknown as string),
    )
    const b = xmppXml('message', { to: 'a@b', n: 1, skip: undefined }, xmppXml('body', {}, 'hi', null, ['!']))
    expect(a).toBeInstanceOf(xmppXml.Element as new () => unknown)
    expect(a.toString()).toBe(String(b))
  })

  it('gives the component its address as an @xmpp/jid JID', () => {
    const { JID } = require('@xmpp/jid') as { JID: new (...a: unknown[]) => unknown }
    const j = src.parseJid('Echo.Example.org')
    expect(j).toBeInstanceOf(JID)
    expect(j.toString()).toBe('echo.example.org')
    expect(j.equals(src.jid('echo.example.org'))).toBe(true)
  })
})
