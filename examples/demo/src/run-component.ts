import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, isAbsolute, join } from 'node:path'

const require = createRequire(import.meta.url)

/**
 * Runs an example component as its own process, configured like in production: the
 * service and domain through the environment, the secret through a file
 * (XMPP_SECRET_FILE), never on the command line. `entry` is a file of the example's `dist`, or an
 * absolute path.
 */
export async function startComponent(
  example: string,
  settings: { service: string; domain: string; secret: string },
  extraEnv: NodeJS.ProcessEnv = {},
  entry = 'main.js',
): Promise<{ child: ChildProcess; dir: string; stop: () => Promise<void> }> {
  const { service, domain, secret } = settings
  const dir = mkdtempSync(join(tmpdir(), `satellite-demo-${example}-`))
  const secretFile = join(dir, 'secret')
  writeFileSync(secretFile, secret, { mode: 0o600 })
  // an absolute entry: an example the demo does not depend on as a package (the chatroom)
  const main = isAbsolute(entry)
    ? entry
    : join(dirname(require.resolve(`${example}/package.json`)), 'dist', entry)
  const child = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      ...extraEnv,
      XMPP_SERVICE: service,
      XMPP_DOMAIN: domain,
      XMPP_SECRET_FILE: secretFile,
      // exactly one of XMPP_SECRET and XMPP_SECRET_FILE (configFromEnv refuses both): not the shell's
      XMPP_SECRET: undefined,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const prefix = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) if (line.length > 0) console.log(`   ${line}`)
  }
  child.stdout?.on('data', prefix)
  child.stderr?.on('data', prefix)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const t = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(t)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Starts a helper program of an example (not a component) and resolves once it printed `ready`. */
export async function startProgram(
  example: string,
  entry: string,
  args: string[],
  ready: RegExp,
): Promise<{ output: string; stop: () => Promise<void> }> {
  const main = join(dirname(require.resolve(`${example}/package.json`)), 'dist', entry)
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const output = await new Promise<string>((resolve, reject) => {
    let out = ''
    const t = setTimeout(() => reject(new Error(`${example}/${entry} did not start: ${out}`)), 10_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      for (const line of d.toString().split('\n')) if (line.trim()) console.log(`   ${line}`)
      if (ready.test(out)) {
        clearTimeout(t)
        resolve(out)
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', () => reject(new Error(`${example}/${entry} exited: ${out}`)))
  })
  return {
    output,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await exited
      }
    },
  }
}
