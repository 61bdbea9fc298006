// The profile's parts (bench/src/attribute.ts): every module of core has one, and frames of the built bundle
// are placed in their src/ module through its source map (the profile charged the parser to "reads and event
// loop" while it knew only core's per-file dist paths).
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type CallFrame, CORE_FILES, CoreSources, classify, type Owner, ownerOf } from '../src/attribute.js'
import { type CpuProfile, summarise } from '../src/profile.js'

const coreSrc = fileURLToPath(new URL('../../packages/core/src/', import.meta.url))
const bundle = fileURLToPath(new URL('../../packages/core/dist/satellite-core.js', import.meta.url))

/** The modules of packages/core/src, as paths under src/ (tests and declaration files aside). */
function coreModules(dir = coreSrc): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return coreModules(path)
    return /\.ts$/.test(e.name) && !/\.(test|d)\.ts$/.test(e.name)
      ? [relative(coreSrc, path).split('\\').join('/')]
      : []
  })
}

const frame = (functionName: string, url: string, lineNumber = 0, columnNumber = 0): CallFrame => ({
  functionName,
  url,
  lineNumber,
  columnNumber,
})
const srcUrl = (file: string) => pathToFileURL(join(coreSrc, file)).href
/** Owners of a stack given from the leaf up, as the profile sees it. */
const owners = (...frames: CallFrame[]): (Owner | null)[] => {
  const sources = new CoreSources()
  return frames.map((f) => ownerOf(f, sources.locate(f)))
}

describe('profile attribution', () => {
  it('gives every module of packages/core/src a part, and names no module that is gone', () => {
    const modules = coreModules()
    expect(modules).toContain('xml/parser.ts')
    const unmapped = modules.filter((m) => !(m in CORE_FILES))
    expect(unmapped, 'add these to CORE_FILES in bench/src/attribute.ts').toEqual([])
    const stale = Object.keys(CORE_FILES).filter((f) => !modules.includes(f))
    expect(stale, 'remove these from CORE_FILES in bench/src/attribute.ts').toEqual([])
  })

  it('charges a stack to the nearest owned frame, Elements by who made them', () => {
    const net = frame('writeGeneric', 'node:internal/stream_base_commons')
    const ltx = frame('Element', 'file:///x/node_modules/ltx/lib/Element.js')
    const subject = frame('echo', 'file:///x/bench/dist/subjects/satellite.js')
    const tag = frame('resume', srcUrl('xml/tag.ts'))
    expect(classify('resume', owners(tag))).toBe('parser')
    expect(classify('decode', owners(frame('decode', srcUrl('xml/utf8.ts')), tag))).toBe('decode')
    expect(classify('Element', owners(ltx, frame('#startTag', srcUrl('xml/parser.ts'))))).toBe('tree')
    expect(classify('Element', owners(ltx, subject))).toBe('handler')
    expect(classify('Element', owners(ltx, frame('writeTree', srcUrl('xml/serialize.ts'))))).toBe('serialise')
    // a helper of core (address.ts) passes through to its caller
    expect(
      classify(
        'localOf',
        owners(frame('localOf', srcUrl('address.ts')), frame('test', srcUrl('routing/match.ts'))),
      ),
    ).toBe('routing')
    expect(classify('send', owners(frame('send', srcUrl('component.ts')), subject))).toBe('send')
    expect(classify('stanza', owners(frame('stanza', srcUrl('component.ts'))))).toBe('routing')
    expect(classify('#flush', owners(frame('#flush', srcUrl('stream/outbound.ts'))))).toBe('outbound')
    expect(classify('writeGeneric', owners(net, frame('#flush', srcUrl('stream/outbound.ts'))))).toBe('write')
    expect(classify('onStreamRead', owners(frame('onStreamRead', 'node:internal/stream_base_commons')))).toBe(
      'io',
    )
    expect(classify('(garbage collector)', owners(frame('(garbage collector)', '')))).toBe('gc')
  })

  it('places functions of the built bundle in their src/ modules (source map)', () => {
    expect(existsSync(`${bundle}.map`), 'pnpm build first: packages/core/dist/satellite-core.js(.map)').toBe(
      true,
    )
    const lines = readFileSync(bundle, 'utf8').split('\n')
    const url = pathToFileURL(bundle).href
    const sources = new CoreSources()
    const at = (re: RegExp) => {
      const line = lines.findIndex((l) => re.test(l))
      expect(line, String(re)).toBeGreaterThanOrEqual(0)
      return sources.locate(frame('', url, line, (lines[line] as string).search(/\S/)))?.file
    }
    expect(at(/^\tsend\(stanza\) \{/)).toBe('component.ts')
    expect(at(/^\tdecode\(chunk\) \{/)).toBe('xml/utf8.ts')
    expect(at(/^\t#startTag\(/)).toBe('xml/parser.ts')
    expect(at(/^\tresume\(s, p\) \{/)).toBe('xml/tag.ts')
    expect(at(/^function writeTree\(/)).toBe('xml/serialize.ts')
    expect(at(/^\t#onStanza\(stanza\) \{/)).toBe('stream/session.ts')
  })

  it('charges a real profile of the bundle parsing stanzas to the parser', () => {
    const dir = mkdtempSync(join(tmpdir(), 'satellite-attribute-'))
    try {
      const script = `
        import { StreamParser } from ${JSON.stringify(pathToFileURL(bundle.replace(/\.js$/, '-internal.js')).href)}
        import { xml } from ${JSON.stringify(pathToFileURL(bundle).href)}
        let n = 0
        const p = new StreamParser({
          onStreamStart() {}, onStreamEnd() {}, onError(e) { throw e },
          onStanza(s) { n++; xml('message', { to: s.attrs.from }, xml('body', {}, s.getChildText('body'))) },
        }, { maxStanzaBytes: 1 << 20, maxDepth: 64 })
        p.write(Buffer.from("<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' from='c'>"))
        const chunk = Buffer.from("<message from='a@b/c' to='d@c' type='chat' id='i1'><body>hello there</body></message>".repeat(64))
        const end = performance.now() + 400
        while (performance.now() < end) p.write(chunk)
        console.log(n)
      `
      const out = execFileSync(
        process.execPath,
        [
          '--cpu-prof',
          `--cpu-prof-dir=${dir}`,
          '--cpu-prof-interval=100',
          '--input-type=module',
          '-e',
          script,
        ],
        { encoding: 'utf8' },
      )
      const stanzas = Number(out.trim())
      expect(stanzas).toBeGreaterThan(1000)
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) as string
      const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile
      // every sampled function of the bundle lies in a module of core's src/ that has a part; but the bundle's
      // own code, which has no source: its top level (the imports) and the bundler's helpers (`__exportAll`...)
      const sources = new CoreSources()
      const inBundle = profile.nodes.filter(
        ({ callFrame: f }) =>
          f.url.endsWith('/dist/satellite-core.js') &&
          f.lineNumber + f.columnNumber > 0 &&
          !f.functionName.startsWith('__'),
      )
      expect(inBundle.length).toBeGreaterThan(0)
      const files = new Set<string>()
      for (const { callFrame } of inBundle) {
        const file = sources.locate(callFrame)?.file
        expect(file !== undefined && file in CORE_FILES, JSON.stringify({ callFrame, file })).toBe(true)
        files.add(file as string)
      }
      expect(files).toContain('xml/parser.ts')
      const s = summarise(profile, stanzas)
      const parser = s.byPart.get('parser') ?? 0
      expect(parser / s.busyUs).toBeGreaterThan(0.3)
      expect(parser).toBeGreaterThan(s.byPart.get('io') ?? 0)
      expect(s.top.some((t) => /packages\/core\/src\/xml\/[a-z]+\.ts:\d+$/.test(t.name))).toBe(true)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
