// The blaster: a fake XEP-0114 server written with plain `net` and string operations (no XMPP library),
// which starts a subject component as a child process, accepts its handshake and drives one scenario.
//
// One call to `runScenario` = one fresh subject process = one measurement. It is bounded (idle wait,
// warm-up, measured window, stall detection, hard time limit) and always stops the child by pid.
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { getAffinity, machineBusyUs, processCpuUs, processMemKiB, setAffinity } from './procfs.js'

export const DOMAIN = 'echo.localhost'
/** Where iq requests of the iq scenario are addressed; the blaster answers any `<iq type='get'>`. */
export const IQ_TARGET = 'blaster.localhost'

export type ScenarioKind = 'echo' | 'pingpong' | 'large' | 'flood' | 'iq' | 'users'

export interface SubjectSpec {
  /** Short name: raw, xmppjs, satellite. */
  name: string
  /** Absolute path of the JS file node runs. */
  file: string
}

const benchDir = fileURLToPath(new URL('..', import.meta.url))

/** The three subjects. Paths resolve the same from bench/src (vitest) and bench/dist (compiled). */
export const SUBJECTS: Record<'raw' | 'xmppjs' | 'satellite', SubjectSpec> = {
  raw: { name: 'raw', file: `${benchDir}subjects/raw.js` },
  xmppjs: { name: 'xmppjs', file: `${benchDir}subjects/xmppjs.js` },
  satellite: { name: 'satellite', file: `${benchDir}dist/subjects/satellite.js` },
}

export interface RunConfig {
  subject: SubjectSpec
  scenario: ScenarioKind
  /** Load before the measured window (not counted). */
  warmupMs: number
  /** Measured window (ignored by flood, which uses floodMs and then drains). */
  durationMs: number
  /** Stanzas in flight (echo, large, users) or iq requests the subject keeps in flight (iq). Ping-pong is 1. */
  window?: number
  /** Body length of the large scenario, in characters (ASCII, so also bytes). */
  bodyBytes?: number
  /** Distinct local parts of the users scenario. */
  users?: number
  /** Ping-pong: run the subject and the blaster on CPU 0 with taskset. */
  pin?: boolean
  /** Flood: busy-wait per stanza in the subject's handler (env BENCH_SLOW_US). */
  slowUs?: number
  /** Flood: how long to send as fast as the socket accepts. */
  floodMs?: number
  /** Flood: cap on messages sent, so the drain stays bounded. */
  floodMax?: number
  /** No progress for this long while replies are due = stall (run fails). */
  stallMs?: number
  /** Absolute bound on the whole run, start to stop. */
  hardLimitMs?: number
  /** The subject must connect and complete the handshake within this (default 15 s). */
  connectLimitMs?: number
  /** Wait after the handshake before reading the idle RSS. */
  idleWaitMs?: number
  /** Check from/to/type/body on every n-th reply (the id is checked on every reply). */
  verifyEvery?: number
  /**
   * Extra node flags for the subject, before its script (e.g. `--cpu-prof`). Default: the whitespace-separated
   * words of env `BENCH_SUBJECT_NODE_ARGS`, if set.
   */
  nodeArgs?: string[]
  /** Called with everything the subject writes to stdout/stderr (e.g. `--trace-gc` lines). */
  onChildOutput?: (text: string) => void
}

/** Extra node flags for subjects from env `BENCH_SUBJECT_NODE_ARGS` (whitespace-separated; no quoting). */
export function envNodeArgs(): string[] {
  return (process.env.BENCH_SUBJECT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean)
}

export interface LatencyStats {
  n: number
  p50: number
  p99: number
  max: number
}

export interface FloodStats {
  slowUs: number
  sent: number
  answered: number
  lost: number
  floodSeconds: number
  drainSeconds: number
}

export interface RunResult {
  subject: string
  scenario: ScenarioKind
  ok: boolean
  error: string | null
  /** Length of the measured window, s. */
  seconds: number
  /** Replies (or answered iq requests) in the measured window. */
  count: number
  /** count / seconds. */
  rate: number
  /** Reply bytes per second in the measured window (one direction). */
  bytesPerSec: number
  /** Subject CPU (utime+stime) in the window divided by count, µs. */
  cpuUsPerOp: number | null
  /** Shares of one core over the window. */
  subjectCpuPct: number | null
  blasterCpuPct: number
  otherCpuPct: number | null
  idleRssKiB: number | null
  peakRssKiB: number | null
  /** Bad replies (wrong id, duplicate, wrong from/to/body, unexpected data); any > 0 fails the run. */
  bad: number
  badSamples: string[]
  /** Replies whose id was checked, and replies fully checked. */
  checked: number
  fullChecked: number
  latency: LatencyStats | null
  /** Ping-pong: whether pinning was in effect; null for other scenarios. */
  pinned: boolean | null
  notes: string[]
  flood: FloodStats | null
  /**
   * The measured window and the subject's spawn on the monotonic clock (`process.hrtime`, µs): the clock of
   * V8's `--cpu-prof` sample timestamps, so a profile can be cut to the window.
   */
  monoUs: { spawn: number; start: number; end: number } | null
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n)

const MSG_END = '</message>'
const LARGE_FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2000)

/** Value of attribute `name` inside the start tag s[start, end), either quote style, or undefined. */
function attr(s: string, start: number, end: number, key: string): string | undefined {
  // key is ' name=' (leading space included, precomputed by callers)
  const i = s.indexOf(key, start)
  if (i < 0 || i >= end) return undefined
  const q = i + key.length
  const quote = s.charCodeAt(q) === 39 ? "'" : '"'
  const j = s.indexOf(quote, q + 1)
  if (j < 0 || j > end) return undefined
  return s.slice(q + 1, j)
}

const K_ID = ' id='
const K_FROM = ' from='
const K_TO = ' to='
const K_TYPE = ' type='

function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i] ?? 0
}

interface Snapshot {
  t: number
  mono: number
  count: number
  bytes: number
  subjectCpuUs: number | null
  blasterCpuUs: number
  machineUs: number | null
}

type Phase =
  | 'connecting'
  | 'header'
  | 'handshake'
  | 'idle'
  | 'warmup'
  | 'measure'
  | 'flood'
  | 'drain'
  | 'done'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Runs one scenario against one fresh subject process. Never throws for subject failures: see `ok`/`error`. */
export async function runScenario(cfg: RunConfig): Promise<RunResult> {
  const run = new Run(cfg)
  return run.execute()
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

class Run {
  private readonly cfg: RunConfig
  private readonly kind: ScenarioKind
  private readonly window: number
  private readonly verifyEvery: number
  private readonly stallMs: number
  private readonly secret = randomBytes(16).toString('hex')
  private readonly streamId = randomBytes(8).toString('hex')
  private readonly t0 = performance.now()

  private server: Server | null = null
  private child: ChildProcess | null = null
  private pid = 0
  private sock: Socket | null = null
  private phase: Phase = 'connecting'
  private buf = ''
  private failure: string | null = null
  private finish: (() => void) | null = null
  private stopping = false
  private childOutput = ''
  private spawnMono = 0
  private readonly notes: string[] = []
  private pinned: boolean | null = null
  private restoreAffinity: string | null = null

  // load state
  private nextSeq = 0
  private answered = new Uint8Array(1 << 16)
  private count = 0
  private bytes = 0
  private bad = 0
  private readonly badSamples: string[] = []
  private fullChecked = 0
  private lastProgress = performance.now()
  private latencies: number[] = []
  private latencyEvery = 1
  private sending = false

  private idleRssKiB: number | null = null
  private snap0: Snapshot | null = null
  private snap1: Snapshot | null = null
  private floodStats: FloodStats | null = null

  constructor(cfg: RunConfig) {
    this.cfg = cfg
    this.kind = cfg.scenario
    this.window = cfg.scenario === 'pingpong' ? 1 : (cfg.window ?? 1000)
    this.verifyEvery = cfg.verifyEvery ?? 1000
    this.stallMs = cfg.stallMs ?? 5000
    this.latencyEvery = cfg.scenario === 'pingpong' ? 1 : 16
  }

  private now(): number {
    return performance.now()
  }

  private fail(reason: string): void {
    if (this.failure === null) this.failure = reason
    this.finish?.()
  }

  private note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text)
  }

  private badReply(what: string): void {
    this.bad++
    if (this.badSamples.length < 5) this.badSamples.push(what.length > 300 ? `${what.slice(0, 300)}…` : what)
  }

  async execute(): Promise<RunResult> {
    const cfg = this.cfg
    const hardLimitMs = cfg.hardLimitMs ?? 30_000 + cfg.warmupMs + cfg.durationMs + (cfg.floodMs ?? 0) * 4
    let hardTimer: NodeJS.Timeout | null = null
    let stallTimer: NodeJS.Timeout | null = null
    let connectTimer: NodeJS.Timeout | null = null
    try {
      if (!existsSync(cfg.subject.file)) {
        throw new Error(`subject file not found: ${cfg.subject.file} (not built?)`)
      }
      const done = new Promise<void>((resolve) => {
        this.finish = resolve
      })
      hardTimer = setTimeout(
        () => this.fail(`hard time limit of ${hardLimitMs} ms reached in phase ${this.phase}`),
        hardLimitMs,
      )
      stallTimer = setInterval(() => this.checkStall(), 200)
      const connectLimitMs = cfg.connectLimitMs ?? 15_000
      connectTimer = setTimeout(() => {
        if (this.phase === 'connecting' || this.phase === 'header' || this.phase === 'handshake') {
          this.fail(`subject not online within ${connectLimitMs} ms (stuck in ${this.phase})`)
        }
      }, connectLimitMs)
      await this.listen()
      this.startChild()
      this.runPhases().catch((err: unknown) => this.fail(String(err instanceof Error ? err.message : err)))
      await done
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err))
    } finally {
      if (hardTimer) clearTimeout(hardTimer)
      if (stallTimer) clearInterval(stallTimer)
      if (connectTimer) clearTimeout(connectTimer)
    }
    const peakRssKiB = this.pid ? processMemKiB(this.pid, 'VmHWM') : null
    await this.stop()
    return this.result(peakRssKiB)
  }

  // ---- process and server lifecycle ----

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true }, (sock) => this.onConnection(sock))
      this.server = server
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
  }

  private startChild(): void {
    const port = (this.server!.address() as AddressInfo).port
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
      XMPP_DOMAIN: DOMAIN,
      XMPP_SECRET: this.secret,
      BENCH_MODE: this.kind === 'iq' ? 'iq' : 'echo',
      BENCH_ROUTE: this.kind === 'users' ? 'wildcard' : 'type',
      BENCH_SLOW_US: String(this.kind === 'flood' ? (this.cfg.slowUs ?? 50) : 0),
      BENCH_IQ_WINDOW: String(this.window),
      BENCH_IQ_TARGET: IQ_TARGET,
    }
    delete env.NODE_OPTIONS
    delete env.DEBUG
    let cmd = process.execPath
    let args = [...(this.cfg.nodeArgs ?? envNodeArgs()), this.cfg.subject.file]
    if (this.kind === 'pingpong' && this.cfg.pin !== false) {
      const original = getAffinity(process.pid)
      if (original !== null && setAffinity(process.pid, '0')) {
        this.restoreAffinity = original
        this.pinned = true
        cmd = 'taskset'
        args = ['-c', '0', process.execPath, ...args]
      } else {
        this.pinned = false
        this.note('taskset unavailable or refused: ping-pong ran unpinned')
      }
    }
    this.spawnMono = monoUs()
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    this.pid = child.pid ?? 0
    if (this.pid) liveChildren.add(this.pid)
    const onOutput = this.cfg.onChildOutput
    const keep = (chunk: Buffer) => {
      const text = chunk.toString('utf8')
      onOutput?.(text)
      this.childOutput = (this.childOutput + text).slice(-4000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('error', (err) => this.fail(`could not start subject: ${err.message}`))
    child.on('exit', (code, signal) => {
      liveChildren.delete(this.pid)
      if (!this.stopping) {
        const tail = this.childOutput.trim().split('\n').slice(-8).join('\n')
        this.fail(
          `subject exited during ${this.phase} (code ${code}, signal ${signal})${tail ? `:\n${tail}` : ''}`,
        )
      }
    })
  }

  private async stop(): Promise<void> {
    this.stopping = true
    this.phase = 'done'
    this.sending = false
    if (this.restoreAffinity !== null) {
      setAffinity(process.pid, this.restoreAffinity)
      this.restoreAffinity = null
    }
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      try {
        process.kill(this.pid, 'SIGTERM')
      } catch {
        // gone already
      }
      const t = await Promise.race([exited.then(() => 'exited'), sleep(2000).then(() => 'timeout')])
      if (t === 'timeout') {
        try {
          process.kill(this.pid, 'SIGKILL')
        } catch {
          // gone already
        }
        await Promise.race([exited, sleep(2000)])
      }
    }
    liveChildren.delete(this.pid)
    this.sock?.destroy()
    await new Promise<void>((r) => {
      if (this.server) this.server.close(() => r())
      else r()
    })
  }

  // ---- connection and handshake ----

  private onConnection(sock: Socket): void {
    if (this.sock !== null) {
      // A second connection means the subject lost (or dropped) the first: a failure unless we are stopping.
      sock.destroy()
      if (!this.stopping) this.fail('subject opened a second connection (reconnect?)')
      return
    }
    this.sock = sock
    this.phase = 'header'
    sock.setNoDelay(true)
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => this.onData(chunk))
    sock.on('error', (err) => {
      if (!this.stopping) this.fail(`socket error: ${err.message}`)
    })
    sock.on('close', () => {
      if (!this.stopping) this.fail(`subject closed the connection during ${this.phase}`)
    })
  }

  private onData(chunk: string): void {
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk
    if (this.phase === 'header' || this.phase === 'handshake') {
      this.onHandshakeData()
      return
    }
    if (this.phase === 'done') return
    if (this.kind === 'iq') this.onIqData()
    else this.onMessageData()
    if (this.buf.length > 4 * 1024 * 1024) this.fail('more than 4 MiB of unparseable data from the subject')
  }

  private onHandshakeData(): void {
    const s = this.buf
    if (this.phase === 'header') {
      const start = s.indexOf('<stream:stream')
      if (start < 0) return
      const end = s.indexOf('>', start)
      if (end < 0) return
      const ns = attr(s, start, end, ' xmlns=')
      const to = attr(s, start, end, K_TO)
      if (ns !== 'jabber:component:accept' || to !== DOMAIN) {
        this.fail(`bad stream header from the subject: ${s.slice(start, end + 1)}`)
        return
      }
      this.sock?.write(
        `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='${DOMAIN}' id='${this.streamId}'>`,
      )
      this.phase = 'handshake'
      this.buf = s.slice(end + 1)
    }
    if (this.phase === 'handshake') {
      const b = this.buf
      const close = b.indexOf('</handshake>')
      if (close < 0) return
      const open = b.indexOf('<handshake>')
      const digest = open < 0 ? '' : b.slice(open + 11, close).trim()
      const expected = createHash('sha1')
        .update(Buffer.from(this.streamId + this.secret, 'utf8'))
        .digest('hex')
      if (digest !== expected) {
        this.sock?.write(
          "<stream:error><not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error></stream:stream>",
        )
        this.fail(`handshake mismatch: got '${digest}', expected '${expected}'`)
        return
      }
      this.buf = b.slice(close + 12)
      this.sock?.write('<handshake/>')
      this.phase = 'idle'
      this.lastProgress = this.now()
      this.onHandshakeDone?.()
    }
  }

  private onHandshakeDone: (() => void) | null = null

  // ---- scenario driving ----

  private async runPhases(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.onHandshakeDone = resolve
    })
    await sleep(this.cfg.idleWaitMs ?? 250)
    if (this.failure) return
    this.idleRssKiB = processMemKiB(this.pid, 'VmRSS')

    if (this.kind === 'flood') {
      await this.runFlood()
      this.finish?.()
      return
    }

    this.phase = 'warmup'
    this.lastProgress = this.now()
    // iq: the subject drives (it started its requests when online); messages: fill the window.
    if (this.kind !== 'iq') this.sendMessages(this.window)
    await sleep(this.cfg.warmupMs)
    if (this.failure) return
    this.snap0 = this.snapshot()
    this.phase = 'measure'
    this.latencies = []
    await sleep(this.cfg.durationMs)
    if (this.failure) return
    this.snap1 = this.snapshot()
    this.phase = 'done'
    this.finish?.()
  }

  private async runFlood(): Promise<void> {
    const floodMs = this.cfg.floodMs ?? 2000
    const floodMax = this.cfg.floodMax ?? 200_000
    const sock = this.sock
    if (!sock) throw new Error('no connection')
    this.phase = 'flood'
    this.snap0 = this.snapshot()
    const tStart = this.now()
    this.sending = true
    const batch = 256
    while (this.sending && !this.failure && this.now() - tStart < floodMs && this.nextSeq < floodMax) {
      const n = Math.min(batch, floodMax - this.nextSeq)
      const ok = sock.write(this.buildMessages(n))
      if (!ok) {
        // Wait until the kernel buffer takes more, but keep checking the clock.
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer)
            sock.off('drain', done)
            resolve()
          }
          const timer = setTimeout(done, 50)
          sock.once('drain', done)
        })
      } else {
        await new Promise<void>((r) => setImmediate(r))
      }
    }
    this.sending = false
    const sent = this.nextSeq
    const tFloodEnd = this.now()
    this.phase = 'drain'
    this.lastProgress = this.now()
    // Wait until everything is answered; the stall detector ends this if replies stop coming.
    while (!this.failure && this.count < sent) await sleep(20)
    const tEnd = this.now()
    this.snap1 = this.snapshot()
    this.floodStats = {
      slowUs: this.cfg.slowUs ?? 50,
      sent,
      answered: this.count,
      lost: sent - this.count,
      floodSeconds: (tFloodEnd - tStart) / 1000,
      drainSeconds: (tEnd - tFloodEnd) / 1000,
    }
    this.phase = 'done'
  }

  private checkStall(): void {
    if (this.failure !== null || this.stopping) return
    const p = this.phase
    const due = p === 'warmup' || p === 'measure' || p === 'flood' || p === 'drain'
    if (!due) return
    if (this.kind !== 'iq' && this.count >= this.nextSeq) return // nothing outstanding
    const idle = this.now() - this.lastProgress
    if (idle > this.stallMs) {
      const outstanding =
        this.kind === 'iq' ? 'iq requests expected' : `${this.nextSeq - this.count} replies outstanding`
      this.fail(`stall: no progress for ${Math.round(idle)} ms in ${p} (${outstanding})`)
    }
  }

  private snapshot(): Snapshot {
    const cpu = process.cpuUsage()
    return {
      t: this.now(),
      mono: monoUs(),
      count: this.count,
      bytes: this.bytes,
      subjectCpuUs: processCpuUs(this.pid),
      blasterCpuUs: cpu.user + cpu.system,
      machineUs: machineBusyUs(),
    }
  }

  /** Message number `seq` as the blaster sends it, and what the echo must look like. */
  private fromOf(seq: number): string {
    return `user${seq % 1000}@localhost/r`
  }

  private toOf(seq: number): string {
    return this.kind === 'users' ? `u${seq % (this.cfg.users ?? 100_000)}@${DOMAIN}` : `bot@${DOMAIN}`
  }

  private bodyOf(seq: number): string {
    if (this.kind !== 'large') return `hello ${seq}`
    const head = `hello ${seq} `
    return head + LARGE_FILLER.slice(0, Math.max(0, (this.cfg.bodyBytes ?? 8192) - head.length))
  }

  private buildMessages(n: number): string {
    const t = Math.round((this.now() - this.t0) * 1000)
    let out = ''
    for (let i = 0; i < n; i++) {
      const seq = this.nextSeq++
      out += `<message from='${this.fromOf(seq)}' to='${this.toOf(seq)}' type='chat' id='m${seq}-${t}'><body>${this.bodyOf(seq)}</body></message>`
    }
    if (this.nextSeq > this.answered.length) {
      let size = this.answered.length
      while (size < this.nextSeq) size *= 2
      const grown = new Uint8Array(size)
      grown.set(this.answered)
      this.answered = grown
    }
    return out
  }

  private sendMessages(n: number): void {
    if (n > 0 && this.sock && !this.stopping) this.sock.write(this.buildMessages(n))
  }

  private onMessageData(): void {
    const s = this.buf
    let pos = 0
    let n = 0
    const nowUs = Math.round((this.now() - this.t0) * 1000)
    for (;;) {
      const end = s.indexOf(MSG_END, pos)
      if (end < 0) break
      const start = s.indexOf('<message', pos)
      const stop = end + MSG_END.length
      if (start < 0 || start > end) {
        this.badReply(`unexpected data: ${s.slice(pos, stop)}`)
        pos = stop
        continue
      }
      if (start > pos && s.slice(pos, start).trim() !== '')
        this.badReply(`unexpected data: ${s.slice(pos, start)}`)
      this.checkMessage(s, start, stop, nowUs)
      pos = stop
      n++
    }
    this.buf = pos === 0 ? s : s.slice(pos)
    if (n > 0) {
      this.lastProgress = this.now()
      if (this.kind !== 'flood' && (this.phase === 'warmup' || this.phase === 'measure')) this.sendMessages(n)
    } else if (this.buf.includes('<stream:error') || this.buf.includes('</stream:stream>')) {
      this.fail(`subject sent a stream error or closed the stream: ${this.buf.slice(0, 300)}`)
    }
  }

  private checkMessage(s: string, start: number, stop: number, nowUs: number): void {
    const tagEnd = s.indexOf('>', start)
    const id = attr(s, start, tagEnd, K_ID)
    const dash = id === undefined ? -1 : id.indexOf('-')
    const seq =
      id !== undefined && id.charCodeAt(0) === 109 && dash > 1 ? Number(id.slice(1, dash)) : Number.NaN
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.nextSeq || this.answered[seq] === 1) {
      this.badReply(`bad or duplicate id '${id}': ${s.slice(start, Math.min(stop, start + 200))}`)
      return
    }
    this.answered[seq] = 1
    this.count++
    this.bytes += stop - start
    if (this.count % this.latencyEvery === 0) {
      this.latencies.push(nowUs - Number((id as string).slice(dash + 1)))
    }
    if (this.count <= 3 || this.count % this.verifyEvery === 0) {
      this.fullChecked++
      const from = attr(s, start, tagEnd, K_FROM)
      const to = attr(s, start, tagEnd, K_TO)
      const type = attr(s, start, tagEnd, K_TYPE)
      const b0 = s.indexOf('<body>', tagEnd)
      const b1 = s.indexOf('</body>', tagEnd)
      const body = b0 < 0 || b1 < 0 || b1 > stop ? undefined : s.slice(b0 + 6, b1)
      const wantFrom = this.toOf(seq)
      const wantTo = this.fromOf(seq)
      if (from !== wantFrom || to !== wantTo || type !== 'chat' || body !== this.bodyOf(seq)) {
        this.badReply(
          `reply ${id}: from=${from} (want ${wantFrom}) to=${to} (want ${wantTo}) type=${type} body ${
            body === undefined ? 'missing' : body === this.bodyOf(seq) ? 'ok' : `wrong: ${body.slice(0, 40)}`
          }`,
        )
      }
    }
  }

  private onIqData(): void {
    const s = this.buf
    let pos = 0
    let out = ''
    let n = 0
    for (;;) {
      const start = s.indexOf('<', pos)
      if (start < 0) {
        pos = s.length
        break
      }
      if (!s.startsWith('<iq', start)) {
        if (s.startsWith('<stream:error', start) || s.startsWith('</stream:stream', start)) {
          this.fail(`subject sent a stream error or closed the stream: ${s.slice(start, start + 300)}`)
          return
        }
        const close = s.indexOf('>', start)
        if (close < 0) break
        this.badReply(`unexpected data in iq scenario: ${s.slice(start, start + 200)}`)
        pos = close + 1
        continue
      }
      const tagEnd = s.indexOf('>', start)
      if (tagEnd < 0) break
      let stop: number
      if (s.charCodeAt(tagEnd - 1) === 47) stop = tagEnd + 1
      else {
        const close = s.indexOf('</iq>', tagEnd)
        if (close < 0) break
        stop = close + 5
      }
      const id = attr(s, start, tagEnd, K_ID)
      const type = attr(s, start, tagEnd, K_TYPE)
      const from = attr(s, start, tagEnd, K_FROM)
      const to = attr(s, start, tagEnd, K_TO)
      n++
      if (id === undefined || id === '' || type !== 'get' || from !== DOMAIN || to !== IQ_TARGET) {
        this.badReply(`bad iq request: ${s.slice(start, Math.min(stop, start + 200))}`)
      } else {
        if (n <= 3 || (this.count + 1) % this.verifyEvery === 0) {
          this.fullChecked++
          if (!s.slice(tagEnd, stop).includes('urn:xmpp:ping'))
            this.badReply(`iq without ping payload: ${s.slice(start, stop)}`)
        }
        this.count++
        this.bytes += stop - start
        out += `<iq type='result' id='${id}' from='${to}' to='${from}'/>`
      }
      pos = stop
    }
    this.buf = pos === 0 ? s : s.slice(pos)
    if (n > 0) this.lastProgress = this.now()
    if (out.length > 0 && this.sock && !this.stopping) this.sock.write(out)
  }

  // ---- result ----

  private result(peakRssKiB: number | null): RunResult {
    if (this.failure === null && this.bad > 0)
      this.failure = `${this.bad} bad replies: ${this.badSamples.join(' | ')}`
    if (this.failure === null && this.floodStats !== null && this.floodStats.lost > 0) {
      this.failure = `${this.floodStats.lost} messages never answered`
    }
    if (this.failure === null && (this.snap0 === null || this.snap1 === null))
      this.failure = 'run ended without a measurement'
    const a = this.snap0
    const b = this.snap1
    const wallUs = a && b ? (b.t - a.t) * 1000 : 0
    const count = a && b ? b.count - a.count : 0
    const subjUs =
      a && b && a.subjectCpuUs !== null && b.subjectCpuUs !== null ? b.subjectCpuUs - a.subjectCpuUs : null
    const blasterUs = a && b ? b.blasterCpuUs - a.blasterCpuUs : 0
    const machUs = a && b && a.machineUs !== null && b.machineUs !== null ? b.machineUs - a.machineUs : null
    const pct = (us: number | null) => (us === null || wallUs <= 0 ? null : (100 * us) / wallUs)
    let latency: LatencyStats | null = null
    if (this.latencies.length > 0 && this.kind !== 'iq') {
      const sorted = Float64Array.from(this.latencies).sort()
      latency = {
        n: sorted.length,
        p50: quantile(sorted, 0.5),
        p99: quantile(sorted, 0.99),
        max: sorted[sorted.length - 1] ?? 0,
      }
    }
    const other = machUs !== null && subjUs !== null ? pct(Math.max(0, machUs - subjUs - blasterUs)) : null
    return {
      subject: this.cfg.subject.name,
      scenario: this.kind,
      ok: this.failure === null,
      error: this.failure,
      seconds: wallUs / 1e6,
      count,
      rate: wallUs > 0 ? count / (wallUs / 1e6) : 0,
      bytesPerSec: wallUs > 0 && a && b ? (b.bytes - a.bytes) / (wallUs / 1e6) : 0,
      cpuUsPerOp: subjUs !== null && count > 0 ? subjUs / count : null,
      subjectCpuPct: pct(subjUs),
      blasterCpuPct: pct(blasterUs) ?? 0,
      otherCpuPct: other,
      idleRssKiB: this.idleRssKiB,
      peakRssKiB,
      bad: this.bad,
      badSamples: this.badSamples,
      checked: this.count,
      fullChecked: this.fullChecked,
      latency,
      pinned: this.pinned,
      notes: this.notes,
      flood: this.floodStats,
      monoUs: a && b ? { spawn: this.spawnMono, start: a.mono, end: b.mono } : null,
    }
  }
}
