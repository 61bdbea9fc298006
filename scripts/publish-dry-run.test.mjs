// Proves that the publish dry run (scripts/publish-dry-run.mjs) fails on what it is there to catch: it
// runs on a throwaway pnpm workspace holding a copy of @satellite/escaping (built: run after
// `pnpm build`), intact and then broken in each way. Run: node --test scripts/publish-dry-run.test.mjs
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { checkPackage, entryPoints, relativeImports } from './publish-dry-run.mjs'

const script = fileURLToPath(new URL('./publish-dry-run.mjs', import.meta.url))
const source = fileURLToPath(new URL('../packages/escaping/', import.meta.url))
const temps = []
after(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

/** A workspace with a copy of @satellite/escaping, changed by `edit(packageDir, packageJson)`. */
function workspace(edit = () => {}) {
  const root = mkdtempSync(join(tmpdir(), 'publish-dry-run-'))
  temps.push(root)
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'fixture-root', private: true }))
  writeFileSync(join(root, 'pnpm-workspace.yaml'), 'packages:\n  - escaping\n')
  const dir = join(root, 'escaping')
  cpSync(source, dir, { recursive: true, filter: (path) => !path.includes('node_modules') })
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  // The fixture workspace holds escaping alone: its workspace dependencies (@satellite/core) cannot
  // resolve there, and pnpm publish would fail on them before the check runs.
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
    for (const [name, range] of Object.entries(pkg[field] ?? {})) {
      if (String(range).startsWith('workspace:')) delete pkg[field][name]
    }
  }
  edit(dir, pkg)
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2))
  const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

test('a package as built passes', () => {
  const { status, output } = workspace()
  assert.equal(status, 0, output)
  assert.match(output, /ok @satellite\/escaping@/)
  assert.match(output, /1 of 1 packages ready/)
})

test('a files list that leaves the declarations out fails', () => {
  const { status, output } = workspace((_, pkg) => {
    pkg.files = ['dist/index.js', 'dist/escaping.js']
  })
  assert.equal(status, 1, output)
  assert.match(output, /FAIL @satellite\/escaping/)
  assert.match(output, /exports\["\."\]\["types"\]: dist\/index\.d\.ts exists but is not in the package/)
})

test('a files list that leaves out a module another one imports fails', () => {
  const { status, output } = workspace((_, pkg) => {
    pkg.files = ['dist', '!dist/escaping.js']
  })
  assert.equal(status, 1, output)
  assert.match(output, /dist\/index\.js imports \.\/escaping\.js, which is not in the package/)
  assert.doesNotMatch(output, /index\.d\.ts imports/) // the declarations still have theirs
})

test('a missing build output fails', () => {
  const { status, output } = workspace((dir) => rmSync(join(dir, 'dist'), { recursive: true }))
  assert.equal(status, 1, output)
  assert.match(output, /exports\["\."\]\["default"\]: dist\/index\.js does not exist \(not built\?\)/)
})

test("build state (tsc -b's .tsbuildinfo) in the package fails", () => {
  const { status, output } = workspace((_, pkg) => {
    pkg.files = ['dist']
  })
  assert.equal(status, 1, output)
  assert.match(output, /dist\/\.tsbuildinfo is build state and should not be in the package/)
})

test('a bin that is not in the package fails', () => {
  const { status, output } = workspace((_, pkg) => {
    pkg.bin = { escape: './dist/bin.js' }
  })
  assert.equal(status, 1, output)
  assert.match(output, /bin\.escape: dist\/bin\.js does not exist/)
})

test('entry points and relative imports are read as a resolver would', () => {
  assert.deepEqual(
    entryPoints({
      main: './a.js',
      exports: { '.': { types: './a.d.ts', default: './a.js' }, './x/*': './x/*.js' },
    }),
    [
      ['main', 'a.js'],
      ['exports["."]["types"]', 'a.d.ts'],
      ['exports["."]["default"]', 'a.js'],
      ['exports["./x/*"]', 'x/*.js'],
    ],
  )
  // code in comments and strings is not an import; `import type` and import() types are
  const code =
    "/** import a from './a.js' */ const t = `\nimport b from './b.js'\n`\nimport type { C } from './c.js'\ntype D = import('./d.js').D\nimport e from 'e'"
  assert.deepEqual(relativeImports(code), ['./c.js', './d.js'])
  assert.deepEqual(checkPackage('/nonexistent', {}, ['x.d.ts', 'y.d.ts']), [])
  assert.deepEqual(checkPackage('/nonexistent', { exports: './x/*.js' }, ['x/a.js']), [])
  assert.deepEqual(checkPackage('/nonexistent', { exports: './y/*.js' }, ['x/a.js']), [
    'exports: nothing in the package matches y/*.js',
  ])
})
