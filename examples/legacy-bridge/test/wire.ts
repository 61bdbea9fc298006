// Test helpers speaking the line protocol on the wire: a raw client of the network (a hostile
// legacy user), and a fake network for the adapter (a hostile legacy server).
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { afterTest } from '@satellite/test-support/cleanup'
import { expect } from 'vitest'
import { lineReader } from '../src/network/protocol.js'

/** A TCP client of the network writing whatever lines it is given. */
export interface RawClient {
  socket: Socket
  /** Every line received. */
  lines: string[]
  /** Writes `text` as it is (add the newline). */
  write(text: string): void
  /** Sends `<tag> <rest>` and resolves with the answer to that tag. */
  ask(tag: string, rest: string): Promise<string>
  /** True once the server closed the connection. */
  readonly closed: boolean
}

export async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port })
  afterTest(() => socket.destroy())
  await once(socket, 'connect')
  socket.setNoDelay(true)
  const lines: string[] = []
  let closed = false
  socket.setEncoding('utf8')
  socket.on(
    'data',
    lineReader((l) => lines.push(l)),
  )
  socket.on('close', () => {
    closed = true
  })
  socket.on('error', () => {})
  const c: RawClient = {
    socket,
    lines,
    write: (text) => void socket.write(text),
    async ask(tag, rest) {
      socket.write(`${tag} ${rest}\n`)
      await expect
        .poll(() => lines.some((l) => l.startsWith(`${tag} `)) || closed, {
          message: `the answer to ${tag}`,
          timeout: 3000,
          interval: 5,
        })
        .toBe(true)
      const answer = lines.find((l) => l.startsWith(`${tag} `))
      if (answer === undefined) throw new Error(`closed before the answer to ${tag}`)
      return answer
    },
    get closed() {
      return closed
    },
  }
  return c
}

/** A fake network: one connection at a time; `answer` gives the line answering each command. */
export interface FakeNetwork {
  port: number
  /** Every line received from the client. */
  received: string[]
  /** The connected client's socket (after `connected()`). */
  socket(): Socket
  /** Writes raw text to the connected client. */
  write(text: string): void
}

/**
 * Starts a fake network. By default it answers `<tag> OK` to every command and
 * `<tag> OK a=online` to CONTACTS; `answer` may return another line (without the newline), or
 * null for no answer at all.
 */
export async function fakeNetwork(
  answer: (tag: string, cmd: string, args: string[]) => string | null | undefined = () => undefined,
): Promise<FakeNetwork> {
  const received: string[] = []
  let current: Socket | undefined
  const server = createServer((socket) => {
    current = socket
    socket.setNoDelay(true)
    socket.setEncoding('utf8')
    socket.on('error', () => {})
    socket.on(
      'data',
      lineReader((l) => {
        received.push(l)
        const [tag = '', cmd = '', ...args] = l.split(' ')
        const a = answer(tag, cmd, args)
        if (a === null) return
        socket.write(`${a ?? (cmd === 'CONTACTS' ? `${tag} OK a=online` : `${tag} OK`)}\n`)
      }),
    )
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  afterTest(
    () =>
      new Promise<void>((resolve) => {
        current?.destroy()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    received,
    socket: () => {
      if (current === undefined) throw new Error('no client connected')
      return current
    },
    write: (text) => void current?.write(text),
  }
}
