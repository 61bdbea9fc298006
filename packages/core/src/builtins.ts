// Node's built-in modules, taken with `process.getBuiltinModule()` (Node >= 20.16) instead of
// `import ... from 'node:...'`. An ESM import of a built-in builds a facade module with one
// binding per export (node:fs has about a hundred); across the five built-ins core needs, that
// is ~115 KB of allocation before the first stanza, which is enough to cost a young-generation
// GC during start-up and about 1 MiB of idle RSS. Measured in docs/performance.md, "Idle memory".
import type * as Crypto from 'node:crypto'
import type * as Events from 'node:events'
import type { EventEmitter as NodeEventEmitter } from 'node:events'
import type * as Fs from 'node:fs'
import type * as Net from 'node:net'
import type * as Tls from 'node:tls'

export const { createHash } = process.getBuiltinModule('node:crypto') as typeof Crypto
// Annotated with the class itself: inferred, the declaration file said `typeof Events` (the
// module), which a consumer's compiler (nodenext, esModuleInterop) cannot extend.
export const EventEmitter: typeof NodeEventEmitter = (
  process.getBuiltinModule('node:events') as typeof Events
).EventEmitter
export const { readFileSync } = process.getBuiltinModule('node:fs') as typeof Fs
export const net = process.getBuiltinModule('node:net') as typeof Net

/** node:tls, loaded on first use: a plain-TCP component never needs it. */
export const tls = (): typeof Tls => process.getBuiltinModule('node:tls') as typeof Tls

/** `require` for the CommonJS dependencies (ltx, @xmpp/jid, debug), resolved from this package. */
export const requireDep: NodeJS.Require = (
  process.getBuiltinModule('node:module') as typeof import('node:module')
).createRequire(import.meta.url)
