// The muc scenarios' side of the wire: a fake XEP-0114 server (plain `net`, no XMPP library, like the
// blaster) that starts the chatroom subject (subjects/muc.ts) as a child process, accepts its handshake and
// then hands every complete stanza it writes to the current phase's reader, as the text and the offsets of
// its start tag. Stanzas are cut with indexOf: `<iq …/>` self-closing, otherwise up to `</name>`, skipping
// one nested `<message>` (a MAM result carries the archived message inside `<forwarded/>`).
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net'
import { fileURLToPath } from 'node:url'
import { envNodeArgs } from './subject.js'
import { attr, K_TO, sleep } from './wire.js'

export const MUC_DOMAIN = 'chat.localhost'
/** The compiled subject; resolves the same from bench/src (vitest) and bench/dist. */
export const MUC_SUBJECT_FILE = fileURLToPath(new URL('../dist/subjects/muc.js', import.meta.url))

/** Reads one stanza: s[start, stop) is the stanza, s[start, tagEnd] its start tag, name its element name. */
export type StanzaReader = (s: string, start: number, tagEnd: number, stop: number, name: string) => void

/**
 * Attribute `key` (' name=') of the start tag s[start, tagEnd]. Unlike wire.ts's `attr`, the search stops at the
 * tag's end even when the attribute is missing (a presence has no type; scanning the rest of a large read
 * buffer for it made the reader quadratic).
 */
export function tagAttr(s: string, start: number, tagEnd: number, key: string): string | undefined {
  const tag = s.slice(start, tagEnd + 1)
  return attr(tag, 0, tag.length, key)
}

export class MucLink {
  readonly secret = randomBytes(16).toString('hex')
  readonly streamId = randomBytes(8).toString('hex')
  server: Server | null = null
  child: ChildProcess | null = null
  pid = 0
  sock: Socket | null = null
  buf = ''
  online = false
  failure: string | null = null
  output = ''
  reader: StanzaReader | null = null
  /** Time of the last stanza read (performance.now()). */
  lastData = 0
  private stopping = false
  private header = false
  private onOnline: (() => void) | null = null
  private onFail: ((reason: string) => void) | null = null

  /** Starts the subject with `env` added and resolves once its handshake is accepted. */
  async start(env: Record<string, string>, limitMs = 15_000): Promise<void> {
    const server = createServer({ noDelay: true }, (sock) => this.accept(sock))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    const port = (server.address() as AddressInfo).port
    const childEnv: NodeJS.ProcessEnv = {
      ...process.env,
      ...env,
      XMPP_SERVICE: `xmpp://127.0.0.1:${port}`,
      XMPP_DOMAIN: MUC_DOMAIN,
      XMPP_SECRET: this.secret,
    }
    delete childEnv.NODE_OPTIONS
    delete childEnv.DEBUG
    const child = spawn(process.execPath, ['--expose-gc', ...envNodeArgs(), MUC_SUBJECT_FILE], {
      env: childEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    this.pid = child.pid ?? 0
    const keep = (b: Buffer) => {
      this.output = (this.output + b.toString('utf8')).slice(-4000)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    child.on('error', (err) => this.fail(`could not start the muc subject: ${err.message}`))
    child.on('exit', (code, signal) => {
      if (!this.stopping) {
        const tail = this.output.trim().split('\n').slice(-8).join('\n')
        this.fail(`muc subject exited (code ${code}, signal ${signal})${tail ? `:\n${tail}` : ''}`)
      }
    })
    await this.until(() => this.online, limitMs, 'the subject to complete its handshake')
  }

  /** Resolves when `done()` holds (checked on every read and every 20 ms); rejects on failure or after `ms`. */
  async until(done: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = performance.now() + ms
    while (!done()) {
      if (this.failure !== null) throw new Error(this.failure)
      if (performance.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, 20)
        this.onOnline = finish
        this.onFail = finish
        function finish() {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }

  write(text: string): void {
    if (this.sock && !this.stopping) this.sock.write(text)
  }

  fail(reason: string): void {
    if (this.failure === null) this.failure = reason
    this.onFail?.(reason)
  }

  /** Stops the subject (SIGTERM, SIGKILL after 2 s) and the server. */
  async stop(): Promise<void> {
    this.stopping = true
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.kill('SIGTERM')
      const how = await Promise.race([exited.then(() => 'exited'), sleep(2000).then(() => 'timeout')])
      if (how === 'timeout') {
        child.kill('SIGKILL')
        await Promise.race([exited, sleep(2000)])
      }
    }
    this.sock?.destroy()
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()))
  }

  private accept(sock: Socket): void {
    if (this.sock !== null) {
      sock.destroy()
      if (!this.stopping) this.fail('the subject opened a second connection')
      return
    }
    this.sock = sock
    sock.setNoDelay(true)
    sock.setEncoding('utf8')
    sock.on('data', (chunk: string) => this.data(chunk))
    sock.on('error', (err) => {
      if (!this.stopping) this.fail(`socket error: ${err.message}`)
    })
    sock.on('close', () => {
      if (!this.stopping) this.fail('the subject closed the connection')
    })
  }

  private data(chunk: string): void {
    this.buf = this.buf.length === 0 ? chunk : this.buf + chunk
    if (!this.online) this.handshake()
    if (this.online) this.read()
    if (this.buf.length > 16 * 1024 * 1024) this.fail('more than 16 MiB of unparseable data from the subject')
    this.onOnline?.()
  }

  private handshake(): void {
    const s = this.buf
    if (!this.header) {
      const start = s.indexOf('<stream:stream')
      const end = start < 0 ? -1 : s.indexOf('>', start)
      if (end < 0) return
      if (attr(s, start, end, K_TO) !== MUC_DOMAIN) {
        this.fail(`bad stream header: ${s.slice(start, end + 1)}`)
        return
      }
      this.sock?.write(
        `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='jabber:component:accept' from='${MUC_DOMAIN}' id='${this.streamId}'>`,
      )
      this.header = true
      this.buf = s.slice(end + 1)
    }
    const b = this.buf
    const close = b.indexOf('</handshake>')
    if (close < 0) return
    const open = b.indexOf('<handshake>')
    const digest = open < 0 ? '' : b.slice(open + 11, close).trim()
    const want = createHash('sha1').update(`${this.streamId}${this.secret}`).digest('hex')
    if (digest !== want) {
      this.fail('handshake mismatch')
      return
    }
    this.buf = b.slice(close + 12)
    this.sock?.write('<handshake/>')
    this.online = true
  }

  private read(): void {
    const s = this.buf
    let pos = 0
    const reader = this.reader
    for (;;) {
      const start = s.indexOf('<', pos)
      if (start < 0) {
        pos = s.length
        break
      }
      const tagEnd = s.indexOf('>', start)
      if (tagEnd < 0) break
      const c = s.charCodeAt(start + 1)
      const name = c === 109 ? 'message' : c === 112 ? 'presence' : c === 105 ? 'iq' : ''
      if (name === '' || !s.startsWith(name, start + 1)) {
        if (s.startsWith('</stream:stream', start) || s.startsWith('<stream:error', start)) {
          this.fail(`the subject ended the stream: ${s.slice(start, start + 300)}`)
          return
        }
        this.fail(`unexpected data from the subject: ${s.slice(start, start + 200)}`)
        return
      }
      let stop: number
      if (s.charCodeAt(tagEnd - 1) === 47) stop = tagEnd + 1
      else {
        const closeTag = `</${name}>`
        let close = s.indexOf(closeTag, tagEnd)
        if (close < 0) break
        if (name === 'message') {
          const inner = s.indexOf('<message', tagEnd)
          if (inner >= 0 && inner < close) {
            close = s.indexOf(closeTag, close + closeTag.length)
            if (close < 0) break
          }
        }
        stop = close + closeTag.length
      }
      this.lastData = performance.now()
      reader?.(s, start, tagEnd, stop, name)
      pos = stop
    }
    this.buf = pos === 0 ? s : s.slice(pos)
  }
}
