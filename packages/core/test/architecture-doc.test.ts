// docs/architecture.md stays true: every repository path it names exists, its package table lists each
// package's workspace dependencies as the package.json files do, and its state diagram (mermaid and plain
// text) has exactly the transitions of lifecycle.ts, which are those of docs/connection.md's table.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Status } from '@satellite/core'
import { describe, expect, it } from 'vitest'
import { TRANSITIONS } from '../src/lifecycle.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const doc = readFileSync(join(root, 'docs/architecture.md'), 'utf8')

/** Repository paths under the top-level directories the map describes, as written in `text`. */
function pathsIn(text: string): string[] {
  const out = new Set<string>()
  // Preceded by nothing path-like (so `@satellite/bench` is no path), or by `../` of a relative link.
  const re = /(?<![\w@./-])(?:\.\.\/)*((?:packages|examples|e2e|bench|scripts)\/[\w.*/-]*)/g
  for (const m of text.matchAll(re)) {
    const path = (m[1] as string).replace(/[./]+$/, '')
    if (path.includes('/')) out.add(path)
  }
  return [...out].sort()
}

/** True if `path` (relative to the repository, `*` matching within one segment) names something that exists. */
function exists(path: string): boolean {
  let candidates = [root]
  for (const segment of path.split('/')) {
    if (!segment.includes('*')) {
      candidates = candidates.map((c) => join(c, segment)).filter((c) => existsSync(c))
      continue
    }
    const re = new RegExp(`^${segment.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`)
    candidates = candidates.flatMap((c) =>
      statSync(c).isDirectory()
        ? readdirSync(c)
            .filter((name) => re.test(name))
            .map((name) => join(c, name))
        : [],
    )
  }
  return candidates.length > 0
}

/** The directories of packages/ and examples/ whose package.json is committed (all of them, outside git). */
function committedPackages(): string[] {
  let listed: string
  try {
    listed = execFileSync('git', ['ls-files', '--', 'packages/*/package.json', 'examples/*/package.json'], {
      cwd: root,
      encoding: 'utf8',
    })
  } catch {
    return ['packages', 'examples'].flatMap((base) =>
      readdirSync(join(root, base))
        .filter((name) => existsSync(join(root, base, name, 'package.json')))
        .map((name) => `${base}/${name}`),
    )
  }
  return listed
    .split('\n')
    .filter((line) => /^(packages|examples)\/[^/]+\/package\.json$/.test(line))
    .map((line) => line.slice(0, -'/package.json'.length))
}

/** The fenced block right after `<!-- marker -->`: its lines. */
function blockAfter(marker: string): string[] {
  const at = doc.indexOf(`<!-- ${marker} -->`)
  expect(at, `docs/architecture.md has <!-- ${marker} -->`).toBeGreaterThan(0)
  const open = doc.indexOf('```', at)
  const close = doc.indexOf('\n```', open + 3)
  return doc.slice(doc.indexOf('\n', open) + 1, close).split('\n')
}

type Edges = string[] // 'from -> to', sorted

function edgesOf(table: { readonly [S in Status]: readonly Status[] }): Edges {
  return Object.entries(table)
    .flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`))
    .sort()
}

/** docs/connection.md's table, read as supervisor.test.ts reads it. */
function connectionTable(): Edges {
  const text = readFileSync(join(root, 'docs/connection.md'), 'utf8')
  const start = text.indexOf('<!-- lifecycle-transitions -->')
  expect(start).toBeGreaterThan(0)
  const lines = text.slice(start).split('\n').slice(1)
  const end = lines.findIndex((l) => !l.startsWith('|'))
  const edges: string[] = []
  for (const row of lines.slice(2, end)) {
    const [, from, to] = row.split('|')
    const name = /`([a-z]+)`/.exec(from ?? '')?.[1]
    for (const m of (to ?? '').matchAll(/`([a-z]+)`/g)) edges.push(`${name} -> ${m[1]}`)
  }
  return edges.sort()
}

describe('docs/architecture.md', () => {
  it('finds the paths a text names (the extraction this test relies on)', () => {
    expect(
      pathsIn(
        'See `packages/core/src/lifecycle.ts`, [x](../packages/core/src/plugin.ts). @satellite/bench, e2e/test and packages/*/test.',
      ),
    ).toEqual([
      'e2e/test',
      'packages/*/test',
      'packages/core/src/lifecycle.ts',
      'packages/core/src/plugin.ts',
    ])
    expect(exists('packages/core/src/nope.ts')).toBe(false)
    expect(exists('packages/*/nope')).toBe(false)
    expect(exists('packages/*/test')).toBe(true)
  })

  it('names only paths that exist', () => {
    const paths = pathsIn(doc)
    expect(paths.length, 'the map names files').toBeGreaterThan(40)
    expect(paths).toContain('packages/core/src/lifecycle.ts')
    expect(paths.filter((p) => !exists(p))).toEqual([])
  })

  it("lists each package's workspace dependencies as its package.json does", () => {
    const start = doc.indexOf('## The packages')
    const rows = doc
      .slice(start)
      .split('\n')
      .filter((l) => /^\| `(packages|examples)\/|^\| `(bench|e2e)`/.test(l))
    expect(rows.map((r) => /`([^`]+)`/.exec(r)?.[1])).toContain('e2e')
    for (const row of rows) {
      const cells = row.split('|').map((c) => c.trim())
      const dir = /`([^`]+)`/.exec(cells[1] ?? '')?.[1] as string
      const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'))
      const deps = { ...pkg.dependencies, ...pkg.peerDependencies } as Record<string, string>
      const expected = Object.keys(deps)
        .filter((name) => deps[name]?.startsWith('workspace:'))
        .map((name) => name.replace(/^@satellite\//, ''))
        .sort()
      const uses = (cells[4] ?? '').replace(/\s*\(.*\)$/, '')
      const listed = uses === 'none' ? [] : uses.split(/,\s*/).sort()
      expect(listed, `${dir}: its "Uses" cell in docs/architecture.md (workspace dependencies)`).toEqual(
        expected,
      )
    }
    // Every committed package and example has its row (one being written, not yet committed, may wait).
    for (const dir of committedPackages()) {
      expect(
        rows.some((r) => r.startsWith(`| \`${dir}\``)),
        `${dir} has no row in docs/architecture.md's package table: add one (path, package, what it owns, its workspace dependencies)`,
      ).toBe(true)
    }
  })

  it("has the lifecycle's transitions in its mermaid diagram, exactly", () => {
    const lines = blockAfter('lifecycle-diagram')
    expect(lines[0]?.trim()).toBe('stateDiagram-v2')
    const edges: string[] = []
    let initial: string | undefined
    for (const line of lines.slice(1)) {
      const m = /^\s*(\[\*\]|[a-z]+)\s*-->\s*([a-z]+)\s*(?::.*)?$/.exec(line)
      expect(m, `a transition: ${line}`).not.toBeNull()
      if (m?.[1] === '[*]') initial = m[2]
      else edges.push(`${m?.[1]} -> ${m?.[2]}`)
    }
    expect(initial).toBe('idle')
    expect(edges.sort()).toEqual(edgesOf(TRANSITIONS))
  })

  it("has the lifecycle's transitions in its plain-text diagram, exactly", () => {
    const edges: string[] = []
    for (const line of blockAfter('lifecycle-text')) {
      const m = /^([a-z]+)\s+->\s+([a-z, ]+)$/.exec(line)
      expect(m, `a state and where it goes: ${line}`).not.toBeNull()
      for (const to of (m?.[2] ?? '').split(/,\s*/)) edges.push(`${m?.[1]} -> ${to}`)
    }
    expect(edges.sort()).toEqual(edgesOf(TRANSITIONS))
  })

  it('and those are the transitions of docs/connection.md', () => {
    expect(connectionTable()).toEqual(edgesOf(TRANSITIONS))
  })
})
