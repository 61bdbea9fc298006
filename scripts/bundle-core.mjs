#!/usr/bin/env node
// Bundles @satellite/core's own modules into one ESM file, dist/satellite-core.js (+ source map
// to src/), which is what the package exports at runtime. Types still come from tsc (dist/*.d.ts).
//
// Why: Node resolves every module file by path before the first stanza; with ~20 files of core
// plus its dependencies, that path work alone makes V8 compile its optimising compiler's output
// for Node's own path helpers, which costs ~4 MiB of idle RSS. One file keeps an idle component
// near the raw-socket floor (docs/performance.md, "Idle memory"). Dependencies stay external:
// one shared copy of ltx / @xmpp/xml / @xmpp/jid / debug.
//
// The `@satellite/core/internal` entry (src/internal.ts: the stream parser, handshake... that
// @satellite/cli shares) must use the very same code, not a second copy, and the main entry must
// keep one file and export exactly what its types declare. So the bundle is built from both, keeps
// the internal module's namespace on the Component class under a registered symbol (INTERNAL), and
// dist/satellite-core-internal.js takes its exports from there.
//
// Run by `pnpm build` (after `tsc -b`); takes well under a second.
import { writeFileSync } from 'node:fs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'rolldown'

const root = fileURLToPath(new URL('../packages/core/', import.meta.url))
const ENTRY = '\0satellite-core-entry'
const INTERNAL = 'satellite.core.internal'
const started = performance.now()
await build({
  input: ENTRY,
  platform: 'node',
  tsconfig: `${root}tsconfig.json`,
  external: (id) => id.startsWith('node:') || /^(ltx|debug|@xmpp\/(xml|jid))(\/|$)/.test(id),
  logLevel: 'warn',
  plugins: [
    {
      name: 'satellite-core-entry',
      resolveId: (id) => (id === ENTRY ? ENTRY : null),
      load: (id) =>
        id === ENTRY
          ? [
              `export * from ${JSON.stringify(`${root}src/index.ts`)}`,
              `import { Component } from ${JSON.stringify(`${root}src/index.ts`)}`,
              `import * as internal from ${JSON.stringify(`${root}src/internal.ts`)}`,
              `Object.defineProperty(Component, Symbol.for(${JSON.stringify(INTERNAL)}), { value: internal })`,
            ].join('\n')
          : null,
    },
  ],
  output: {
    file: `${root}dist/satellite-core.js`,
    format: 'esm',
    sourcemap: true,
    // The documentation lives in the .d.ts files and src/; the runtime file needs none of it.
    comments: false,
  },
})
// Types for anyone importing the file by its path: the same as the package's (tsc's dist/index.d.ts).
writeFileSync(`${root}dist/satellite-core.d.ts`, "export * from './index.js'\n")
// The internal entry: its names (from tsc's build of src/internal.ts), taken from the bundle.
const internal = Object.keys(await import(pathToFileURL(`${root}dist/internal.js`).href)).sort()
writeFileSync(
  `${root}dist/satellite-core-internal.js`,
  [
    '// @satellite/core/internal: the objects of the one core bundle (scripts/bundle-core.mjs).',
    "import { Component } from './satellite-core.js'",
    `export const { ${internal.join(', ')} } = Component[Symbol.for(${JSON.stringify(INTERNAL)})]`,
    '',
  ].join('\n'),
)
writeFileSync(`${root}dist/satellite-core-internal.d.ts`, "export * from './internal.js'\n")
console.log(`bundle-core: dist/satellite-core.js in ${Math.round(performance.now() - started)} ms`)
