import { relative } from 'node:path'
import { parseArgs } from 'node:util'
import { CreateError, createProject } from './create.js'
import type { Versions } from './templates.js'

export const USAGE = `usage: npm create satellite@latest <directory>
       pnpm create satellite <directory>

Writes a new Satellite component project into <directory> (created if missing; it must be empty):
  package.json          @satellite/core and @satellite/cli, with @satellite/testing, TypeScript and vitest for development
  src/bot.ts            a component module: \`satellite run dist/bot.js\` runs it
  test/bot.test.ts      its test on the embedded XMPP server of @satellite/testing
  tsconfig.json         strict TypeScript (nodenext); tsconfig.build.json writes dist/
  .env.example          XMPP_SERVICE, XMPP_DOMAIN, XMPP_SECRET
  README.md             how to run it, and the lines to declare it on Prosody and ejabberd
Nothing is installed.

options:
  -h, --help            print this help`

/** Where the command writes and which package manager started it. */
export interface CreateIo {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
  cwd: string
  /** `npm_config_user_agent` of the package manager that ran the command, if any. */
  userAgent?: string | undefined
  /** Dependency ranges to write (default: those create-satellite was released with). */
  versions?: Versions
}

/**
 * Runs `create-satellite` with its arguments and resolves with the exit code: 0 created (or
 * `--help`), 1 not created (a non-empty directory, an unusable name), 2 bad arguments. Errors are
 * written to `stderr`, never thrown.
 *
 * @example
 * ```ts
 * process.exitCode = await runCreate(process.argv.slice(2))
 * ```
 */
export async function runCreate(
  argv: readonly string[],
  io: CreateIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    userAgent: process.env.npm_config_user_agent,
  },
): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    io.stderr.write(`create-satellite: ${(err as Error).message}\n\n${USAGE}\n`)
    return 2
  }
  if (parsed.help) {
    io.stdout.write(`${USAGE}\n`)
    return 0
  }
  const [directory, ...extra] = parsed.positionals
  if (directory === undefined || extra.length > 0) {
    io.stderr.write(
      `create-satellite: ${directory === undefined ? 'name the directory to create, e.g. my-bot' : `one directory only (got ${parsed.positionals.length})`}\n\n${USAGE}\n`,
    )
    return 2
  }
  try {
    const project = createProject({
      directory,
      cwd: io.cwd,
      ...(io.versions ? { versions: io.versions } : {}),
    })
    const pm = packageManager(io.userAgent)
    const where = relative(io.cwd, project.directory) || '.'
    const cd = where === '.' ? '' : `  cd ${where.includes(' ') ? JSON.stringify(where) : where}\n`
    io.stdout.write(
      `Created ${project.name} in ${project.directory}: a Satellite component for ${project.domain}.\n\n` +
        `Next:\n${cd}  ${pm} install\n  ${pm} test\n\n` +
        `Then declare the component on your XMPP server (README.md has the lines for Prosody and ejabberd),\n` +
        `copy .env.example to .env with the same secret, and run it: ${pm} run build && ${pm} start\n`,
    )
    return 0
  } catch (err) {
    if (err instanceof CreateError) {
      io.stderr.write(`create-satellite: ${err.message}\n`)
      return 1
    }
    throw err
  }
}

function parse(argv: readonly string[]) {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h', default: false } },
  })
  return { help: values.help, positionals }
}

/** `pnpm` or `npm`, from the user agent of the package manager that ran the command. */
function packageManager(userAgent: string | undefined): string {
  const name = userAgent?.split('/')[0]
  return name === 'pnpm' || name === 'yarn' ? name : 'npm'
}
