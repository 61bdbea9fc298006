// The consumer check's export comparison (scripts/check-packages): for every package, the value
// exports its declarations promise (read with the TypeScript compiler the project installed) must be
// exactly what the module exports when Node loads it. Catches an export that exists only in the types
// (a bundle or build that dropped it) and one the types do not declare.
// Usage (in the consumer project): node exports.mjs @satellite/core @satellite/forms ...
import { writeFileSync } from 'node:fs'
import ts from 'typescript'

const names = process.argv.slice(2)
const probe = 'exports-probe.ts'
writeFileSync(probe, names.map((n, i) => `import * as p${i} from '${n}'\nvoid p${i}\n`).join(''))
const program = ts.createProgram([probe], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2023,
  types: ['node'],
  noEmit: true,
})
const checker = program.getTypeChecker()
const file = program.getSourceFile(probe)

/** A value export, unless some alias on the way was `export type` / `import type`. */
function isValue(symbol) {
  let s = symbol
  while (s.flags & ts.SymbolFlags.Alias) {
    if (s.declarations?.some((d) => ts.isTypeOnlyImportOrExportDeclaration(d))) return false
    const next = checker.getImmediateAliasedSymbol(s)
    if (next === undefined) break
    s = next
  }
  return (s.flags & ts.SymbolFlags.Value) !== 0
}

let failures = 0
const imports = file.statements.filter(ts.isImportDeclaration)
for (const [i, name] of names.entries()) {
  const moduleSymbol = checker.getSymbolAtLocation(imports[i].moduleSpecifier)
  if (moduleSymbol === undefined) {
    console.error(`${name}: no declarations found`)
    failures++
    continue
  }
  const declared = new Set(
    checker
      .getExportsOfModule(moduleSymbol)
      .filter(isValue)
      .map((s) => s.name),
  )
  let actual
  try {
    actual = new Set(Object.keys(await import(name)))
  } catch (err) {
    console.error(`${name}: cannot be loaded: ${err.message}`)
    failures++
    continue
  }
  const onlyTypes = [...declared].filter((k) => !actual.has(k)).sort()
  const onlyRuntime = [...actual].filter((k) => !declared.has(k)).sort()
  if (onlyTypes.length > 0) {
    console.error(`${name}: declared but not exported at run time: ${onlyTypes.join(', ')}`)
    failures++
  }
  if (onlyRuntime.length > 0) {
    console.error(`${name}: exported at run time but not declared: ${onlyRuntime.join(', ')}`)
    failures++
  }
  if (onlyTypes.length === 0 && onlyRuntime.length === 0)
    console.log(`${name}: ${declared.size} value exports`)
}
process.exitCode = failures === 0 ? 0 : 1
