#!/usr/bin/env node
// Prints what `pnpm changeset version` would release now (package, old and new version, changesets) and
// fails when the changesets configuration or a pending changeset is invalid, or when a version would
// reach 1.0 or more: versions stay 0.x until the API reports have been stable for a while (#14).
// Reads .changeset/ with changesets' own release planner, without git (`changeset status` compares with
// the base branch, which a CI checkout may not have).
// Usage: node scripts/release-plan.mjs   Exit code 1 on a problem.
import { realpathSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// The planner is a dependency of @changesets/cli (the root's dev dependency), resolved from there.
const require = createRequire(realpathSync(join(root, 'node_modules/@changesets/cli/package.json')))
const getReleasePlan = require('@changesets/get-release-plan').default

let plan
try {
  plan = await getReleasePlan(root)
} catch (err) {
  console.error(`release-plan: ${err.message}`)
  process.exit(1)
}
const problems = []
const releases = plan.releases.filter((r) => r.type !== 'none')
for (const r of releases) {
  console.log(
    `${r.name}: ${r.oldVersion} -> ${r.newVersion} (${r.type}; ${r.changesets.join(', ') || 'fixed group'})`,
  )
  if (Number.parseInt(r.newVersion, 10) >= 1)
    problems.push(`${r.name} would become ${r.newVersion}: versions stay 0.x`)
}
console.log(`${plan.changesets.length} pending changeset(s), ${releases.length} package(s) to release`)
for (const p of problems) console.error(`release-plan: ${p}`)
process.exitCode = problems.length === 0 ? 0 : 1
