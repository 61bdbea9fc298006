#!/usr/bin/env node
// The publish dry run: what `pnpm release` would upload, checked before a real release.
// Runs `pnpm publish -r --dry-run --force --json` in a pnpm workspace (default: this repository; --force so
// that a version already on the registry is still packed and checked), then checks, for every public
// (non-private) workspace package, that:
// - it is in the dry run (it would be published);
// - every entry point its package.json names (main, module, types, typings, every target of exports,
//   every bin) is in the package: a `files` list that leaves one out, or a build output that is missing,
//   fails here, with which of the two it is;
// - every relative import or re-export in its packed .js and .d.ts files points at a file of the package.
// Usage: node scripts/publish-dry-run.mjs [workspace-dir]   Exit code 1 when a check fails.
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, posix, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const run = (args) => execFileSync('pnpm', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 << 20 })

/** Every string target of a package.json `exports` value. */
function exportTargets(value, where, out) {
  if (typeof value === 'string') out.push([where, value])
  else if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) exportTargets(v, `${where}[${i}]`, out)
  } else if (value !== null && typeof value === 'object')
    for (const [k, v] of Object.entries(value)) exportTargets(v, `${where}[${JSON.stringify(k)}]`, out)
  return out
}

/** [field, path] for every entry point a package.json names. */
export function entryPoints(pkg) {
  const out = []
  for (const field of ['main', 'module', 'types', 'typings'])
    if (typeof pkg[field] === 'string') out.push([field, pkg[field]])
  if (pkg.exports !== undefined) exportTargets(pkg.exports, 'exports', out)
  if (typeof pkg.bin === 'string') out.push(['bin', pkg.bin])
  else if (pkg.bin) for (const [name, target] of Object.entries(pkg.bin)) out.push([`bin.${name}`, target])
  return out.map(([field, path]) => [field, posix.normalize(path).replace(/^\.\//, '')])
}

/** The relative specifiers a .js or .d.ts file imports, re-exports or references (TypeScript's own
 * scanner: text in comments and strings, such as a template of another project's code, is not code). */
export function relativeImports(source) {
  const { importedFiles, referencedFiles } = ts.preProcessFile(source, true, true)
  return [
    ...importedFiles.map((f) => f.fileName).filter((f) => /^\.\.?\//.test(f)),
    ...referencedFiles.map((f) => f.fileName),
  ]
}

/** The files a relative specifier may resolve to, as TypeScript (for .d.ts) or Node (for .js) would. */
function candidates(from, specifier) {
  const target = posix.normalize(posix.join(posix.dirname(from), specifier))
  if (!/\.d\.[cm]?ts$/.test(from)) return [target]
  const stem = target.replace(/\.([cm]?)js$/, '')
  const ext = /\.([cm]?)js$/.exec(target)?.[1] ?? ''
  return [target, `${stem}.d.${ext}ts`, `${stem}.${ext}ts`, `${target}.d.ts`, `${target}/index.d.ts`]
}

/** The problems of one packed package: `files` is the list of paths in the tarball. */
export function checkPackage(dir, pkg, files) {
  const problems = []
  const packed = new Set(files)
  for (const [field, path] of entryPoints(pkg)) {
    if (path.includes('*')) {
      const re = new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.+')}$`)
      if (!files.some((f) => re.test(f))) problems.push(`${field}: nothing in the package matches ${path}`)
    } else if (!packed.has(path)) {
      problems.push(
        existsSync(join(dir, path))
          ? `${field}: ${path} exists but is not in the package (the "files" list leaves it out)`
          : `${field}: ${path} does not exist (not built?)`,
      )
    }
  }
  for (const file of files) {
    // Build state, not something users run: tsc -b's incremental file names local paths.
    if (file.endsWith('.tsbuildinfo'))
      problems.push(`${file} is build state and should not be in the package`)
  }
  for (const file of files) {
    if (!/\.(?:[cm]?js|d\.[cm]?ts)$/.test(file) || !existsSync(join(dir, file))) continue
    for (const specifier of relativeImports(readFileSync(join(dir, file), 'utf8'))) {
      if (!candidates(file, specifier).some((c) => packed.has(c)))
        problems.push(`${file} imports ${specifier}, which is not in the package`)
    }
  }
  return problems
}

function main() {
  const workspace = JSON.parse(run(['ls', '-r', '--depth', '-1', '--json'])).filter(
    (p) => !p.private && p.path !== root,
  )
  let report
  try {
    report = JSON.parse(run(['publish', '-r', '--dry-run', '--force', '--no-git-checks', '--json']) || '[]')
  } catch (err) {
    console.error(
      `publish-dry-run: pnpm publish -r --dry-run failed in ${root}\n${err.stderr ?? err.message}`,
    )
    return 1
  }
  const byName = new Map(report.map((p) => [p.name, p]))
  let failures = 0
  for (const { name, path } of workspace) {
    const pkg = JSON.parse(readFileSync(join(path, 'package.json'), 'utf8'))
    const packed = byName.get(name)
    const problems = packed
      ? checkPackage(
          path,
          pkg,
          packed.files.map((f) => f.path),
        )
      : ['not in the dry run: it would not be published']
    if (problems.length === 0) {
      console.log(
        `ok ${name}@${pkg.version}: ${packed.files.length} files, ${entryPoints(pkg).length} entry points`,
      )
    } else {
      failures++
      console.log(`FAIL ${name}@${pkg.version}`)
      for (const p of problems) console.log(`  ${p}`)
    }
  }
  if (workspace.length === 0) {
    console.log(`publish-dry-run: no public package in ${root}`)
    return 1
  }
  console.log(`publish dry run: ${workspace.length - failures} of ${workspace.length} packages ready`)
  return failures === 0 ? 0 : 1
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main()
