// vitest globalSetup for the end-to-end project: starts real Prosody and ejabberd on
// loopback with the project's own script, hands their settings to the tests, and stops
// exactly what it started. A server that cannot start fails the run loudly.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createNetServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
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

export function startServer(
  kind: 'prosody' | 'ejabberd',
  dir?: string,
  env: Record<string, string> = {},
): ServerInfo {
  const run = spawnSync(script, ['start', kind, ...(dir ? [dir] : [])], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
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

/** A free TCP port on 127.0.0.1 (the kernel's pick, released at once). */
export async function freePort(): Promise<number> {
  const server = createNetServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

/**
 * A server of one test file's own (its directory, free ports, `env` for scripts/xmpp-server such as
 * EJABBERD_BALANCING or PROSODY_CONFLICT), away from the shared ones; `stop()` stops it and
 * removes its directory.
 */
export async function ownServer(
  kind: 'prosody' | 'ejabberd',
  env: Record<string, string> = {},
): Promise<{ info: ServerInfo; stop(): void }> {
  const p = kind === 'prosody' ? 'PROSODY' : 'EJABBERD'
  const ports: Record<string, string> = {
    [`${p}_C2S_PORT`]: String(await freePort()),
    [`${p}_COMPONENT_PORT`]: String(await freePort()),
    [`${p}_COMPONENT_TLS_PORT`]: String(await freePort()),
  }
  if (kind === 'ejabberd') ports.EJABBERD_DIST_PORT = String(await freePort())
  const dir = mkdtempSync(join(tmpdir(), `satellite-own-${kind}-`))
  const info = startServer(kind, dir, { ...ports, ...env })
  return {
    info,
    stop() {
      stopServer(dir)
      rmSync(dir, { recursive: true, force: true })
    },
  }
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
