// A throwaway ngircd for one test file, through scripts/ngircd (Debian's ngircd 26.1).
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const script = fileURLToPath(new URL('../../../scripts/ngircd', import.meta.url))

export interface Ngircd {
  host: string
  port: number
  /** The server's name (irc.test). */
  name: string
  dir: string
  stop(): Promise<void>
  /** Stops and starts the server on the same port (a server restart as users see it). */
  restart(): Promise<void>
}

/** A free TCP port on 127.0.0.1 (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      )
    })
  })
}

export async function startNgircd(): Promise<Ngircd> {
  const dir = await mkdtemp(join(tmpdir(), 'ngircd-'))
  const port = await freePort()
  const start = async (): Promise<Record<string, string>> => {
    const { stdout } = await run(script, ['start', dir, String(port)], { timeout: 30_000 })
    return Object.fromEntries(
      stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2) as [string, string]),
    )
  }
  const vars = await start()
  let stopped = false
  return {
    host: vars.NGIRCD_HOST ?? '127.0.0.1',
    port: Number(vars.NGIRCD_PORT),
    name: vars.NGIRCD_NAME ?? 'irc.test',
    dir,
    async stop() {
      if (stopped) return
      stopped = true
      await run(script, ['stop', dir], { timeout: 30_000 })
      await rm(dir, { recursive: true, force: true })
    },
    async restart() {
      await run(script, ['stop', dir], { timeout: 30_000 })
      await start()
    },
  }
}

/** One of two linked servers. */
export interface LinkedServer {
  /** hub.test or leaf.test. */
  name: string
  port: number
}

/** Two linked ngircd servers (scripts/ngircd start-linked), to produce a real netsplit. */
export interface LinkedNgircd {
  host: string
  /** Connects to the leaf (active link, ConnectRetry 5 s); its operator splits and relinks. */
  hub: LinkedServer
  leaf: LinkedServer
  dir: string
  /** The hub drops the link (oper DISCONNECT, no automatic reconnect); resolves once it is down. */
  split(): Promise<void>
  /**
   * The hub drops the link (oper SQUIT) and links again by itself after ConnectRetry (5 s; ngircd
   * took 9-18 s here); resolves once the link is down.
   */
  squit(): Promise<void>
  /** The hub links again (oper CONNECT); resolves once linked with the time it took (ms). */
  relink(): Promise<number>
  /** Whether the hub lists the leaf (LINKS). */
  linked(): Promise<boolean>
  stop(): Promise<void>
}

const vars = (stdout: string): Record<string, string> =>
  Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => l.split('=', 2) as [string, string]),
  )

export async function startLinkedNgircd(): Promise<LinkedNgircd> {
  const dir = await mkdtemp(join(tmpdir(), 'ngircd-linked-'))
  const [hubPort, leafPort] = [await freePort(), await freePort()]
  const v = vars(
    (await run(script, ['start-linked', dir, String(hubPort), String(leafPort)], { timeout: 60_000 })).stdout,
  )
  let stopped = false
  return {
    host: v.NGIRCD_HOST ?? '127.0.0.1',
    hub: { name: v.NGIRCD_HUB_NAME ?? 'hub.test', port: Number(v.NGIRCD_HUB_PORT) },
    leaf: { name: v.NGIRCD_LEAF_NAME ?? 'leaf.test', port: Number(v.NGIRCD_LEAF_PORT) },
    dir,
    async split() {
      await run(script, ['split', dir], { timeout: 30_000 })
    },
    async squit() {
      await run(script, ['squit', dir], { timeout: 30_000 })
    },
    async relink() {
      const { stdout } = await run(script, ['relink', dir], { timeout: 60_000 })
      return Number(vars(stdout).NGIRCD_RELINK_MS)
    },
    async linked() {
      const { stdout } = await run(script, ['linked', dir], { timeout: 30_000 })
      return vars(stdout).NGIRCD_LINKED === 'yes'
    },
    async stop() {
      if (stopped) return
      stopped = true
      await run(script, ['stop', dir], { timeout: 30_000 })
      await rm(dir, { recursive: true, force: true })
    },
  }
}
