// The subject: the component under test, run as a child process of the blaster. Where the subjects' files
// are, the environment and command line a run gives one (pinned to CPU 0 with taskset for ping-pong), and
// stopping it by pid (SIGTERM, then SIGKILL); children still alive when the harness exits are killed there.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { SubjectSpec } from './config.js'
import { getAffinity, setAffinity } from './procfs.js'
import type { Run } from './run.js'
import { DOMAIN, IQ_TARGET, monoUs, sleep } from './wire.js'

const benchDir = fileURLToPath(new URL('..', import.meta.url))

/** The three subjects. Paths resolve the same from bench/src (vitest) and bench/dist (compiled). */
export const SUBJECTS: Record<'raw' | 'xmppjs' | 'satellite', SubjectSpec> = {
  raw: { name: 'raw', file: `${benchDir}subjects/raw.js` },
  xmppjs: { name: 'xmppjs', file: `${benchDir}subjects/xmppjs.js` },
  satellite: { name: 'satellite', file: `${benchDir}dist/subjects/satellite.js` },
}

/** Extra node flags for subjects from env `BENCH_SUBJECT_NODE_ARGS` (whitespace-separated; no quoting). */
export function envNodeArgs(): string[] {
  return (process.env.BENCH_SUBJECT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
}

// Children still alive if the harness dies: stopped by pid on exit.
const liveChildren = new Set<number>()
process.once('exit', () => {
  for (const pid of liveChildren) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
})

/** Starts the subject of `run` against the blaster listening on `port`; its exit before `stop` fails the run. */
export function startSubject(run: Run, port: number): void {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
    XMPP_DOMAIN: DOMAIN,
    XMPP_SECRET: run.secret,
    BENCH_MODE: run.kind === 'iq' ? 'iq' : 'echo',
    BENCH_ROUTE: run.kind === 'users' ? 'wildcard' : 'type',
    BENCH_SLOW_US: String(run.kind === 'flood' ? (run.cfg.slowUs ?? 50) : 0),
    BENCH_IQ_WINDOW: String(run.window),
    BENCH_IQ_TARGET: IQ_TARGET,
  }
  delete env.NODE_OPTIONS
  delete env.DEBUG
  let cmd = process.execPath
  let args = [...(run.cfg.nodeArgs ?? envNodeArgs()), run.cfg.subject.file]
  if (run.kind === 'pingpong' && run.cfg.pin !== false) {
    const original = getAffinity(process.pid)
    if (original !== null && setAffinity(process.pid, '0')) {
      run.restoreAffinity = original
      run.pinned = true
      cmd = 'taskset'
      args = ['-c', '0', process.execPath, ...args]
    } else {
      run.pinned = false
      run.note('taskset unavailable or refused: ping-pong ran unpinned')
    }
  }
  run.spawnMono = monoUs()
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
  run.child = child
  run.pid = child.pid ?? 0
  if (run.pid) liveChildren.add(run.pid)
  const onOutput = run.cfg.onChildOutput
  const keep = (chunk: Buffer) => {
    const text = chunk.toString('utf8')
    onOutput?.(text)
    run.childOutput = (run.childOutput + text).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  child.on('error', (err) => run.fail(`could not start subject: ${err.message}`))
  child.on('exit', (code, signal) => {
    liveChildren.delete(run.pid)
    if (!run.stopping) {
      const tail = run.childOutput.trim().split('\n').slice(-8).join('\n')
      run.fail(
        `subject exited during ${run.phase} (code ${code}, signal ${signal})${tail ? `:\n${tail}` : ''}`,
      )
    }
  })
}

/** Gives the harness its CPU affinity back and stops the subject: SIGTERM, SIGKILL after 2 s. */
export async function stopSubject(run: Run): Promise<void> {
  if (run.restoreAffinity !== null) {
    setAffinity(process.pid, run.restoreAffinity)
    run.restoreAffinity = null
  }
  const child = run.child
  if (child && child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((r) => child.once('exit', () => r()))
    try {
      process.kill(run.pid, 'SIGTERM')
    } catch {
      // gone already
    }
    const t = await Promise.race([exited.then(() => 'exited'), sleep(2000).then(() => 'timeout')])
    if (t === 'timeout') {
      try {
        process.kill(run.pid, 'SIGKILL')
      } catch {
        // gone already
      }
      await Promise.race([exited, sleep(2000)])
    }
  }
  liveChildren.delete(run.pid)
}
