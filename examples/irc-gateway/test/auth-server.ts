// A scripted IRC server (plain TCP or TLS with a self-signed certificate) that speaks enough of
// IRCv3 CAP and SASL PLAIN to check what the gateway sends: it records every line, offers the
// `sasl` capability when told to, and accepts one account/password.
import { rmSync } from 'node:fs'
import { createRequire } from 'node:module'
import { createServer as createNet, type Server, type Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { afterTest } from '@satellite/test-support/cleanup'
import { selfSignedCert } from '@satellite/test-support/tls'
import { vi } from 'vitest'

// The module object the IRC client's process.getBuiltinModule('node:tls') gets (an ES namespace cannot be spied on).
const tls = createRequire(import.meta.url)('node:tls') as typeof import('node:tls')

export interface AuthServerOptions {
  tls: boolean
  /** Offer `sasl=PLAIN` in CAP LS. */
  sasl: boolean
  /** The account and password SASL accepts. */
  account: string
  password: string
}

const originalConnect = tls.connect
let cert: { cert: string; key: string } | undefined
/** One self-signed certificate for the whole test file (made on first use). */
function certificate(): { cert: string; key: string } {
  if (cert === undefined) {
    const made = selfSignedCert('irc-auth-')
    rmSync(made.dir, { recursive: true, force: true })
    cert = { cert: made.cert, key: made.key }
  }
  return cert
}

export interface AuthServer {
  port: number
  /** Every line received, in order, without CRLF. */
  lines: string[]
}

/**
 * Starts the server for one test (closed after it). With `tls`, the client side trusts the
 * self-signed certificate through a spy on tls.connect that adds it as `ca` (the client has
 * no option for a CA; the connection still verifies the certificate).
 */
export async function authServer(options: AuthServerOptions): Promise<AuthServer> {
  const lines: string[] = []
  const sockets: Socket[] = []
  const onSocket = (socket: Socket): void => {
    sockets.push(socket)
    socket.on('error', () => {})
    socket.setEncoding('utf8')
    let buffer = ''
    let nick = ''
    let user = false
    let capEnded = false
    let capUsed = false
    let welcomed = false
    const send = (l: string): void => {
      socket.write(`${l}\r\n`)
    }
    const welcome = (): void => {
      if (welcomed || nick === '' || !user || (capUsed && !capEnded)) return
      welcomed = true
      send(`:s.test 001 ${nick} :Welcome`)
    }
    socket.on('data', (d: string) => {
      buffer += d
      let i = buffer.indexOf('\n')
      while (i !== -1) {
        const line = buffer.slice(0, i).replace(/\r$/, '')
        buffer = buffer.slice(i + 1)
        i = buffer.indexOf('\n')
        lines.push(line)
        const [command, ...rest] = line.split(' ')
        const arg = rest.join(' ')
        if (command === 'CAP' && arg.startsWith('LS')) {
          capUsed = true
          send(`:s.test CAP * LS :multi-prefix${options.sasl ? ' sasl=PLAIN' : ''}`)
        } else if (command === 'CAP' && arg.startsWith('REQ')) {
          send(`:s.test CAP * ACK :${arg.replace(/^REQ :?/, '')}`)
        } else if (command === 'CAP' && arg === 'END') {
          capEnded = true
          welcome()
        } else if (command === 'AUTHENTICATE' && arg === 'PLAIN') {
          send('AUTHENTICATE +')
        } else if (command === 'AUTHENTICATE') {
          const expected = Buffer.from(
            `${options.account}\0${options.account}\0${options.password}`,
          ).toString('base64')
          if (arg === expected) {
            send(
              `:s.test 900 ${nick} ${nick}!u@h ${options.account} :You are now logged in as ${options.account}`,
            )
            send(`:s.test 903 ${nick} :SASL authentication successful`)
          } else {
            send(`:s.test 904 ${nick} :SASL authentication failed`)
          }
        } else if (command === 'NICK') {
          nick = arg
          welcome()
        } else if (command === 'USER') {
          user = true
          welcome()
        } else if (command === 'PING') {
          send(`:s.test PONG s.test ${arg}`)
        }
      }
    })
  }
  let server: Server
  if (options.tls) {
    const { cert, key } = certificate()
    server = tls.createServer({ cert, key }, onSocket)
    const spy = vi
      .spyOn(tls, 'connect')
      .mockImplementation(((o: ConnectionOptions) =>
        originalConnect({ ...o, ca: cert })) as typeof tls.connect)
    afterTest(() => spy.mockRestore())
  } else {
    server = createNet(onSocket)
  }
  afterTest(() => new Promise<void>((resolve) => server.close(() => resolve())))
  afterTest(() => {
    for (const s of sockets) s.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  return { port: typeof address === 'object' && address ? address.port : 0, lines }
}
