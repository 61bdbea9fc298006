// Test support (not published): the error tables of docs/*.md and packages/*/README.md, read so
// that each package's test/error-tables.test.ts can run every row against the code.
//
// A table is marked by an HTML comment on the line before it:
//
//   <!-- error-table: @satellite/adhoc -->   the last column is that package's answer
//   <!-- error-table -->                     every column after the first is headed by a package
//
// The first column is the case (the key of a scenario in the package's test, compared exactly);
// an answer cell starts with the condition in backticks, optionally `+` and the application
// condition element (`` `bad-request` + `<bad-payload/>` ``); anything after that is prose. A cell
// `—` (or empty) says the case does not apply to that package.
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')

/** One answer a table promises. */
export interface ErrorCell {
  /** The file, relative to the repository root, and the line of the row. */
  where: string
  /** `@satellite/<name>`. */
  pkg: string
  /** The first cell of the row. */
  case: string
  /** The answer as written. */
  text: string
  /** Parsed: the condition and the application condition element's name, if any. */
  condition: string
  application: string | undefined
}

/** The files an error table may be in. */
export function documentationFiles(): string[] {
  const docs = readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join(ROOT, 'docs', f))
  const readmes = readdirSync(join(ROOT, 'packages'))
    .map((p) => join(ROOT, 'packages', p, 'README.md'))
    .filter((f) => {
      try {
        readFileSync(f)
        return true
      } catch {
        return false
      }
    })
  return [...docs, ...readmes]
}

function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '')
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'))
}

const ANSWER = /^`([a-z-]+)`(?:\s*\+\s*`<([a-z-]+)\/>`)?/

/** Every answer of every marked table, or throws on a malformed table. */
export function readErrorTables(): ErrorCell[] {
  const out: ErrorCell[] = []
  for (const file of documentationFiles()) {
    const lines = readFileSync(file, 'utf8').split('\n')
    const rel = relative(ROOT, file)
    lines.forEach((line, i) => {
      const marker = /^<!-- error-table(?::\s*(@satellite\/[a-z-]+))?\s*-->$/.exec(line.trim())
      if (marker === null) return
      let start = i + 1
      while (lines[start]?.trim() === '') start++
      const header = lines[start]
      if (header === undefined || !header.startsWith('|') || !/^\|[\s|:-]+\|$/.test(lines[start + 1] ?? '')) {
        throw new Error(`${rel}:${i + 1}: an error-table marker must be followed by a table`)
      }
      const heads = cells(header)
      const packages =
        marker[1] !== undefined ? heads.map((_, k) => (k === heads.length - 1 ? marker[1] : '')) : heads
      for (const [k, head] of packages.entries()) {
        if (k > 0 && !/^@satellite\/[a-z-]+$/.test(head ?? '')) {
          throw new Error(`${rel}:${start + 1}: column ${k + 1} is not headed by a package ('${head}')`)
        }
      }
      for (let r = start + 2; lines[r]?.startsWith('|'); r++) {
        const row = cells(lines[r] as string)
        const key = row[0] ?? ''
        for (let k = 1; k < row.length; k++) {
          const pkg = packages[k]
          const text = row[k] ?? ''
          if (!pkg || text === '' || text === '—') continue
          const m = ANSWER.exec(text)
          if (m === null) throw new Error(`${rel}:${r + 1}: '${text}' does not start with a \`condition\``)
          out.push({
            where: `${rel}:${r + 1}`,
            pkg,
            case: key,
            text,
            condition: m[1] as string,
            application: m[2],
          })
        }
      }
    })
  }
  return out
}

/** What a scenario observed: an error answer (`StanzaErrorResponse`) or a thrown `StanzaError`. */
export interface Observed {
  condition?: string | undefined
  application?: unknown
}

function shown(condition: string | undefined, application: string | undefined): string {
  return application === undefined ? `${condition}` : `${condition} + <${application}/>`
}

function applicationName(application: unknown): string | undefined {
  if (typeof application === 'string') return application
  if (typeof application === 'object' && application !== null && 'name' in application) {
    return String((application as { name: unknown }).name)
  }
  return undefined
}

/**
 * Runs the scenario of every row that names `pkg` and compares what it observed with the table.
 * Every row needs a scenario, and every scenario a row.
 */
export async function checkErrorTables(
  pkg: string,
  scenarios: Record<string, () => Promise<Observed>>,
): Promise<ErrorCell[]> {
  const rows = readErrorTables().filter((c) => c.pkg === pkg)
  expect(rows.length, `no error table names ${pkg}`).toBeGreaterThan(0)
  const missing = rows.filter((r) => !Object.hasOwn(scenarios, r.case)).map((r) => `${r.where}: ${r.case}`)
  expect(missing, 'rows without a scenario in the test (the case text must match exactly)').toEqual([])
  const unused = Object.keys(scenarios).filter((k) => !rows.some((r) => r.case === k))
  expect(unused, 'scenarios without a row in any table').toEqual([])
  const mismatches: string[] = []
  for (const row of rows) {
    const observed = await (scenarios[row.case] as () => Promise<Observed>)()
    const got = shown(observed.condition, applicationName(observed.application))
    const want = shown(row.condition, row.application)
    if (got !== want)
      mismatches.push(`${row.where}: "${row.case}": the table says ${want}, the code answers ${got}`)
  }
  expect(mismatches).toEqual([])
  return rows
}
