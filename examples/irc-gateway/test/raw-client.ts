// A plain IRC client on a raw socket, for the other side of the tests (what an IRC user sends
// and sees, bytes included: Latin-1 text is sent as Latin-1 bytes).
import { connect, type Socket } from 'node:net'

export interface RawLine {
  /** The line as Latin-1 text (each byte one character), without CRLF. */
  line: string
  bytes: Buffer
  at: number
}

export class RawIrcClient {
  readonly lines: RawLine[] = []
  readonly #socket: Socket
  #buffer = Buffer.alloc(0)
  closed = false

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.on('data', (data) => this.#onData(data))
    socket.on('close', () => {
      this.closed = true
    })
    socket.on('error', () => {})
  }

  /** Connects and registers as `nick`; resolves after 001. */
  static async connect(port: number, nick: string): Promise<RawIrcClient> {
    const socket = connect(port, '127.0.0.1')
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('error', reject)
    })
    const client = new RawIrcClient(socket)
    client.send(`NICK ${nick}`)
    client.send(`USER ${nick} 0 * :${nick}`)
    await client.waitFor((l) => / 001 /.test(l))
    return client
  }

  send(line: string | Buffer): void {
    this.#socket.write(typeof line === 'string' ? `${line}\r\n` : Buffer.concat([line, Buffer.from('\r\n')]))
  }

  /** Resolves with the first line (seen or to come) that matches. */
  async waitFor(match: (line: string) => boolean, timeout = 10_000): Promise<RawLine> {
    const deadline = Date.now() + timeout
    for (;;) {
      const found = this.lines.find((l) => match(l.line))
      if (found) return found
      if (Date.now() > deadline)
        throw new Error(
          `no matching line in ${timeout} ms; last: ${this.lines
            .slice(-5)
            .map((l) => l.line)
            .join(' | ')}`,
        )
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  close(): void {
    this.#socket.destroy()
  }

  #onData(data: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, data])
    let i = this.#buffer.indexOf(0x0a)
    while (i !== -1) {
      const bytes = this.#buffer.subarray(0, i).toString('latin1').endsWith('\r')
        ? this.#buffer.subarray(0, i - 1)
        : this.#buffer.subarray(0, i)
      const line = bytes.toString('latin1')
      if (line.startsWith('PING ')) this.send(`PONG ${line.slice(5)}`)
      this.lines.push({ line, bytes: Buffer.from(bytes), at: performance.now() })
      this.#buffer = this.#buffer.subarray(i + 1)
      i = this.#buffer.indexOf(0x0a)
    }
  }
}
