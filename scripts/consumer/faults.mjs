// Faults the consumer check injects into copies of packed tarballs, to prove that it fails on them
// (scripts/check-packages --fault NAME, and its self-test). Each one changes the copy the way a real
// mistake would, and throws if the tarball no longer has what it changes (so a fault never silently
// becomes a no-op).
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { basename, join } from 'node:path'

/** The module the injected declaration refers to: no package provides it. */
export const MISSING_TYPE_PACKAGE = 'satellite-fault-missing-types'

/**
 * name → { what, pkg, apply(dir) }: `pkg` is the package changed, `apply` edits its unpacked
 * `package/` directory; `expect` lists the checks that must then fail, with a pattern of their error.
 */
export const FAULTS = {
  'missing-type-package': {
    what: `a declaration of @satellite/core imports types from a package nobody installs (${MISSING_TYPE_PACKAGE})`,
    pkg: '@satellite/core',
    expect: { 'types nodenext': /TS2307.*satellite-fault-missing-types/ },
    apply(dir) {
      const file = join(dir, typesEntry(dir))
      const text = readFileSync(file, 'utf8')
      writeFileSync(
        file,
        `import type { Fault } from '${MISSING_TYPE_PACKAGE}'\nexport type { Fault }\n${text}`,
      )
    },
  },
  'missing-export': {
    what: '@satellite/cli no longer exports checkConnection (types and code)',
    pkg: '@satellite/cli',
    expect: { 'types nodenext': /TS2305.*checkConnection/, runtime: /checkConnection/ },
    apply(dir) {
      removeExport(join(dir, typesEntry(dir)), 'checkConnection')
      removeExport(join(dir, codeEntry(dir)), 'checkConnection')
    },
  },
  'export-only-in-types': {
    what: "@satellite/forms's code no longer exports parseForm, which its types still declare",
    pkg: '@satellite/forms',
    expect: { exports: /declared but not exported at run time: parseForm/, runtime: /parseForm/ },
    apply(dir) {
      removeExport(join(dir, codeEntry(dir)), 'parseForm')
    },
  },
}

/** The `types` file of the package's main export. */
function typesEntry(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const entry = manifest.exports?.['.']?.types ?? manifest.types
  if (typeof entry !== 'string') throw new Error(`${manifest.name}: no types entry to inject a fault into`)
  return entry
}

/** The code file of the package's main export. */
function codeEntry(dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const entry = manifest.exports?.['.']?.default ?? manifest.exports?.['.']?.import ?? manifest.main
  if (typeof entry !== 'string') throw new Error(`${manifest.name}: no code entry to inject a fault into`)
  return entry
}

/** Removes `name` from the `export { … }` lists of a module (its .js or .d.ts). */
function removeExport(file, name) {
  const text = readFileSync(file, 'utf8')
  let found = false
  const changed = text.replace(/export\s*(type\s*)?\{([^}]*)\}/g, (all, type, list) => {
    const names = list.split(',').map((s) => s.trim())
    const kept = names.filter(
      (s) =>
        s !== '' &&
        s
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/)
          .at(-1) !== name,
    )
    if (kept.length === names.filter((s) => s !== '').length) return all
    found = true
    return `export ${type ?? ''}{ ${kept.join(', ')} }`
  })
  if (!found) throw new Error(`fault injection: ${name} is not exported by ${file}`)
  writeFileSync(file, changed)
}

/**
 * Copies `tarball` into `workDir` with the fault applied; returns the new tarball's path (its name
 * says which fault it holds, so no package manager takes it for the original).
 */
export function injectFault(fault, tarball, workDir) {
  const spec = FAULTS[fault]
  if (spec === undefined) throw new Error(`unknown fault ${fault} (known: ${Object.keys(FAULTS).join(', ')})`)
  const unpacked = join(workDir, `unpacked-${fault}`)
  mkdirSync(unpacked, { recursive: true })
  execFileSync('tar', ['xzf', tarball, '-C', unpacked])
  spec.apply(join(unpacked, 'package'))
  const out = join(workDir, `fault-${fault}-${basename(tarball)}`)
  execFileSync('tar', ['czf', out, '-C', unpacked, 'package'])
  return out
}
