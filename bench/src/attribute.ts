// Which part of Satellite's echo path a CPU profile's sample belongs to (used by profile.ts).
//
// Core runs from one bundle, packages/core/dist/satellite-core.js (scripts/bundle-core.mjs, with a source map
// to src/). A frame of core is placed by its source file: the function's start in the generated file is
// looked up in the `.map` beside it, so the bundle, tsc's per-file dist/*.js and src/*.ts (tsx, vitest) all
// come out as the same path under packages/core/src/. Every module there has an owner in CORE_FILES; a
// unit test (bench/test/attribute.test.ts) fails when a new file has none.
import { existsSync, readFileSync } from 'node:fs'
import { SourceMap } from 'node:module'
import { fileURLToPath } from 'node:url'

/** The parts, in table order. */
export const PARTS = {
  decode: 'UTF-8 decode of socket reads (`xml/utf8.ts`: latin1 for ASCII, else `TextDecoder`)',
  parser: 'parser: tokenising, attributes, checks, building the `Stanza`/`Element` tree',
  tree: 'tree building, where not inlined into the parser (`Element`/`Stanza` constructors)',
  routing:
    'socket `data` listener, `#onStanza` (`stream/session.ts`), `Inbound` dispatch, routing (`routing/*.ts`)',
  handler: 'handler + `xml()` build (the bench subject, ltx `createElement`, `getChildText`)',
  send: '`send()`: checks of `to`/`from` (`component.ts`)',
  serialise: 'serialisation (`xml/serialize.ts`; ltx `escapeXML` only when needed)',
  outbound: "outbound: coalescing, `join` of the turn's batch (`stream/outbound.ts`)",
  write: '`socket.write` (node:net, stream internals, the write syscall)',
  io: 'reads and event loop: libuv, `onStreamRead`, `emit`, timers',
  control: 'core off the echo path: connection, handshake, supervisor, config',
  gc: 'GC on the main thread',
  program: 'V8/native, unattributed (`(program)`)',
  other: 'other',
} as const
export type Part = keyof typeof PARTS

/**
 * What a frame is charged to: a part; `element`, an `Element`/`Stanza` helper whose caller decides (the parser:
 * tree building, serialisation: serialisation, else the handler); `caller`, a helper that passes through (the
 * nearest owned frame above decides, as for node internals).
 */
export type Owner = Part | 'element' | 'caller'

const COMPONENT_SEND = new Set(['send', 'fromInDomain'])

/** Every module of packages/core/src (path under src/) and its owner; component.ts's depends on the function. */
export const CORE_FILES: Readonly<Record<string, Owner | ((functionName: string) => Owner)>> = {
  'xml/utf8.ts': 'decode',
  'xml/parser.ts': 'parser',
  'xml/tag.ts': 'parser',
  'xml/namespaces.ts': 'parser',
  'xml/chars.ts': 'parser',
  'xml/pending.ts': 'parser',
  'xml/stanza.ts': 'element',
  'xml/element.ts': 'element',
  'xml/names.ts': 'element',
  'xml/serialize.ts': 'serialise',
  'stream/session.ts': 'routing',
  'inbound.ts': 'routing',
  'routing/router.ts': 'routing',
  'routing/match.ts': 'routing',
  'routing/iq.ts': 'routing',
  'component.ts': (fn) => (COMPONENT_SEND.has(fn) ? 'send' : 'routing'),
  'responders/builtin.ts': 'handler',
  'responders/disco.ts': 'handler',
  'stream/outbound.ts': 'outbound',
  'stream/handshake.ts': 'control',
  'stream/transport.ts': 'control',
  'stream/backoff.ts': 'control',
  'stream/explain.ts': 'control',
  'stream/refused.ts': 'control',
  'supervisor.ts': 'control',
  'outgoing.ts': 'send',
  'streams.ts': 'control',
  'lifecycle.ts': 'control',
  'config.ts': 'control',
  'plugin.ts': 'control',
  'address.ts': 'caller',
  'jid.ts': 'caller',
  'errors.ts': 'caller',
  'log.ts': 'caller',
  'builtins.ts': 'caller',
  'events.ts': 'caller',
  'stats.ts': 'caller',
  'index.ts': 'caller',
  'internal.ts': 'caller',
}

export interface CallFrame {
  functionName: string
  url: string
  /** 0-based, of the function's start. */
  lineNumber: number
  columnNumber: number
}

/** A frame of core: its module (path under packages/core/src/) and the 1-based line of the function there. */
export interface CoreLocation {
  file: string
  line: number
}

const CORE_SRC = /\/packages\/core\/src\/(.+\.ts)$/
const CORE_DIST = /\/packages\/core\/dist\/(.+)\.js$/

/** Places frames of core in packages/core/src, through the source maps beside the generated files. */
export class CoreSources {
  readonly #maps = new Map<string, SourceMap | null>()

  locate(f: CallFrame): CoreLocation | null {
    const src = CORE_SRC.exec(f.url)
    if (src) return { file: src[1] as string, line: f.lineNumber + 1 }
    const dist = CORE_DIST.exec(f.url)
    if (!dist) return null
    const map = this.#map(f.url)
    if (map === null) {
      // tsc's per-file output without its map: the file of the same name
      return dist[1]?.startsWith('satellite-core') ? null : { file: `${dist[1]}.ts`, line: f.lineNumber + 1 }
    }
    const e = map.findEntry(f.lineNumber, f.columnNumber) as {
      originalSource?: string
      originalLine?: number
    }
    if (e.originalSource === undefined) return null
    const orig = CORE_SRC.exec(new URL(e.originalSource, f.url).pathname)
    return orig ? { file: orig[1] as string, line: (e.originalLine ?? 0) + 1 } : null
  }

  #map(url: string): SourceMap | null {
    let m = this.#maps.get(url)
    if (m === undefined) {
      const path = `${url.startsWith('file:') ? fileURLToPath(url) : url}.map`
      m = existsSync(path) ? new SourceMap(JSON.parse(readFileSync(path, 'utf8'))) : null
      this.#maps.set(url, m)
    }
    return m
  }
}

/** Files of core that have no owner in CORE_FILES, seen while attributing (reported, charged to `other`). */
export const unmappedSeen = new Set<string>()

/** The owner of one frame, or null for frames that only pass through (node internals, natives). */
export function ownerOf(f: CallFrame, core: CoreLocation | null): Owner | null {
  const u = f.url
  const fn = f.functionName
  if (core !== null) {
    const o = CORE_FILES[core.file]
    if (o === undefined) {
      unmappedSeen.add(core.file)
      return 'other'
    }
    const owner = typeof o === 'function' ? o(fn) : o
    return owner === 'caller' ? null : owner
  }
  if (u === 'node:internal/encoding' && fn === 'decode') return 'decode'
  if (u.includes('/ltx/lib/Element.js')) {
    return fn === 'toString' || fn === 'write' || fn === '_addChildren' ? 'serialise' : 'element'
  }
  if (u.includes('/ltx/lib/escape.js')) return 'serialise'
  if (u.includes('/ltx/lib/createElement.js') || u.includes('/@xmpp/xml/index.js')) return 'handler'
  if (u.includes('/bench/dist/subjects/') || u.includes('/bench/subjects/')) return 'handler'
  return null
}

/**
 * Part of a sample, given the leaf's function name and the owners of its stack from the leaf (index 0) to the
 * root: the nearest owned frame decides; under `outbound`, what is not outbound's own is the socket write.
 */
export function classify(leaf: string, owners: readonly (Owner | null)[]): Part | 'idle' {
  if (leaf === '(idle)') return 'idle'
  if (leaf === '(garbage collector)') return 'gc'
  if (leaf === '(program)') return 'program'
  if (leaf === '(root)') return 'other'
  for (let i = 0; i < owners.length; i++) {
    const o = owners[i]
    if (o === null || o === undefined || o === 'caller') continue
    if (o === 'outbound' && i > 0) return 'write'
    if (o === 'element') {
      // Who made or used the Element: the parser (tree building), serialisation, or the handler?
      for (let j = i + 1; j < owners.length; j++) {
        const up = owners[j]
        if (up === 'parser') return 'tree'
        if (up === 'serialise') return 'serialise'
        if (up !== null && up !== undefined && up !== 'element' && up !== 'caller') return 'handler'
      }
      return 'handler'
    }
    return o
  }
  return 'io'
}
