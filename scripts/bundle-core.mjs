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
// Run by `pnpm build` (after `tsc -b`); takes well under a second.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { build } from 'rolldown'

const root = fileURLToPath(new URL('../packages/core/', import.meta.url))
const started = performance.now()
await build({
  input: `${root}src/index.ts`,
  platform: 'node',
  tsconfig: `${root}tsconfig.json`,
  external: (id) => id.startsWith('node:') || /^(ltx|debug|@xmpp\/(xml|jid))(\/|$)/.test(id),
  logLevel: 'warn',
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
console.log(`bundle-core: dist/satellite-core.js in ${Math.round(performance.now() - started)} ms`)
