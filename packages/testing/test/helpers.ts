import { createHash } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { StringDecoder } from 'node:string_decoder'
import { afterTest } from '@satellite/test-support/cleanup'
import { createServer, type ServerOptions, type TestServer } from '@satellite/testing'

/** A hand-written component over a raw socket, independent of the server's code. */
export interface RawComponent {
  socket: Socket
  /** Everything received so far, decoded. */
  readonly text: string
  /** Number of 'data' events seen. */
  readonly reads: number
  /** Resolves with the received text once it matches (or rejects after timeout). */
  waitFor(pattern: RegExp | string, timeout?: number): Promise<string>
  write(data: string | Buffer): void
  /** Resolves when the socket is closed; `hadError` true for RST-like closes. */
  closed: Promise<{ hadError: boolean; error: Error | undefined }>
  /** The stream id from the server's header, unescaped. */
  streamId(): string
  /** Sends the header; with `handshake`, also waits for the header reply and sends the handshake. */
  destroy(): void
}

export function unescapeXml(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
}

export function digest(id: string, secret: string, upper = false): string {
  const hex = createHash('sha1')
    .update(id + secret, 'utf8')
    .digest('hex')
  return upper ? hex.toUpperCase() : hex
}

export async function rawConnect(port: number): Promise<RawComponent> {
  const socket = connect({ host: '127.0.0.1', port })
  const decoder = new StringDecoder('utf8')
  let text = ''
  let reads = 0
  let lastError: Error | undefined
  const listeners = new Set<() => void>()
  socket.on('data', (chunk) => {
    reads++
    text += decoder.write(chunk)
    for (const l of [...listeners]) l()
  })
  socket.on('error', (err) => {
    lastError = err
  })
  const closed = new Promise<{ hadError: boolean; error: Error | undefined }>((resolve) =>
    socket.on('close', (hadError) => {
      for (const l of [...listeners]) l()
      resolve({ hadError, error: lastError })
    }),
  )
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  const raw: RawComponent = {
    socket,
    get text() {
      return text
    },
    get reads() {
      return reads
    },
    closed,
    write: (data) => {
      socket.write(data)
    },
    waitFor(pattern, timeout = 2000) {
      const test = () => (typeof pattern === 'string' ? text.includes(pattern) : pattern.test(text))
      if (test()) return Promise.resolve(text)
      return new Promise((resolve, reject) => {
        const check = () => {
          if (test()) {
            done()
            resolve(text)
          } else if (socket.destroyed) {
            done()
            reject(new Error(`socket closed before ${pattern}; received: ${text}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timeout waiting for ${pattern}; received: ${text}`))
        }, timeout)
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
      })
    },
    streamId() {
      const m =
        /<stream:stream[^>]*\sid='([^']*)'/.exec(text) ?? /<stream:stream[^>]*\sid="([^"]*)"/.exec(text)
      if (!m) throw new Error(`no stream id in ${text}`)
      return unescapeXml(m[1]!)
    },
    destroy: () => socket.destroy(),
  }
  return raw
}

export function header(domain?: string, xmlns = 'jabber:component:accept'): string {
  const to = domain === undefined ? '' : ` to='${domain}'`
  return `<?xml version='1.0'?><stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns='${xmlns}'${to}>`
}

/** Connects, sends the header and the handshake, waits for `<handshake/>`. */
export async function rawComponent(
  port: number,
  domain: string,
  secret: string,
  options: { upper?: boolean; expectSuccess?: boolean } = {},
): Promise<RawComponent> {
  const c = await rawConnect(port)
  c.write(header(domain))
  await c.waitFor(/<stream:stream[^>]*>/)
  c.write(`<handshake>${digest(c.streamId(), secret, options.upper)}</handshake>`)
  if (options.expectSuccess !== false) await c.waitFor('<handshake/>')
  return c
}

/** Counts occurrences of a substring. */
export function count(text: string, needle: string): number {
  return text.split(needle).length - 1
}

const components = { 'echo.localhost': 'secret' }

/** An embedded server accepting echo.localhost (secret "secret"), closed after the test. */
export async function echoServer(options: ServerOptions = {}): Promise<TestServer> {
  const server = await createServer({ components, ...options })
  afterTest(() => server.close(), { strict: true })
  return server
}

/** An echoServer() with a raw component for echo.localhost on it, past the handshake. */
export async function connected(options: ServerOptions = {}) {
  const server = await echoServer(options)
  const c = await rawComponent(server.port, 'echo.localhost', 'secret')
  const conn = await server.waitForComponent('echo.localhost')
  return { c, conn, server }
}
