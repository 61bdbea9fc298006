import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Component, component } from '@satellite/core'
import { createServer, xml } from '@satellite/testing'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CreateError, createProject, packageName, rangesFrom, releasedVersions } from '../src/create.js'
import { runCreate, USAGE } from '../src/main.js'
import { identifier, type Versions } from '../src/templates.js'

const VERSIONS: Versions = {
  '@satellite/cli': '^1.2.3',
  '@satellite/core': '^1.2.4',
  '@satellite/testing': '^1.2.5',
  '@types/node': '^20.19.8',
  typescript: '^5.9.3',
  vitest: '^4.1.12',
}

let tmp: string
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'create-satellite-test-'))
})
afterEach(() => rmSync(tmp, { recursive: true, force: true }))

const read = (...path: string[]) => readFileSync(join(tmp, ...path), 'utf8')

function thrown(f: () => unknown): unknown {
  try {
    f()
  } catch (err) {
    return err
  }
  throw new Error('expected an exception')
}

/** Runs the command with its output collected. */
async function run(argv: string[], userAgent?: string) {
  let stdout = ''
  let stderr = ''
  const code = await runCreate(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    cwd: tmp,
    userAgent,
    versions: VERSIONS,
  })
  return { code, stdout, stderr }
}

describe('createProject', () => {
  it('writes the project files, named after the directory', () => {
    const project = createProject({ directory: 'My Bot', cwd: tmp, versions: VERSIONS })
    expect(project).toEqual({
      directory: join(tmp, 'My Bot'),
      name: 'my-bot',
      domain: 'my-bot.localhost',
      files: expect.any(Array),
    })
    const expected = [
      '.env.example',
      '.gitignore',
      'README.md',
      'package.json',
      'src/bot.ts',
      'test/bot.test.ts',
      'tsconfig.build.json',
      'tsconfig.json',
    ]
    expect([...project.files].sort()).toEqual(expected)
    const onDisk = readdirSync(join(tmp, 'My Bot'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name).slice(join(tmp, 'My Bot').length + 1))
      .sort()
    expect(onDisk).toEqual(expected)
  })

  it('writes a package.json with the Satellite dependencies, the scripts and ESM', () => {
    createProject({ directory: 'my-bot', cwd: tmp, versions: VERSIONS })
    const manifest = JSON.parse(read('my-bot', 'package.json'))
    expect(manifest).toMatchObject({
      name: 'my-bot',
      private: true,
      type: 'module',
      engines: { node: '>=20.19' },
      scripts: {
        build: 'tsc -p tsconfig.build.json',
        typecheck: 'tsc',
        test: 'vitest run',
        start: 'satellite run dist/bot.js',
      },
      dependencies: { '@satellite/cli': '^1.2.3', '@satellite/core': '^1.2.4' },
      devDependencies: {
        '@satellite/testing': '^1.2.5',
        '@types/node': '^20.19.8',
        typescript: '^5.9.3',
        vitest: '^4.1.12',
      },
    })
  })

  it('writes strict nodenext TypeScript settings; the build compiles src/ to dist/', () => {
    createProject({ directory: 'my-bot', cwd: tmp, versions: VERSIONS })
    const tsconfig = JSON.parse(read('my-bot', 'tsconfig.json'))
    expect(tsconfig.compilerOptions).toMatchObject({
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
    })
    expect(tsconfig.compilerOptions.skipLibCheck).toBeUndefined() // declarations are checked too
    expect(tsconfig.include).toEqual(['src', 'test'])
    const build = JSON.parse(read('my-bot', 'tsconfig.build.json'))
    expect(build).toEqual({
      extends: './tsconfig.json',
      compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist', sourceMap: true },
      include: ['src'],
    })
  })

  it('writes the settings, the ignore list and a README with the Prosody and ejabberd lines', () => {
    createProject({ directory: 'poll', cwd: tmp, versions: VERSIONS })
    const env = read('poll', '.env.example')
    expect(env).toMatch(/^XMPP_SERVICE=xmpp:\/\/127\.0\.0\.1:5347$/m)
    expect(env).toMatch(/^XMPP_DOMAIN=poll\.localhost$/m)
    expect(env).toMatch(/^XMPP_SECRET=$/m) // no secret is made up: the user chooses one
    expect(read('poll', '.gitignore').split('\n')).toEqual(['node_modules/', 'dist/', '.env', ''])
    const readme = read('poll', 'README.md')
    expect(readme).toContain('Component "poll.localhost"\n    component_secret = "<your secret>"')
    expect(readme).toContain(
      'module: ejabberd_service\n    global_routes: false # the default (true) routes every host of this listener to whichever component connects first\n    hosts:\n      poll.localhost:\n        password: "<your secret>"',
    )
    expect(readme).toContain('npm start              # satellite run dist/bot.js')
  })

  it('refuses a directory that is not empty, writing nothing', () => {
    mkdirSync(join(tmp, 'taken'))
    writeFileSync(join(tmp, 'taken', 'notes.txt'), 'mine')
    const err = thrown(() => createProject({ directory: 'taken', cwd: tmp, versions: VERSIONS }))
    expect(err).toBeInstanceOf(CreateError)
    expect((err as CreateError).code).toBe('SAT_ERR_CREATE_NOT_EMPTY')
    expect((err as CreateError).message).toMatch(/is not empty \(1 entry, e\.g\. notes\.txt\)/)
    expect(readdirSync(join(tmp, 'taken'))).toEqual(['notes.txt'])
    expect(read('taken', 'notes.txt')).toBe('mine')
  })

  it('refuses a file in place of the directory', () => {
    writeFileSync(join(tmp, 'a-file'), '')
    expect(() => createProject({ directory: 'a-file', cwd: tmp, versions: VERSIONS })).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_CREATE_NOT_EMPTY',
        message: expect.stringMatching(/not a directory/),
      }),
    )
  })

  it('fills an existing empty directory, such as the current one', () => {
    mkdirSync(join(tmp, 'empty'))
    const project = createProject({ directory: '.', cwd: join(tmp, 'empty'), versions: VERSIONS })
    expect(project.name).toBe('empty')
    expect(existsSync(join(tmp, 'empty', 'src', 'bot.ts'))).toBe(true)
  })
})

describe('names', () => {
  it('makes npm package names and module identifiers of directory names', () => {
    expect(packageName('My Bot')).toBe('my-bot')
    expect(packageName('_poll.bot~2')).toBe('poll.bot~2')
    expect(packageName('Échecs & Co.')).toBe('echecs-co') // only what npm takes
    expect(identifier('my-bot')).toBe('myBot')
    expect(identifier('2fa.bot')).toBe('bot2faBot')
  })

  it('refuses a directory name without letters or digits', () => {
    expect(() => packageName('...')).toThrow(
      expect.objectContaining({
        code: 'SAT_ERR_CREATE_NAME',
        message: expect.stringMatching(/such as my-bot/),
      }),
    )
  })

  it('makes a DNS label of the name for the domain', () => {
    expect(createProject({ directory: 'my.bot_1', cwd: tmp, versions: VERSIONS }).domain).toBe(
      'my-bot-1.localhost',
    )
  })
})

describe('versions', () => {
  it('turns released versions into caret ranges and keeps ranges', () => {
    const declared = {
      '@satellite/cli': '0.3.0',
      '@satellite/core': '0.3.1',
      '@satellite/testing': '^0.3.2',
      '@types/node': '20.19.8',
      typescript: '5.9.3',
      vitest: '~4.1.12',
    }
    expect(rangesFrom(declared, () => 'unused')).toEqual({
      '@satellite/cli': '^0.3.0',
      '@satellite/core': '^0.3.1',
      '@satellite/testing': '^0.3.2',
      '@types/node': '^20.19.8',
      typescript: '^5.9.3',
      vitest: '~4.1.12',
    })
  })

  it('reads workspace: ranges from the linked packages (running from this repository)', () => {
    const core = JSON.parse(readFileSync(new URL('../../core/package.json', import.meta.url), 'utf8'))
    const versions = releasedVersions()
    expect(versions['@satellite/core']).toBe(`^${core.version}`)
    expect(Object.keys(versions).sort()).toEqual(Object.keys(VERSIONS).sort())
    for (const range of Object.values(versions)) expect(range).toMatch(/^\^\d+\.\d+\.\d+$/)
  })

  it('fails with SAT_ERR_CREATE_VERSIONS when a version is missing', () => {
    expect(() => rangesFrom({ '@satellite/cli': '1.0.0' }, () => '1.0.0')).toThrow(
      expect.objectContaining({ code: 'SAT_ERR_CREATE_VERSIONS' }),
    )
  })
})

describe('the command', () => {
  it('prints the usage for --help and writes nothing', async () => {
    const r = await run(['--help'])
    expect(r).toEqual({ code: 0, stdout: `${USAGE}\n`, stderr: '' })
    expect(readdirSync(tmp)).toEqual([])
    expect((await run(['-h', 'my-bot'])).code).toBe(0)
    expect(readdirSync(tmp)).toEqual([])
  })

  it('creates the project and says what to do next, with the package manager that ran it', async () => {
    const r = await run(['my-bot'], 'pnpm/12.21.0 npm/? node/v20.20.2 linux x64')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toContain(
      `Created my-bot in ${join(tmp, 'my-bot')}: a Satellite component for my-bot.localhost.`,
    )
    expect(r.stdout).toContain('  cd my-bot\n  pnpm install\n  pnpm test\n')
    expect((await run(['other'], 'npm/11.19.1 node/v20.20.2 linux x64')).stdout).toContain('  npm install\n')
    expect((await run(['third'])).stdout).toContain('  npm install\n')
  })

  it('exits 2 on bad arguments', async () => {
    for (const argv of [[], ['a', 'b'], ['--force', 'a']]) {
      const r = await run(argv)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.stderr).toContain(USAGE)
    }
    expect(readdirSync(tmp)).toEqual([])
  })

  it('exits 1 on a non-empty directory, saying so', async () => {
    mkdirSync(join(tmp, 'taken'))
    writeFileSync(join(tmp, 'taken', 'x'), '')
    const r = await run(['taken'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^create-satellite: .*taken is not empty/)
  })
})

describe('the generated bot', () => {
  it('is a component module that echoes, against the embedded server', async () => {
    createProject({ directory: 'echo', cwd: tmp, versions: VERSIONS })
    // vitest compiles the generated TypeScript; @satellite/* resolve to this repository's sources.
    const mod = (await import(pathToFileURL(join(tmp, 'echo', 'src', 'bot.ts')).href)) as {
      default: (xmpp: Component) => void
    }
    const server = await createServer({ components: { 'echo.localhost': 'test-secret' } })
    const xmpp = component({ service: server.url, domain: 'echo.localhost', secret: 'test-secret' })
    try {
      mod.default(xmpp)
      await xmpp.start()
      const alice = server.client('alice@localhost/phone')
      alice.send(xml('message', { to: 'echo.localhost', type: 'chat' }, xml('body', {}, 'hi')))
      const reply = await alice.expectStanza({ name: 'message', from: 'echo.localhost' })
      expect(reply.getChildText('body')).toBe('echo: hi')
    } finally {
      await xmpp.stop()
      await server.close()
    }
  })
})
