// One run of the blaster: the state of one measurement (one fresh subject process), its server socket, the
// stream header and handshake, the stall check and the snapshots. The scenarios (what is sent, how replies
// are checked) are in scenarios.ts, the subject process in subject.ts, the result in results.ts; they work
// on this object's fields directly, which are therefore not private (nothing outside these modules has one).
import type { ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { performance } from 'node:perf_hooks'
import type { RunConfig, ScenarioKind } from './config.js'
import { machineBusyUs, processCpuUs, processMemKiB } from './procfs.js'
import { type FloodStats, type RunResult, runResult, type Snapshot } from './results.js'
import { onIqData, onMessageData, runPhases } from './scenarios.js'
import { startSubject, stopSubject } from './subject.js'
import { attr, DOMAIN, K_TO, monoUs } from './wire.js'

/**
 * Where the run is, one union: connecting → header → handshake → idle → warmup → measure → done; the flood
 * scenario goes idle → flood → drain → done. Any phase can end in done (failure, stop).
 */
export type Phase =
  | 'connecting'
  | 'header'
  | 'handshake'
  | 'idle'
  | 'warmup'
  | 'measure'
  | 'flood'
  | 'drain'
  | 'done'

export class Run {
  readonly cfg: RunConfig
  readonly kind: ScenarioKind
  readonly window: number
  readonly verifyEvery: number
  readonly stallMs: number
  readonly secret = randomBytes(16).toString('hex')
  readonly streamId = randomBytes(8).toString('hex')
  readonly t0 = performance.now()

  server: Server | null = null
  child: ChildProcess | null = null
  pid = 0
  sock: Socket | null = null
  phase: Phase = 'connecting'
  buf = ''
  failure: string | null = null
  finish: (() => void) | null = null
  stopping = false
  childOutput = ''
  spawnMono = 0
  readonly notes: string[] = []
  pinned: boolean | null = null
  restoreAffinity: string | null = null

  // load state
  nextSeq = 0
  answered = new Uint8Array(1 << 16)
  count = 0
  bytes = 0
  bad = 0
  readonly badSamples: string[] = []
  fullChecked = 0
  lastProgress = performance.now()
  latencies: number[] = []
  latencyEvery = 1
  sending = false

  idleRssKiB: number | null = null
  snap0: Snapshot | null = null
  snap1: Snapshot | null = null
  floodStats: FloodStats | null = null

  constructor(cfg: RunConfig) {
    this.cfg = cfg
    this.kind = cfg.scenario
    this.window = cfg.scenario === 'pingpong' ? 1 : (cfg.window ?? 1000)
    this.verifyEvery = cfg.verifyEvery ?? 1000
    this.stallMs = cfg.stallMs ?? 5000
    this.latencyEvery = cfg.scenario === 'pingpong' ? 1 : 16
  }

  now(): number {
    return performance.now()
  }

  fail(reason: string): void {
    if (this.failure === null) this.failure = reason
    this.finish?.()
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text)
  }

  badReply(what: string): void {
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
      startSubject(this, (this.server!.address() as AddressInfo).port)
      runPhases(this).catch((err: unknown) => this.fail(String(err instanceof Error ? err.message : err)))
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
    return runResult(this, peakRssKiB)
  }

  // ---- server and subject lifecycle ----

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true }, (sock) => this.onConnection(sock))
      this.server = server
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
  }

  private async stop(): Promise<void> {
    this.stopping = true
    this.phase = 'done'
    this.sending = false
    await stopSubject(this)
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
    if (this.kind === 'iq') onIqData(this)
    else onMessageData(this)
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

  // ---- progress and measurement ----

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

  snapshot(): Snapshot {
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

  /** Set by runPhases (scenarios.ts), called once the handshake is accepted. */
  onHandshakeDone: (() => void) | null = null
}
