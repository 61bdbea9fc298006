import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import {
  DEPENDENCIES,
  DEV_DEPENDENCIES,
  type ProjectFiles,
  projectFiles,
  type Versions,
} from './templates.js'

/** Codes of {@link CreateError}. */
export type CreateErrorCode =
  /** The target directory exists and holds files, or is not a directory. */
  | 'SAT_ERR_CREATE_NOT_EMPTY'
  /** No valid npm package name can be made from the directory's name. */
  | 'SAT_ERR_CREATE_NAME'
  /** create-satellite's own package.json lacks the version of a dependency it writes. */
  | 'SAT_ERR_CREATE_VERSIONS'

/** Why a project could not be created; `code` says which case, `message` says what to do. */
export class CreateError extends Error {
  override readonly name = 'CreateError'
  readonly code: CreateErrorCode
  constructor(code: CreateErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

/** Options of {@link createProject}. */
export interface CreateOptions {
  /** The directory to create the project in (made if missing; it must be empty). Relative to `cwd`. */
  directory: string
  /** Base of a relative `directory` (default `process.cwd()`). */
  cwd?: string
  /** Ranges of the dependencies (default: {@link releasedVersions}, those create-satellite was released with). */
  versions?: Versions
}

/** What {@link createProject} wrote. */
export interface CreatedProject {
  /** Absolute path of the project. */
  directory: string
  /** Its package name. */
  name: string
  /** Its component domain for local development. */
  domain: string
  /** The files written, relative to `directory`. */
  files: string[]
}

/**
 * Writes a new project into an empty (or missing) directory: a component module that `satellite run`
 * runs, its vitest test on `@satellite/testing`, strict TypeScript settings, `.env.example`,
 * `.gitignore` and a README with the server configuration for Prosody and ejabberd. Nothing is
 * installed. Throws a {@link CreateError} when the directory is not empty or its name cannot be a
 * package name.
 *
 * @example
 * ```ts
 * const project = createProject({ directory: 'my-bot' })
 * console.log(project.domain) // my-bot.localhost
 * ```
 */
export function createProject(options: CreateOptions): CreatedProject {
  const directory = resolve(options.cwd ?? process.cwd(), options.directory)
  const name = packageName(basename(directory))
  const domain = `${domainLabel(name)}.localhost`
  assertEmpty(directory)
  const files: ProjectFiles = projectFiles(
    { name, domain },
    options.versions ?? releasedVersions(),
    ownManifest().version,
  )
  mkdirSync(directory, { recursive: true })
  for (const [path, content] of Object.entries(files)) {
    const target = join(directory, path)
    mkdirSync(dirname(target), { recursive: true })
    writeFileSync(target, content, { flag: 'wx' }) // never overwrite a file that appeared meanwhile
  }
  return { directory, name, domain, files: Object.keys(files) }
}

/**
 * An npm package name made from a directory name: lower case without accents, characters other than letters,
 * digits, `-`, `.`, `_` and `~` replaced by `-`. Throws `SAT_ERR_CREATE_NAME` when nothing usable is left.
 *
 * @example
 * ```ts
 * packageName('My Bot') // 'my-bot'
 * ```
 */
export function packageName(directoryName: string): string {
  const name = directoryName
    .normalize('NFKD')
    .replace(/\p{Mn}+/gu, '') // é → e
    .toLowerCase()
    .replace(/[^a-z0-9._~-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-._~]+/, '')
    .replace(/[-.]+$/, '')
    .slice(0, 214)
  if (name === '' || name === 'node_modules' || name === 'favicon.ico') {
    throw new CreateError(
      'SAT_ERR_CREATE_NAME',
      `cannot make a package name of the directory name ${JSON.stringify(directoryName)}: choose a directory named with letters and digits, such as my-bot`,
    )
  }
  return name
}

/** The DNS label made from a package name (`my.bot_1` → `my-bot-1`), at most 63 characters. */
function domainLabel(name: string): string {
  const label = name
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .slice(0, 63)
    .replace(/^-+|-+$/g, '')
  return label === '' ? 'bot' : label
}

function assertEmpty(directory: string): void {
  let entries: string[]
  try {
    if (!statSync(directory).isDirectory()) {
      throw new CreateError('SAT_ERR_CREATE_NOT_EMPTY', `${directory} exists and is not a directory`)
    }
    entries = readdirSync(directory)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if (entries.length > 0) {
    throw new CreateError(
      'SAT_ERR_CREATE_NOT_EMPTY',
      `${directory} is not empty (${entries.length} ${entries.length === 1 ? 'entry' : 'entries'}, e.g. ${entries.sort()[0]}): choose a new directory, nothing was written`,
    )
  }
}

interface Manifest {
  name: string
  version: string
  devDependencies?: Record<string, string>
}

function ownManifest(): Manifest {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Manifest
}

/**
 * The ranges a new project gets: `^` and the version of each dependency in create-satellite's own
 * package.json (its `devDependencies`, whose `workspace:` ranges `pnpm pack` replaces by the versions
 * released together). Run from the Satellite repository, a `workspace:` range is read from the
 * package the workspace links.
 *
 * @example
 * ```ts
 * releasedVersions()['@satellite/core'] // '^0.1.0'
 * ```
 */
export function releasedVersions(): Versions {
  return rangesFrom(ownManifest().devDependencies ?? {}, (name) => {
    const linked = new URL(`../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(linked, 'utf8')) as Manifest).version
  })
}

/**
 * The ranges of {@link Versions} from create-satellite's `devDependencies`: a version becomes `^version`,
 * a range is kept, and a `workspace:` range becomes `^` and the version `linkedVersion` reads.
 */
export function rangesFrom(
  declared: Readonly<Record<string, string>>,
  linkedVersion: (name: keyof Versions) => string,
): Versions {
  const range = (name: keyof Versions): string => {
    const spec = declared[name]
    if (spec === undefined) {
      throw new CreateError(
        'SAT_ERR_CREATE_VERSIONS',
        `create-satellite's package.json has no version for ${name} (a broken release: report it)`,
      )
    }
    if (spec.startsWith('workspace:')) return `^${linkedVersion(name)}`
    return /^\d/.test(spec) ? `^${spec}` : spec
  }
  const names = [...DEPENDENCIES, ...DEV_DEPENDENCIES]
  return Object.fromEntries(names.map((n) => [n, range(n)])) as unknown as Versions
}
