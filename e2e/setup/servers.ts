// vitest globalSetup for the end-to-end project: starts real Prosody and ejabberd on
// loopback with the project's own script, hands their settings to the tests, and stops
// exactly what it started. A server that cannot start fails the run loudly.
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
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

const pgScript = fileURLToPath(new URL('../../scripts/postgres', import.meta.url))

/** A throwaway PostgreSQL 15 (scripts/postgres): PG_URL, PG_DIR... */
export function startPostgres(): ServerInfo {
  const run = spawnSync(pgScript, ['start'], { encoding: 'utf8', timeout: 120_000 })
  if (run.status !== 0) {
    throw new Error(
      `could not start PostgreSQL (exit ${run.status}): ${run.stderr}\nInstall it with scripts/ensure-debian-packages.sh`,
    )
  }
  return parseEnv(run.stdout)
}

export function stopPostgres(dir: string): void {
  spawnSync(pgScript, ['stop', dir], { stdio: 'inherit', timeout: 60_000 })
  rmSync(dir, { recursive: true, force: true })
}

declare module 'vitest' {
  export interface ProvidedContext {
    servers: Record<'prosody' | 'ejabberd', ServerInfo>
    postgres: ServerInfo
  }
}

export default function setup(project: TestProject): () => void {
  const started: string[] = []
  let pg: ServerInfo | undefined
  const stopAll = () => {
    for (const dir of started) stopServer(dir)
    if (pg?.PG_DIR) stopPostgres(pg.PG_DIR)
  }
  try {
    const prosody = startServer('prosody')
    started.push(prosody.XMPP_DIR as string)
    const ejabberd = startServer('ejabberd')
    started.push(ejabberd.XMPP_DIR as string)
    project.provide('servers', { prosody, ejabberd })
    pg = startPostgres()
    project.provide('postgres', pg)
  } catch (err) {
    stopAll()
    throw err
  }
  return stopAll
}
