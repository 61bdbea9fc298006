// docs/errors.md lists every error code the SDK can raise: core's in "Error codes" (checked against
// ErrorCodes), every other package's and every example program's in "Plugin error codes" (checked
// against the SAT_ERR_* string literals of packages/*/src and examples/*/src, so a new code in a
// plugin or an example fails here until it is documented).

import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ErrorCodes } from '@satellite/core'
import { describe, expect, it } from 'vitest'

const ROOT = new URL('../../../', import.meta.url).pathname
const page = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8')

function section(title: string): string {
  const start = page.indexOf(`\n## ${title}\n`)
  expect(start, `docs/errors.md has a "## ${title}" section`).toBeGreaterThanOrEqual(0)
  const end = page.indexOf('\n## ', start + 1)
  return page.slice(start, end < 0 ? undefined : end)
}

/** Codes in the first column of a section's tables. */
function tableCodes(text: string): Set<string> {
  return new Set([...text.matchAll(/^\| `(SAT_ERR_[A-Z_]+)`/gm)].map((m) => m[1] as string))
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

// Each SAT_ERR_* string literal of packages/*/src (but core's) and examples/*/src, with where it is first seen.
function pluginCodes(): Map<string, string> {
  const found = new Map<string, string>()
  for (const top of ['packages', 'examples']) {
    for (const dir of readdirSync(join(ROOT, top))) {
      if (top === 'packages' && dir === 'core') continue
      let files: string[]
      try {
        files = sourceFiles(join(ROOT, top, dir, 'src'))
      } catch {
        continue
      }
      for (const file of files) {
        for (const m of readFileSync(file, 'utf8').matchAll(/'(SAT_ERR_[A-Z_]+)'/g)) {
          const code = m[1] as string
          if (!found.has(code)) found.set(code, `${top}/${dir}`)
        }
      }
    }
  }
  return found
}

describe('docs/errors.md', () => {
  it('lists exactly core’s ErrorCodes in "Error codes"', () => {
    expect([...tableCodes(section('Error codes'))].sort()).toEqual(Object.values(ErrorCodes).sort())
  })

  it('lists every other package’s and example’s code in "Plugin error codes", and only those', () => {
    const core = new Set<string>(Object.values(ErrorCodes))
    const codes = pluginCodes()
    const inSource = [...codes.keys()].filter((c) => !core.has(c)).sort()
    expect(inSource.length).toBeGreaterThan(10)
    // The examples are scanned too (the IRC gateway's catalogue is in examples/irc-gateway/src).
    expect([...codes.values()].some((where) => where.startsWith('examples/'))).toBe(true)
    expect([...tableCodes(section('Plugin error codes'))].sort()).toEqual(inSource)
  })
})
