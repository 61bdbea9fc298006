// vitest globalSetup for the end-to-end project: starts real Prosody and ejabberd on
// loopback with the project's own script, hands their settings to the tests, and stops
// exactly what it started. A server that cannot start fails the run loudly.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'

export type ServerInfo = Record<string, string>

const script = fileURLToPath(new URL('../../scripts/xmpp-server', import.meta.url))

function parseEnv(text: string): ServerInfo {
  const out: ServerInfo = {}
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=')
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

export function startServer(kind: 'prosody' | 'ejabberd', dir?: string): ServerInfo {
  const run = spawnSync(script, ['start', kind, ...(dir ? [dir] : [])], {
    encoding: 'utf8',
    timeout: 120_000,
  })
  if (run.status !== 0) {
    throw new Error(
      `could not start ${kind} (exit ${run.status}): ${run.stderr}\nInstall it with scripts/ensure-debian-packages.sh`,
    )
  }
  process.stderr.write(run.stderr)
  return parseEnv(run.stdout)
}

export function stopServer(dir: string): void {
  spawnSync(script, ['stop', dir], { stdio: 'inherit', timeout: 60_000 })
}

declare module 'vitest' {
  export interface ProvidedContext {
    servers: Record<'prosody' | 'ejabberd', ServerInfo>
  }
}

export default function setup(project: TestProject): () => void {
  const started: string[] = []
  try {
    const prosody = startServer('prosody')
    started.push(prosody.XMPP_DIR as string)
    const ejabberd = startServer('ejabberd')
    started.push(ejabberd.XMPP_DIR as string)
    project.provide('servers', { prosody, ejabberd })
  } catch (err) {
    for (const dir of started) stopServer(dir)
    throw err
  }
  return () => {
    for (const dir of started) stopServer(dir)
  }
}
