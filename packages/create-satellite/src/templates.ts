/**
 * The files of a new project. Every function here is pure: the same inputs give the same
 * files, so the generator's tests compare them exactly and the consumer check
 * (`scripts/check-packages`) builds and tests what users get.
 */

/** The dependencies a new project gets, each with the range written into its package.json. */
export interface Versions {
  '@satellite/cli': string
  '@satellite/core': string
  '@satellite/testing': string
  '@types/node': string
  typescript: string
  vitest: string
}

/** The names of {@link Versions}, in the order they are written. */
export const DEPENDENCIES: readonly (keyof Versions)[] = ['@satellite/cli', '@satellite/core']
export const DEV_DEPENDENCIES: readonly (keyof Versions)[] = [
  '@satellite/testing',
  '@types/node',
  'typescript',
  'vitest',
]

/** What a project is made of: its package name and component domain. */
export interface ProjectIdentity {
  /** The npm package name (`my-bot`). */
  name: string
  /** The component's domain for local development (`my-bot.localhost`). */
  domain: string
}

/** Path (relative to the project directory, `/`-separated) to file content. */
export type ProjectFiles = Record<string, string>

/**
 * The files of a new project: package.json, tsconfig.json and tsconfig.build.json,
 * src/bot.ts, test/bot.test.ts, .env.example, .gitignore and README.md.
 *
 * @example
 * ```ts
 * const files = projectFiles({ name: 'my-bot', domain: 'my-bot.localhost' }, versions, '0.1.0')
 * files['src/bot.ts'] // the component module that `satellite run dist/bot.js` runs
 * ```
 */
export function projectFiles(project: ProjectIdentity, versions: Versions, generator: string): ProjectFiles {
  return {
    'package.json': packageJson(project, versions),
    'tsconfig.json': TSCONFIG,
    'tsconfig.build.json': TSCONFIG_BUILD,
    'src/bot.ts': bot(project),
    'test/bot.test.ts': botTest(project),
    '.env.example': envExample(project),
    '.gitignore': GITIGNORE,
    'README.md': readme(project, generator),
  }
}

function packageJson(project: ProjectIdentity, versions: Versions): string {
  const pick = (names: readonly (keyof Versions)[]) => Object.fromEntries(names.map((n) => [n, versions[n]]))
  const manifest = {
    name: project.name,
    version: '0.1.0',
    private: true,
    type: 'module',
    engines: { node: '>=20.19' },
    scripts: {
      build: 'tsc -p tsconfig.build.json',
      typecheck: 'tsc',
      test: 'vitest run',
      start: 'satellite run dist/bot.js',
    },
    dependencies: pick(DEPENDENCIES),
    devDependencies: pick(DEV_DEPENDENCIES),
  }
  return `${JSON.stringify(manifest, null, 2)}\n`
}

// Type-checks everything (src and test) without writing anything: `npm run typecheck`.
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'es2023',
      lib: ['es2023'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
      strict: true,
      verbatimModuleSyntax: true,
      forceConsistentCasingInFileNames: true,
      noEmit: true,
    },
    include: ['src', 'test'],
  },
  null,
  2,
)}\n`

// Compiles src/ to dist/ (what `satellite run` runs): `npm run build`.
const TSCONFIG_BUILD = `${JSON.stringify(
  {
    extends: './tsconfig.json',
    compilerOptions: { noEmit: false, rootDir: 'src', outDir: 'dist', sourceMap: true },
    include: ['src'],
  },
  null,
  2,
)}\n`

function bot(project: ProjectIdentity): string {
  return `// A component module: \`satellite run dist/bot.js\` loads it, connects a component with the
// settings of .env (XMPP_SERVICE, XMPP_DOMAIN, XMPP_SECRET) and passes it to this function.
// Set up routes here; return a cleanup function if the bot holds resources (it is called on stop).
import { type Component, xml } from '@satellite/core'

export default function ${identifier(project.name)}(xmpp: Component): void {
  // Chat messages to the domain or to anyone@domain come back, prefixed with "echo: ".
  xmpp.message({ type: ['chat', 'normal'] }, (msg) => {
    const body = msg.getChildText('body')
    if (body === null) return // chat states, receipts...: nothing to answer
    const { from, to, id, type } = msg.attrs
    return xmpp.send(xml('message', { from: to, to: from, id, type }, xml('body', {}, \`echo: \${body}\`)))
  })

  // Accept presence subscriptions, so that users can add the bot to their roster.
  xmpp.presence({ type: 'subscribe' }, (p) =>
    xmpp.send(xml('presence', { from: p.attrs.to, to: p.attrs.from, type: 'subscribed' })),
  )
}
`
}

function botTest(project: ProjectIdentity): string {
  return `// The bot against the embedded XMPP server of @satellite/testing: a real component
// connection (TCP, handshake, routing) and simulated users, no Prosody or ejabberd needed.
import { type Component, component } from '@satellite/core'
import { createServer, type TestServer, xml } from '@satellite/testing'
import { afterEach, beforeEach, expect, it } from 'vitest'
import bot from '../src/bot.js'

const domain = '${project.domain}'
const secret = 'test-secret'

let server: TestServer
let xmpp: Component

beforeEach(async () => {
  server = await createServer({ components: { [domain]: secret } })
  xmpp = component({ service: server.url, domain, secret })
  bot(xmpp)
  await xmpp.start()
})

afterEach(async () => {
  await xmpp.stop()
  await server.close()
})

it('echoes a chat message', async () => {
  const alice = server.client('alice@localhost/phone')
  alice.send(xml('message', { to: domain, type: 'chat', id: 'm1' }, xml('body', {}, 'hello')))
  const reply = await alice.expectStanza({ name: 'message', from: domain })
  expect(reply.getChildText('body')).toBe('echo: hello')
  expect(reply.attrs.id).toBe('m1')
})

it('accepts a presence subscription', async () => {
  const bob = server.client('bob@localhost/laptop')
  bob.send(xml('presence', { to: \`bot@\${domain}\`, type: 'subscribe' }))
  const answer = await bob.expectStanza({ name: 'presence', from: \`bot@\${domain}\` })
  expect(answer.attrs.type).toBe('subscribed')
})
`
}

function envExample(project: ProjectIdentity): string {
  return `# Copy to .env (never commit .env): \`satellite run\` loads it from the working directory.
# The server's component port: xmpp://host:port (plain TCP: keep the port on loopback) or xmpps://host:port (TLS).
XMPP_SERVICE=xmpp://127.0.0.1:5347
# The component's domain, exactly as declared on the server (README.md shows the lines for Prosody and ejabberd).
XMPP_DOMAIN=${project.domain}
# The shared secret, the same as on the server: at least 8 characters, e.g. from \`openssl rand -hex 24\`.
# Or XMPP_SECRET_FILE=/path/to/a/file/holding/it. Secrets are never taken from the command line.
XMPP_SECRET=
`
}

const GITIGNORE = `node_modules/
dist/
.env
`

function readme(project: ProjectIdentity, generator: string): string {
  const { name, domain } = project
  return `# ${name}

An XMPP external component ([XEP-0114](https://xmpp.org/extensions/xep-0114.html)) written with
[Satellite](https://www.npmjs.com/package/@satellite/core): it serves the domain \`${domain}\` and echoes the chat
messages sent to it. Generated by \`create-satellite\` ${generator}. Node ≥ 20.19.

- \`src/bot.ts\`: the component module. Its default export receives the component and sets up its routes.
- \`test/bot.test.ts\`: its test, against the embedded XMPP server of \`@satellite/testing\` (vitest).
- \`.env.example\`: the settings \`satellite run\` reads. Copy it to \`.env\`.
- \`tsconfig.json\`: strict TypeScript (\`nodenext\`) for src and test; \`tsconfig.build.json\` writes \`dist/\`.

## Develop

\`\`\`sh
npm install
npm test            # the bot against the embedded server: no XMPP server needed
npm run typecheck   # src and test
\`\`\`

## Declare the component on your XMPP server

Choose a secret (\`openssl rand -hex 24\`), then declare the component with the same domain and secret.

**Prosody** (\`prosody.cfg.lua\`, after the global section; the component port is 5347 on loopback by default):

\`\`\`lua
Component "${domain}"
    component_secret = "<your secret>"
\`\`\`

**ejabberd** (\`ejabberd.yml\`):

\`\`\`yaml
listen:
  - port: 5347
    ip: "127.0.0.1"
    module: ejabberd_service
    global_routes: false # the default (true) routes every host of this listener to whichever component connects first
    hosts:
      ${domain}:
        password: "<your secret>"
\`\`\`

Restart the server. On a server of your own, the component's domain is usually a subdomain of the server's
(\`${label(name)}.example.org\` beside \`example.org\`), never one of its virtual hosts: declare that one and set
\`XMPP_DOMAIN\` to it.

## Run

\`\`\`sh
cp .env.example .env   # then set XMPP_SECRET (and XMPP_SERVICE, XMPP_DOMAIN if yours differ)
npm run build
npm start              # satellite run dist/bot.js: loads .env, connects, stops cleanly on Ctrl-C
\`\`\`

Send a chat message to \`${domain}\` (or \`anyone@${domain}\`) from an account of the server: the answer is
\`echo: \` and your text. \`npm start -- --health-port 9464\` also serves \`/health\` and \`/metrics\`, and
\`--log-format json\` prints one JSON line per event. \`npx satellite config\` shows the settings \`.env\` gives (the
secret redacted).

It does not connect? \`npx satellite check\` connects as the component would and tells which step fails and the
server line to fix. It reads the same settings, from the environment or \`.env\`:

\`\`\`sh
npx satellite check
\`\`\`

No server at hand? \`npx satellite dev --component ${domain}=<your secret>\` runs a development XMPP server on
port 5347 in one terminal (type \`/msg ${domain} hello\` to talk to the bot as a user); \`npm start\` in another.
`
}

/** The package name without its scope (`@me/my-bot` → `my-bot`). */
function label(name: string): string {
  return name.replace(/^@[^/]+\//, '')
}

/** A JavaScript identifier for the module's function, from the package name (`my-bot` → `myBot`). */
export function identifier(name: string): string {
  const words = label(name)
    .split(/[^a-zA-Z0-9]+/)
    .filter((w) => w !== '')
  const id = words.map((w, i) => (i === 0 ? w : w[0]!.toUpperCase() + w.slice(1))).join('')
  return /^[a-zA-Z_$]/.test(id) ? id : `bot${id === '' ? '' : id[0]!.toUpperCase() + id.slice(1)}`
}
