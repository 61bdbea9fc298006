import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

const require = createRequire(import.meta.url)

/**
 * Runs an example component as its own process, configured like in production: the
 * service and domain through the environment, the secret through a file
 * (XMPP_SECRET_FILE), never on the command line.
 */
export async function startComponent(
  example: string,
  settings: { service: string; domain: string; secret: string },
): Promise<{ child: ChildProcess; stop: () => Promise<void> }> {
  const { service, domain, secret } = settings
  const dir = mkdtempSync(join(tmpdir(), `satellite-demo-${example}-`))
  const secretFile = join(dir, 'secret')
  writeFileSync(secretFile, secret, { mode: 0o600 })
  const main = join(dirname(require.resolve(`${example}/package.json`)), 'dist', 'main.js')
  const child = spawn(process.execPath, [main], {
    env: { ...process.env, XMPP_SERVICE: service, XMPP_DOMAIN: domain, XMPP_SECRET_FILE: secretFile },
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
