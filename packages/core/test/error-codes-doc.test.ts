// docs/errors.md lists every error code the SDK can raise: core's in "Error codes" (checked against
// ErrorCodes), every other package's in "Plugin error codes" (checked against the SAT_ERR_* string
// literals of packages/*/src, so a new code in a plugin fails here until it is documented).

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

function pluginCodes(): Map<string, string> {
  const found = new Map<string, string>()
  for (const pkg of readdirSync(join(ROOT, 'packages'))) {
    if (pkg === 'core') continue
    let files: string[]
    try {
      files = sourceFiles(join(ROOT, 'packages', pkg, 'src'))
    } catch {
      continue
    }
    for (const file of files) {
      for (const m of readFileSync(file, 'utf8').matchAll(/'(SAT_ERR_[A-Z_]+)'/g)) {
        const code = m[1] as string
        if (!found.has(code)) found.set(code, `packages/${pkg}`)
      }
    }
  }
  return found
}

describe('docs/errors.md', () => {
  it('lists exactly core’s ErrorCodes in "Error codes"', () => {
    expect([...tableCodes(section('Error codes'))].sort()).toEqual(Object.values(ErrorCodes).sort())
  })

  it('lists every other package’s code in "Plugin error codes", and only those', () => {
    const core = new Set<string>(Object.values(ErrorCodes))
    const inSource = [...pluginCodes().keys()].filter((c) => !core.has(c)).sort()
    expect(inSource.length).toBeGreaterThan(10)
    expect([...tableCodes(section('Plugin error codes'))].sort()).toEqual(inSource)
  })
})
