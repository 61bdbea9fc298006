// The consumer check (scripts/check-packages): installs the packages the way users do and uses them.
//
// Builds the workspace, packs every public package with `pnpm pack` (which rewrites `workspace:`
// ranges), and then, for each installing package manager (npm, pnpm) and each supported Node (20, the
// default; 22 and 24 from scripts/node-version), in fresh projects under the system's temporary
// directory:
//   - a consumer project installs every tarball (third-party dependencies from the registry) with
//     @types/node of that Node's major, and type-checks scripts/consumer/api.ts (strict,
//     skipLibCheck false) with module/moduleResolution nodenext and with moduleResolution bundler;
//     wrong usages in it are `@ts-expect-error` lines, so they must fail to compile;
//   - it runs scripts/consumer/runtime.mjs on that Node (echo through the embedded server, an ad-hoc
//     command, checkConnection() and the installed `satellite check`), and once per package manager
//     scripts/consumer/exports.mjs (value exports declared = exported at run time, every package);
//   - create-satellite (packed) writes a project, whose @satellite/* dependencies are pointed at the
//     tarballs; it is installed, built, type-checked and tested with its own scripts, and
//     `satellite run dist/bot.js` runs its bot against the embedded server.
// Then a self-test injects faults into copies of tarballs (scripts/consumer/faults.mjs) and requires
// the same checks to fail on each. One line per check is printed (PASS/FAIL with the first error),
// then a summary; the exit code is 1 if any check failed.
//
// Native addons: better-sqlite3 (under @satellite/sqlite and @satellite/bridge) has no prebuilt
// binary here and takes ~3 min to compile per Node, so installs skip build scripts and the runtime
// test never opens a database (the modules still load: the addon is loaded on first use). The
// unit tests cover SQLite on every Node (scripts/unit-on-node).
//
// Usage: see USAGE below.
import { spawn } from 'node:child_process'
import {
  copyFileSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { FAULTS, injectFault } from './faults.mjs'

const USAGE = `usage: scripts/check-packages [options]
  --pm npm,pnpm        the installing package managers (default both)
  --node default,22,24 the Nodes (default: the running one, 22 and 24, from scripts/node-version)
  --fault NAME         inject a fault into a copy of a tarball for the whole run (it must then fail):
                       ${Object.keys(FAULTS).join(', ')}
  --no-self-test       skip the self-test (each fault injected, the check must fail on it)
  --no-build           use the packages as built (skip pnpm run build)
  --keep               keep the temporary projects and logs (kept anyway when a check fails)
Exit code 0 when every check passed, 1 otherwise, 2 for bad arguments.`

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const started = performance.now()

let args
try {
  ;({ values: args } = parseArgs({
    options: {
      pm: { type: 'string', default: 'npm,pnpm' },
      node: { type: 'string', default: 'default,22,24' },
      fault: { type: 'string' },
      'no-self-test': { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  }))
} catch (err) {
  usage(err.message)
}
if (args.help) {
  console.log(USAGE)
  process.exit(0)
}
const managers = args.pm.split(',').filter(Boolean)
for (const pm of managers) if (pm !== 'npm' && pm !== 'pnpm') usage(`--pm: npm or pnpm, not ${pm}`)
if (args.fault !== undefined && FAULTS[args.fault] === undefined) {
  usage(`--fault: one of ${Object.keys(FAULTS).join(', ')}`)
}

function usage(message) {
  console.error(`check-packages: ${message}`)
  process.exit(2)
}

// --- running things ------------------------------------------------------------------------------

/**
 * The environment of every command: the caller's, minus what a package manager running this script
 * (`pnpm check:packages`) adds: its own variables, and the workspace's node_modules/.bin on PATH.
 */
const baseEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !/^(npm_(command|execpath|node_execpath|config_user_agent|lifecycle_.*|package_.*)|pnpm_.*|INIT_CWD|NODE_OPTIONS|NODE_PATH)$/i.test(
        k,
      ),
  ),
)
baseEnv.PATH = (process.env.PATH ?? '')
  .split(':')
  .filter((p) => !p.startsWith(`${root}/`))
  .join(':')
/** The environment with `nodeDir`'s node first on PATH (for the package managers and the bins). */
const envFor = (nodeDir, extra = {}) => ({
  ...baseEnv,
  PATH: `${join(nodeDir, 'bin')}:${baseEnv.PATH}`,
  ...extra,
})

/** Runs a command; resolves with { code, output } (stdout and stderr together, also written to `log`). */
function run(command, argv, { cwd, env = baseEnv, log, timeout = 600_000 }) {
  return new Promise((resolveRun) => {
    const out = log ? createWriteStream(log, { flags: 'a' }) : undefined
    out?.write(`$ ${command} ${argv.join(' ')}   (in ${cwd})\n`)
    const child = spawn(command, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const take = (d) => {
      output += d
      out?.write(d)
    }
    child.stdout.on('data', take)
    child.stderr.on('data', take)
    const timer = setTimeout(() => {
      take(`\ncheck-packages: killed after ${timeout / 1000} s\n`)
      child.kill('SIGKILL')
    }, timeout)
    child.on('error', (err) => take(`\n${err.message}\n`))
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      out?.end(`\n(exit ${code ?? signal})\n\n`)
      resolveRun({ code: code ?? 1, output })
    })
  })
}

/**
 * The first line that says what went wrong, for the summary. Of tsc's errors, one in a declaration file
 * of a dependency comes first (it is the cause of the errors it makes in the program), with the count.
 */
function firstError(output) {
  const lines = output
    .split('\n')
    .map((l) => l.trim().replace(/\S*node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?/g, 'node_modules/'))
  const tsErrors = lines.filter((l) => /error TS\d+/.test(l))
  if (tsErrors.length > 0) {
    const first = tsErrors.find((l) => l.startsWith('node_modules/')) ?? tsErrors[0]
    return `${cut(first)}${tsErrors.length > 1 ? ` (${tsErrors.length} errors)` : ''}`
  }
  const patterns = [
    /declared but not|exported at run time but|cannot be loaded/,
    /AssertionError|SyntaxError|TypeError|Error \[|Error:/,
    /ERR_PNPM|npm (error|ERR!)/,
    /FAIL|✘|×|error/i,
  ]
  for (const p of patterns) {
    const line = lines.find((l) => p.test(l))
    if (line) return cut(line)
  }
  return lines.filter(Boolean).at(-1) ?? '(no output)'
}

const cut = (line) => (line.length > 300 ? `${line.slice(0, 300)}…` : line)

// --- results -------------------------------------------------------------------------------------

const results = []
/**
 * Records one check's outcome in `ctx.sink` (default: the summary) and prints its line at once,
 * unless `ctx.silent` (the self-test's checks, which are expected to fail).
 */
function report(ctx, check, ok, detail = '', seconds = 0) {
  const r = { pm: ctx.pm, node: ctx.node, check, ok, detail, seconds }
  ;(ctx.sink ?? results).push(r)
  if (!ctx.silent) console.log(line(r))
  return ok
}
const line = (r) =>
  `${r.ok ? 'PASS' : 'FAIL'}  ${r.pm.padEnd(5)} ${`node ${r.node}`.padEnd(13)} ${r.check.padEnd(32)} ${`${r.seconds.toFixed(1)} s`.padStart(7)}${r.detail ? `  ${r.detail}` : ''}`

/** Runs a step and reports it; resolves with { ok, output }. */
async function step(ctx, check, command, argv, options = {}) {
  const t = performance.now()
  const { code, output } = await run(command, argv, { log: ctx.log, ...options })
  const ok = code === 0
  return { ok: report(ctx, check, ok, ok ? '' : firstError(output), (performance.now() - t) / 1000), output }
}

// --- build and pack ------------------------------------------------------------------------------

const work = mkdtempSync(join(tmpdir(), 'satellite-check-'))
const logs = join(work, 'logs')
mkdirSync(logs)
console.log(`check-packages: working in ${work}`)

async function buildAndPack() {
  const ctx = { pm: 'pnpm', node: process.versions.node, log: join(logs, 'build.log') }
  if (!args['no-build']) {
    const built = await step(ctx, 'build', 'pnpm', ['run', 'build'], { cwd: root })
    // create-satellite until the root tsconfig.json references it (a no-op once it does).
    const builtCreate = await step(
      ctx,
      'build create-satellite',
      'pnpm',
      ['exec', 'tsc', '-b', 'packages/create-satellite'],
      {
        cwd: root,
      },
    )
    if (!built.ok || !builtCreate.ok) return undefined
  }
  const tarballs = new Map() // package name → tarball path
  const versions = new Map()
  const entries = []
  const dir = join(work, 'tarballs')
  const t = performance.now()
  const failures = []
  for (const entry of readdirSync(join(root, 'packages')).sort()) {
    const pkgDir = join(root, 'packages', entry)
    let manifest
    try {
      manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'))
    } catch {
      continue
    }
    if (manifest.private) continue
    const { code, output } = await run('pnpm', ['pack', '--pack-destination', dir], {
      cwd: pkgDir,
      log: ctx.log,
    })
    const file = readdirSync(dir).find(
      (f) => f === `${manifest.name.replace('@', '').replace('/', '-')}-${manifest.version}.tgz`,
    )
    if (code !== 0 || file === undefined) {
      failures.push(`${manifest.name}: ${firstError(output)}`)
      continue
    }
    const packed = join(dir, file)
    const { output: packedManifest } = await run('tar', ['xzOf', packed, 'package/package.json'], {
      cwd: dir,
    })
    if (packedManifest.includes('workspace:'))
      failures.push(`${manifest.name}: a workspace: range is left in the packed package.json`)
    tarballs.set(manifest.name, packed)
    versions.set(manifest.name, manifest.version)
    // Its entry points: `name` and every subpath of `exports` (`@satellite/core/internal`).
    const subpaths = Object.keys(JSON.parse(packedManifest).exports ?? { '.': '' })
    for (const sub of subpaths.filter((k) => k !== './package.json' && !k.includes('*'))) {
      entries.push(sub === '.' ? manifest.name : `${manifest.name}${sub.slice(1)}`)
    }
  }
  const ok = failures.length === 0 && tarballs.size > 0
  report(ctx, `pack (${tarballs.size} packages)`, ok, failures.join('; '), (performance.now() - t) / 1000)
  return ok ? { tarballs, versions, entries } : undefined
}

// --- the projects --------------------------------------------------------------------------------

const rootManifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const TYPESCRIPT = rootManifest.devDependencies.typescript

/** Writes the package manager's settings: every @satellite/* package from its tarball, no build scripts. */
function pointAtTarballs(dir, pm, manifest, tarballs) {
  const satellite = [...tarballs].filter(([name]) => name.startsWith('@satellite/'))
  for (const field of ['dependencies', 'devDependencies']) {
    for (const name of Object.keys(manifest[field] ?? {})) {
      if (tarballs.has(name)) manifest[field][name] = `file:${tarballs.get(name)}`
    }
  }
  if (pm === 'npm') {
    // Dependencies between the packages (`^0.1.0`) resolve to the tarballs, never to the registry.
    manifest.overrides = Object.fromEntries(satellite.map(([name, file]) => [name, `file:${file}`]))
  }
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`)
  if (pm === 'pnpm') {
    const overrides = satellite.map(([name, file]) => `  "${name}": "file:${file}"`).join('\n')
    writeFileSync(
      join(dir, 'pnpm-workspace.yaml'),
      `overrides:\n${overrides}\nallowBuilds:\n  better-sqlite3: false\n`,
    )
  }
}

/** Installs with the default Node. */
async function install(ctx, dir, check) {
  const argv =
    ctx.pm === 'npm'
      ? ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']
      : ['install', '--prefer-offline', '--reporter=append-only']
  const result = await step(ctx, check, ctx.pm, argv, { cwd: dir })
  if (!result.ok) return false
  // No @satellite/* package may come from a registry (a name taken there would hide a missing tarball).
  const lock = readFileSync(join(dir, ctx.pm === 'npm' ? 'package-lock.json' : 'pnpm-lock.yaml'), 'utf8')
  const fromRegistry =
    ctx.pm === 'npm'
      ? lock.match(/"resolved": "https?:[^"]*\/@satellite\/[^"]*"/)
      : lock.match(/^ {2}'?@satellite\/[a-z-]+@\d[^:]*'?:/m)
  if (fromRegistry) return report(ctx, `${check}: no registry copy`, false, fromRegistry[0])
  return true
}

function tsconfig(moduleKind, resolution) {
  return `${JSON.stringify(
    {
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        module: moduleKind,
        moduleResolution: resolution,
        target: 'es2023',
        lib: ['es2023'],
        types: ['node'],
        noEmit: true,
      },
      files: ['api.ts'],
    },
    null,
    2,
  )}\n`
}

/** The consumer project for one package manager and Node: install, type-check, run. */
async function consumer(ctx, packed, { runExports = false, label = '', checks } = {}) {
  const dir = join(work, `${ctx.pm}-node${ctx.major}${ctx.fault ? `-fault-${ctx.fault}` : ''}`, 'consumer')
  mkdirSync(dir, { recursive: true })
  const names = [...packed.tarballs.keys()].filter((n) => n.startsWith('@satellite/'))
  const entries = packed.entries.filter((e) => names.some((n) => e === n || e.startsWith(`${n}/`)))
  const manifest = {
    name: 'satellite-consumer',
    private: true,
    type: 'module',
    dependencies: Object.fromEntries(names.map((n) => [n, packed.versions.get(n)])),
    devDependencies: { '@types/node': `^${ctx.major}`, typescript: TYPESCRIPT },
  }
  pointAtTarballs(dir, ctx.pm, manifest, packed.tarballs)
  for (const f of ['api.ts', 'runtime.mjs', 'exports.mjs']) copyFileSync(join(here, f), join(dir, f))
  writeFileSync(join(dir, 'tsconfig.nodenext.json'), tsconfig('nodenext', 'nodenext'))
  writeFileSync(join(dir, 'tsconfig.bundler.json'), tsconfig('esnext', 'bundler'))
  const outcome = {}
  if (!(await install(ctx, dir, `install consumer${label}`))) return outcome
  const env = envFor(ctx.nodeDir, {
    CHECK_NODE_VERSION: `v${ctx.node}`,
    CHECK_PACKAGES: JSON.stringify(entries),
  })
  const node = join(ctx.nodeDir, 'bin', 'node')
  const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc')
  const want = (check) => checks === undefined || checks.includes(check)
  if (want('types nodenext')) {
    outcome['types nodenext'] = await step(
      ctx,
      `types nodenext${label}`,
      node,
      [tsc, '-p', 'tsconfig.nodenext.json'],
      { cwd: dir, env },
    )
  }
  if (want('types bundler')) {
    outcome['types bundler'] = await step(
      ctx,
      `types bundler${label}`,
      node,
      [tsc, '-p', 'tsconfig.bundler.json'],
      { cwd: dir, env },
    )
  }
  if (want('runtime'))
    outcome.runtime = await step(ctx, `runtime${label}`, node, ['runtime.mjs'], { cwd: dir, env })
  if (runExports && want('exports')) {
    outcome.exports = await step(ctx, `exports${label}`, node, ['exports.mjs', ...entries], { cwd: dir, env })
  }
  return outcome
}

/** A project written by the packed create-satellite: generate, install, build, type-check, test, run. */
async function generated(ctx, packed) {
  const base = join(work, `${ctx.pm}-node${ctx.major}`)
  mkdirSync(base, { recursive: true })
  const env = envFor(ctx.nodeDir)
  const create = packed.tarballs.get('create-satellite')
  if (create === undefined) return report(ctx, 'create-satellite', false, 'create-satellite was not packed')
  // What `npm create satellite@latest my-bot` / `pnpm create satellite my-bot` run, from the tarball.
  const argv =
    ctx.pm === 'npm'
      ? ['exec', '--yes', `--package=${create}`, '--', 'create-satellite', 'my-bot']
      : ['dlx', create, 'my-bot']
  const created = await step(ctx, 'create-satellite my-bot', ctx.pm, argv, { cwd: base, env })
  if (!created.ok) return false
  const dir = join(base, 'my-bot')
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  // The ranges written are those of the packages create-satellite was packed with.
  const wrong = ['@satellite/core', '@satellite/cli', '@satellite/testing']
    .map((n) => [
      n,
      { ...manifest.dependencies, ...manifest.devDependencies }[n],
      `^${packed.versions.get(n)}`,
    ])
    .filter(([, got, want]) => got !== want)
    .map(([n, got, want]) => `${n}: ${got}, expected ${want}`)
  if (!report(ctx, 'generated: released versions', wrong.length === 0, wrong.join('; '))) return false
  pointAtTarballs(dir, ctx.pm, manifest, packed.tarballs)
  copyFileSync(join(here, 'run-generated.mjs'), join(dir, 'run-generated.mjs'))
  if (!(await install(ctx, dir, 'generated: install'))) return false
  for (const script of ['build', 'typecheck', 'test']) {
    const r = await step(ctx, `generated: ${ctx.pm} run ${script}`, ctx.pm, ['run', script], {
      cwd: dir,
      env,
    })
    if (!r.ok) return false
  }
  const runEnv = envFor(ctx.nodeDir, { CHECK_NODE_VERSION: `v${ctx.node}`, CHECK_DOMAIN: 'my-bot.localhost' })
  return (
    await step(ctx, 'generated: satellite run', join(ctx.nodeDir, 'bin', 'node'), ['run-generated.mjs'], {
      cwd: dir,
      env: runEnv,
    })
  ).ok
}

// --- the self-test: the check must fail on injected faults ---------------------------------------

async function selfTest(ctx, packed, fault) {
  const spec = FAULTS[fault]
  const faulty = new Map(packed.tarballs)
  faulty.set(spec.pkg, injectFault(fault, packed.tarballs.get(spec.pkg), join(work, 'faults')))
  const checks = Object.keys(spec.expect)
  // The checks run silently; one line says whether the fault made each expected check fail as described.
  const quiet = { ...ctx, fault, silent: true, sink: [], log: join(logs, `self-test-${fault}.log`) }
  const t = performance.now()
  const outcome = await consumer(
    quiet,
    { ...packed, tarballs: faulty },
    { label: ` [${fault}]`, runExports: true, checks },
  )
  const missed = checks.filter(
    (c) => outcome[c] === undefined || outcome[c].ok || !spec.expect[c].test(outcome[c].output),
  )
  const detail =
    missed.length === 0
      ? `failed as it must (${checks.join(', ')}): ${firstError(outcome[checks[0]].output)}`
      : `NOT detected by ${missed.join(', ')} (${spec.what}); log: ${quiet.log}`
  return report(ctx, `self-test: ${fault}`, missed.length === 0, detail, (performance.now() - t) / 1000)
}

// --- main ----------------------------------------------------------------------------------------

async function nodes() {
  const list = []
  const running = process.versions.node.split('.')[0]
  for (const wanted of new Set(
    args.node
      .split(',')
      .filter(Boolean)
      .map((m) => (m === 'default' ? running : m)),
  )) {
    if (wanted === running) {
      list.push({ major: running, node: process.versions.node, nodeDir: dirname(dirname(process.execPath)) })
      continue
    }
    const { code, output } = await run(join(root, 'scripts', 'node-version'), [wanted], { cwd: root })
    if (code !== 0) {
      report({ pm: '-', node: wanted }, 'scripts/node-version', false, firstError(output))
      continue
    }
    const nodeDir = output.trim().split('\n').at(-1)
    const { output: version } = await run(join(nodeDir, 'bin', 'node'), ['-p', 'process.versions.node'], {
      cwd: root,
    })
    list.push({ major: wanted, node: version.trim(), nodeDir })
  }
  return list
}

let packed = await buildAndPack()
const nodeList = await nodes()
if (packed !== undefined) {
  if (args.fault !== undefined) {
    const spec = FAULTS[args.fault]
    console.log(`check-packages: injecting fault ${args.fault}: ${spec.what}`)
    const tarballs = new Map(packed.tarballs)
    tarballs.set(spec.pkg, injectFault(args.fault, tarballs.get(spec.pkg), join(work, 'faults')))
    packed = { ...packed, tarballs }
  }
  // One lane per package manager, run side by side; inside a lane, one Node after the other. The
  // self-test runs at the end of the pnpm lane (its installs take a second; npm's take ten).
  const selfTestPm =
    args['no-self-test'] || args.fault !== undefined
      ? undefined
      : managers.includes('pnpm')
        ? 'pnpm'
        : managers[0]
  const lanes = managers.map(async (pm) => {
    for (const [i, n] of nodeList.entries()) {
      const ctx = { pm, ...n, log: join(logs, `${pm}-node${n.major}.log`) }
      await consumer(ctx, packed, { runExports: i === 0 })
      await generated(ctx, packed)
    }
    if (pm === selfTestPm && nodeList.length > 0) {
      for (const fault of Object.keys(FAULTS)) await selfTest({ pm, ...nodeList[0] }, packed, fault)
    }
  })
  await Promise.all(lanes)
}

const failed = results.filter((r) => !r.ok)
const total = (performance.now() - started) / 1000
console.log(
  `\n=== check-packages: ${results.length - failed.length} passed, ${failed.length} failed, ${total.toFixed(0)} s ===`,
)
for (const r of failed) console.log(line(r))
if (failed.length > 0 || args.keep) console.log(`projects and logs kept in ${work}`)
else rmSync(work, { recursive: true, force: true })
process.exitCode = failed.length > 0 || packed === undefined ? 1 : 0
