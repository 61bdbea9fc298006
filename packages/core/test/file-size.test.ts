// "Files small enough to read in one sitting": no source file of the repository is over LIMIT lines,
// except those listed below with the reason (the README of their package says it too). Tests are not
// counted (a test file is a list of cases), nor generated files.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'

const ROOT = new URL('../../../', import.meta.url).pathname
const LIMIT = 520

/** Files allowed over the limit, with why. Keep it short. */
const EXCEPTIONS: Record<string, string> = {}

it(`no source file is over ${LIMIT} lines`, () => {
  const files = execFileSync(
    'git',
    [
      'ls-files',
      '--',
      'packages/*/src/**',
      'examples/*/src/**',
      'bench/src/**',
      'scripts/**',
      'e2e/setup/**',
    ],
    { cwd: ROOT, encoding: 'utf8' },
  )
    .split('\n')
    .filter((f) => /\.(ts|mts|js|mjs)$/.test(f) && !f.endsWith('.d.ts'))
  expect(files.length).toBeGreaterThan(100)
  const over = files
    .map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
    .filter(({ f, lines }) => lines > LIMIT && EXCEPTIONS[f] === undefined)
    .map(({ f, lines }) => `${f}: ${lines} lines`)
  expect(
    over,
    'split these files into modules with one concern each (or list one in EXCEPTIONS with why)',
  ).toEqual([])
  for (const f of Object.keys(EXCEPTIONS)) expect(files, `${f} is still in the repository`).toContain(f)
})
